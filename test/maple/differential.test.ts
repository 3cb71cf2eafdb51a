// Differential property tests: random operation sequences run against the
// maple tree and against the sorted-list reference (ref.ts), with
// mt_validate after every step, for plain and MT_FLAGS_ALLOC_RANGE trees.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as M from '../../src/core/maple/index.js';
import { INF, MAX_EXACT, Ref } from './ref.js';

type Op =
  | { k: 'store'; first: number; last: number; entry: number }
  | { k: 'insert'; first: number; last: number; entry: number }
  | { k: 'erase'; i: number }
  | { k: 'fill'; base: number; count: number; stride: number; width: number; erase: boolean }
  | { k: 'load'; i: number }
  | { k: 'walk'; i: number }
  | { k: 'find'; i: number; max: number }
  | { k: 'area'; min: number; max: number; size: number; rev: boolean }
  | { k: 'alloc'; min: number; max: number; size: number; rev: boolean; entry: number }
  | { k: 'iter'; i: number; max: number }
  | { k: 'iterwrite'; i: number; max: number; every: number; span: number }
  | { k: 'masstore'; first: number; last: number; entry: number }
  | { k: 'maserase'; i: number };

// Indices biased to the interesting places.
const special = fc.constantFrom(0, 1, 2, 3, 15, 16, 17, MAX_EXACT, MAX_EXACT - 1, 2 ** 52, 2 ** 53 - 64, 2 ** 40);
const small = fc.integer({ min: 0, max: 700 });
const idx = fc.oneof({ weight: 8, arbitrary: small }, { weight: 2, arbitrary: special });
const lastOf = (first: number, len: number | 'inf') => (len === 'inf' ? INF : Math.min(first + len, MAX_EXACT));
const len = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }) },
  { weight: 1, arbitrary: fc.constant('inf' as const) },
);
const entry = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 5000 }).map((v) => M.xa_mk_value(v)) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }).map((v) => v * 4096) },
  { weight: 1, arbitrary: fc.constantFrom(M.XA_ZERO_ENTRY, 2050, 2, 1026, 6, MAX_EXACT, 2 ** 53, 4098) },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'store' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 4, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'insert' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 4, arbitrary: idx.map((i) => ({ k: 'erase' as const, i })) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        base: fc.integer({ min: 0, max: 700 }),
        count: fc.integer({ min: 10, max: 200 }),
        stride: fc.integer({ min: 1, max: 12 }),
        width: fc.integer({ min: 0, max: 10 }),
        erase: fc.boolean(),
      })
      .map((r) => ({ k: 'fill' as const, ...r })),
  },
  { weight: 3, arbitrary: idx.map((i) => ({ k: 'load' as const, i })) },
  { weight: 2, arbitrary: fc.oneof(idx, fc.constant(INF)).map((i) => ({ k: 'walk' as const, i })) },
  { weight: 2, arbitrary: fc.tuple(idx, fc.oneof(idx, fc.constant(INF))).map(([i, max]) => ({ k: 'find' as const, i, max })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(idx, fc.oneof(idx, fc.constant(INF)), fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(INF, 2 ** 52)), fc.boolean())
      .map(([min, max, size, rev]) => ({ k: 'area' as const, min, max, size, rev })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(idx, fc.oneof(idx, fc.constant(INF)), fc.integer({ min: 1, max: 30 }), fc.boolean(), entry)
      .map(([min, max, size, rev, e]) => ({ k: 'alloc' as const, min, max, size, rev, entry: e })),
  },
  { weight: 1, arbitrary: fc.tuple(idx, fc.oneof(idx, fc.constant(INF))).map(([i, max]) => ({ k: 'iter' as const, i, max })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(idx, fc.oneof(idx, fc.constant(INF)), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 30 }))
      .map(([i, max, every, span]) => ({ k: 'iterwrite' as const, i, max, every, span })),
  },
  { weight: 2, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'masstore' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 1, arbitrary: idx.map((i) => ({ k: 'maserase' as const, i })) },
);

function expectedStoreErr(first: number, last: number, e: number): number {
  if (M.xa_is_advanced(e)) return -M.EINVAL;
  if (e > MAX_EXACT) return -M.ERANGE;
  if (first > last) return -M.EINVAL;
  return 0;
}

let maxHeight = 0;
// MAPLE_FC_RUNS=2000 for a longer hunt.
const RUNS = Number(process.env.MAPLE_FC_RUNS ?? 70);

