import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hash_value } from '../../src/core/machine/hash.js';
import { run_batch, type BatchSource } from '../../src/repl/batch.js';
import { complete } from '../../src/repl/complete.js';
import type { Interpreter } from '../../src/repl/interpreter.js';
import { scenario_interp, small_interp } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-batch-'));

function batch(i: Interpreter, sources: BatchSource[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = run_batch(i, sources, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

describe('batch mode', () => {
  it('JSON: exactly one line per command (blank lines, comments and block bodies print nothing)', () => {
    const lines = ['# a comment', '', 'break retry', 'commands 1', '  print w.step', 'end', 'continue', 'info locks', '   ', 'check'];
    const r = batch(small_interp({ json: true }), [{ name: 's.kvm', lines }]);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out.map((l) => (JSON.parse(l) as { cmd: string }).cmd)).toEqual(['break retry', 'commands 1', 'continue', 'info locks', 'check']);
    const cont = JSON.parse(r.out[2]!) as { result: { stopped: { reason: string }; commands: { cmd: string; ok: boolean }[] } };
    expect(cont.result.stopped.reason).toBe('breakpoint');
    expect(cont.result.commands).toEqual([expect.objectContaining({ cmd: 'print w.step', ok: true })]);
  });

  it('stops at the first failure (exit 1) unless --keep-going', () => {
    const lines = ['step', 'assert w.step === 2 "one step only"', 'step', 'assert w.step === 2'];
    const stop = batch(small_interp({ json: true }), [{ name: 'a.kvm', lines }]);
    expect(stop.code).toBe(1);
    expect(stop.out).toHaveLength(2);
    expect(JSON.parse(stop.out[1]!)).toMatchObject({ ok: false, error: { code: 'EASSERT' } });
    const going = batch(small_interp({ json: true, keep_going: true }), [{ name: 'a.kvm', lines }]);
    expect(going.code).toBe(1);
    expect(going.out).toHaveLength(4);
    expect(JSON.parse(going.out[3]!)).toMatchObject({ ok: true });
  });

  it('text mode: results on stdout, failures on stderr as FILE:LINE: CODE: message', () => {
    const r = batch(small_interp(), [{ name: 'x.kvm', lines: ['step', 'bogus'] }, { name: '-e', lines: ['step'] }]);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.err).toEqual(['x.kvm:2: EINVAL: undefined command "bogus"; try "help"']);
  });

  it('an unclosed commands block is an error; quit ends the batch', () => {
    expect(batch(small_interp(), [{ name: 'b.kvm', lines: ['break retry', 'commands', 'print 1'] }]).code).toBe(1);
    const q = batch(small_interp({ json: true }), [{ name: '-e', lines: ['quit'] }, { name: '-e', lines: ['bogus'] }]);
    expect(q.code).toBe(0);
    expect(q.out).toHaveLength(1);
  });

  it('a script of asserts on a scenario exits 0 when they hold and 1 when one does not', () => {
    const good = [
      'break retry',
      'continue',
      'assert w.kvm.mmu_invalidate_in_progress > 0 || w.kvm.mmu_invalidate_seq > 0 "a retry needs an invalidation"',
      'reverse-step',
      'where',
      'info vcpus',
      'goto 100000',
      'assert w.threads.every(t => t.done || t.daemon) "every thread finished"',
      'assert w.violations.length === 0',
    ];
    expect(batch(scenario_interp('scenarios/fault-vs-invalidate.yaml'), [{ name: 'good.kvm', lines: good }]).code).toBe(0);
    const bad = [...good.slice(0, 3), 'assert w.kvm.mmu_invalidate_seq === 12345 "wrong on purpose"', 'info vcpus'];
    const r = batch(scenario_interp('scenarios/fault-vs-invalidate.yaml'), [{ name: 'bad.kvm', lines: bad }]);
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^bad\.kvm:4: EASSERT: assertion failed at step \d+: .*\(wrong on purpose\)$/);
  });
});

