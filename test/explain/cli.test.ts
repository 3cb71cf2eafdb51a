// `kvmdbg explain RECORDING [--step N] [--format text|markdown|json]` on the
// built CLI: the diagram of a recorded violation, and exit 2 with a located
// message for bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensure_built, kvmdbg } from '../cli/helpers.js';

const TMP = mkdtempSync(join(tmpdir(), 'kvmdbg-explain-'));
const REC = join(TMP, 'fvi.rec');
const CLEAN = join(TMP, 'clean.rec');

describe('kvmdbg explain', () => {
  beforeAll(() => {
    ensure_built();
    expect(kvmdbg(['run', 'fault-vs-invalidate', '--variant', 'mmu.no_retry_check', '--seed', '1', '--record', REC]).code).toBe(1);
    expect(kvmdbg(['run', 'default', '--steps', '50', '--record', CLEAN]).code).toBe(0);
  }, 120_000);

  it('prints the diagram of the recorded violation within 80x40', () => {
    const r = kvmdbg(['explain', REC]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^ step vcpu\d \(CPU \d\)\s+mm \(CPU \d\)$/);
    expect(lines.at(-1)).toMatch(/^\d+ mmu\.stale_mapping: /);
  });

  it('--format json and markdown carry the same diagram; json is one object', () => {
    const text = kvmdbg(['explain', REC]).stdout.trimEnd();
    const j = kvmdbg(['explain', REC, '--format', 'json']);
    expect(j.code).toBe(0);
    expect(j.stdout.trim().split('\n')).toHaveLength(1);
    const o = JSON.parse(j.stdout) as { text: string; violation: { invariant: string; message: string }; slice: number[]; target: number };
    expect(o.text).toBe(text);
    expect(o.violation.invariant).toBe('mmu.stale_mapping');
    expect(o.slice).toContain(o.target);
    const md = kvmdbg(['explain', REC, '--format', 'markdown']).stdout;
    expect(md).toContain(text);
    expect(md).toContain(o.violation.message);
  });

  it('--step N explains any step', () => {
    const r = kvmdbg(['explain', CLEAN, '--step', '40', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { target: number }).target).toBe(40);
  });

  it('bad input: exit 2 and one line naming the file and what was expected', () => {
    const none = kvmdbg(['explain', CLEAN]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(new RegExp(`^kvmdbg: ${CLEAN.replace(/[.]/g, '\\.')}: no invariant was violated in its 50 steps; expected --step N`));
    const far = kvmdbg(['explain', CLEAN, '--step', '51']);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/step 51: expected a step from 1 to 50/);
    expect(kvmdbg(['explain', CLEAN, '--step', 'x']).code).toBe(2);
    expect(kvmdbg(['explain', CLEAN, '--format', 'html']).code).toBe(2);
    const bad = join(TMP, 'bad.rec');
    writeFileSync(bad, '{"format": "kvmdbg-recording", "version": 1}\nnot json\n');
    const b = kvmdbg(['explain', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:\\d+: `));
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
  });
});
