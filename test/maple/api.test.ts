// API edges: errno returns, unsigned longs over the full 64 bits, entry
// encodings, mt_dump's exact text, allocation-failure injection, the trace
// hook, and the tree being plain data.
import { afterEach, describe, expect, test } from 'vitest';
import * as M from '../../src/core/maple/index.js';

const v = M.xa_mk_value;
const INF = M.ULONG_MAX;

function ranges(mt: M.MapleTree): Array<[M.ulong, M.ulong, M.ulong]> {
  const out: Array<[M.ulong, M.ulong, M.ulong]> = [];
  const mas = M.MA_STATE(mt, 0, 0);
  for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) out.push([mas.index, mas.last, e]);
  return out;
}

afterEach(() => {
  M.mt_set_alloc_fail_hook(null);
  M.mt_set_trace_hook(null);
});

describe('stores', () => {
  test('overlapping stores trim and split their neighbours', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_store_range(mt, 0, 100, v(1))).toBe(0);
    expect(M.mtree_store_range(mt, 40, 60, v(2))).toBe(0);
    expect(ranges(mt)).toEqual([[0, 39, v(1)], [40, 60, v(2)], [61, 100, v(1)]]);
    expect(M.mtree_store_range(mt, 30, 45, v(3))).toBe(0);
    expect(ranges(mt)).toEqual([[0, 29, v(1)], [30, 45, v(3)], [46, 60, v(2)], [61, 100, v(1)]]);
    // Storing NULL erases exactly the stored part.
    expect(M.mtree_store_range(mt, 50, 70, 0)).toBe(0);
    expect(ranges(mt)).toEqual([[0, 29, v(1)], [30, 45, v(3)], [46, 49, v(2)], [71, 100, v(1)]]);
    // NULL ranges merge: the walk of a hole gives the whole hole.
    const mas = M.MA_STATE(mt, 60, 60);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 50, 70]);
    expect(M.mt_validate(mt)).toEqual([]);
  });

  test('insert over an occupied index is -EEXIST, anywhere in the range', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_insert_range(mt, 10, 20, v(1))).toBe(0);
    expect(M.mtree_insert(mt, 10, v(2))).toBe(-M.EEXIST);
    expect(M.mtree_insert(mt, 20, v(2))).toBe(-M.EEXIST);
    expect(M.mtree_insert_range(mt, 0, 10, v(2))).toBe(-M.EEXIST);
    expect(M.mtree_insert_range(mt, 20, 30, v(2))).toBe(-M.EEXIST);
    expect(M.mtree_insert_range(mt, 0, INF, v(2))).toBe(-M.EEXIST);
    expect(M.mtree_insert_range(mt, 0, 9, v(2))).toBe(0);
    expect(M.mtree_insert_range(mt, 21, INF, v(3))).toBe(0);
    // XA_ZERO_ENTRY reads as NULL but occupies its slot.
    const t2 = M.mt_init_flags(0);
    expect(M.mtree_store_range(t2, 5, 6, M.XA_ZERO_ENTRY)).toBe(0);
    expect(M.mtree_load(t2, 5)).toBe(0);
    expect(M.mtree_insert(t2, 6, v(1))).toBe(-M.EEXIST);
    expect(M.mtree_erase(t2, 6)).toBe(M.XA_ZERO_ENTRY);
  });

  test('erase removes the whole multi-index range', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 40; i++) M.mtree_store_range(mt, i * 100, i * 100 + 49, v(i));
    expect(M.mtree_erase(mt, 1225)).toBe(v(12));
    for (const i of [1199, 1200, 1225, 1249, 1250, 1299]) expect(M.mtree_load(mt, i)).toBe(0);
    expect(M.mtree_load(mt, 1300)).toBe(v(13));
    expect(M.mtree_erase(mt, 1225)).toBe(0);
    const mas = M.MA_STATE(mt, 1260, 1260);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 1150, 1299]);
    expect(M.mt_validate(mt)).toEqual([]);
  });

  test('errors: first > last, advanced entries, mas_store returns what it overwrote', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_store_range(mt, 5, 4, v(1))).toBe(-M.EINVAL);
    expect(M.mtree_insert_range(mt, 5, 4, v(1))).toBe(-M.EINVAL);
    for (const e of [2, 6, 1026]) {
      expect(M.xa_is_advanced(e)).toBe(true);
      expect(M.mtree_store(mt, 1, e)).toBe(-M.EINVAL);
      expect(M.mtree_insert(mt, 1, e)).toBe(-M.EINVAL);
    }
    // Internal entries above XA_RETRY_ENTRY are storable, but reserved ones
    // (< 4096) are still refused by mtree_alloc_range.
    expect(M.mtree_store(mt, 1, 2050)).toBe(0);
    expect(M.mt_is_reserved(2050)).toBe(true);
    const mas = M.MA_STATE(mt, 0, 3);
    expect(M.mas_store(mas, v(9))).toBe(0); // index 0 was empty
    M.mas_set_range(mas, 1, 1);
    expect(M.mas_store(mas, v(8))).toBe(v(9));
    M.mas_set_range(mas, 9, 3);
    expect(M.mas_store(mas, v(8))).toBe(0);
    expect(mas.status).toBe('error');
    expect(mas.error).toBe(-M.EINVAL);
  });

  test('xa helpers', () => {
    expect(v(5)).toBe(11);
    expect(M.xa_to_value(11)).toBe(5);
    expect(M.xa_is_value(11)).toBe(true);
    expect(M.xa_is_value(12)).toBe(false);
    expect(M.xa_mk_internal(257)).toBe(M.XA_ZERO_ENTRY);
    expect(M.xa_is_internal(M.XA_ZERO_ENTRY)).toBe(true);
    expect(M.xa_is_zero(M.XA_ZERO_ENTRY)).toBe(true);
    expect(M.xa_is_advanced(M.XA_ZERO_ENTRY)).toBe(false);
    expect(M.mt_is_reserved(4094)).toBe(true);
    expect(M.mt_is_reserved(4098)).toBe(false);
    expect(M.mt_is_reserved(4096)).toBe(false);
    // Past 2^52 the value entry is a bigint; bit 63 of the value is shifted out (the kernel WARNs).
    expect(v(2 ** 52 - 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(v(2 ** 52)).toBe(2n ** 53n + 1n);
    expect(v(0x8000000040001000n)).toBe(0x80002001);
    expect(M.xa_mk_value_loses(0x8000000040001000n)).toBe(1n << 63n);
    expect(M.xa_mk_value_loses(0x7fffffffffffffffn)).toBe(0n);
    expect(v(0x7fffffffffffffffn)).toBe(INF);
    expect(M.xa_to_value(INF)).toBe(0x7fffffffffffffffn);
    expect(M.xa_is_value(INF)).toBe(true);
    expect(M.xa_is_internal(0x8000000000000002n)).toBe(true);
    expect(M.mt_is_reserved(0x8000000000000002n)).toBe(false);
  });
});

