// The exporters mark the violation: Perfetto with an instant on the
// thread's track and a global one, ftrace with a kvmdbg_violation line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensure_built, kvmdbg } from '../cli/helpers.js';
import { FTRACE_LINE } from '../../src/record/ftrace.js';

const TMP = mkdtempSync(join(tmpdir(), 'kvmdbg-explain-export-'));
const REC = join(TMP, 'fvi.rec');
const CLEAN = join(TMP, 'clean.rec');

interface TE {
  name?: string;
  ph: string;
  s?: string;
  ts?: number;
  tid?: number;
  args?: Record<string, unknown>;
}

describe('violations in the exports', () => {
  let message = '';
  let step = 0;
  beforeAll(() => {
    ensure_built();
    const r = kvmdbg(['run', 'fault-vs-invalidate', '--variant', 'mmu.no_retry_check', '--seed', '1', '--record', REC, '--json']);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { summary: { violation: { message: string; step: number } } };
    message = summary.summary.violation.message;
    step = summary.summary.violation.step;
    expect(kvmdbg(['run', 'default', '--steps', '30', '--record', CLEAN]).code).toBe(0);
  }, 120_000);

  it('perfetto: an instant on the thread that broke it and a global one, with the whole message', () => {
    const r = kvmdbg(['export', REC, '--format', 'perfetto', '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout) as { traceEvents: TE[] };
    const marks = t.traceEvents.filter((e) => e.name === 'VIOLATION mmu.stale_mapping');
    expect(marks.map((e) => e.s).sort()).toEqual(['g', 't']);
    const names = new Map(t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]));
    const local = marks.find((e) => e.s === 't')!;
    expect(names.get(local.tid)).toBe((local.args as { thread: string }).thread);
    for (const m of marks) {
      expect(m.args!['message']).toBe(message);
      expect(m.args!['step']).toBe(step);
      // After every event of its step.
      const last = Math.max(...t.traceEvents.filter((e) => e.ph === 'i' && e.args?.['step'] === step && e.name !== m.name).map((e) => e.ts!));
      expect(m.ts!).toBeGreaterThan(last);
    }
    const clean = JSON.parse(kvmdbg(['export', CLEAN, '--format', 'perfetto', '-o', '-']).stdout) as { traceEvents: TE[] };
    expect(clean.traceEvents.some((e) => e.name?.startsWith('VIOLATION'))).toBe(false);
  });

  it('ftrace: the last line is kvmdbg_violation on the thread, in the line format', () => {
    const r = kvmdbg(['export', REC, '--format', 'ftrace', '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const v = lines.filter((l) => l.includes('kvmdbg_violation:'));
    expect(v).toHaveLength(1);
    const m = FTRACE_LINE.exec(v[0]!)!;
    expect(m).not.toBeNull();
    expect(m[5]).toBe('kvmdbg_violation');
    expect(m[6]!.trim()).toBe(`invariant=mmu.stale_mapping message=${JSON.stringify(message)}`);
    expect(Number(m[4]) * 1e6).toBeCloseTo(step, 3);
    expect(lines.at(-1)).toBe(v[0]);
    expect(kvmdbg(['export', CLEAN, '--format', 'ftrace', '-o', '-']).stdout).not.toContain('kvmdbg_violation');
  });
});
