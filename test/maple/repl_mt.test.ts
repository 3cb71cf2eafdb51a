// The `mt` commands of the REPL: the kernel API they stand for, their JSON
// results, 64-bit values end to end (parse, store, time travel, print), and
// Marc Zyngier's review point on the reverse-map payload shown at the
// prompt: which values the tree refuses and what xa_mk_value() loses.
import { describe, expect, it } from 'vitest';
import { Interpreter, type Outcome } from '../../src/repl/interpreter.js';
import { scenario_interp } from '../repl/helpers.js';

function j(o: Outcome | null): { ok: boolean; result?: unknown; error?: { code: string; message: string } } {
  return JSON.parse(Interpreter.json_line(o!)) as never;
}
function ok(i: Interpreter, line: string): unknown {
  const r = j(i.exec(line));
  expect(r.ok, `${line}: ${JSON.stringify(r.error)}`).toBe(true);
  return r.result;
}
function err(i: Interpreter, line: string): { code: string; message: string } {
  const r = j(i.exec(line));
  expect(r.ok, line).toBe(false);
  return r.error!;
}

describe('mt: the kernel API at the prompt, 64-bit values exactly', () => {
  it('a store of 0x8000000040001000 round-trips, as index and value, across time travel', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    ok(i, 'step 3');
    ok(i, 'mt new t');
    expect(ok(i, 'mt store t 0x8000000040001000 0x8000000040001fff 0x8000000040001000')).toEqual({});
    expect(ok(i, 'mt load t 0x8000000040001800')).toEqual({ value: '0x8000000040001000' });
    expect(ok(i, 'mt load t 0x8000000040002000')).toEqual({ value: null });
    expect(ok(i, 'mt load t 0x8000000040000fff')).toEqual({ value: null });
    expect(ok(i, 'mt find t 0')).toEqual({ first: '0x8000000040001000', last: '0x8000000040001fff', value: '0x8000000040001000' });
    // A single index at ULONG_MAX and next to it: refused by the model before.
    ok(i, 'mt insert t 0xffffffffffffffff 0xffffffffffffffff 0xffffffffffffffff');
    ok(i, 'mt insert t 0xfffffffffffffffe 0xfffffffffffffffe 0x1001');
    expect(ok(i, 'mt load t 0xffffffffffffffff')).toEqual({ value: '0xffffffffffffffff' });
    expect(ok(i, 'mt prev t 0xffffffffffffffff')).toEqual({ first: '0xfffffffffffffffe', last: '0xfffffffffffffffe', value: '0x1001' });
    // Re-executed from a checkpoint, the recorded pokes bring the values back.
    ok(i, 'step 5');
    ok(i, 'reverse-step 4');
    expect(ok(i, 'mt load t 0x8000000040001000')).toEqual({ value: '0x8000000040001000' });
    expect(ok(i, 'mt load t 0xffffffffffffffff')).toEqual({ value: '0xffffffffffffffff' });
    expect(ok(i, 'mt validate t')).toEqual({ valid: true, errors: [], height: 1, nodes: 1 });
  });

  it('prev, find --rev, alloc-range, alloc-rrange, dup, destroy, validate', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    ok(i, 'mt new a --alloc');
    for (let k = 1; k <= 40; k++) ok(i, `mt store a ${k * 0x1000} ${k * 0x1000 + 0x7ff} ${k * 0x1000 + 1}`);
    // mt_prev: the entry before the one at INDEX; MIN bounds it.
    expect(ok(i, 'mt prev a 0x5400')).toEqual({ first: '0x4000', last: '0x47ff', value: '0x4001' });
    expect(ok(i, 'mt prev a 0x5000 0x4900')).toBeNull();
    expect(ok(i, 'mt prev a 0x1000')).toBeNull();
    // mas_find_rev: at or below START, down to LIMIT.
    expect(ok(i, 'mt find a 0x5400 --rev')).toEqual({ first: '0x5000', last: '0x57ff', value: '0x5001' });
    expect(ok(i, 'mt find a 0x5900 0x5800 --rev')).toBeNull();
    expect(ok(i, 'mt find a 0x5900 0x5000 --rev')).toEqual({ first: '0x5000', last: '0x57ff', value: '0x5001' });
    // mtree_alloc_range / _rrange: the lowest / highest free area, stored.
    expect(ok(i, 'mt alloc-range a 0x1000 0xffffffffffffffff 0x400 0x2001')).toEqual({ first: '0x1800', last: '0x1bff' });
    expect(ok(i, 'mt load a 0x1a00')).toEqual({ value: '0x2001' });
    expect(ok(i, 'mt alloc-rrange a 0 0xffffffffffffffff 0x1000 0x3001')).toEqual({ first: '0xfffffffffffff000', last: '0xffffffffffffffff' });
    expect(ok(i, 'mt alloc-rrange a 0 0x28fff 0x1000 0x4001')).toEqual({ first: '0x0', last: '0xfff' });
    expect(err(i, 'mt alloc-range a 0x1000 0x1fff 0x900 0x5001').code).toBe('EBUSY');
    expect(err(i, 'mt alloc-range a 0x1000 0x1fff 0x2000 0x5001').code).toBe('EINVAL'); // the window is smaller than SIZE
    ok(i, 'mt new plain');
    expect(err(i, 'mt alloc-range plain 0 100 1 0x5001').message).toMatch(/mtree_alloc_range: -EINVAL/);
    // __mt_dup: a new tree, same flags, same contents.
    const d = ok(i, 'mt dup a b') as { nodes: number };
    expect(d.nodes).toBeGreaterThan(1);
    const dump = (t: string) => (ok(i, `mt dump ${t}`) as { dump: string[] }).dump.slice(1).join('\n');
    expect(dump('b').replace(/0xffff888[0-9a-f]+/g, 'P')).toBe(dump('a').replace(/0xffff888[0-9a-f]+/g, 'P'));
    expect(err(i, 'mt dup a b').code).toBe('EEXIST');
    expect(ok(i, 'mt validate b')).toMatchObject({ valid: true, errors: [] });
    // mtree_destroy: empty, the flags kept.
    expect(ok(i, 'mt destroy a')).toEqual({ nodes: d.nodes });
    expect(ok(i, 'mt load a 0x5000')).toEqual({ value: null });
    expect(ok(i, 'mt validate a')).toEqual({ valid: true, errors: [], height: 0, nodes: 0 });
    expect(ok(i, 'mt alloc-range a 0 100 8 0x41')).toEqual({ first: '0x0', last: '0x7' });
    const list = ok(i, 'mt list') as { trees: { name: string; entries: number }[] };
    expect(list.trees.map((t) => [t.name, t.entries])).toEqual([['a', 1], ['b', 43], ['plain', 0]]);
  });

  it('usage errors name the command and keep the REPL running', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    ok(i, 'mt new t');
    expect(err(i, 'mt prev t').message).toMatch(/usage: mt prev TREE INDEX \[MIN\]/);
    expect(err(i, 'mt alloc-range t 1 2 3').message).toMatch(/usage: mt alloc-range TREE MIN MAX SIZE VALUE/);
    expect(err(i, 'mt dup nope x').code).toBe('ENOENT');
    expect(err(i, 'mt destroy nope').code).toBe('ENOENT');
    expect(err(i, 'mt find t 0x1_0000_0000_0000_0000').code).toBe('EINVAL');
    expect(ok(i, 'mt load t 5')).toEqual({ value: null });
  });
});