describe('unsigned long indices and entries: 0..2^64-1, exactly', () => {
  const top = (1n << 64n) - 1n;

  test('one representation per value: number below 2^53, bigint above, ULONG_MAX as Infinity', () => {
    expect(M.ul(5)).toBe(5);
    expect(M.ul(5n)).toBe(5);
    expect(M.ul(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(M.ul(2n ** 53n)).toBe(2n ** 53n);
    expect(M.ul(2 ** 60)).toBe(2n ** 60n); // an integral double names one integer
    expect(M.ul(top)).toBe(INF);
    expect(M.ul(INF)).toBe(INF);
    for (const bad of [-1, 1.5, NaN, 2 ** 64, -1n, 1n << 64n, '5', null]) expect(M.ul(bad)).toBeNull();
    expect(M.ul_inc(Number.MAX_SAFE_INTEGER)).toBe(2n ** 53n);
    expect(M.ul_dec(2n ** 53n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(M.ul_inc(top - 1n)).toBe(INF);
    expect(M.ul_inc(INF)).toBe(0); // C's wrap
    expect(M.ul_dec(0)).toBe(INF);
    expect(M.ul_sub(INF, 0x55)).toBe(top - 0x55n);
    expect(M.ul_add(INF, 2)).toBe(1);
    expect(M.ul_hex(INF)).toBe('0xffffffffffffffff');
  });

  test('a store of 0x8000000040001000 round-trips, as index and as entry', () => {
    const mt = M.mt_init_flags(0);
    const x = 0x8000000040001000n;
    expect(M.mtree_store_range(mt, x, x + 0xfffn, x)).toBe(0);
    expect(M.mtree_load(mt, x)).toBe(x);
    expect(M.mtree_load(mt, x + 0xfffn)).toBe(x);
    expect(M.mtree_load(mt, x - 1n)).toBe(0);
    expect(M.mtree_load(mt, x + 0x1000n)).toBe(0);
    // Neighbours that round to the same double stay apart.
    expect(Number(x + 1n)).toBe(Number(x));
    expect(M.mtree_store(mt, x - 1n, 7)).toBe(0);
    expect(M.mtree_load(mt, x - 1n)).toBe(7);
    expect(M.mtree_load(mt, x)).toBe(x);
    const mas = M.MA_STATE(mt, x + 5n, x + 5n);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([x, x, x + 0xfffn]);
    const ref = { value: 0 as M.ulong };
    expect(M.mt_find(mt, ref, INF)).toBe(7);
    expect(ref.value).toBe(x);
    expect(M.mt_find(mt, ref, INF)).toBe(x);
    expect(ref.value).toBe(x + 0x1000n);
    expect(M.mtree_erase(mt, x + 0x800n)).toBe(x);
    expect(M.mtree_load(mt, x)).toBe(0);
    expect(M.mt_validate(mt)).toEqual([]);
  });

  test('a single index at ULONG_MAX, ULONG_MAX - 1 and 2^53 (which the model refused before)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    expect(M.mtree_insert(mt, INF, v(1))).toBe(0);
    expect(M.mtree_insert(mt, top - 1n, v(2))).toBe(0);
    expect(M.mtree_insert(mt, 2n ** 53n, v(3))).toBe(0);
    expect(M.mtree_insert(mt, Number.MAX_SAFE_INTEGER, v(4))).toBe(0);
    expect(M.mtree_insert(mt, INF, v(5))).toBe(-M.EEXIST);
    expect(M.mtree_load(mt, INF)).toBe(v(1));
    expect(M.mtree_load(mt, top)).toBe(v(1));
    expect(M.mtree_load(mt, top - 1n)).toBe(v(2));
    expect(M.mtree_load(mt, top - 2n)).toBe(0);
    expect(M.mtree_load(mt, 2n ** 53n)).toBe(v(3));
    expect(M.mtree_load(mt, 2n ** 53n + 1n)).toBe(0);
    expect(M.mtree_load(mt, Number.MAX_SAFE_INTEGER)).toBe(v(4));
    // mt_for_each visits them in order and the index wraps after ULONG_MAX.
    const seen: Array<[M.ulong, M.ulong]> = [];
    expect(M.mt_for_each(mt, 0, INF, (e, f) => void seen.push([f, e]))).toBe(0);
    expect(seen).toEqual([[Number.MAX_SAFE_INTEGER, v(4)], [2n ** 53n, v(3)], [top - 1n, v(2)], [INF, v(1)]]);
    expect(M.mt_validate(mt)).toEqual([]);
    expect(M.mt_dump(mt)).toContain('18446744073709551614: value 2 (0x2)');
    // Entries up to ULONG_MAX: 0xffffffffffffffff is a value entry, stored like any other.
    expect(M.mtree_store(mt, 5, top)).toBe(0);
    expect(M.mtree_load(mt, 5)).toBe(INF);
  });

  test('entries are refused only when advanced; arguments that are not unsigned longs are -EINVAL', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_store(mt, 1, -3)).toBe(-M.EINVAL);
    expect(M.mtree_store(mt, 1.5, v(1))).toBe(-M.EINVAL);
    expect(M.mtree_store(mt, 1n << 64n, v(1))).toBe(-M.EINVAL);
    expect(M.mtree_store_range(mt, top, top - 1n, v(1))).toBe(-M.EINVAL);
    expect(M.mtree_empty(mt)).toBe(true);
    expect(M.mtree_store(mt, 1, M.XA_ZERO_ENTRY)).toBe(0);
    expect(M.mtree_load(mt, 1)).toBe(0);
    expect(M.mtree_store(mt, 2, 0x8000000000000001n)).toBe(0);
    expect(M.mtree_load(mt, 2)).toBe(0x8000000000000001n);
  });

  test('areas anywhere in 0..ULONG_MAX', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    M.mtree_store_range(mt, 0, 1000, v(1));
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_empty_area_rev(mas, 0, INF, 16)).toBe(0);
    expect([mas.index, mas.last]).toEqual([top - 15n, INF]);
    expect(M.mas_empty_area(mas, 2n ** 53n - 8n, INF, 16)).toBe(0);
    expect([mas.index, mas.last]).toEqual([2 ** 53 - 8, 2n ** 53n + 7n]);
    expect(M.mas_empty_area(mas, 0, INF, INF)).toBe(-M.EBUSY);
    expect(M.mas_empty_area(mas, 1, INF, INF)).toBe(-M.EBUSY); // 2^64-1 indices: fits the window, not the tree
    expect(M.mas_empty_area(mas, 2, INF, INF)).toBe(-M.EINVAL); // the window is one short
    expect(M.mas_empty_area(mas, 0, INF, top - 1000n)).toBe(0);
    expect([mas.index, mas.last]).toEqual([1001, INF]);
    // The only free place starts at 2^53.
    const t2 = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    M.mtree_store_range(t2, 0, Number.MAX_SAFE_INTEGER, v(1));
    const r = { value: 0 as M.ulong };
    expect(M.mtree_alloc_range(t2, r, v(2), 1, 0, INF)).toBe(0);
    expect(r.value).toBe(2n ** 53n);
    expect(M.mtree_alloc_rrange(t2, r, v(3), 2, 0, INF)).toBe(0);
    expect(r.value).toBe(top - 1n);
    expect(M.mtree_load(t2, INF)).toBe(v(3));
    expect(M.mt_validate(t2)).toEqual([]);
  });
});

