// Crash safety: a recording killed mid-run replays up to its last
// complete line; SIGTERM and SIGINT close it cleanly.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ensure_built, kvmdbg } from '../cli/helpers.js';
import { load_recording } from '../../src/record/load.js';
import { replay_recording } from '../../src/record/replay.js';
import { LONG_SCENARIO, tmp_file } from './helpers.js';

beforeAll(() => ensure_built(), 300_000);

const scenario = tmp_file('long.yaml');
writeFileSync(scenario, LONG_SCENARIO);

/** Start `kvmdbg run LONG --record file`, wait until the file holds `bytes`, send `sig`; resolves to the exit code and signal. */
function run_and_kill(file: string, sig: NodeJS.Signals, bytes = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'kvmdbg.js'), 'run', scenario, '--record', file, '--events', 'invalidate.start'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      if (existsSync(file) && statSync(file).size >= bytes) {
        clearInterval(poll);
        child.kill(sig);
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${file} did not grow to ${bytes} bytes`));
      }
    }, 20);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('a recording killed with SIGKILL', () => {
  it('replays up to its last complete line, with one warning', async () => {
    const file = tmp_file('killed.jsonl');
    const r = await run_and_kill(file, 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/"end":/);
    const rec = load_recording(file);
    expect(rec.end).toBeNull();
    expect(rec.warning).toMatch(/not closed cleanly/);
    expect(rec.picks.length).toBeGreaterThan(1000);
    const last_hash = Math.max(...rec.hashes.keys());
    expect(last_hash).toBeGreaterThan(0);
    const rp = replay_recording(rec, { verify: true });
    expect(rp.divergence, rp.divergence?.message).toBeNull();
    expect(rp.steps).toBe(rec.picks.length);
    expect(rp.status).toBe('limit');
    expect(rp.last_match).toBe(last_hash);

    // The same recording with its last line cut in the middle.
    const cut = tmp_file('cut.jsonl');
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    const last_nl = body.lastIndexOf('\n');
    writeFileSync(cut, body.slice(0, last_nl + 1 + Math.floor((body.length - last_nl) / 2)));
    const c = kvmdbg(['replay', cut, '--verify', '--events', 'invalidate.start']);
    expect(c.code, c.stderr).toBe(0);
    const warn = c.stderr.split('\n').filter(Boolean);
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(/^kvmdbg: warning: .*cut\.jsonl:\d+: the last line is cut short/);
    expect(c.stdout).toMatch(/replay: .*cut\.jsonl: \d+ steps followed; \d+ state hashes match/);
  });
});

describe('SIGTERM and SIGINT while recording', () => {
  for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${sig} stops the run and closes the recording cleanly (exit ${code})`, async () => {
      const file = tmp_file(`${sig}.jsonl`);
      const r = await run_and_kill(file, sig);
      expect(r.code, r.stderr).toBe(code);
      // The interruption is said on stderr (one line); stdout has the report, stopped at that step.
      expect(r.stderr).toMatch(new RegExp(`^kvmdbg: interrupted by ${sig} at step \\d+; the recording .* is closed`, 'm'));
      expect(r.stdout).not.toContain(`interrupted by ${sig}`);
      expect(r.stdout).toContain(`stopped by ${sig} at step`);
      const rec = load_recording(file);
      expect(rec.warning).toBeNull();
      expect(rec.end?.status).toBe('interrupted');
      const rp = replay_recording(rec, { verify: true });
      expect(rp.divergence, rp.divergence?.message).toBeNull();
      expect(rp.hash).toBe(rec.end?.run_hash);
      const c = kvmdbg(['replay', file]);
      expect(c.code).toBe(0);
      expect(c.stdout).toMatch(new RegExp(`the recording stops at step ${rec.picks.length} \\(interrupted\\)`));
    });
  }
});
