// Seeded long runs on big trees (height 4 and back): grow by scattered
// small stores, shrink by wide NULL stores (spanning writes over many
// leaves and levels) and erases, checked against the reference and
// mt_validate() along the way.
import { describe, expect, test } from 'vitest';
import * as M from '../../src/core/maple/index.js';
import { Ref } from './ref.js';

const INF = M.ULONG_MAX;
const b = (x: M.ulong): bigint => M.ul_big(x);

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

function same(mt: M.MapleTree, ref: Ref, where: string): void {
  const got: Array<[bigint, bigint, bigint]> = [];
  M.mt_for_each(mt, 0, INF, (e, f, l) => {
    got.push([b(f), b(l), b(e)]);
  });
  const want = ref.r.filter((x) => x.entry !== 1030n).map((x) => [x.first, x.last, x.entry] as [bigint, bigint, bigint]);
  expect(got, where).toEqual(want);
}

function run(flags: number, seed: number, steps: number): number[] {
  const r = rng(seed);
  const mt = M.mt_init_flags(flags);
  const ref = new Ref();
  const heights = new Set<number>();
  const SPACE = 60000;
  let phase = 0;
  for (let step = 0; step < steps; step++) {
    if (step % 1500 === 0) phase = (step / 1500) % 3;
    const where = `seed ${seed} step ${step}`;
    // Phase 0 grows, 1 mixes, 2 shrinks.
    const k = r(100);
    const small = phase === 0 ? 88 : phase === 1 ? 70 : 40;
    const wide = phase === 0 ? 90 : phase === 1 ? 78 : 60;
    if (k < small) {
      // Small store somewhere, sometimes NULL.
      const a = r(SPACE);
      const z = a + r(r(8) === 0 ? 200 : 12);
      const e = r(10) === 0 ? 0 : M.xa_mk_value(r(1 << 20));
      expect(M.mtree_store_range(mt, a, z, e), where).toBe(0);
      ref.store(b(a), b(z), b(e));
    } else if (k < wide) {
      // Wide NULL store: a spanning write across leaves and levels.
      const a = r(SPACE);
      const z = r(20) === 0 ? INF : a + r(phase === 2 ? 6000 : 1500);
      expect(M.mtree_store_range(mt, a, z, 0), where).toBe(0);
      ref.store(b(a), b(z), 0n);
    } else if (k < 86) {
      const i = r(SPACE);
      expect(b(M.mtree_erase(mt, i)), where).toBe(ref.erase(b(i)));
    } else if (k < 92) {
      const a = r(SPACE);
      const z = a + r(30);
      const want = ref.overlaps(b(a), b(z)) ? -M.EEXIST : 0;
      expect(M.mtree_insert_range(mt, a, z, M.xa_mk_value(a)), where).toBe(want);
      if (!want) ref.store(b(a), b(z), b(M.xa_mk_value(a)));
    } else if (k < 96) {
      // Free-area search, both directions.
      const lo = r(SPACE);
      const hi = lo + r(20000);
      const size = 1 + r(40);
      const rev = r(2) === 1;
      const mas = M.MA_STATE(mt, 0, 0);
      const got = rev ? M.mas_empty_area_rev(mas, lo, hi, size) : M.mas_empty_area(mas, lo, hi, size);
      const want = ref.empty_area(b(lo), b(hi), b(size), rev);
      expect(got, where).toBe(want.ret);
      if (got === 0) expect([b(mas.index), b(mas.last)], where).toEqual([want.index, want.last]);
    } else if (phase !== 0) {
      // A store over a whole region with one entry (overwrites many).
      const a = r(SPACE);
      const z = a + r(3000);
      expect(M.mtree_store_range(mt, a, z, M.xa_mk_value(7)), where).toBe(0);
      ref.store(b(a), b(z), 15n);
    }
    for (let j = 0; j < 3; j++) {
      const i = r(SPACE + 100);
      expect(b(M.mtree_load(mt, i)), where).toBe(ref.load(b(i)));
    }
    heights.add(mt.height);
    if (process.env.MAPLE_STRESS_DEBUG && step % 500 === 0) console.log(step, phase, ref.r.length, mt.height);
    if (step % 10 === 0) {
      const errs = M.mt_validate(mt);
      if (errs.length) throw new Error(`${where}: ${errs.slice(0, 5).join('; ')}`);
    }
    if (step % 400 === 0) same(mt, ref, where);
  }
  same(mt, ref, 'end');
  expect(M.mt_validate(mt)).toEqual([]);
  return [...heights].sort();
}

describe('seeded stress on big trees', () => {
  // MAPLE_STRESS_SEEDS=40 runs that many extra seeds of each kind.
  const extra = Number(process.env.MAPLE_STRESS_SEEDS ?? 0);
  for (let seed = 100; seed < 100 + extra; seed++) {
    test(`extra seed ${seed}`, () => {
      run(seed % 2 ? M.MT_FLAGS_ALLOC_RANGE : seed % 4 === 0 ? M.MM_MT_FLAGS : 0, seed, 9000);
    });
  }
  test('MT_FLAGS_ALLOC_RANGE: grows to height 4 and shrinks back', () => {
    const h = run(M.MT_FLAGS_ALLOC_RANGE, 1, 9000);
    expect(Math.max(...h)).toBeGreaterThanOrEqual(4);
    expect(h.length).toBeGreaterThanOrEqual(3);
  });
  test('plain tree', () => {
    const h = run(0, 7, 9000);
    expect(Math.max(...h)).toBeGreaterThanOrEqual(3);
  });
});