describe("Marc Zyngier's review point: reserved values and xa_mk_value()", () => {
  it('mtree_store_range refuses advanced entries (bits [1:0] == 10, at most 0x402) and stores the other reserved values; the allocators refuse all of them', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    ok(i, 'mt new t --alloc');
    for (const v of ['0x2', '0x6', '0x3fe', '0x402']) {
      const e = err(i, `mt store t 0x1000 0x1fff ${v}`);
      expect(e.code).toBe('EINVAL');
      expect(e.message).toMatch(/advanced entry .* mtree_store_range refuses it with -EINVAL/);
    }
    // XA_ZERO_ENTRY and the internal values up to 4096 are stored, as the kernel stores them.
    const text = i.exec('mt store t 0x1000 0x1fff 0x406')!;
    expect(j(text).ok).toBe(true);
    ok(i, 'mt store t 0x3000 0x3fff 0x40a');
    expect(ok(i, 'mt load t 0x1000')).toEqual({ value: null }); // XA_ZERO_ENTRY reads as NULL
    expect(ok(i, 'mt find t 0')).toEqual({ first: '0x3000', last: '0x3fff', value: '0x40a' }); // and mt_find skips it
    expect(ok(i, 'mt load t 0x3000')).toEqual({ value: '0x40a' });
    for (const v of ['0x406', '0x40a', '0xffe']) expect(err(i, `mt alloc-range t 0x10000 0x20000 0x10 ${v}`).code).toBe('EINVAL');
    // The posted payload: VALID_ENTRY (bit 63) | nested IPA (bits 55:12), never internal: stored as is.
    ok(i, 'mt store t 0x40001000 0x40001fff 0x8000000000005000');
    expect(ok(i, 'mt load t 0x40001000')).toEqual({ value: '0x8000000000005000' });
    ok(i, 'mt store t 0x40002000 0x40002fff 0x8000000000000001'); // VALID_ENTRY | UNKNOWN_IPA
    expect(ok(i, 'mt load t 0x40002abc')).toEqual({ value: '0x8000000000000001' });
  });

  it('xa_mk_value() of a payload with bit 63 set loses the bit', () => {
    const i = scenario_interp('scenarios/default.yaml', { json: true });
    expect(ok(i, 'mt xa-mk-value 0x8000000040001000')).toEqual({ entry: '0x80002001', value: '0x40001000', lost: '0x8000000000000000' });
    expect(ok(i, 'mt xa-mk-value 0x40001000')).toEqual({ entry: '0x80002001', value: '0x40001000', lost: null });
    const t = scenario_interp('scenarios/default.yaml').exec('mt xa-mk-value 0x8000000040001000')!;
    expect(t.text).toMatch(/bit 63 is lost/);
  });
});