describe('mt_dump', () => {
  test('a single-leaf tree, both formats', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_store_range(mt, 10, 15, v(1))).toBe(0);
    const zeros = ' (nil) 0'.repeat(12);
    expect(M.mt_dump(mt).split('\n')).toEqual([
      'maple_tree(0xffff888010000000) flags 4, height 1 root 0xffff88810000010e',
      `0-18446744073709551615: node 0xffff888100000100 depth 0 type 1 parent 0xffff888010000001 contents: (nil) 9 0x3 15 (nil) 18446744073709551615${zeros} 0x2`,
      '  0-9: (nil)',
      '  10-15: value 1 (0x1) [0x3]',
      '  16-18446744073709551615: (nil)',
    ]);
    expect(M.mt_dump(mt, 'hex').split('\n')).toEqual([
      'maple_tree(0xffff888010000000) flags 4, height 1 root 0xffff88810000010e',
      `0-ffffffffffffffff: node 0xffff888100000100 depth 0 type 1 parent 0xffff888010000001 contents: (nil) 9 0x3 F (nil) FFFFFFFFFFFFFFFF${zeros} 0x2`,
      '  0-9: (nil)',
      '  a-f: value 1 (0x1) [0x3]',
      '  10-ffffffffffffffff: (nil)',
    ]);
  });

  test('a two-level alloc tree (arange root with gaps)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 8; i++) expect(M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i))).toBe(0);
    const nil7 = ' (nil) 0'.repeat(7);
    expect(M.mt_dump(mt).split('\n')).toEqual([
      'maple_tree(0xffff888010000000) flags 9, height 2 root 0xffff88810000041e',
      `0-18446744073709551615: node 0xffff888100000400 depth 0 type 3 parent 0xffff888010000001 contents: 4 18446744073709551530 0 0 0 0 0 0 0 0 | 01 01| 0xffff88810000020c 45 0xffff88810000030c 18446744073709551615${nil7} (nil)`,
      `  0-45: node 0xffff888100000200 depth 1 type 1 parent 0xffff888100000406 contents: 0x1 5 (nil) 9 0x3 15 (nil) 19 0x5 25 (nil) 29 0x7 35 (nil) 39 0x9 45${' (nil) 0'.repeat(6)} 0x8`,
      '    0-5: value 0 (0x0) [0x1]',
      '    6-9: (nil)',
      '    10-15: value 1 (0x1) [0x3]',
      '    16-19: (nil)',
      '    20-25: value 2 (0x2) [0x5]',
      '    26-29: (nil)',
      '    30-35: value 3 (0x3) [0x7]',
      '    36-39: (nil)',
      '    40-45: value 4 (0x4) [0x9]',
      `  46-18446744073709551615: node 0xffff888100000300 depth 1 type 1 parent 0xffff88810000040e contents: (nil) 49 0xb 55 (nil) 59 0xd 65 (nil) 69 0xf 75 (nil) 79 0x11 85 (nil) 18446744073709551615${' (nil) 0'.repeat(6)} 0x8`,
      '    46-49: (nil)',
      '    50-55: value 5 (0x5) [0xb]',
      '    56-59: (nil)',
      '    60-65: value 6 (0x6) [0xd]',
      '    66-69: (nil)',
      '    70-75: value 7 (0x7) [0xf]',
      '    76-79: (nil)',
      '    80-85: value 8 (0x8) [0x11]',
      '    86-18446744073709551615: (nil)',
    ]);
    expect(M.mt_dump(mt, 'hex').split('\n')[1]).toBe(
      `0-ffffffffffffffff: node 0xffff888100000400 depth 0 type 3 parent 0xffff888010000001 contents: 4 ffffffffffffffaa 0 0 0 0 0 0 0 0 | 01 01| 0xffff88810000020c 2D 0xffff88810000030c FFFFFFFFFFFFFFFF${nil7} (nil)`,
    );
  });

  test('empty tree, root entry, special entries, tree id', () => {
    const mt = M.mt_init_flags(0, 2);
    expect(M.mt_dump(mt)).toBe('maple_tree(0xffff888010002000) flags 0, height 0 root (nil)\n(empty)');
    M.mtree_store(mt, 0, v(5));
    expect(M.mt_dump(mt)).toBe('maple_tree(0xffff888010002000) flags 0, height 0 root 0xb\n0: value 5 (0x5) [0xb]');
    M.mtree_store(mt, 1, M.XA_ZERO_ENTRY);
    M.mtree_store(mt, 2, 2050);
    M.mtree_store(mt, 3, 0x7f0012345000);
    const d = M.mt_dump(mt).split('\n');
    expect(d[1]).toContain('node 0xffff888300000100 depth 0 type 1');
    expect(d.slice(2)).toEqual(['  0: value 5 (0x5) [0xb]', '  1: zero (257)', '  2: UNKNOWN ENTRY (0x802)', '  3: 0x7f0012345000', '  4-18446744073709551615: (nil)']);
  });
});

