// Careless and hostile input around recordings (issue 14): no file a
// command reads is written over, an existing recording needs --force,
// crafted counts and alias bombs are refused at once, the end line's
// hashes are all checked, and the exit codes say what happened.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { ensure_built, kvmdbg } from '../cli/helpers.js';
import { tmp_file } from './helpers.js';

beforeAll(() => ensure_built(), 300_000);

/** stderr is exactly one line naming `where`, without a stack trace. */
function one_error_line(stderr: string, where: RegExp): void {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kvmdbg: /);
  expect(lines[0]).toMatch(where);
}

let rec = '';
let lines: string[] = [];
beforeAll(() => {
  rec = tmp_file('bug.rec');
  const r = kvmdbg(['run', 'nv-s2-recycle', '--variant', 'nv.no_unmap_request', '--record', rec]);
  expect(r.code, r.stderr).toBe(1);
  lines = readFileSync(rec, 'utf8').split('\n');
});

describe('no file a command reads is overwritten, no recording without --force', () => {
  it('export -o onto its own recording: exit 2, the recording intact', () => {
    const before = readFileSync(rec, 'utf8');
    const r = kvmdbg(['export', rec, '--format', 'ftrace', '-o', rec]);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /bug\.rec: this is the recording it exports; the export would overwrite it/);
    expect(readFileSync(rec, 'utf8')).toBe(before);
  });

  it('run --record onto an existing recording: exit 2 without --force, replaced with it', () => {
    const f = tmp_file('again.rec');
    copyFileSync(rec, f);
    const r = kvmdbg(['run', 'default', '--record', f]);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /again\.rec: a recording exists there; --force replaces it/);
    expect(readFileSync(f, 'utf8')).toBe(readFileSync(rec, 'utf8'));
    expect(kvmdbg(['run', 'default', '--record', f, '--force']).code).toBe(0);
    expect(readFileSync(f, 'utf8')).not.toBe(readFileSync(rec, 'utf8'));
  });

  it('run --record onto its own scenario: exit 2, the scenario intact', () => {
    const sc = tmp_file('s.yaml');
    copyFileSync('scenarios/default.yaml', sc);
    const r = kvmdbg(['run', sc, '--record', sc, '--force']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /s\.yaml: this is the scenario; the recording would overwrite it/);
    expect(readFileSync(sc, 'utf8')).toBe(readFileSync('scenarios/default.yaml', 'utf8'));
  });

  it('explore --out onto its scenario or an existing recording: exit 2 before the search', () => {
    const sc = tmp_file('e.yaml');
    copyFileSync('scenarios/fault-vs-invalidate.yaml', sc);
    const a = kvmdbg(['explore', sc, '--variant', 'mmu.no_retry_check', '--out', sc, '--workers', '1']);
    expect(a.code).toBe(2);
    one_error_line(a.stderr, /this is the scenario; the counterexample would overwrite it/);
    expect(a.stdout).toBe('');
    const b = kvmdbg(['explore', sc, '--variant', 'mmu.no_retry_check', '--out', rec, '--workers', '1']);
    expect(b.code).toBe(2);
    one_error_line(b.stderr, /a recording exists there; --force replaces it/);
  });

  it('save and record start in the REPL: never over the scenario, a script it runs, or a recording', () => {
    const sc = tmp_file('r.yaml');
    copyFileSync('scenarios/default.yaml', sc);
    const script = tmp_file('x.kvm');
    writeFileSync(script, `step 3\nsave ${script}\n`);
    const r = kvmdbg(['repl', sc, '--json', '--keep-going', '-e', `save ${sc}`, '-e', `record start ${rec}`, '-e', `save ${rec}`, '-x', script]);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => o.ok)).toEqual([false, false, false, true, false]);
    expect(out[0].error.message).toMatch(/r\.yaml: this is the scenario of this session/);
    expect(out[1].error).toMatchObject({ code: 'EEXIST' });
    expect(out[2].error.message).toMatch(/a recording exists there; --force replaces it/);
    expect(out[4].error.message).toMatch(/x\.kvm: this is a script this session runs/);
    expect(readFileSync(sc, 'utf8')).toBe(readFileSync('scenarios/default.yaml', 'utf8'));
    expect(readFileSync(script, 'utf8')).toBe(`step 3\nsave ${script}\n`);
  });
});

