// Differential property tests: random operation sequences run against the
// maple tree and against the sorted-list reference (ref.ts, bigints), with
// mt_validate after every step, for plain, MT_FLAGS_ALLOC_RANGE and RCU
// trees. Indices and entries cover 0..2^64-1: the places where the model's
// number representation changes (2^53), bit 63, and ULONG_MAX.
// fast-check runs with a fixed seed.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as M from '../../src/core/maple/index.js';
import { Ref, TOP } from './ref.js';

type U = M.ulong;
type Op =
  | { k: 'store'; first: U; last: U; entry: U }
  | { k: 'insert'; first: U; last: U; entry: U }
  | { k: 'erase'; i: U }
  | { k: 'fill'; base: U; count: number; stride: number; width: number; erase: boolean }
  | { k: 'load'; i: U }
  | { k: 'walk'; i: U }
  | { k: 'find'; i: U; max: U }
  | { k: 'prev'; i: U; min: U }
  | { k: 'area'; min: U; max: U; size: U; rev: boolean }
  | { k: 'alloc'; min: U; max: U; size: U; rev: boolean; entry: U }
  | { k: 'iter'; i: U; max: U }
  | { k: 'iterwrite'; i: U; max: U; every: number; span: number }
  | { k: 'masstore'; first: U; last: U; entry: U }
  | { k: 'maserase'; i: U };

const B = (x: U): bigint => M.ul_big(x);
const ul = (x: bigint): U => M.ul_of_big(x);
const INF = M.ULONG_MAX;

// Bases where the representation changes, plus small ones; offsets keep ranges interacting.
const BASES = [0n, 0n, 0n, 2n ** 40n, 2n ** 53n - 300n, 2n ** 63n - 200n, 0x8000000040001000n, TOP - 800n];
const base = fc.constantFrom(...BASES);
const idx = fc.tuple(base, fc.integer({ min: 0, max: 700 })).map(([b, o]) => ul(b + BigInt(o) > TOP ? TOP : b + BigInt(o)));
const lastOf = (first: U, len: number | 'inf') => (len === 'inf' ? INF : ul(B(first) + BigInt(len) > TOP ? TOP : B(first) + BigInt(len)));
const len = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }) },
  { weight: 1, arbitrary: fc.constant('inf' as const) },
);
const entry: fc.Arbitrary<U> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 5000 }).map((v) => M.xa_mk_value(v)) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 20 }).map((v) => v * 4096) },
  { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: TOP }).map(ul) },
  { weight: 1, arbitrary: fc.constantFrom<U>(M.XA_ZERO_ENTRY, 2050, 2, 1026, 6, 2n ** 53n, 4098, 0x8000000040001000n, INF, 0x8000000000000001n) },
);
const limit = fc.oneof(idx, fc.constant<U>(INF));

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'store' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 4, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'insert' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 4, arbitrary: idx.map((i) => ({ k: 'erase' as const, i })) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        base: idx,
        count: fc.integer({ min: 10, max: 200 }),
        stride: fc.integer({ min: 1, max: 12 }),
        width: fc.integer({ min: 0, max: 10 }),
        erase: fc.boolean(),
      })
      .map((r) => ({ k: 'fill' as const, ...r })),
  },
  { weight: 3, arbitrary: idx.map((i) => ({ k: 'load' as const, i })) },
  { weight: 2, arbitrary: limit.map((i) => ({ k: 'walk' as const, i })) },
  { weight: 2, arbitrary: fc.tuple(idx, limit).map(([i, max]) => ({ k: 'find' as const, i, max })) },
  { weight: 2, arbitrary: fc.tuple(limit, idx).map(([i, min]) => ({ k: 'prev' as const, i, min })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(idx, limit, fc.oneof(fc.integer({ min: 0, max: 40 }).map((x): U => x), fc.constantFrom<U>(INF, 2 ** 52, 2n ** 63n)), fc.boolean())
      .map(([min, max, size, rev]) => ({ k: 'area' as const, min, max, size, rev })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(idx, limit, fc.integer({ min: 1, max: 30 }), fc.boolean(), entry)
      .map(([min, max, size, rev, e]) => ({ k: 'alloc' as const, min, max, size, rev, entry: e })),
  },
  { weight: 1, arbitrary: fc.tuple(idx, limit).map(([i, max]) => ({ k: 'iter' as const, i, max })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(idx, limit, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 30 }))
      .map(([i, max, every, span]) => ({ k: 'iterwrite' as const, i, max, every, span })),
  },
  { weight: 2, arbitrary: fc.tuple(idx, len, entry).map(([f, l, e]) => ({ k: 'masstore' as const, first: f, last: lastOf(f, l), entry: e })) },
  { weight: 1, arbitrary: idx.map((i) => ({ k: 'maserase' as const, i })) },
);

