// The 64-bit differential: 10,000 seeded random operations with indices
// and entries spread over 0..2^64-1 run against the maple tree and the
// bigint reference (ref.ts), checking every answer, the whole contents and
// mt_validate after every operation. The indices cluster where doubles
// cannot tell neighbours apart (2^63 and up: 2048 integers per double), at
// 2^53 where the representation changes, and at ULONG_MAX.
import { describe, expect, test } from 'vitest';
import { unsafeUniformBigIntDistribution, unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import * as M from '../../src/core/maple/index.js';
import { Ref, TOP } from './ref.js';

const B = (x: M.ulong): bigint => M.ul_big(x);
const ul = (x: bigint): M.ulong => M.ul_of_big(x);
const INF = M.ULONG_MAX;

class Dice {
  constructor(private rng: RandomGenerator) {}
  int(lo: number, hi: number): number {
    return unsafeUniformIntDistribution(lo, hi, this.rng);
  }
  big(lo: bigint, hi: bigint): bigint {
    return unsafeUniformBigIntDistribution(lo, hi, this.rng);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
}

const CLUSTERS = [0n, 2n ** 53n - 2048n, 2n ** 63n, 0x8000000040001000n - 1024n, 0xffffffff00000000n, TOP - 4095n];

function index(d: Dice): bigint {
  const r = d.int(0, 19);
  if (r === 0) return d.big(0n, TOP);
  if (r === 1) return TOP;
  const b = d.pick(CLUSTERS);
  const i = b + BigInt(d.int(0, 4095));
  return i > TOP ? TOP : i;
}

function last_of(d: Dice, first: bigint): bigint {
  const r = d.int(0, 99);
  const len = r < 75 ? BigInt(d.int(0, 16)) : r < 95 ? BigInt(d.int(0, 3000)) : r < 98 ? d.big(0n, 2n ** 40n) : d.int(0, 1) ? d.big(0n, 2n ** 62n) : TOP;
  return first + len > TOP ? TOP : first + len;
}

function entry(d: Dice): bigint {
  const r = d.int(0, 9);
  if (r < 4) return d.big(1n, TOP);
  if (r < 6) return B(M.xa_mk_value(ul(d.big(0n, 2n ** 63n - 1n))));
  if (r < 7) return 0n;
  return d.pick([0x8000000040001000n, 0x8000000000000001n, 1030n, 2n, 1026n, 2050n, TOP, 2n ** 53n, 2n ** 53n - 1n]);
}

/** Every entry in order (at most `limit`: a broken tree must fail the comparison, not loop). */
function contents(mt: M.MapleTree, limit: number): Array<[bigint, bigint, bigint]> {
  const got: Array<[bigint, bigint, bigint]> = [];
  const mas = M.MA_STATE(mt, 0, 0);
  for (let e = M.mas_find(mas, INF); e && got.length < limit; e = M.mas_find(mas, INF)) got.push([B(mas.index), B(mas.last), B(e)]);
  return got;
}

function run(flags: number, seed: number, n: number): Record<string, number> {
  const d = new Dice(xoroshiro128plus(seed));
  const mt = M.mt_init_flags(flags);
  const ref = new Ref();
  const tally: Record<string, number> = {};
  let max_height = 0;
  for (let k = 0; k < n; k++) {
    const op = d.int(0, 11);
    const name = ['store', 'store', 'store', 'insert', 'erase', 'load', 'walk', 'find', 'prev', 'area', 'alloc', 'masstore'][op]!;
    const step = `op ${k} ${name}`;
    const a = index(d);
    switch (name) {
      case 'store':
      case 'insert': {
        const b = d.int(0, 15) === 0 && a > 0n ? a - 1n : last_of(d, a);
        const e = entry(d);
        const advanced = (e & 3n) === 2n && e <= 1026n;
        let want = advanced || a > b ? -M.EINVAL : 0;
        if (!want && name === 'insert' && ref.overlaps(a, b)) want = -M.EEXIST;
        const r = (name === 'insert' ? M.mtree_insert_range : M.mtree_store_range)(mt, ul(a), ul(b), ul(e));
        expect(r, step).toBe(want);
        if (r === 0) ref.store(a, b, e);
        tally[`${name}${r}`] = (tally[`${name}${r}`] ?? 0) + 1;
        break;
      }
      case 'erase': {
        // Erase an existing range half the time.
        const at = ref.r.length && d.int(0, 1) ? d.pick(ref.r).first + BigInt(d.int(0, 3)) : a;
        const i = ref.find(at) ? at : a;
        expect(B(M.mtree_erase(mt, ul(i))), step).toBe(ref.erase(i));
        break;
      }
      case 'load':
        expect(B(M.mtree_load(mt, ul(a))), step).toBe(ref.load(a));
        break;
      case 'walk': {
        if (!mt.root_is_node) break;
        const mas = M.MA_STATE(mt, ul(a), ul(a));
        const e = M.mas_walk(mas);
        const w = ref.walk(a);
        expect([B(e), B(mas.index), B(mas.last)], step).toEqual([w.entry, w.first, w.last]);
        break;
      }
      case 'find': {
        const max = d.int(0, 3) ? TOP : last_of(d, a);
        const ir = { value: ul(a) };
        const e = M.mt_find(mt, ir, ul(max));
        const r = ref.mt_find(a, max);
        if (r === null) expect(e, step).toBe(0);
        else expect([B(e), B(ir.value), B(M.MT_FOUND.first), B(M.MT_FOUND.last)], step).toEqual([r.entry, r.next, r.first, r.last]);
        break;
      }
      case 'prev': {
        if (!mt.root_is_node) break;
        const min = d.int(0, 1) ? 0n : index(d);
        const e = M.mt_prev(mt, ul(a), ul(min));
        const r = ref.prev(a, min);
        if (r === null) expect(e, step).toBe(0);
        else expect([B(e), B(M.MT_NEAR.first), B(M.MT_NEAR.last)], step).toEqual([r.entry, r.first, r.last]);
        break;
      }
      case 'area':
      case 'alloc': {
        const max = d.int(0, 2) ? TOP : last_of(d, a);
        const size = d.int(0, 3) ? BigInt(d.int(1, 5000)) : d.big(1n, TOP);
        const rev = d.int(0, 1) === 1;
        const w = ref.empty_area(a, max, size, rev);
        if (name === 'area') {
          const mas = M.MA_STATE(mt, 0, 0);
          const r = (rev ? M.mas_empty_area_rev : M.mas_empty_area)(mas, ul(a), ul(max), ul(size));
          if (w.ret === 0) expect([r, B(mas.index), B(mas.last)], step).toEqual([0, w.index, w.last]);
          else expect(r, step).toBe(w.ret);
        } else {
          const e = entry(d) || 8n;
          const reserved = e < 4096n && (e & 3n) === 2n;
          const ir = { value: 1 as M.ulong };
          const r = (rev ? M.mtree_alloc_rrange : M.mtree_alloc_range)(mt, ir, ul(e), ul(size), ul(a), ul(max));
          const want = !M.mt_is_alloc(mt) || reserved ? -M.EINVAL : w.ret;
          expect(r, step).toBe(want);
          if (r === 0) {
            expect(B(ir.value), step).toBe(w.index);
            ref.store(w.index!, w.last!, e);
          }
          tally[`alloc${r}`] = (tally[`alloc${r}`] ?? 0) + 1;
        }
        break;
      }
      case 'masstore': {
        const b = last_of(d, a);
        const e = entry(d);
        const before = ref.find(a);
        const mas = M.MA_STATE(mt, ul(a), ul(b));
        expect(B(M.mas_store(mas, ul(e))), step).toBe(before ? before.entry : 0n);
        ref.store(a, b, e);
        break;
      }
    }
    const errs = M.mt_validate(mt);
    if (errs.length) throw new Error(`${step}: ${errs.slice(0, 5).join('\n')}`);
    expect(contents(mt, ref.r.length + 2), step).toEqual(ref.r.map((x) => [x.first, x.last, x.entry]));
    if (mt.height > max_height) max_height = mt.height;
  }
  tally['entries'] = ref.r.length;
  tally['wide_entries'] = ref.r.filter((x) => x.first >= 2n ** 53n || x.entry >= 2n ** 53n).length;
  tally['max_height'] = max_height;
  return tally;
}

describe('64-bit differential against the bigint reference', () => {
  test('10,000 operations on an MT_FLAGS_ALLOC_RANGE tree', () => {
    const t = run(M.MT_FLAGS_ALLOC_RANGE, 0x64b17, 10_000);
    // The run did reach the cases it is for.
    expect(t['store0']).toBeGreaterThan(1500);
    expect(t['store-22']).toBeGreaterThan(10);
    expect(t['insert-17']).toBeGreaterThan(50);
    expect(t['alloc0']).toBeGreaterThan(50);
    expect(t['max_height']).toBeGreaterThanOrEqual(3);
    expect(t['wide_entries']).toBeGreaterThan(20);
  }, 300_000);

  test('10,000 operations on a plain tree', () => {
    const t = run(0, 0x9e3779b9, 10_000);
    expect(t['store0']).toBeGreaterThan(1500);
    expect(t['alloc-22']).toBeGreaterThan(50); // not an alloc tree
    expect(t['max_height']).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