describe('bounded parsing', () => {
  it('a crafted run length is refused at once (exit 2), against the end line and against the limit', () => {
    const header = lines[0]!;
    for (const [body, where] of [
      [[JSON.stringify({ s: 1, p: [[0, 1e15]] })], /:2: the schedule runs past step 100000000 \(a run of 1000000000000000 after step 0\)/],
      [[JSON.stringify({ s: 1, p: [[0, 5000]] }), JSON.stringify({ end: 10, status: 'end' })], /:2: the schedule runs past step 10 .*the 10 steps its end line says/],
    ] as [string[], RegExp][]) {
      const f = tmp_file('crafted.rec');
      writeFileSync(f, [header, ...body, ''].join('\n'));
      const r = kvmdbg(['replay', f]);
      expect(r.code).toBe(2);
      one_error_line(r.stderr, where);
    }
  });

  it('a YAML alias bomb in a scenario, or in a recording header, is refused at once', () => {
    const bomb = ['arch: arm64', 'vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 2M}]}', 'a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
    for (let i = 1; i < 10; i++) bomb.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    bomb.push('threads: {}', '');
    const sc = tmp_file('bomb.yaml');
    writeFileSync(sc, bomb.join('\n'));
    const a = kvmdbg(['run', sc]);
    expect(a.code).toBe(2);
    one_error_line(a.stderr, /bomb\.yaml:\d+:\d+: YAML aliases expand this file to more than 200000 values/);
    const f = tmp_file('bomb.rec');
    writeFileSync(f, `${JSON.stringify({ ...JSON.parse(lines[0]!), scenario: bomb.join('\n') })}\n`);
    const b = kvmdbg(['replay', f]);
    expect(b.code).toBe(2);
    one_error_line(b.stderr, /bomb\.rec:1: the embedded scenario does not load: .*YAML aliases expand/);
  });

  it('quoted input is at most 200 characters, with control characters escaped', () => {
    const f = tmp_file('ctl.rec');
    writeFileSync(f, `${lines[0]}\n${JSON.stringify({ s: 1, p: [`\u001b[2J${'x'.repeat(5000)}`] })}\n`);
    const r = kvmdbg(['replay', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\u001b/);
    expect(r.stderr.length).toBeLessThan(400);
    one_error_line(r.stderr, /:2: bad pick "\\u001b\[2Jx+\.\.\./);
  });
});

describe('the end line and exit codes', () => {
  const end_at = () => lines.findIndex((l) => l.startsWith('{"end"'));
  const with_end = (edit: (v: Record<string, unknown>) => void) => {
    const v = JSON.parse(lines[end_at()]!) as Record<string, unknown>;
    edit(v);
    const f = tmp_file('end.rec');
    writeFileSync(f, lines.map((l, i) => (i === end_at() ? JSON.stringify(v) : l)).join('\n'));
    return f;
  };

  it('replay exits as run would: 1 for the violation it reproduces', () => {
    expect(kvmdbg(['replay', rec]).code).toBe(1);
  });

  it('a changed part hash alone (the combined hash kept) is a divergence: exit 3, naming the part', () => {
    const f = with_end((v) => ((v.parts as Record<string, string>).kvm = '0123456789abcdef'));
    const r = kvmdbg(['replay', f]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/DIVERGENCE at step \d+: the World at the end \(step \d+\) differs from the recording in kvm/);
  });

  it('a changed run_hash is a divergence: exit 3', () => {
    const f = with_end((v) => (v.run_hash = '0123456789abcdef'));
    const r = kvmdbg(['replay', f]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/DIVERGENCE at step \d+: the run's hash at the end is [0-9a-f]+, the recording says 0123456789abcdef/);
  });

  it('--goto beyond the end of a recording is an error (exit 2)', () => {
    const r = kvmdbg(['repl', rec, '--goto', '100000', '-e', 'print w.step']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /--goto 100000: .*bug\.rec ends at step \d+; expected a step from 0 to \d+/);
  });

  it('a run stopped by the step limit says so on stderr', () => {
    const r = kvmdbg(['run', 'default', '--steps', '40']);
    expect(r.code).toBe(0);
    one_error_line(r.stderr, /the run stopped at the step limit \(40 steps\) before every thread finished/);
  });

  it('load RECORDING in the REPL opens it at its end, with its history', () => {
    const r = kvmdbg(['repl', '--json', '-e', `load ${rec}`, '-e', 'print w.step', '-e', 'reverse-step 5', '-e', 'print w.step', '-e', 'check']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const end = out[0].result.step as number;
    expect(end).toBeGreaterThan(5);
    expect(out[1].result.value).toBe(end);
    expect(out[3].result.value).toBe(end - 5);
    expect(statSync(rec).size).toBeGreaterThan(0);
  });
});
