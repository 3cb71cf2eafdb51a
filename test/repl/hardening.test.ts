// Issue 14 in the REPL and the explorer's command line: `save` keeps every
// option that built the World, dprintf's "\n", a recorded continue that is
// interrupted, the explorer's header, progress line and Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apply_poke } from '../../src/debugger/pokes.js';
import { Session } from '../../src/debugger/session.js';
import { ProgressLine } from '../../src/explore/cli.js';
import { load_recording } from '../../src/record/load.js';
import { replay_recording } from '../../src/record/replay.js';
import { SessionRecorder } from '../../src/record/session.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { load_world } from '../../src/repl/main.js';
import { ROOT, ensure_built, kvmdbg } from '../cli/helpers.js';
import { scenario_interp } from './helpers.js';

beforeAll(() => ensure_built(), 300_000);
const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-hardening-'));

describe('save', () => {
  it('a session started with --variant saves a script that reproduces its violation', () => {
    const f = join(dir, 'v.kvm');
    const a = kvmdbg(['repl', 'nv-s2-recycle', '--variant', 'nv.no_unmap_request', '--json', '-e', 'catch violation', '-e', 'continue', '-e', `save ${f}`]);
    expect(a.code, a.stderr).toBe(0);
    const stop = JSON.parse(a.stdout.trim().split('\n')[1]!).result;
    expect(stop.stopped.reason).toBe('violation');
    expect(readFileSync(f, 'utf8')).toMatch(/^load \S+nv-s2-recycle\.yaml --variant nv\.no_unmap_request$/m);
    // Replayed from the default scenario, without the flag: the script brings it.
    const b = kvmdbg(['repl', '--json', '-x', f, '-e', 'print w.step', '-e', 'check']);
    expect(b.code, b.stderr).toBe(0);
    const out = b.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.at(-2).result.value).toBe(stop.step);
    expect(out.at(-1).result.violations.map((v: { invariant: string }) => v.invariant)).toContain(stop.stopped.violation.invariant);
  });
});

describe('dprintf', () => {
  it('a format ending in "\\n" prints one line per hit, no blank ones', () => {
    const i = scenario_interp(join(ROOT, 'scenarios/fault-vs-invalidate.yaml'));
    expect(i.exec('dprintf lock.release, "released %s\\n", e.lock')!.ok).toBe(true);
    const o = i.exec('continue 300')!;
    const printed = (o.result as { printed?: string[] }).printed ?? [];
    expect(printed.length).toBeGreaterThan(0);
    for (const p of printed) expect(p).toBe('released mmu_lock');
    expect(o.text).not.toMatch(/\n\n/);
  });
});

describe('a recorded continue, interrupted', () => {
  it('stops at the next slice, and the recording replays and verifies to where it stopped', async () => {
    const lw = load_world(join(ROOT, 'scenarios/default.yaml'), {});
    const session = new Session({ world: lw.world, slice: 64 });
    const file = join(dir, 'i.rec');
    const host = { session, loaded: lw.loaded!, recorder: null as SessionRecorder | null };
    host.recorder = new SessionRecorder(session, file, { scenario: lw.loaded!, apply_poke, signals: [], hash_every: 50 });
    const interp = new Interpreter(host);
    let slices = 0;
    const resume = session.start.bind(session);
    // Interrupt after a few slices, as Ctrl-C would from the event loop.
    session.start = (op) => {
      const job = resume(op);
      return { resume: () => (++slices === 4 && session.interrupt(), job.resume()) };
    };
    const o = await interp.exec_async('continue');
    expect((o!.result as { stopped: { reason: string } }).stopped.reason).toBe('interrupted');
    const at = session.step_no;
    expect(at).toBeGreaterThan(0);
    host.recorder.close();
    const r = replay_recording(load_recording(file), { verify: true, apply_poke });
    expect(r.divergence).toBeNull();
    expect(r.steps).toBe(at);
  });
});

describe('explore', () => {
  it('the progress line fits 80 columns and redraws in place', () => {
    let out = '';
    const bar = new ProgressLine({ columns: 200, write: (s: string) => ((out = s), true) } as unknown as NodeJS.WriteStream);
    bar.update({ elapsed_ms: 123_456, transitions: 987_654_321, schedules: 12_345_678, distinct: 98_765_432, depth: 123_456, current: 99_999_999, fraction: 0.42, preemptions: 2 });
    expect(out.startsWith('\r\x1b[K')).toBe(true);
    expect(out.length - 4).toBeLessThanOrEqual(79);
    expect(out).toMatch(/^\r\x1b\[K\[#+\.+\]\s+42% /);
    // The bound being searched (dfs --preemptions searches 0, 1, 2 in turn).
    expect(out).toContain(' P2 ');
  });

  it('prints its header first and exits 130 when Ctrl-C stops it', async () => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/kvmdbg.js'), 'explore', 'nv-s2-recycle', '--budget', '100000000', '--workers', '1', '--out', join(dir, 'x.rec')], { cwd: dir });
    let out = '';
    const first = new Promise<void>((res) =>
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res();
      }),
    );
    const code = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
    await first;
    expect(out.split('\n')[0]).toMatch(/^# explore nv-s2-recycle \(arm64\): variants none; strategy random, seed 1; 1 worker$/);
    p.kill('SIGINT');
    expect(await code).toBe(130);
    expect(out).toMatch(/not exhaustive: interrupted/);
  }, 60_000);
});
