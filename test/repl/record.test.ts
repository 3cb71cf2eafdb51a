// Recording from the REPL (`record start/stop`, `--record`) and opening a
// recording in it (`kvmdbg repl FILE`, `--goto N`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensure_built, kvmdbg } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-rec-'));

describe('recordings in the REPL', () => {
  beforeAll(() => ensure_built());

  it('record start ... record stop writes a recording that replays and verifies, time travel and forced steps included', () => {
    const f = join(dir, 'session.jsonl');
    const r = kvmdbg(['repl', 'fault-vs-invalidate', '--json', '-e', `record start ${f}`, '-e', 'step 40', '-e', 'reverse-step 10', '-e', 'step vcpu1 3', '-e', 'continue', '-e', 'record stop']);
    expect(r.code).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last.ok).toBe(true);
    expect(last.result.file).toBe(f);
    const end = last.result.steps as number;
    const v = kvmdbg(['replay', f, '--verify']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`${end} steps followed; \\d+ state hashes match`));
  });

  it('a second record start is EBUSY; record stop without one is ENOENT', () => {
    const f = join(dir, 'busy.jsonl');
    const r = kvmdbg(['repl', 'default', '--json', '--keep-going', '-e', `record start ${f}`, '-e', `record start ${f}.2`, '-e', 'record stop', '-e', 'record stop']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ok)).toEqual([true, false, true, false]);
    expect(lines[1].error.code).toBe('EBUSY');
    expect(lines[3].error.code).toBe('ENOENT');
  });

  it('kvmdbg repl FILE opens a recording at its end, or at --goto N, with time travel', () => {
    const f = join(dir, 'run.jsonl');
    // The first seed whose run violates (most do).
    let code = 0;
    for (let seed = 1; seed <= 10 && code !== 1; seed++) code = kvmdbg(['run', 'fault-vs-invalidate', '--variant', 'mmu.no_retry_check', '--seed', String(seed), '--record', f]).code;
    expect(code).toBe(1);
    const at_end = kvmdbg(['repl', f, '--json', '-e', 'print w.step', '-e', 'check']);
    const [step, check] = at_end.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(step.result.value).toBeGreaterThan(50);
    expect(check.result.violations.map((v: { invariant: string }) => v.invariant)).toContain('mmu.stale_mapping');
    const mid = kvmdbg(['repl', f, '--goto', '20', '--json', '-e', 'print w.step', '-e', 'reverse-step 5', '-e', 'print w.step']);
    const vals = mid.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect([vals[0].result.value, vals[2].result.value]).toEqual([20, 15]);
  });

  it('--variant on a recording is bad input (exit 2, one line)', () => {
    const f = join(dir, 'run2.jsonl');
    kvmdbg(['run', 'default', '--steps', '30', '--record', f]);
    const r = kvmdbg(['repl', f, '--variant', 'mmu.no_retry_check', '-e', 'info vcpus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