describe('allocation failure injection', () => {
  const snapshot = (mt: M.MapleTree) =>
    JSON.stringify({ ...mt, arena: Array.from(mt.arena.subarray(0, mt.nr_nodes * 32), (x) => (x === INF ? 'inf' : x)) });

  test('with the hook refusing, every store that needs a node fails and changes nothing', () => {
    for (const flags of [0, M.MT_FLAGS_ALLOC_RANGE, M.MM_MT_FLAGS]) {
      const mt = M.mt_init_flags(flags);
      for (let i = 0; i < 300; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
      const asked: number[] = [];
      M.mt_set_alloc_fail_hook((_t, n, gfp) => {
        asked.push(n);
        expect(gfp === M.GFP_KERNEL || gfp === M.GFP_NOWAIT).toBe(true);
        return true;
      });
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      let failed = 0;
      let done = 0;
      for (let k = 0; k < 400; k++) {
        const first = rnd(3200);
        const last = first + [0, 1, 3, 9, 40, 400][rnd(6)]!;
        const e = rnd(4) === 0 ? 0 : v(rnd(100000));
        const before = structuredClone(mt);
        const text = snapshot(mt);
        const n0 = asked.length;
        const r = rnd(3) === 0 ? M.mtree_insert_range(mt, first, last, e) : M.mtree_store_range(mt, first, last, e);
        if (r === -M.ENOMEM) {
          failed++;
          expect(asked.length).toBe(n0 + 1);
          expect(mt).toEqual(before);
          expect(snapshot(mt)).toBe(text);
        } else {
          // Succeeded (or -EEXIST) without asking for nodes.
          expect(asked.length).toBe(n0);
          if (r === 0) done++;
        }
        expect(M.mt_validate(mt)).toEqual([]);
      }
      expect(failed).toBeGreaterThan(3);
      expect(done).toBeGreaterThan(3);
      // The request sizes are the kernel's mas_prealloc_calc() numbers.
      const h = mt.height;
      const allowed = new Set([1, h * 3 + 1, h * 2 + 1, h * 2 - 1]);
      for (const n of asked) expect(allowed.has(n)).toBe(true);
    }
  });

  test('erase and mas_store under failure; success once the hook allows', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 8; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    expect(mt.height).toBe(2);
    M.mt_set_alloc_fail_hook(() => true);
    // Emptying an exact slot needs no node, even under failure.
    expect(M.mtree_erase(mt, 50)).toBe(v(5));
    // This one leaves the right leaf below minimum: mas_rebalance needs
    // nodes. mas_erase still returns the entry, and the tree is unchanged.
    const before = structuredClone(mt);
    expect(M.mtree_erase(mt, 60)).toBe(v(6));
    expect(mt).toEqual(before);
    expect(M.mtree_load(mt, 60)).toBe(v(6));
    // Root expansion needs a node too.
    const t3 = M.mt_init_flags(0);
    expect(M.mtree_store(t3, 5, v(1))).toBe(-M.ENOMEM);
    expect(M.mtree_store(t3, 0, v(1))).toBe(0); // the root pointer needs none
    const mas = M.MA_STATE(t3, 7, 9);
    expect(M.mas_store(mas, v(2))).toBe(0);
    expect(mas.status).toBe('error');
    expect(mas.error).toBe(-M.ENOMEM);
    M.mt_set_alloc_fail_hook(null);
    expect(M.mtree_store(t3, 5, v(1))).toBe(0);
    expect(M.mtree_load(t3, 5)).toBe(v(1));
  });

  test('mtree_dup asks for the whole node count', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 135; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    let asked = 0;
    M.mt_set_alloc_fail_hook((_t, n) => {
      asked = n;
      return true;
    });
    const dst = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    expect(M.mtree_dup(mt, dst)).toBe(-M.ENOMEM);
    expect(asked).toBe(M.mt_nr_nodes(mt));
    expect(M.mtree_empty(dst)).toBe(true);
  });
});