function expectedStoreErr(first: U, last: U, e: U): number {
  if (M.xa_is_advanced(e)) return -M.EINVAL;
  if (first > last) return -M.EINVAL;
  return 0;
}

const show = (o: Op) => JSON.stringify(o, (_k, x: unknown) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x === INF ? 'ULONG_MAX' : x));

let maxHeight = 0;
// MAPLE_FC_RUNS=2000 for a longer hunt.
const RUNS = Number(process.env.MAPLE_FC_RUNS ?? 70);

function check(mt: M.MapleTree, ref: Ref, step: string): void {
  const errs = M.mt_validate(mt);
  if (errs.length) throw new Error(`${step}: invalid tree:\n${errs.slice(0, 8).join('\n')}\n${M.mt_dump(mt)}`);
  if (mt.height > maxHeight) maxHeight = mt.height;
  // Full contents equal.
  const got: Array<[bigint, bigint, bigint]> = [];
  const mas = M.MA_STATE(mt, 0, 0);
  for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) got.push([B(mas.index), B(mas.last), B(e)]);
  const want = ref.r.map((x) => [x.first, x.last, x.entry] as [bigint, bigint, bigint]);
  expect(got, step).toEqual(want);
}

function apply(mt: M.MapleTree, ref: Ref, o: Op): void {
  const step = show(o);
  switch (o.k) {
    case 'store': {
      const want = expectedStoreErr(o.first, o.last, o.entry);
      const got = M.mtree_store_range(mt, o.first, o.last, o.entry);
      expect(got, step).toBe(want);
      if (!want) ref.store(B(o.first), B(o.last), B(o.entry));
      break;
    }
    case 'insert': {
      let want = expectedStoreErr(o.first, o.last, o.entry);
      if (!want && ref.overlaps(B(o.first), B(o.last))) want = -M.EEXIST;
      const got = M.mtree_insert_range(mt, o.first, o.last, o.entry);
      expect(got, step).toBe(want);
      if (!want) ref.store(B(o.first), B(o.last), B(o.entry));
      break;
    }
    case 'erase': {
      expect(B(M.mtree_erase(mt, o.i)), step).toBe(ref.erase(B(o.i)));
      break;
    }
    case 'fill': {
      for (let i = 0; i < o.count; i++) {
        const f = B(o.base) + BigInt(i * o.stride);
        const l = f + BigInt(o.width);
        if (l > TOP) break;
        const e = o.erase && i % 3 === 1 ? 0 : M.xa_mk_value(ul(f));
        expect(M.mtree_store_range(mt, ul(f), ul(l), e)).toBe(0);
        ref.store(f, l, B(e));
      }
      break;
    }
    case 'load':
      expect(B(M.mtree_load(mt, o.i)), step).toBe(ref.load(B(o.i)));
      break;
    case 'walk': {
      const mas = M.MA_STATE(mt, o.i, o.i);
      const e = M.mas_walk(mas);
      const w = ref.walk(B(o.i));
      const got = [B(e), B(mas.index), B(mas.last)];
      if (!mt.root_is_node) {
        // Root-entry and empty trees report their own conventions.
        if (mt.ma_root === 0) expect(got, step).toEqual([0n, 0n, TOP]);
        else if (o.i === 0) expect(got, step).toEqual([B(mt.ma_root), 0n, 0n]);
        else expect(got, step).toEqual([0n, 1n, TOP]);
      } else {
        expect(got, step).toEqual([w.entry, w.first, w.last]);
      }
      break;
    }
    case 'find': {
      const ref_r = ref.mt_find(B(o.i), B(o.max));
      const ir = { value: o.i };
      const e = M.mt_find(mt, ir, o.max);
      if (ref_r === null) expect(e, step).toBe(0);
      else {
        expect([B(e), B(ir.value), B(M.MT_FOUND.first), B(M.MT_FOUND.last)], step).toEqual([ref_r.entry, ref_r.next, ref_r.first, ref_r.last]);
      }
      break;
    }
    case 'prev': {
      const e = M.mt_prev(mt, o.i, o.min);
      if (!mt.root_is_node) {
        // mas_prev() on a root entry: the entry at 0 for any index above min (and 0), even below min.
        const want = mt.ma_root !== 0 && o.i > o.min && o.i !== 0 ? mt.ma_root : 0;
        expect(e, step).toBe(want);
      } else {
        const r = ref.prev(B(o.i), B(o.min));
        if (r === null) expect(e, step).toBe(0);
        else expect([B(e), B(M.MT_NEAR.first), B(M.MT_NEAR.last)], step).toEqual([r.entry, r.first, r.last]);
      }
      break;
    }
    case 'area': {
      const mas = M.MA_STATE(mt, 0, 0);
      const r = o.rev ? M.mas_empty_area_rev(mas, o.min, o.max, o.size) : M.mas_empty_area(mas, o.min, o.max, o.size);
      const w = ref.empty_area(B(o.min), B(o.max), B(o.size), o.rev);
      if (w.ret === 0) expect([r, B(mas.index), B(mas.last)], step).toEqual([0, w.index, w.last]);
      else expect(r, step).toBe(w.ret);
      break;
    }
    case 'alloc': {
      const ir = { value: 12345 as U };
      const fn = o.rev ? M.mtree_alloc_rrange : M.mtree_alloc_range;
      const r = fn(mt, ir, o.entry, o.size, o.min, o.max);
      let want: number;
      let where = -1n;
      if (!M.mt_is_alloc(mt) || M.mt_is_reserved(o.entry)) want = -M.EINVAL;
      else {
        const w = ref.empty_area(B(o.min), B(o.max), B(o.size), o.rev);
        want = w.ret;
        if (want === 0) {
          where = w.index!;
          ref.store(w.index!, w.last!, B(o.entry));
        }
      }
      expect(r, step).toBe(want);
      if (want === 0) expect(B(ir.value), step).toBe(where);
      break;
    }
    case 'iter': {
      const got: bigint[][] = [];
      M.mt_for_each(mt, o.i, o.max, (e, f, l) => {
        got.push([B(e), B(f), B(l)]);
      });
      const want: bigint[][] = [];
      let i = B(o.i);
      for (;;) {
        const r = ref.mt_find(i, B(o.max));
        if (!r) break;
        want.push([r.entry, r.first, r.last]);
        if (r.next === 0n) break;
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
      const got: bigint[][] = [];
      let n = 0;
      const act = (f: bigint, l: bigint, t: M.MapleTree | Ref) => {
        n++;
        if (n % o.every === 0) {
          if (t instanceof Ref) t.erase(f);
          else M.mtree_erase(t, ul(f));
        } else if (n % o.every === 1 && l + 1n + BigInt(o.span) <= TOP) {
          const a = l + 1n;
          const b = l + 1n + BigInt(o.span);
          if (t instanceof Ref) t.store(a, b, 15n);
          else M.mtree_store_range(t, ul(a), ul(b), M.xa_mk_value(7));
        }
        if (!(t instanceof Ref)) M.mtree_store(other, n, M.xa_mk_value(n));
        return n < 400;
      };
      M.mt_for_each(mt, o.i, o.max, (e, f, l) => {
        got.push([B(e), B(f), B(l)]);
        return act(B(f), B(l), mt);
      });
      const want: bigint[][] = [];
      n = 0;
      let i = B(o.i);
      for (;;) {
        const r = ref.mt_find(i, B(o.max));
        if (!r) break;
        want.push([r.entry, r.first, r.last]);
        if (!act(r.first, r.last, ref)) break;
        if (r.next === 0n) break;
        i = r.next;
      }
      expect(got, step).toEqual(want);
      expect(M.mt_validate(other)).toEqual([]);
      break;
    }
    case 'masstore': {
      const mas = M.MA_STATE(mt, o.first, o.last);
      const before = ref.find(B(o.first));
      // mas_store() takes any entry (only the normal API refuses internal ones).
      const want = o.first > o.last ? -M.EINVAL : 0;
      const content = M.mas_store(mas, o.entry);
      if (want) {
        expect(mas.status, step).toBe('error');
        expect(mas.error, step).toBe(want);
      } else {
        expect(mas.status, step).not.toBe('error');
        expect(B(content), step).toBe(before ? before.entry : 0n);
        ref.store(B(o.first), B(o.last), B(o.entry));
      }
      break;
    }
    case 'maserase': {
      const mas = M.MA_STATE(mt, o.i, o.i);
      const want = ref.find(B(o.i));
      const e = M.mas_erase(mas);
      expect(B(e), step).toBe(want ? want.entry : 0n);
      if (want) {
        ref.erase(B(o.i));
        // index/last cover the erased range, merged with free neighbours.
        const w = ref.walk(B(o.i));
        if (mt.root_is_node) expect([B(mas.index), B(mas.last)], step).toEqual([w.first, w.last]);
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
      { numRuns: RUNS, seed: 0x6d61706c },
    );
  }, 60_000 + RUNS * 100);
  test('MT_FLAGS_ALLOC_RANGE tree', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 300, size: 'max' }), (ops) => run(M.MT_FLAGS_ALLOC_RANGE, ops)),
      { numRuns: RUNS, seed: 0x65363464 },
    );
  }, 60_000 + RUNS * 100);
  test('RCU-mode alloc tree (node stores copy the leaf)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }), (ops) => run(M.MM_MT_FLAGS, ops)),
      { numRuns: Math.ceil(RUNS / 2.5), seed: 0x72637521 },
    );
  }, 60_000 + RUNS * 100);
  test('the generated sequences reached height 3 or more', () => {
    expect(maxHeight).toBeGreaterThanOrEqual(3);
  });
});
