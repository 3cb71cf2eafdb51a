// check_erase2_sets() of tools/testing/radix-tree/maple.c: VMA-tree
// operation logs captured from KVM guests whose trees once failed, replayed
// with the kernel's values (erase2_sets.ts). After every operation, as
// check_erase2_testset() does: mt_validate, mt_for_each's count equals the
// number of entries, mas_for_each (skipping XA_ZERO_ENTRY) agrees, and
// index 0 stays empty; here also the whole contents against the reference.
import { describe, expect, test } from 'vitest';
import * as M from '../../src/core/maple/index.js';
import { ERASE, ERASE2_SETS, STORE } from './erase2_sets.js';
import { Ref } from './ref.js';

const INF = M.ULONG_MAX;

function replay(flags: number, ops: ReadonlyArray<readonly [number, number, number]>): number {
  const mt = M.mt_init_flags(flags);
  const ref = new Ref();
  let max_height = 0;
  ops.forEach(([op, first, last], k) => {
    const step = `${k}: ${op === STORE ? 'STORE' : 'ERASE'} ${first} ${last}`;
    if (op === STORE) {
      const e = M.xa_mk_value(first);
      expect(M.mtree_store_range(mt, first, last, e), step).toBe(0);
      ref.store(BigInt(first), BigInt(last), BigInt(e));
      for (const i of [first - 1, first, last, last + 1]) expect(M.mtree_load(mt, i), `${step}: load ${i}`).toBe(Number(ref.load(BigInt(i))));
    } else if (op === ERASE) {
      const had = ref.find(BigInt(first));
      // check_erase(): the range starting at `first` holds xa_mk_value(first).
      if (had) expect(had.entry, step).toBe(BigInt(M.xa_mk_value(first)));
      expect(BigInt(M.mtree_erase(mt, first)), step).toBe(ref.erase(BigInt(first)));
    }
    const errs = M.mt_validate(mt);
    if (errs.length) throw new Error(`${step}: ${errs.slice(0, 5).join('\n')}`);
    let n = 0;
    M.mt_for_each(mt, 0, INF, () => void n++);
    expect(n, step).toBe(ref.r.length);
    const mas = M.MA_STATE(mt, 0, 0);
    const got: Array<[bigint, bigint, bigint]> = [];
    for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) if (!M.xa_is_zero(e)) got.push([M.ul_big(mas.index), M.ul_big(mas.last), M.ul_big(e)]);
    expect(got, step).toEqual(ref.r.map((x) => [x.first, x.last, x.entry]));
    expect(M.mtree_load(mt, 0), step).toBe(0);
    if (mt.height > max_height) max_height = mt.height;
  });
  return max_height;
}

describe('check_erase2_sets (tools/testing/radix-tree/maple.c)', () => {
  for (const [name, ops] of Object.entries(ERASE2_SETS)) {
    test(`${name}: ${ops.length} operations, plain and MT_FLAGS_ALLOC_RANGE trees`, () => {
      const h = replay(0, ops);
      replay(M.MT_FLAGS_ALLOC_RANGE, ops);
      expect(h).toBeGreaterThanOrEqual(ops.length > 60 ? 2 : 1);
    });
  }
});