describe('trace hook', () => {
  test('splits, rebalances and merges are reported once the tree is consistent', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const evs: M.MapleTraceEvent[] = [];
    M.mt_set_trace_hook((ev) => {
      expect(M.mt_validate(mt)).toEqual([]);
      evs.push(ev);
    });
    for (let i = 0; i < 400; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    expect(evs.some((e) => e.op === 'split' && e.type === 'maple_leaf_64')).toBe(true);
    expect(evs.some((e) => e.op === 'split' && e.type === 'maple_arange_64')).toBe(true);
    evs.length = 0;
    for (let i = 0; i < 400; i++) if (i % 7) M.mtree_erase(mt, i * 10);
    expect(evs.some((e) => e.op === 'rebalance')).toBe(true);
    expect(evs.some((e) => e.op === 'merge')).toBe(true);
    for (const e of evs) expect(e.slots).toBeGreaterThan(0);
  });
});

describe('plain data', () => {
  test('structuredClone copies a tree that behaves identically', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 500; i++) M.mtree_store_range(mt, i * 7, i * 7 + 3, v(i));
    const copy = structuredClone(mt);
    expect(copy).toEqual(mt);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    const walk = (x: unknown): void => {
      if (typeof x === 'function') throw new Error('function in tree');
      if (x instanceof Map || x instanceof Set) throw new Error('collection in tree');
      if (x && typeof x === 'object' && !ArrayBuffer.isView(x)) for (const y of Object.values(x)) walk(y);
    };
    walk(mt);
    M.mtree_store_range(copy, 0, 10000, 0);
    expect(M.mtree_load(mt, 7)).toBe(v(1));
    expect(M.mtree_load(copy, 7)).toBe(0);
    const c2 = M.mt_clone(mt);
    expect(M.mt_dump(c2)).toBe(M.mt_dump(mt));
    expect(M.mt_validate(copy)).toEqual([]);
  });

  test('mtree_destroy keeps the attributes and frees everything', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 100; i++) M.mtree_store(mt, i, v(i));
    M.mtree_destroy(mt);
    expect(M.mtree_empty(mt)).toBe(true);
    expect(mt.ma_flags).toBe(M.MT_FLAGS_ALLOC_RANGE);
    expect(M.mt_nr_nodes(mt)).toBe(0);
    expect(M.mt_validate(mt)).toEqual([]);
  });
});
