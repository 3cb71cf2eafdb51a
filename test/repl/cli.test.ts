// `kvmdbg repl` in a child process: batch flags, exit codes, no prompts
// without a terminal. Runs the built CLI; until commands/main.ts registers
// the subcommand, a launcher registers it the same way.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensure_built } from '../cli/helpers.js';

beforeAll(() => ensure_built(), 300_000);

const LAUNCHER = `
const m = await import(${JSON.stringify(join(ROOT, 'dist/commands/main.js'))});
const probe = m.build_program(() => {});
if (probe.commands.some((c) => c.name() === 'repl')) process.exitCode = await m.main(process.argv);
else {
  const { register_repl } = await import(${JSON.stringify(join(ROOT, 'dist/commands/repl.js'))});
  let code = 0;
  const p = m.build_program((c) => (code = c));
  register_repl(p, (c) => (code = c));
  try {
    await p.parseAsync(process.argv);
  } catch (e) {
    if (e.exitCode !== 0) process.stderr.write('kvmdbg: ' + String(e.message).split('\\n')[0] + '\\n');
    code = e.exitCode === 0 ? 0 : 2;
  }
  process.exitCode = code;
}`;

function repl(args: string[], input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', LAUNCHER, 'kvmdbg', 'repl', ...args], { cwd: ROOT, input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'kvmdbg-repl-'));

describe('kvmdbg repl', () => {
  it('-e commands run in order and exit 0; the default scenario is the bundled default.yaml', () => {
    const r = repl(['-e', 'info vcpus', '-e', 'step 3', '-e', 'print w.step']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OUTSIDE_GUEST_MODE');
    expect(r.stdout.trim().split('\n').pop()).toBe('3');
  });

  it('--json: one JSON line per command; a failing command exits 1 and stops the batch', () => {
    const r = repl(['scenarios/fault-vs-invalidate.yaml', '--json', '-e', 'step', '-e', 'assert w.step === 7', '-e', 'step']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ ok: false, error: { code: 'EASSERT' } });
    const k = repl(['scenarios/fault-vs-invalidate.yaml', '--json', '--keep-going', '-e', 'bogus', '-e', 'step']);
    expect(k.code).toBe(1);
    expect(k.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('-x FILE runs a script; -x and -e keep their order; --variant and --seed reach the session', () => {
    const f = join(tmp, 'ok.kvm');
    writeFileSync(f, '# setup\nstep 2\nassert w.step === 2\n');
    const r = repl(['scenarios/fault-vs-invalidate.yaml', '--variant', 'mmu.no_retry_check', '--seed', '5', '-e', 'step', '-x', f, '-e', 'assert w.step === 3', '-e', 'assert w.variants["mmu.no_retry_check"] && w.sched.seed === 5']);
    // -e step ran first, so the script's assert sees step 3.
    expect(r.stderr).toMatch(/ok\.kvm:3: EASSERT: /);
    expect(r.code).toBe(1);
    const r2 = repl(['scenarios/fault-vs-invalidate.yaml', '--variant', 'mmu.no_retry_check', '--seed', '5', '-x', f, '-e', 'step', '-e', 'assert w.step === 3', '-e', 'assert w.variants["mmu.no_retry_check"] && w.sched.seed === 5']);
    expect(r2.stderr).toBe('');
    expect(r2.code).toBe(0);
  });

  it('commands on stdin without a terminal: no prompts echoed; -x - reads stdin too', () => {
    const r = repl(['scenarios/fault-vs-invalidate.yaml'], 'step 2\nprint w.step\n');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('kvmdbg[');
    expect(r.stdout.trim().split('\n').pop()).toBe('2');
    const x = repl(['scenarios/fault-vs-invalidate.yaml', '-x', '-', '--json'], 'step 2\nprint w.step\n');
    expect(x.code).toBe(0);
    expect(JSON.parse(x.stdout.trim().split('\n').pop()!)).toEqual({ cmd: 'print w.step', ok: true, result: { value: 2 } });
  });

  it('a bad script file or scenario exits 2 with one line on stderr', () => {
    const r = repl(['-x', join(tmp, 'missing.kvm')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('missing.kvm');
    const s = repl([join(tmp, 'nope.yaml'), '-e', 'step']);
    expect(s.code).toBe(2);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
  });
});