describe('save', () => {
  it('writes a script that reproduces the session: forced steps, pokes, breakpoints and the current step', () => {
    const a = scenario_interp('scenarios/fault-vs-invalidate.yaml');
    const file = join(dir, 'session.kvm');
    const lines = [
      'step 5',
      'step vcpu1 3',
      'mt new scratch',
      'mt store scratch 0x1000 0x1fff 0x41',
      'break retry if w.step > 0',
      'tbreak request',
      'watch w.kvm.mmu_invalidate_seq',
      'ignore 1 1',
      'commands 1',
      'print w.step',
      'end',
      'disable 3',
      'continue',
      'variant mmu.no_retry_check on',
      'goto 200',
      'pt unmap s2 0x80000000',
      'goto 150',
      `save ${file}`,
    ];
    for (const l of lines) {
      const o = a.exec(l);
      if (o) expect(o.ok, `${l}: ${o.text}`).toBe(true);
    }
    const saved = readFileSync(file, 'utf8').split('\n');
    const b = scenario_interp('scenarios/default.yaml');
    const r = batch(b, [{ name: file, lines: saved }]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const sa = a.session;
    const sb = b.session;
    expect(sb.step_no).toBe(sa.step_no);
    expect(sb.end_step).toBe(sa.end_step);
    expect(hash_value(sb.world, ['events'])).toBe(hash_value(sa.world, ['events']));
    expect(sb.pokes().map((p) => [p.step, p.text])).toEqual(sa.pokes().map((p) => [p.step, p.text]));
    expect(sb.forced_steps()).toEqual(sa.forced_steps());
    const strip = (x: Interpreter) => x.session.breakpoints.all().map(({ id: _id, hits: _h, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
    sb.goto(sb.end_step);
    sa.goto(sa.end_step);
    expect(hash_value(sb.world, ['events'])).toBe(hash_value(sa.world, ['events']));
  });

  it('source runs a file and reports the failing line', () => {
    const file = join(dir, 'src.kvm');
    writeFileSync(file, 'step 2\nassert w.step === 2\nassert w.step === 3 "nope"\nstep\n');
    const i = small_interp({ json: true });
    const o = i.exec(`source ${file}`)!;
    expect(o.ok).toBe(false);
    expect(o.error).toEqual({ code: 'EASSERT', message: `${file}:3: assertion failed at step 2: w.step === 3 (nope)` });
    expect(i.session.step_no).toBe(2);
  });
});

describe('completion', () => {
  it('completes commands, subcommands, threads, kinds, fields, variants, trees, MMUs and breakpoint ids', () => {
    const i = scenario_interp('scenarios/fault-vs-invalidate.yaml');
    const s = i.session;
    const c = (line: string) => complete(i.table, s, line)[0];
    expect(c('rev')).toEqual(['reverse-continue', 'reverse-step']);
    expect(c('info v')).toEqual(['variants', 'vcpus']);
    expect(c('step vc')).toEqual(['vcpu0', 'vcpu1']);
    expect(c('where m')).toEqual(['mm']);
    expect(c('break request.m')).toEqual(['request.make', 'request.make_all']);
    expect(c('break request.make re')).toEqual(['req=']);
    expect(c('break request NESTED')).toEqual(['NESTED_S2_UNMAP']);
    expect(c('variant mmu.')).toContain('mmu.no_retry_check');
    expect(c('pt walk ')).toEqual(['s2']);
    i.exec('mt new alpha');
    expect(c('mt load al')).toEqual(['alpha']);
    i.exec('break retry');
    i.exec('watch w.step');
    expect(c('delete ')).toEqual(['1', '2']);
    expect(c('help in')).toEqual(['info']);
    expect(c('catch violation kvm.')).toContain('kvm.request_unserviced');
    const fau = c('events fau');
    expect(fau[0]).toBe('fault');
    expect(fau).toEqual(expect.arrayContaining(['fault.retry', 'fault.start']));
    for (const k of fau) expect(k).toMatch(/^fault(\.|$)/);
    expect(c('"unterminated')).toEqual([]);
  });
});