function check(mt: M.MapleTree, ref: Ref, step: string): void {
  const errs = M.mt_validate(mt);
  if (errs.length) throw new Error(`${step}: invalid tree:\n${errs.slice(0, 8).join('\n')}\n${M.mt_dump(mt)}`);
  if (mt.height > maxHeight) maxHeight = mt.height;
  // Full contents equal.
  const got: Array<[number, number, number]> = [];
  const mas = M.MA_STATE(mt, 0, 0);
  for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) got.push([mas.index, mas.last, e]);
  const want = ref.r.map((x) => [x.first, x.last, x.entry] as [number, number, number]);
  expect(got, step).toEqual(want);
}

function apply(mt: M.MapleTree, ref: Ref, o: Op): void {
  const step = JSON.stringify(o);
  switch (o.k) {
    case 'store': {
      const want = expectedStoreErr(o.first, o.last, o.entry);
      const got = M.mtree_store_range(mt, o.first, o.last, o.entry);
      expect(got, step).toBe(want);
      if (!want) ref.store(o.first, o.last, o.entry);
      break;
    }
    case 'insert': {
      let want = expectedStoreErr(o.first, o.last, o.entry);
      if (!want && ref.overlaps(o.first, o.last)) want = -M.EEXIST;
      const got = M.mtree_insert_range(mt, o.first, o.last, o.entry);
      expect(got, step).toBe(want);
      if (!want) ref.store(o.first, o.last, o.entry);
      break;
    }
    case 'erase': {
      expect(M.mtree_erase(mt, o.i), step).toBe(ref.erase(o.i));
      break;
    }
    case 'fill': {
      for (let i = 0; i < o.count; i++) {
        const f = o.base + i * o.stride;
        const l = f + o.width;
        const e = o.erase && i % 3 === 1 ? 0 : M.xa_mk_value(f);
        expect(M.mtree_store_range(mt, f, l, e)).toBe(0);
        ref.store(f, l, e);
      }
      break;
    }
    case 'load':
      expect(M.mtree_load(mt, o.i), step).toBe(ref.load(o.i));
      break;
    case 'walk': {
      const mas = M.MA_STATE(mt, o.i, o.i);
      const e = M.mas_walk(mas);
      const w = ref.walk(o.i);
      if (!mt.root_is_node) {
        // Root-entry and empty trees report their own conventions.
        if (mt.ma_root === 0) expect([e, mas.index, mas.last], step).toEqual([0, 0, INF]);
        else if (o.i === 0) expect([e, mas.index, mas.last], step).toEqual([mt.ma_root, 0, 0]);
        else expect([e, mas.index, mas.last], step).toEqual([0, 1, INF]);
      } else {
        expect([e, mas.index, mas.last], step).toEqual([w.entry, w.first, w.last]);
      }
      break;
    }
    case 'find': {
      const ref_r = ref.mt_find(o.i, o.max);
      const ir = { value: o.i };
      const e = M.mt_find(mt, ir, o.max);
      if (ref_r === null) expect(e, step).toBe(0);
      else {
        expect([e, ir.value, M.MT_FOUND.first, M.MT_FOUND.last], step).toEqual([ref_r.entry, ref_r.next, ref_r.first, ref_r.last]);
      }
      break;
    }
    case 'area': {
      const mas = M.MA_STATE(mt, 0, 0);
      const r = o.rev ? M.mas_empty_area_rev(mas, o.min, o.max, o.size) : M.mas_empty_area(mas, o.min, o.max, o.size);
      const w = ref.empty_area(o.min, o.max, o.size, o.rev);
      if (w.ret === 0) expect([r, mas.index, mas.last], step).toEqual([0, w.index, w.last]);
      else expect(r, step).toBe(w.ret);
      break;
    }
    case 'alloc': {
      const ir = { value: -1 };
      const fn = o.rev ? M.mtree_alloc_rrange : M.mtree_alloc_range;
      const r = fn(mt, ir, o.entry, o.size, o.min, o.max);
      let want: number;
      let where = -1;
      if (!M.mt_is_alloc(mt) || M.mt_is_reserved(o.entry)) want = -M.EINVAL;
      else if (o.entry > MAX_EXACT) want = -M.ERANGE;
      else {
        const w = ref.empty_area(o.min, o.max, o.size, o.rev);
        want = w.ret;
        if (want === 0) {
          where = w.index!;
          ref.store(w.index!, w.last!, o.entry);
        }
      }
      expect(r, step).toBe(want);
      if (want === 0) expect(ir.value, step).toBe(where);
      break;
    }
    case 'iter': {
      const got: number[][] = [];
      M.mt_for_each(mt, o.i, o.max, (e, f, l) => {
        got.push([e, f, l]);
      });
      const want: number[][] = [];
      let i = o.i;
      for (;;) {
        const r = ref.mt_find(i, o.max);
        if (!r) break;
        want.push([r.entry, r.first, r.last]);
        if (r.next === 0) break;
        i = r.next;
      }
      expect(got, step).toEqual(want);
      break;
    }
    case 'iterwrite': {
      // Write from inside the callback: erase some entries, overwrite ahead
      // of the cursor, write another tree. The loop must behave like the
      // kernel's repeated mt_find() from just after each delivered entry.
      const other = M.mt_init_flags(0);
      const got: number[][] = [];
      let n = 0;
      const act = (e: number, f: number, l: number, t: M.MapleTree | Ref) => {
        n++;
        if (n % o.every === 0) {
          if (t instanceof Ref) t.erase(f);
          else M.mtree_erase(t, f);
        } else if (n % o.every === 1 && l !== INF && l + 1 + o.span <= MAX_EXACT) {
          if (t instanceof Ref) t.store(l + 1, l + 1 + o.span, M.xa_mk_value(7));
          else M.mtree_store_range(t, l + 1, l + 1 + o.span, M.xa_mk_value(7));
        }
        if (!(t instanceof Ref)) M.mtree_store(other, n, M.xa_mk_value(n));
        return n < 400;
      };
      M.mt_for_each(mt, o.i, o.max, (e, f, l) => {
        got.push([e, f, l]);
        return act(e, f, l, mt);
      });
      const want: number[][] = [];
      n = 0;
      let i = o.i;
      for (;;) {
        const r = ref.mt_find(i, o.max);
        if (!r) break;
        want.push([r.entry, r.first, r.last]);
        if (!act(r.entry, r.first, r.last, ref)) break;
        if (r.next === 0) break;
        i = r.next;
      }
      expect(got, step).toEqual(want);
      expect(M.mt_validate(other)).toEqual([]);
      break;
    }
    case 'masstore': {
      const mas = M.MA_STATE(mt, o.first, o.last);
      const before = ref.find(o.first);
      // mas_store() takes any entry (only the normal API refuses internal ones).
      const want = o.entry > MAX_EXACT ? -M.ERANGE : o.first > o.last ? -M.EINVAL : 0;
      const content = M.mas_store(mas, o.entry);
      if (want) {
        expect(mas.status, step).toBe('error');
        expect(mas.error, step).toBe(want);
      } else {
        expect(mas.status, step).not.toBe('error');
        expect(content, step).toBe(before ? before.entry : 0);
        ref.store(o.first, o.last, o.entry);
      }
      break;
    }
    case 'maserase': {
      const mas = M.MA_STATE(mt, o.i, o.i);
      const want = ref.find(o.i);
      const e = M.mas_erase(mas);
      expect(e, step).toBe(want ? want.entry : 0);
      if (want) {
        ref.erase(o.i);
        // index/last cover the erased range, merged with free neighbours.
        const w = ref.walk(o.i);
        if (mt.root_is_node) expect([mas.index, mas.last], step).toEqual([w.first, w.last]);
      }
      break;
    }
  }
  check(mt, ref, step);
}

function run(flags: number, ops: Op[]): void {
  const mt = M.mt_init_flags(flags);
  const ref = new Ref();
  for (const o of ops) apply(mt, ref, o);
}

describe('maple tree vs reference', () => {
  test('plain tree', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300, size: 'max' }), (ops) => run(0, ops)),
      { numRuns: RUNS },
    );
  }, 60_000 + RUNS * 100);
  test('MT_FLAGS_ALLOC_RANGE tree', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300, size: 'max' }), (ops) => run(M.MT_FLAGS_ALLOC_RANGE, ops)),
      { numRuns: RUNS },
    );
  }, 60_000 + RUNS * 100);
  test('RCU-mode alloc tree (node stores copy the leaf)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }), (ops) => run(M.MM_MT_FLAGS, ops)),
      { numRuns: Math.ceil(RUNS / 2.5) },
    );
  }, 60_000 + RUNS * 100);
  test('the generated sequences reached height 3 or more', () => {
    expect(maxHeight).toBeGreaterThanOrEqual(3);
  });
});
