// The CLI: run --record, replay (the same output as run), export, and
// malformed recordings (exit 2, one line naming the file and line).
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { ensure_built, kvmdbg } from '../cli/helpers.js';
import { tmp_file } from './helpers.js';

beforeAll(() => ensure_built(), 300_000);

/** stderr is exactly one line, names `where`, and has no stack trace. */
function one_error_line(stderr: string, where: RegExp): void {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kvmdbg: /);
  expect(lines[0]).toMatch(where);
  expect(stderr).not.toMatch(/^\s+at /m);
}

const without_last = (s: string) => s.trimEnd().split('\n').slice(0, -1).join('\n');

let good = '';
let good_lines: string[] = [];
beforeAll(() => {
  good = tmp_file('good.jsonl');
  const r = kvmdbg(['run', 'nv-s2-recycle', '--variant', 'nv.no_unmap_request', '--record', good, '--hash-every', '50']);
  expect(r.code, r.stderr).toBe(1);
  good_lines = readFileSync(good, 'utf8').split('\n');
});

describe('kvmdbg run --record and replay', () => {
  it('replay prints what run printed, then the replay line; a violation exits 1 in both', () => {
    const run = kvmdbg(['run', 'nv-s2-recycle', '--variant', 'nv.no_unmap_request']);
    expect(run.code).toBe(1);
    const rep = kvmdbg(['replay', good, '--verify']);
    expect(rep.code, rep.stderr).toBe(1);
    expect(rep.stderr).toBe('');
    expect(without_last(rep.stdout)).toBe(run.stdout.trimEnd());
    expect(rep.stdout.trimEnd().split('\n').pop()).toMatch(/^replay: .*good\.jsonl: \d+ steps followed; \d+ state hashes match \(every 50 steps and at the end\)$/);
  });

  it('the same with --json and --events: the events, then a summary with the replay', () => {
    const f = tmp_file('json.jsonl');
    const run = kvmdbg(['run', 'default', '--json', '--events', 'request', '--record', f]);
    expect(run.code).toBe(0);
    const rep = kvmdbg(['replay', f, '--json', '--events', 'request']);
    expect(rep.code).toBe(0);
    const a = run.stdout.trim().split('\n');
    const b = rep.stdout.trim().split('\n');
    expect(b.slice(0, -1)).toEqual(a.slice(0, -1));
    const sa = JSON.parse(a.at(-1)!).summary;
    const sb = JSON.parse(b.at(-1)!).summary;
    expect(sa.recording).toMatchObject({ file: f, steps: sa.steps, interrupted: null });
    expect(sb.replay).toMatchObject({ recorded_steps: sa.steps, divergence: null, verify: false, recorded_status: 'end' });
    expect(sb.hash).toBe(sa.hash);
    expect(sb.status).toBe('end');
  });

  it('a divergence exits 3 (a replay that reproduces its run exits as run does) and says where and what', () => {
    const i = good_lines.findIndex((l) => l.startsWith('{"step":100,'));
    const v = JSON.parse(good_lines[i]!);
    v.parts.arm64 = '0000000000000000';
    v.hash = '0000000000000000';
    const f = tmp_file('diverged.jsonl');
    writeFileSync(f, good_lines.map((l, k) => (k === i ? JSON.stringify(v) : l)).join('\n'));
    const r = kvmdbg(['replay', f, '--verify']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/DIVERGENCE at step 100: the World after step 100 differs from the recording in arm64; it matched at step 50/);
    const j = kvmdbg(['replay', f, '--verify', '--json', '--events', 'tlbi']);
    const s = JSON.parse(j.stdout.trim().split('\n').at(-1)!).summary;
    expect(s.status).toBe('diverged');
    expect(s.replay.divergence).toMatchObject({ step: 100, kind: 'hash', parts: ['arm64'], last_match: 50 });
  });

  it('--record to a place that cannot be written exits 2 with one line', () => {
    const r = kvmdbg(['run', 'default', '--record', '/nonexistent/dir/x.jsonl']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /\/nonexistent\/dir\/x\.jsonl: cannot write the recording/);
  });

  it('replay refuses --variant and --seed (the recording has its own)', () => {
    const r = kvmdbg(['--seed', '3', 'replay', good]);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /its own variants and seed/);
  });
});

describe('malformed recordings', () => {
  const cases: [string, (ls: string[]) => string, RegExp][] = [
    ['not JSON at all', () => 'hello\n', /bad\.jsonl:1: not a kvmdbg recording/],
    ['another format', (ls) => [JSON.stringify({ ...JSON.parse(ls[0]!), format: 'rr-trace' }), ...ls.slice(1)].join('\n'), /:1: not a kvmdbg recording: expected a header with "format": "kvmdbg-recording", not "rr-trace"/],
    ['another version', (ls) => [JSON.stringify({ ...JSON.parse(ls[0]!), version: 2 }), ...ls.slice(1)].join('\n'), /:1: recording format version 2 is not supported/],
    ['a bad line in the middle', (ls) => ls.map((l, i) => (i === 3 ? '{"s": 17, "p": oops' : l)).join('\n'), /:4: not valid JSON/],
    ['a line that is not one of ours', (ls) => ls.map((l, i) => (i === 2 ? '{"what": 1}' : l)).join('\n'), /:3: unknown line with keys what/],
    ['a schedule line out of place', (ls) => ls.map((l, i) => (i === 2 ? l.replace('{"s":1,', '{"s":5,') : l)).join('\n'), /:3: the schedule line starts at step 5; expected step 1/],
    ['a line after the end', (ls) => [...ls.filter(Boolean), ls[2]!, ''].join('\n'), /:\d+: a line after the end line/],
    ['a broken embedded scenario', (ls) => [JSON.stringify({ ...JSON.parse(ls[0]!), scenario: 'arch: sparc\n' }), ...ls.slice(1)].join('\n'), /:1: the embedded scenario does not load/],
    ['an empty file', () => '', /:1: empty file/],
    ['a header cut short', (ls) => ls[0]!.slice(0, 40), /:1: the header line is cut short/],
  ];
  for (const [what, make, where] of cases) {
    it(`${what}: exit 2, one line naming the file and line`, () => {
      const f = tmp_file('bad.jsonl');
      writeFileSync(f, make(good_lines));
      for (const args of [['replay', f], ['export', f, '--format', 'ftrace', '-o', tmp_file('x.txt')]]) {
        const r = kvmdbg(args);
        expect(r.code, `${args[0]} ${r.stderr}`).toBe(2);
        one_error_line(r.stderr, where);
        expect(r.stderr).toContain('bad.jsonl');
      }
    });
  }

  it('a missing file: exit 2', () => {
    const r = kvmdbg(['replay', tmp_file('missing.jsonl')]);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, /missing\.jsonl: cannot read the recording: no such file/);
  });
});
