// The expression sandbox (issue 14, item 1): no way out to the process,
// the host's prototypes stay untouched, an endless loop is stopped (and
// interrupted), an expression that eats memory fails alone, and which
// expressions run on the main thread.
import { afterAll, describe, expect, it } from 'vitest';
import { DebugError } from '../../src/debugger/errors.js';
import { compile_expr, eval_expr, limits, start_eval } from '../../src/debugger/expr.js';
import { check_expr } from '../../src/debugger/expr_check.js';
import { stop_evaluator } from '../../src/debugger/sandbox.js';
import { Session } from '../../src/debugger/session.js';
import { run } from '../repl/helpers.js';
import { scenario_interp } from '../repl/helpers.js';
import { small_world } from './worlds.js';

afterAll(() => stop_evaluator());

const session = () => new Session({ world: () => small_world(1, 4) });
const arm_world = () => scenario_interp('scenarios/fault-vs-invalidate.yaml').session.world;

function fails(src: string, w = session().world): { code: string; message: string } {
  try {
    eval_expr(src, { w });
  } catch (e) {
    expect(e).toBeInstanceOf(DebugError);
    return { code: (e as DebugError).code, message: (e as DebugError).message };
  }
  throw new Error(`${src} did not fail`);
}

describe('no way out of the sandbox', () => {
  // Each of these reached the process (or the host's Function) before the sandbox.
  const escapes = [
    'w.constructor.constructor("return process")()',
    'w.threads.constructor.constructor("return process")()',
    'w.threads.some.constructor("return process")()',
    '[].map.constructor("return process")()',
    'Object.getPrototypeOf(w).constructor.constructor("return process")()',
    'Object.getOwnPropertyDescriptor(w, "threads").value.constructor.constructor("return process")()',
    'w.__proto__.constructor.constructor("return process")()',
    'hex.constructor("return process")()',
    '(() => { try { (function f() { f(); })(); } catch (e) { return e.constructor.constructor("return process")(); } })()',
    '(() => { try { w.threads = 1; } catch (e) { return e.constructor.constructor("return process")(); } })()',
    'w.pgt_pages[0].ent.map((x, i, a) => a.constructor.constructor("return process")())',
    'w.pgt_pages[0].ent.map((x, i, a) => a)[0].constructor',
    'w.pgt_pages[0].ent.buffer.slice.constructor("return process")()',
    '(() => { try { w.pgt_pages[0].ent.at(1n); } catch (e) { return e.constructor.constructor("return process")(); } })()',
    'process.exit(3)',
    'require("node:fs")',
    'globalThis.process.pid',
    'eval("process")',
    'new Function("return process")()',
    'import("node:fs")',
  ];
  for (const src of escapes) {
    it(src, async () => {
      const w = arm_world();
      let value: unknown;
      try {
        value = eval_expr(src, { w });
      } catch (e) {
        expect(e).toBeInstanceOf(DebugError);
        expect((e as DebugError).message).not.toMatch(/\n/);
        return;
      }
      // No error: then nothing of this process came back, nor a function of this realm.
      expect(value).not.toBe(process);
      if (typeof value === 'function') expect(Object.getPrototypeOf(value)).not.toBe(Function.prototype);
      if (value && typeof value === 'object') expect(Object.keys(value)).not.toContain('pid');
    });
  }

  it("the host's prototypes are not the expression's: a write fails, and later commands work", () => {
    expect(fails('Array.prototype.push = null').message).toMatch(/read only|read-only/);
    expect(fails('Object.prototype.polluted = 1').message).toMatch(/not extensible|read only|Cannot add/);
    expect(fails('(() => { [].__proto__.push = null; })()').code).toBe('EINVAL');
    const i = scenario_interp('scenarios/fault-vs-invalidate.yaml');
    const out = run(i, ['print Array.prototype.push = null', 'print [1, 2].length', 'step 3', 'info vcpus']);
    expect(out.map((o) => o.ok)).toEqual([false, true, true, true]);
    expect(typeof [].push).toBe('function');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('the World stays read-only, in either realm', () => {
    const w = scenario_interp('scenarios/fault-vs-invalidate.yaml').session.world;
    for (const src of ['w.step = 5', 'w.threads.push(1)', 'delete w.seq', '(() => { w.threads[0].name = "x"; })()', 'Object.defineProperty(w, "x", {value: 1})', 'w.pgt_pages[0].ent.fill(1)']) {
      expect(fails(src, w).message, src).toMatch(/read-only/);
    }
    expect(w.step).toBe(0);
  });
});

describe('time and memory', () => {
  it('an endless loop is stopped at the time limit, and the next expression works', () => {
    const saved = limits.once_ms;
    limits.once_ms = 1500;
    try {
      const f = fails('(() => { while (true) {} })()');
      expect(f.code).toBe('ETIME');
      expect(eval_expr('1 + 1', { w: session().world })).toBe(2);
    } finally {
      limits.once_ms = saved;
    }
  });

  it('an interrupt stops a running expression within a poll', () => {
    let stop = false;
    const job = start_eval('(() => { for (;;) {} })()', { w: session().world }, () => stop);
    expect(job.resume(200)).toBeNull();
    stop = true;
    const t0 = Date.now();
    expect(() => job.resume(20)).toThrow(/interrupted/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(eval_expr('[1, 2, 3].length', { w: session().world })).toBe(3);
  });

  it('an expression that eats memory fails alone (ENOMEM or ETIME), and this process goes on', () => {
    const f = fails('(() => { const a = []; for (;;) a.push([a.length, a.length]); })()');
    expect(['ENOMEM', 'ETIME']).toContain(f.code);
    expect(eval_expr('w.threads.length', { w: session().world })).toBe(3);
  }, 60_000);

  it('nested callbacks are bounded by the callback budget on the main thread', () => {
    const c = compile_expr('[0,0,0,0,0,0,0,0].map(a => [0,0,0,0,0,0,0,0].map(b => [0,0,0,0,0,0,0,0].map(c => [0,0,0,0,0,0,0,0].map(d => [0,0,0,0,0,0,0,0].map(f => [0,0,0,0,0,0,0,0].map(g => [0,0,0,0,0,0,0,0].map(h => 1)))))))');
    expect(c.bounded).toBe(true);
    expect(fails(c.src).message).toMatch(/more than 1000000 callback calls/);
  });
});

describe('the bounded subset (main thread) and the rest (evaluator)', () => {
  const bounded = [
    'e.vcpu === 1 && e.req === "NESTED_S2_UNMAP"',
    'w.kvm.vcpus[e.vcpu].mode === "IN_GUEST_MODE"',
    'mmu("nested[1]").pending_unmap',
    'w.threads.every(t => t.done || t.daemon)',
    'w.threads.some(t => t.stack.some(f => f.fn === "kvm_mmu_notifier_invalidate_range_start"))',
    'hex(e.ipa) === "0x1000" || (e.ipa >> 12) % 2 === 1',
    '`${e.thread}:${e.kind}`',
    'Object.keys(w.metrics).length > 0 ? Math.max(1, 2) : -1',
    'w.step > 100 ? [w.step, w.seq] : { step: w.step }',
    'JSON.stringify(thread("vcpu0").wait)',
    'w.kvm?.vcpus?.[3]?.mode',
  ];
  for (const src of bounded) it(`bounded: ${src}`, () => expect(check_expr(src).bounded).toBe(true));
  const general = [
    ['w.step = 1', 'an assignment'],
    ['new Array(10)', 'new'],
    ['(() => 1)()', 'a call of a computed function'],
    ['w.threads.reduce((a, t) => a + t.steps, 0)', 'the method reduce'],
    ['"x".repeat(1e9)', 'the method repeat'],
    ['[/a+$/]', 'a regular expression'],
    ['w.threads[0].name.match(/a+$/)', 'the method match'],
    ['2n ** 100000000n', '**'],
    ['1n << BigInt(e.level)', '<< by more than a literal 64'],
    ['[...w.threads]', 'spread (...)'],
    ['w.threads.map(t => { return t.name; })', 'a callback with a block body'],
    ['w.threads.constructor', '.constructor'],
    ['w.threads.map(f => f(f))', 'a call of f'],
  ];
  for (const [src, why] of general) {
    it(`evaluator: ${src}`, () => {
      const c = check_expr(src!);
      expect(c.bounded).toBe(false);
      expect(c.why).toBe(why);
    });
  }

  it('both realms give the same answers', () => {
    const w = session().world;
    expect(eval_expr('w.threads.map(t => t.name)', { w })).toEqual(eval_expr('(() => w.threads.map(t => t.name))()', { w }));
    expect(eval_expr('hex(255) + hex(-16n)', { w })).toBe('0xff-0x10');
    expect(eval_expr('thread("t1").name', { w })).toBe('t1');
    expect(eval_expr('(() => { let n = 0; for (const t of w.threads) n += t.name.length; return n; })()', { w })).toBe(6);
  });

  it('one expression, nothing after it: statements and injections do not parse', () => {
    for (const src of ['1); process.exit(1); (1', '1; 2', 'while (1) {}', '}', '1 //', '__kvmdbg_guard()']) {
      if (src === '1 //') {
        expect(check_expr(src).bounded).toBe(true);
        continue;
      }
      expect(() => check_expr(src), src).toThrow(DebugError);
    }
  });

  it('a quoted expression in an error is at most 200 characters, with control characters escaped', () => {
    const long = `w.${'x'.repeat(500)}\u001b[2J`;
    let msg = '';
    try {
      check_expr(`${long} +`);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^cannot parse "w\.x{198}\.\.\."/);
    expect(msg).not.toMatch(/\u001b/);
  });
});
