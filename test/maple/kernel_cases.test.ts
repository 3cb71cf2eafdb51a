// lib/test_maple_tree.c, case by case, with the kernel's values (the
// newest version in the search index: with check_state_handling and
// alloc_cyclic_testing; docs/fidelity.md). Every return value the
// kernel test checks with MT_BUG_ON is asserted here, ULONG_MAX edges
// included; none is refused. Pointers the kernel stores (&tree,
// check_prev_entry, a function address) are kernel-looking 64-bit values.
// Left out: alloc_cyclic_testing (mtree_alloc_cyclic is not modelled), the
// BENCH_* loops (bench/maple.ts), and check_dup's full size sweep (a
// stride of it, plus the large sizes).
import { describe, expect, test } from 'vitest';
import * as M from '../../src/core/maple/index.js';

type U = M.ulong;
const v = M.xa_mk_value;
const INF = M.ULONG_MAX;
const TOP = (1n << 64n) - 1n;
const LONG_MAX = (1n << 63n) - 1n;
const B = (x: U) => M.ul_big(x);
const ul = (x: bigint | number) => M.ul_or_throw(x, 'test value');
/** mtree_insert_index(): xa_mk_value(index & LONG_MAX). */
const xi = (i: U) => v(ul(B(i) & LONG_MAX));

// Kernel pointers the test stores.
const TREE_PTR = 0xffffffffc1234560n; // &tree
const SET_PTR = 0xffffc90000123450n; // &set (ptr)
const FN_PTR = 0xffffffffc0201230n; // check_prev_entry, check_bnode_min_spanning

function valid(mt: M.MapleTree): void {
  const errs = M.mt_validate(mt);
  if (errs.length) throw new Error(errs.slice(0, 10).join('\n') + '\n' + M.mt_dump(mt));
}
/** check_load(): mtree_load(index) == ptr. */
function load(mt: M.MapleTree, i: U | bigint, want: U | bigint): void {
  const got = M.mtree_load(mt, ul(i));
  const w = ul(want);
  // expect() only on a mismatch: check_seq(2000) makes two million loads.
  if (got !== w) expect(B(got), `load ${i}`).toBe(B(w));
}
/** check_store_range() / check_insert_range(): the return, then every index of the range loads ptr. */
function store(mt: M.MapleTree, a: U | bigint, b: U | bigint, e: U | bigint, want = 0, insert = false): void {
  const r = (insert ? M.mtree_insert_range : M.mtree_store_range)(mt, ul(a), ul(b), ul(e));
  expect(r, `${insert ? 'insert' : 'store'} [${a}, ${b}]`).toBe(want);
  if (r) return;
  const lo = B(ul(a));
  const hi = B(ul(b));
  const eb = B(ul(e));
  for (let i = lo; i <= hi && i < lo + 2000n; i++) load(mt, i, eb === 1030n ? 0 : eb);
}
const insert = (mt: M.MapleTree, a: U | bigint, b: U | bigint, e: U | bigint, want = 0) => store(mt, a, b, e, want, true);
/** check_insert(): mtree_insert == 0. */
const ins = (mt: M.MapleTree, i: U, e: U | bigint) => expect(M.mtree_insert(mt, i, ul(e)), `insert ${i}`).toBe(0);
/** check_seq() */
function seq(mt: M.MapleTree, max: number): void {
  expect(M.mtree_empty(mt)).toBe(true);
  for (let i = 0; i <= max; i++) {
    const r = M.mtree_insert(mt, i, xi(i));
    if (r) expect(r, `insert ${i}`).toBe(0);
    for (let j = 0; j <= i; j++) load(mt, j, xi(j));
    if (i && !M.mt_height(mt)) expect(M.mt_height(mt)).toBeGreaterThan(0);
    load(mt, i + 1, 0);
  }
}
/** mtree_erase_index() */
function erase_index(mt: M.MapleTree, i: U): void {
  expect(B(M.mtree_erase(mt, i))).toBe(B(xi(i)));
  load(mt, i, 0);
}

// ---------------------------------------------------------------- check_ranges

describe('check_ranges', () => {
  test('insert, overlap, store, destroy; check_seq then overwrites across levels', () => {
    let mt = M.mt_init_flags(0);
    const r = [10, 15, 20, 25, 17, 22, 9, 1000, 100, 200, 45, 168, 118, 128];
    expect(M.mtree_empty(mt)).toBe(true);
    insert(mt, r[0]!, r[1]!, v(r[0]!));
    insert(mt, r[2]!, r[3]!, v(r[2]!));
    insert(mt, r[4]!, r[5]!, v(r[4]!), -M.EEXIST);
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    store(mt, r[4]!, r[5]!, v(r[4]!));
    store(mt, r[6]!, r[7]!, v(r[6]!));
    store(mt, r[8]!, r[9]!, v(r[8]!));
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    M.mtree_destroy(mt);
    expect(M.mt_height(mt)).toBe(0);

    seq(mt, 50);
    store(mt, 5, 47, v(47));
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    M.mtree_destroy(mt);

    seq(mt, 100);
    store(mt, r[10]!, r[11]!, v(r[10]!));
    M.mtree_destroy(mt);

    seq(mt, 200);
    store(mt, r[10]!, r[11]!, v(r[10]!));
    M.mtree_destroy(mt);

    seq(mt, 30);
    store(mt, 6, 18, v(6));
    M.mtree_destroy(mt);

    seq(mt, 400);
    store(mt, r[12]!, r[13]!, v(r[12]!));
    for (const i of [140, 141, 142, 143, 130, 131, 132, 133, 134, 135]) M.mtree_erase(mt, i);
    load(mt, r[12]!, v(r[12]!));
    load(mt, r[13]!, v(r[12]!));
    load(mt, r[13]! - 1, v(r[12]!));
    load(mt, r[13]! + 1, v(r[13]! + 1));
    load(mt, 135, 0);
    load(mt, 140, 0);
    M.mtree_destroy(mt);

    seq(mt, 400);
    store(mt, 353, 361, v(353));
    store(mt, 347, 352, v(347));
    load(mt, 346, v(346));
    for (let i = 347; i <= 352; i++) load(mt, i, v(347));
    for (let i = 353; i <= 361; i++) load(mt, i, v(353));
    load(mt, 362, v(362));
    M.mtree_destroy(mt);

    seq(mt, 400);
    store(mt, 352, 364, 0);
    store(mt, 351, 363, v(352));
    load(mt, 350, v(350));
    load(mt, 351, v(352));
    for (let i = 352; i <= 363; i++) load(mt, i, v(352));
    load(mt, 364, 0);
    load(mt, 365, v(365));
    M.mtree_destroy(mt);

    seq(mt, 400);
    store(mt, 352, 364, 0);
    store(mt, 351, 364, v(352));
    load(mt, 350, v(350));
    load(mt, 351, v(352));
    for (let i = 352; i <= 364; i++) load(mt, i, v(352));
    load(mt, 365, v(365));
    M.mtree_destroy(mt);

    seq(mt, 400);
    store(mt, 362, 367, v(362));
    store(mt, 353, 361, v(353));
    valid(mt);
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    M.mtree_destroy(mt);

    for (let i = 0; i <= 500; i++) store(mt, i * 5, (i + 1) * 5, v(i * 5));
    store(mt, 2400, 2400, v(2400));
    store(mt, 2411, 2411, v(2411));
    store(mt, 2412, 2412, v(2412));
    store(mt, 2396, 2400, v(4052020));
    store(mt, 2402, 2402, v(2402));
    M.mtree_destroy(mt);

    for (let i = 0; i <= 500; i++) store(mt, i * 5, (i + 1) * 5, v(i * 5));
    store(mt, 2422, 2422, v(2422));
    store(mt, 2424, 2424, v(2424));
    store(mt, 2425, 2425, v(2));
    store(mt, 2460, 2470, 0);
    store(mt, 2435, 2460, v(2435));
    store(mt, 2461, 2470, v(2461));
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    valid(mt);
    M.mtree_destroy(mt);

    // Check in-place modifications (appends up to ULONG_MAX included).
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    let val = 0;
    let val2 = 0;
    for (let i = 0; i <= 500; i++) {
      val = i * 5 + 1;
      val2 = val + 4;
      store(mt, val, val2, v(val));
    }
    for (let i = 0; i < 10; i++) {
      val = val2 + 5;
      val2 = val + 4;
      store(mt, val, val2, v(val));
    }
    val = val2;
    for (let i = 0; i < 10; i++) {
      val += 5;
      expect(M.mtree_store_range(mt, val, INF, v(val))).toBe(0);
      load(mt, INF, v(val));
      load(mt, val, v(val));
    }
    for (let i = 10; i < 30; i += 2) store(mt, i * 5 + 1, i * 5 + 6, v(i * 5 + 1));
    for (let i = 50; i < 70; i += 2) store(mt, i * 5 - 5, i * 5, v(i * 5 - 5));
    for (let i = 100; i < 130; i += 3) store(mt, i * 5 - 5, i * 5 + 1, v(i * 5 - 5));
    M.mt_set_in_rcu(mt);
    for (let i = 150; i < 180; i += 3) store(mt, i * 5 - 5, i * 5 + 1, v(i * 5 - 5));
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    valid(mt);
    M.mtree_destroy(mt);
  });

  test('rebalance gaps, 4600-4959, 4811.. (alloc trees)', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 50; i++) store(mt, i * 10, (i + 1) * 10, v(i * 10));
    store(mt, 161, 161, v(161));
    store(mt, 162, 162, v(162));
    store(mt, 163, 163, v(163));
    store(mt, 240, 249, 0);
    for (const i of [200, 210, 220, 230]) M.mtree_erase(mt, i);
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 500; i++) store(mt, i * 10, (i + 1) * 10, v(i * 10));
    store(mt, 4600, 4959, v(1));
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 500; i++) store(mt, i * 10, (i + 1) * 10, v(i * 10));
    for (const i of [4811, 4812, 4861, 4862]) store(mt, i, i, v(i));
    store(mt, 4842, 4849, 0);
    valid(mt);
  });

  test('a 3-child split all the way up, and a triple split to height exactly 4', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 1300; i++) {
      store(mt, i * 10, (i + 1) * 10, v(i * 10));
      expect(M.mt_height(mt)).toBeLessThan(4);
    }
    for (let i = 5; i < 215; i += 10) store(mt, 11450 + i, 11450 + i + 1, 0);
    for (let i = 5; i < 65; i += 10) store(mt, 11770 + i, 11770 + i + 1, 0);
    expect(M.mt_height(mt)).toBeLessThan(4);
    for (let i = 5; i < 45; i += 10) store(mt, 11700 + i, 11700 + i + 1, 0);
    expect(M.mt_height(mt)).toBeGreaterThanOrEqual(4);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 1200; i++) {
      store(mt, i * 10, (i + 1) * 10, v(i * 10));
      expect(M.mt_height(mt)).toBeLessThan(4);
    }
    for (let i = 5; i < 455; i += 10) store(mt, 7800 + i, 7800 + i + 1, 0);
    for (let i = 1; i < 16; i++) store(mt, 8185 + i, 8185 + i + 1, v(8185 + i));
    expect(M.mt_height(mt)).toBeLessThan(4);
    store(mt, 8184, 8184, v(8184));
    expect(M.mt_height(mt)).toBe(4);
    valid(mt);
  });
});

// ------------------------------------------------ check_alloc_range / _rev_range

const RANGE = [
  0x565234af2000n, 0x565234af4000n, 0x565234af4000n, 0x565234af9000n, 0x565234af9000n, 0x565234afb000n,
  0x565234afc000n, 0x565234afd000n, 0x565234afd000n, 0x565234afe000n, 0x565235def000n, 0x565235e10000n,
  0x7f36d4bfd000n, 0x7f36d4ee2000n, 0x7f36d4ee2000n, 0x7f36d4f04000n, 0x7f36d4f04000n, 0x7f36d504c000n,
  0x7f36d504c000n, 0x7f36d5098000n, 0x7f36d5098000n, 0x7f36d5099000n, 0x7f36d5099000n, 0x7f36d509d000n,
  0x7f36d509d000n, 0x7f36d509f000n, 0x7f36d509f000n, 0x7f36d50a5000n, 0x7f36d50b9000n, 0x7f36d50db000n,
  0x7f36d50db000n, 0x7f36d50dc000n, 0x7f36d50dc000n, 0x7f36d50fa000n, 0x7f36d50fa000n, 0x7f36d5102000n,
  0x7f36d5102000n, 0x7f36d5103000n, 0x7f36d5103000n, 0x7f36d5104000n, 0x7f36d5104000n, 0x7f36d5105000n,
  0x7fff5876b000n, 0x7fff5878d000n, 0x7fff5878e000n, 0x7fff58791000n, 0x7fff58791000n, 0x7fff58793000n,
];
const HOLES = [
  0x565234afb000n, 0x565234afc000n, 0x1000n,
  0x565234afe000n, 0x565235def000n, 0x12f1000n,
  0x565235e10000n, 0x7f36d4bfd000n, 0x28e49eded000n,
];
const MTREE_ALLOC_MAX = 0x2000000000000n;
const EBUSY = BigInt(-M.EBUSY);
const neg = (x: bigint) => (x === EBUSY ? -M.EBUSY : Number(x));

function maps_tree(): M.MapleTree {
  const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
  // The kernel stores XA_ZERO_ENTRY over [MTREE_ALLOC_MAX, ULONG_MAX]: refused by the model before.
  expect(M.mtree_store_range(mt, ul(MTREE_ALLOC_MAX), INF, M.XA_ZERO_ENTRY)).toBe(0);
  for (let i = 0; i < RANGE.length; i += 2) {
    insert(mt, RANGE[i]! >> 12n, (RANGE[i + 1]! >> 12n) - 1n, v(ul(RANGE[i]! >> 12n)));
    valid(mt);
  }
  return mt;
}

/** check_mtree_alloc_range() / check_mtree_alloc_rrange(): start, end, size, expected, ret, ptr. */
function alloc(mt: M.MapleTree, rev: boolean, start: bigint, end: bigint, size: bigint, expected: bigint, eret: number, ptr: U | bigint): void {
  const result = { value: ul((expected + 1n) & TOP) };
  const r = (rev ? M.mtree_alloc_rrange : M.mtree_alloc_range)(mt, result, ul(ptr), ul(size), ul(start), ul(end));
  expect(r, `alloc ${rev ? 'rev ' : ''}${start}-${end} size ${size}`).toBe(eret);
  if (!r) expect(B(result.value)).toBe(expected);
}

describe('check_alloc_range / check_alloc_rev_range', () => {
  test('check_alloc_range', () => {
    const mt = maps_tree();
    let min = 0x565234af2000n;
    const mas = M.MA_STATE(mt, 0, 0);
    for (let i = 0; i < HOLES.length; i += 3) {
      expect(M.mas_empty_area(mas, ul(min >> 12n), ul(HOLES[i + 1]! >> 12n), ul(HOLES[i + 2]! >> 12n))).toBe(0);
      expect(B(mas.index)).toBe(HOLES[i]! >> 12n);
      min = HOLES[i + 1]!;
      M.mas_reset(mas);
    }
    // min, max, size, expected, return: all >> 12 but the return.
    const req: bigint[] = [
      0x565234af9000n, 0x7fff58791000n, 0x1000n, 0x565234afb000n, 0n,
      0x0n, 0x7fff58791000n, 0x1f00n, 0x0n, 0n,
      34148797436n << 12n, 0x7fff587af000n, 0x3000n, 34148798629n << 12n, 0n,
      34148798623n << 12n, 34148798683n << 12n, 0x15000n, 0n, EBUSY,
      34148798623n << 12n, 0x7fff587af000n, 0x10000n, 34148798632n << 12n, 0n,
      0n, TOP, TOP, 0n, EBUSY, // walking off the end of root
      0n, TOP, (4503599618982063n << 12n) & TOP, 34359052178n << 12n, EBUSY, // too large a hole
      34148798648n << 12n, 34148798648n << 12n, 4096n, 34148798648n << 12n, 0n, // a single entry
    ];
    for (let i = 0; i < req.length; i += 5) {
      alloc(mt, false, req[i]! >> 12n, req[i + 1]! >> 12n, req[i + 2]! >> 12n, req[i + 3]! >> 12n, neg(req[i + 4]!), v(ul(req[i]! >> 12n)));
      valid(mt);
    }
  });

  test('check_alloc_rev_range', () => {
    const mt = maps_tree();
    let min = 0n;
    const mas = M.MA_STATE(mt, 0, 0);
    for (let i = 0; i < HOLES.length; i += 3) {
      expect(M.mas_empty_area_rev(mas, ul(min), ul(HOLES[i + 1]! >> 12n), ul(HOLES[i + 2]! >> 12n))).toBe(0);
      expect(B(mas.last) + 1n).toBe(HOLES[i + 1]! >> 12n);
      expect(B(mas.index)).toBe((HOLES[i + 1]! >> 12n) - (HOLES[i + 2]! >> 12n));
      min = HOLES[i + 1]! >> 12n;
      M.mas_reset(mas);
    }
    const req: bigint[] = [
      0x565234af9000n, 0x7fff58791000n, 0x1000n, 0x7fff5878dn << 12n, 0n,
      0x0n, 0x565234af0n << 12n, 0x3000n, 0x565234aeen << 12n, 0n,
      0x0n, TOP, 0x1000n, 562949953421311n << 12n, 0n, // the highest page below MTREE_ALLOC_MAX
      0x0n, 0x7f36d5109n << 12n, 0x4000n, 0x7f36d5106n << 12n, 0n,
      0x0n, 34148798628n << 12n, 19n << 12n, 34148797418n << 12n, 0n, // ascend
      0x0n, TOP, (562915594369134n << 12n) & TOP, 0n, EBUSY, // too big
      34148798725n << 12n, 34148798725n << 12n, 1n << 12n, 34148798725n << 12n, 0n, // single space
    ];
    for (let i = 0; i < req.length; i += 5) {
      alloc(mt, true, req[i]! >> 12n, req[i + 1]! >> 12n, req[i + 2]! >> 12n, req[i + 3]! >> 12n, neg(req[i + 4]!), v(ul(req[i]! >> 12n)));
      valid(mt);
    }
    M.mtree_erase(mt, 34148798727);
    M.mtree_erase(mt, 34148798725);
    // The entry is the tree's own address, a kernel pointer above 2^53.
    alloc(mt, true, 0n, 34359052173n, 210253414n, 34148798725n, 0, TREE_PTR);
    expect(M.mtree_load(mt, 34148798725)).toBe(TREE_PTR);
    valid(mt);
  });

  test('reserved entries: the allocators refuse every one, the stores only the advanced ones', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const r = { value: 0 as U };
    for (const e of [2, 0x402, M.XA_ZERO_ENTRY, 0x40a, 0xffe]) expect(M.mtree_alloc_range(mt, r, e, 1, 0, 99)).toBe(-M.EINVAL);
    expect(M.mtree_alloc_range(mt, r, 0x1002, 1, 0, 99)).toBe(0);
    for (const e of [2, 0x402]) expect(M.mtree_store(mt, 200, e)).toBe(-M.EINVAL);
    for (const e of [M.XA_ZERO_ENTRY, 0x40a, 0xffe]) expect(M.mtree_store(mt, 200, e)).toBe(0);
    expect(M.mtree_alloc_range(M.mt_init_flags(0), r, v(1), 1, 0, 99)).toBe(-M.EINVAL); // not an alloc tree
  });
});

// ---------------------------------------------------------- check_empty_area_*

describe('check_empty_area_window / check_empty_area_fill', () => {
  test('check_empty_area_window', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 1; i <= 20; i++) M.mtree_store_range(mt, i * 10, i * 10 + 9, v(i));
    M.mtree_store_range(mt, 160, 169, 0);
    const mas = M.MA_STATE(mt, 0, 0);
    const rev = (a: number, b: number, s: number) => {
      M.mas_reset(mas);
      return M.mas_empty_area_rev(mas, a, b, s);
    };
    const fwd = (a: number, b: number, s: number) => {
      M.mas_reset(mas);
      return M.mas_empty_area(mas, a, b, s);
    };
    expect(rev(5, 90, 10)).toBe(-M.EBUSY);
    expect(rev(6, 90, 5)).toBe(-M.EBUSY);
    expect(rev(5, 90, 5)).toBe(0);
    expect([mas.index, mas.last]).toEqual([5, 9]);
    expect(rev(5, 217, 9)).toBe(0);
    expect([mas.index, mas.last]).toEqual([161, 169]);
    expect(rev(100, 218, 3)).toBe(0);
    expect([mas.index, mas.last]).toEqual([216, 218]);
    expect(rev(100, 218, 16)).toBe(-M.EBUSY);
    expect(rev(167, 200, 4)).toBe(-M.EBUSY);
    expect(rev(100, 162, 4)).toBe(-M.EBUSY);
    expect(fwd(0, 100, 9)).toBe(0);
    expect([mas.index, mas.last]).toEqual([0, 8]);
    expect(fwd(0, 100, 4)).toBe(0);
    expect([mas.index, mas.last]).toEqual([0, 3]);
    expect(fwd(0, 100, 11)).toBe(-M.EBUSY);
    expect(fwd(5, 100, 6)).toBe(-M.EBUSY);
    expect(fwd(0, 8, 10)).toBe(-M.EINVAL);
    fwd(100, 165, 3);
    expect(fwd(100, 163, 6)).toBe(-M.EBUSY);
  });

  test('check_empty_area_fill', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const max = 0x25d78000;
    const mas = M.MA_STATE(mt, 0, 0);
    for (let shift = 12; shift <= 16; shift++) {
      const size = 2 ** shift;
      for (let loop = 0; loop < 5000; loop++) {
        M.mas_set(mas, 0);
        expect(M.mas_empty_area(mas, 0, max, size)).toBe(0);
        expect(mas.last).toBe((mas.index as number) + size - 1);
        expect(M.mas_store_gfp(mas, size)).toBe(0);
        M.mas_reset(mas);
      }
    }
    expect(M.mas_empty_area(mas, 0, max, 0x1000)).toBe(-M.EBUSY); // no space left
    for (let i = 629440511; i <= 629440800; i += 6) M.mtree_store_range(mt, i, i + 5, i);
    M.mtree_erase(mt, 631668735);
    M.mtree_erase(mt, 629506047);
    M.mas_reset(mas);
    expect(M.mas_empty_area(mas, 629506048, 690000000, 0x5000)).toBe(0);
    valid(mt);
  });
});

// ------------------------------------------------------ find, next, prev, state

describe('check_find / check_find_2 / check_rev_find / next and prev', () => {
  test('check_find: XA_ZERO_ENTRY at 64, an entry at ULONG_MAX, mt_find wrapping, mas_prev from ULONG_MAX', () => {
    const mt = M.mt_init_flags(0);
    const top = 4398046511104;
    let val = 0;
    expect(M.mtree_insert(mt, val++, xi(0))).toBe(0);
    for (let i = 0; i <= 20; i++) {
      expect(M.mtree_insert(mt, val, val !== 64 ? xi(val) : M.XA_ZERO_ENTRY)).toBe(0);
      val *= 4;
    }
    const mas = M.MA_STATE(mt, 0, 0);
    val = 0;
    for (let e = M.mas_find(mas, 268435456); e; e = M.mas_find(mas, 268435456)) {
      expect(e).toBe(val !== 64 ? v(val) : M.XA_ZERO_ENTRY);
      val = val * 4 || 1;
    }
    for (const pause of [false, true]) {
      M.mas_set(mas, 0);
      val = 0;
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) {
        expect(e).toBe(val !== 64 ? v(val) : M.XA_ZERO_ENTRY);
        val = val * 4 || 1;
        if (pause) M.mas_pause(mas);
      }
    }
    // mt_for_each skips the zero entry.
    val = 0;
    const index = { value: 0 as U };
    for (let e = M.mt_find(mt, index, 300); e; e = M.mt_find_after(mt, index, 300)) {
      expect(e).toBe(v(val));
      val = val * 4 || 1;
      if (val === 64) val *= 4;
    }
    // An entry at ULONG_MAX: xa_mk_value(ULONG_MAX & LONG_MAX) is ULONG_MAX itself.
    expect(M.mtree_insert(mt, INF, xi(INF))).toBe(0);
    expect(xi(INF)).toBe(INF);
    let n = 0;
    val = 0;
    index.value = 0;
    for (let e = M.mt_find(mt, index, INF); e; e = M.mt_find_after(mt, index, INF)) {
      expect(B(e)).toBe(val === top ? B(v(ul(LONG_MAX))) : B(v(val)));
      val = val * 4 || 1;
      if (val === 64) val *= 4;
      expect(++n).toBeLessThanOrEqual(25);
    }
    expect(n).toBe(22);
    expect(index.value).toBe(0); // wrapped after ULONG_MAX
    erase_index(mt, INF);
    index.value = 17;
    expect(M.mt_find(mt, index, 512)).toBe(v(256));
    index.value = 17;
    expect(M.mt_find(mt, index, 20)).toBe(0);

    expect(M.mtree_insert(mt, INF, xi(INF))).toBe(0);
    M.mas_set(mas, 0);
    val = 0;
    for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) {
      if (val === 64) expect(e).toBe(M.XA_ZERO_ENTRY);
      else if (val === top) expect(e).toBe(v(ul(LONG_MAX)));
      else expect(e).toBe(v(val));
      val = val * 4 || 1;
      M.mas_pause(mas);
    }
    M.mas_set(mas, 1048576);
    expect(M.mas_find(mas, 1048576)).not.toBe(0);

    // The last value: from ULONG_MAX, then prev; erase the end; prev again from start and from none.
    M.mas_reset(mas);
    mas.index = INF;
    M.mas_find(mas, INF);
    const entry = M.mas_prev(mas, 0);
    const [idx, last] = [mas.index, mas.last];
    expect(entry).toBe(v(2 ** 40));
    M.mas_reset(mas);
    mas.index = INF;
    mas.last = INF;
    M.mas_erase(mas);
    M.mas_reset(mas);
    expect(M.mas_prev(mas, 0)).toBe(entry);
    expect([mas.index, mas.last]).toEqual([idx, last]);
    mas.status = 'none';
    mas.index = INF;
    mas.last = INF;
    expect(M.mas_prev(mas, 0)).toBe(entry);
    M.mas_set(mas, 0);
    expect(M.mas_prev(mas, 0)).toBe(0);
    valid(mt);
  });

  test('check_find_2', () => {
    const mt = M.mt_init_flags(0);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_find(mas, INF)).toBe(0);
    for (let i = 0; i < 256; i++) {
      M.mtree_insert(mt, i, xi(i));
      let j = 0;
      M.mas_set(mas, 0);
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) expect(e).toBe(v(j++));
      expect(j).toBe(i + 1);
    }
    for (let i = 0; i < 256; i++) {
      erase_index(mt, i);
      let j = i + 1;
      M.mas_set(mas, 0);
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) {
        if (M.xa_is_zero(e)) continue;
        expect(e).toBe(v(j++));
      }
      expect(j).toBe(256);
    }
  });

  test('check_rev_find', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 200; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    const mas = M.MA_STATE(mt, 0, 0);
    M.mas_set(mas, 1000);
    expect(M.mas_find_rev(mas, 1000)).toBe(v(100));
    expect(M.mas_find_rev(mas, 1000)).toBe(0);
    M.mas_set(mas, 999);
    expect(M.mas_find_rev(mas, 997)).toBe(0);
    M.mas_set(mas, 1000);
    expect(M.mas_find_rev(mas, 900)).toBe(v(100));
    expect(M.mas_find_rev(mas, 900)).toBe(v(99));
    M.mas_set(mas, 20);
    expect(M.mas_find_rev(mas, 0)).toBe(v(2));
    expect(M.mas_find_rev(mas, 0)).toBe(v(1));
    expect(M.mas_find_rev(mas, 0)).toBe(v(0));
    expect(M.mas_find_rev(mas, 0)).toBe(0);
  });

  test('check_next_entry / check_prev_entry', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 30);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_walk(mas)).toBe(v(0));
    for (let i = 1; i <= 31; i++) expect(M.mas_next(mas, 30)).toBe(i > 30 ? 0 : v(i));
    M.mtree_destroy(mt);

    seq(mt, 30);
    const m2 = M.MA_STATE(mt, 16, 16);
    expect(M.mas_find(m2, INF)).toBe(v(16));
    expect(M.mas_prev(m2, 0)).toBe(v(15));

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const m3 = M.MA_STATE(mt, 0, 0);
    for (let i = 0; i <= 16; i++) {
      M.mas_set_range(m3, i * 10, i * 10 + 5);
      M.mas_store_gfp(m3, v(i));
    }
    M.mas_set(m3, 20);
    expect(M.mas_walk(m3)).toBe(v(2));
    expect(M.mas_prev(m3, 19)).toBe(0);
    M.mas_set(m3, 80);
    expect(M.mas_walk(m3)).toBe(v(8));
    expect(M.mas_prev(m3, 76)).toBe(0);
  });

  test('next_prev_test', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const nr = 200;
    const level2 = [707, 1000, 710, 715, 720, 725];
    for (let i = 0; i <= nr; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    const mas = M.MA_STATE(mt, 0, 0);
    for (let i = 0; i <= nr / 2; i++) {
      M.mas_next(mas, 1000);
      if (mas.status === 'none') break;
    }
    let i = 0;
    M.mas_set(mas, 0);
    for (let e = M.mas_find(mas, 1000); e; e = M.mas_find(mas, 1000)) i++;
    expect(i).toBe(101);
    M.mas_set(mas, 0);
    i = 0;
    for (let e = M.mas_find(mas, 1000); e; e = M.mas_find(mas, 1000)) {
      M.mas_pause(mas);
      i++;
    }
    expect(i).toBe(101);

    M.mas_set(mas, 686);
    expect(M.mas_walk(mas)).toBe(0);
    expect(M.mas_next(mas, 1000)).toBe(v(69));
    expect([mas.index, mas.last]).toEqual([690, 695]);
    expect(M.mas_prev(mas, 0)).toBe(v(68));
    expect([mas.index, mas.last]).toEqual([680, 685]);
    expect(M.mas_next(mas, 1000)).toBe(v(69));
    expect(M.mas_next(mas, 1000)).toBe(v(70));
    expect([mas.index, mas.last]).toEqual([700, 705]);

    M.mas_set(mas, 70);
    expect(M.mas_walk(mas)).toBe(v(7));
    expect(M.mas_next(mas, 1000)).toBe(v(8));
    expect([mas.index, mas.last]).toEqual([80, 85]);
    expect(M.mas_prev(mas, 70)).toBe(v(7));
    expect([mas.index, mas.last]).toEqual([70, 75]);

    M.mas_reset(mas);
    M.mas_set(mas, level2[0]!);
    expect(M.mas_walk(mas)).toBe(0);
    expect(M.mas_next(mas, level2[1]!)).toBe(v(level2[2]! / 10));
    expect([mas.index, mas.last]).toEqual([level2[2], level2[3]]);
    const mn = mas.node;
    expect(M.mas_next(mas, level2[1]!)).toBe(v(level2[4]! / 10));
    expect([mas.index, mas.last]).toEqual([level2[4], level2[5]]);
    expect(mas.node).not.toBe(mn);
    expect(M.mas_prev(mas, 0)).toBe(v(level2[2]! / 10));
    expect([mas.index, mas.last]).toEqual([level2[2], level2[3]]);

    // Off the end and back on.
    M.mas_set(mas, nr * 10);
    expect(M.mas_walk(mas)).toBe(v(nr));
    expect([mas.index, mas.last]).toEqual([nr * 10, nr * 10 + 5]);
    expect(M.mas_next(mas, INF)).toBe(0);
    expect([mas.index, mas.last]).toEqual([0x7d6, INF]); // last_index
    expect(M.mas_prev(mas, 0)).toBe(v(nr));
    expect([mas.index, mas.last]).toEqual([nr * 10, nr * 10 + 5]);

    // Off the start and back on.
    M.mas_reset(mas);
    M.mas_set(mas, 10);
    expect(M.mas_walk(mas)).toBe(v(1));
    expect(M.mas_prev(mas, 0)).toBe(v(0));
    expect([mas.index, mas.last]).toEqual([0, 5]);
    expect(M.mas_prev(mas, 0)).toBe(0);
    expect([mas.index, mas.last, mas.status]).toEqual([0, 5, 'underflow']);
    mas.index = 0;
    mas.last = 5;
    M.mas_store(mas, 0);
    M.mas_reset(mas);
    M.mas_set(mas, 10);
    M.mas_walk(mas);
    expect(M.mas_prev(mas, 0)).toBe(0);
    expect([mas.index, mas.last]).toEqual([0, 9]);

    const t2 = M.mt_init_flags(0);
    M.mtree_store_range(t2, 0, 0, v(0));
    M.mtree_store_range(t2, 5, 5, v(5));
    const m2 = M.MA_STATE(t2, 5, 5);
    expect(M.mas_prev(m2, 4)).toBe(0);
  });

  test('check_iteration: stores from inside mas_for_each', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 125; i++) M.mtree_store_range(mt, i * 10, i * 10 + 9, v(i));
    const mas = M.MA_STATE(mt, 0, 0);
    let i = 0;
    for (let val = M.mas_find(mas, 925); val; val = M.mas_find(mas, 925)) {
      expect([mas.index, mas.last]).toEqual([i * 10, i * 10 + 9]);
      if (i === 92) {
        mas.index = 925;
        mas.last = 929;
        M.mas_store(mas, val);
      }
      i++;
    }
    expect(M.mas_find(mas, INF)).toBe(v(i));
    M.mas_set(mas, 0);
    i = 0;
    for (let val = M.mas_find(mas, 785); val; val = M.mas_find(mas, 785)) {
      expect([mas.index, mas.last]).toEqual([i * 10, i * 10 + 9]);
      if (i === 78) {
        mas.index = 780;
        mas.last = 785;
        M.mas_store(mas, val);
      } else i++;
    }
    expect(M.mas_find(mas, INF)).toBe(v(i));
    M.mas_set(mas, 0);
    i = 0;
    for (let val = M.mas_find(mas, 765); val; val = M.mas_find(mas, 765)) {
      expect([mas.index, mas.last]).toEqual([i * 10, i * 10 + 9]);
      if (i === 76) {
        mas.index = 760;
        mas.last = 765;
        M.mas_store(mas, val);
      }
      i++;
    }
    expect(M.mas_find(mas, INF)).toBe(v(76));
    valid(mt);
  });
});

describe('check_state_handling', () => {
  const ptr = 0x1234500;
  const ptr2 = 0xffffc90000abc000n; // &ptr
  const ptr3 = 0xffffc90000abc008n; // &ptr2
  const at = (mas: M.MaState, e: U, want: U | bigint, index: U, last: U, status: M.MaStatus) =>
    expect([B(e), mas.index, mas.last, mas.status]).toEqual([B(ul(want)), index, last, status]);

  test('a single entry at 0-0 (ma_root, ma_none)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    M.mtree_store_range(mt, 0, 0, ptr);
    const mas = M.MA_STATE(mt, 0, 0);
    let e = M.mas_prev(mas, 0);
    expect([e, mas.status]).toEqual([0, 'underflow']);
    M.mas_set(mas, 10);
    at(mas, M.mas_prev(mas, 0), ptr, 0, 0, 'root');
    M.mas_set(mas, 10);
    M.mas_pause(mas);
    at(mas, M.mas_prev(mas, 0), ptr, 0, 0, 'root');
    M.mas_set(mas, 0);
    at(mas, M.mas_next(mas, INF), 0, 1, INF, 'none');
    M.mas_set(mas, 10);
    at(mas, M.mas_next(mas, INF), 0, 1, INF, 'none');
    M.mas_set(mas, 0);
    at(mas, M.mas_find(mas, INF), ptr, 0, 0, 'root');
    at(mas, M.mas_find(mas, INF), 0, 1, INF, 'none');
    at(mas, M.mas_find(mas, INF), 0, 1, INF, 'none');
    M.mas_set(mas, 10);
    at(mas, M.mas_find(mas, INF), 0, 1, INF, 'none');
    at(mas, M.mas_find_rev(mas, 0), ptr, 0, 0, 'root');
    M.mas_set(mas, 0);
    at(mas, M.mas_find_rev(mas, 0), ptr, 0, 0, 'root');
    at(mas, M.mas_find_rev(mas, 0), 0, 0, 0, 'none');
    at(mas, M.mas_find_rev(mas, 0), 0, 0, 0, 'none');
    M.mas_set(mas, 10);
    at(mas, M.mas_find_rev(mas, 0), ptr, 0, 0, 'root');
    M.mas_set(mas, 10);
    at(mas, M.mas_walk(mas), 0, 1, INF, 'none');
    M.mas_set(mas, 10);
    M.mas_pause(mas);
    at(mas, M.mas_walk(mas), 0, 1, INF, 'none');
    mas.index = mas.last = 10;
    at(mas, M.mas_walk(mas), 0, 1, INF, 'none');
    at(mas, M.mas_walk(mas), 0, 1, INF, 'none');
    M.mas_set(mas, 0);
    at(mas, M.mas_walk(mas), ptr, 0, 0, 'root');
    M.mas_set(mas, 0);
    M.mas_pause(mas);
    at(mas, M.mas_walk(mas), ptr, 0, 0, 'root');
    mas.status = 'none';
    at(mas, M.mas_walk(mas), ptr, 0, 0, 'root');
    at(mas, M.mas_walk(mas), ptr, 0, 0, 'root');
    M.mas_set(mas, 10);
    at(mas, M.mas_walk(mas), 0, 1, INF, 'none');
    mas.index = mas.last = 0;
    e = M.mas_walk(mas);
    at(mas, e, ptr, 0, 0, 'root');
  });

  test('a tree with nodes (active, overflow, underflow, pause, none)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    M.mtree_store_range(mt, 0, 0, ptr);
    M.mtree_store_range(mt, 0, 0, 0);
    M.mtree_store_range(mt, 0x1000, 0x1500, ptr);
    M.mtree_store_range(mt, 0x2000, 0x2500, ptr2);
    M.mtree_store_range(mt, 0x3000, 0x3500, ptr3);
    const mas = M.MA_STATE(mt, 0, 0);
    const act = 'active';
    M.mas_set(mas, 0);
    at(mas, M.mas_next(mas, INF), ptr, 0x1000, 0x1500, act);
    M.mas_set(mas, 0);
    M.mas_pause(mas);
    at(mas, M.mas_next(mas, INF), ptr, 0x1000, 0x1500, act);
    mas.index = mas.last = 0;
    mas.offset = 0;
    mas.status = 'none';
    at(mas, M.mas_next(mas, INF), ptr, 0x1000, 0x1500, act);
    at(mas, M.mas_next(mas, 0x2100), ptr2, 0x2000, 0x2500, act);
    at(mas, M.mas_next(mas, 0x2999), 0, 0x2501, 0x2fff, 'overflow');
    at(mas, M.mas_next(mas, INF), ptr3, 0x3000, 0x3500, act);
    at(mas, M.mas_next(mas, INF), 0, 0x3501, INF, 'overflow');
    at(mas, M.mas_next(mas, INF), 0, 0x3501, INF, 'overflow');
    at(mas, M.mas_prev(mas, 0), ptr3, 0x3000, 0x3500, act);
    M.mas_set(mas, 0);
    M.mas_next(mas, INF);
    mas.status = 'none';
    mas.offset = 0;
    at(mas, M.mas_next(mas, INF), ptr2, 0x2000, 0x2500, act);
    at(mas, M.mas_prev(mas, 0), ptr, 0x1000, 0x1500, act);
    M.mas_next(mas, INF);
    at(mas, M.mas_prev(mas, 0x1200), ptr, 0x1000, 0x1500, act);
    at(mas, M.mas_prev(mas, 0x1200), 0, 0x1000, 0x1500, 'underflow');
    at(mas, M.mas_prev(mas, 0x0100), 0, 0, 0x0fff, 'underflow');
    at(mas, M.mas_prev(mas, 0), 0, 0, 0x0fff, 'underflow');
    at(mas, M.mas_prev(mas, 0), 0, 0, 0x0fff, 'underflow');
    at(mas, M.mas_next(mas, INF), ptr, 0x1000, 0x1500, act);
    at(mas, M.mas_prev(mas, 0x1000), 0, 0x1000, 0x1500, 'underflow');
    at(mas, M.mas_find(mas, INF), ptr, 0x1000, 0x1500, act);
    M.mas_set(mas, 0x3600);
    expect(M.mas_prev(mas, 0)).toBe(ptr3);
    M.mas_pause(mas);
    at(mas, M.mas_prev(mas, 0), ptr2, 0x2000, 0x2500, act);
    at(mas, M.mas_prev(mas, 0x1600), 0, 0x1501, 0x1fff, 'underflow');
    at(mas, M.mas_prev(mas, 0), ptr, 0x1000, 0x1500, act);
    M.mas_set(mas, 0);
    at(mas, M.mas_find(mas, INF), ptr, 0x1000, 0x1500, act);
    M.mas_set(mas, 0);
    M.mas_pause(mas);
    at(mas, M.mas_find(mas, INF), ptr, 0x1000, 0x1500, act);
    M.mas_set(mas, 1200);
    at(mas, M.mas_find(mas, INF), ptr, 0x1000, 0x1500, act);
    at(mas, M.mas_find(mas, INF), ptr2, 0x2000, 0x2500, act);
    at(mas, M.mas_find(mas, 0x2700), 0, 0x2501, 0x2fff, act);
    at(mas, M.mas_find(mas, 0x5000), ptr3, 0x3000, 0x3500, act);
    at(mas, M.mas_find(mas, INF), 0, 0x3501, INF, act);
    at(mas, M.mas_find_rev(mas, 0), ptr3, 0x3000, 0x3500, act);
    at(mas, M.mas_find_rev(mas, 0), ptr2, 0x2000, 0x2500, act);
    M.mas_pause(mas);
    at(mas, M.mas_find_rev(mas, 0), ptr, 0x1000, 0x1500, act);
    at(mas, M.mas_find_rev(mas, 0), 0, 0, 0x0fff, 'underflow');
    M.mas_set(mas, 0x1200);
    at(mas, M.mas_find_rev(mas, 0), ptr, 0x1000, 0x1500, act);
    for (const [status, key, want, lo, hi] of [
      ['start', 0x1200, ptr, 0x1000, 0x1500],
      ['start', 0x1600, 0, 0x1501, 0x1fff],
      ['pause', 0x1200, ptr, 0x1000, 0x1500],
      ['pause', 0x1600, 0, 0x1501, 0x1fff],
      ['none', 0x1200, ptr, 0x1000, 0x1500],
      ['none', 0x1600, 0, 0x1501, 0x1fff],
    ] as const) {
      M.mas_set(mas, key);
      if (status === 'pause') M.mas_pause(mas);
      if (status === 'none') mas.status = 'none';
      at(mas, M.mas_walk(mas), want, lo, hi, act);
    }
    mas.index = 0x1200;
    mas.last = 0x1200;
    mas.offset = 0;
    at(mas, M.mas_walk(mas), ptr, 0x1000, 0x1500, act);
    mas.index = 0x1600;
    mas.last = 0x1600;
    at(mas, M.mas_walk(mas), 0, 0x1501, 0x1fff, act);
  });
});

// ------------------------------------------------------------------ root, gaps

describe('check_root_expand', () => {
  test('a pointer, a pointer | 1 and a pointer | 2 at index 0', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    let mas = M.MA_STATE(mt, 0, 0);
    M.mas_set(mas, 3);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 0, INF]);
    M.mas_set(mas, 1);
    M.mas_store_gfp(mas, FN_PTR);
    M.mas_set(mas, 0);
    expect(M.mas_walk(mas)).toBe(0);
    M.mas_set(mas, 1);
    expect(M.mas_walk(mas)).toBe(FN_PTR);
    M.mas_set(mas, 2);
    expect(M.mas_walk(mas)).toBe(0);
    M.mtree_destroy(mt);

    mt = M.mt_init_flags(0);
    mas = M.MA_STATE(mt, 0, 0);
    M.mas_store_gfp(mas, FN_PTR);
    M.mas_set(mas, 5);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 1, INF]);
    M.mas_set_range(mas, 0, 100);
    expect([M.mas_walk(mas), mas.last]).toEqual([FN_PTR, 0]);
    M.mtree_destroy(mt);

    for (const low of [1n, 2n]) {
      mt = M.mt_init_flags(0);
      mas = M.MA_STATE(mt, 0, 0);
      M.mas_store_gfp(mas, FN_PTR | low);
      expect(mt.root_is_node).toBe(low === 2n); // an internal-looking entry cannot be the root pointer
      expect(M.mas_next(mas, INF)).toBe(0);
      // The kernel checks (index != 1 && last != ULONG_MAX), (index != ULONG_MAX && last != ULONG_MAX) for | 2.
      expect(mas.index === (low === 1n ? 1 : INF) || mas.last === INF).toBe(true);
      M.mas_set(mas, 1);
      expect(M.mas_prev(mas, 0)).toBe(FN_PTR | low);
      expect([mas.index, mas.last]).toEqual([0, 0]);
      valid(mt);
    }
  });
});

describe('check_gap_combining', () => {
  test('seq100, seq2000, seq400', () => {
    const seq100 = [74, 75, 76, 50, 100, 2, 44, 45, 46, 43, 20, 50, 3, 80, 81, 82, 76, 2, 79, 85, 4];
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    let index = seq100[0]!;
    const mas = M.MA_STATE(mt, index, index);
    seq(mt, 100);
    M.mtree_erase(mt, seq100[2]!);
    load(mt, seq100[2]!, 0);
    M.mtree_erase(mt, seq100[1]!);
    load(mt, seq100[1]!, 0);
    expect(M.mas_find(mas, INF)).toBe(v(index));
    const mn1 = mas.node;
    M.mas_next(mas, INF);
    expect(M.mas_next(mas, INF)).toBe(v(index + 4));
    expect(mas.node).not.toBe(mn1);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, seq100[3]!, seq100[4]!, seq100[5]!)).toBe(0);
    expect(mas.index).toBe(index + 1);

    M.mtree_erase(mt, seq100[6]!);
    load(mt, seq100[6]!, 0);
    M.mtree_erase(mt, seq100[7]!);
    load(mt, seq100[7]!, 0);
    M.mtree_erase(mt, seq100[8]!);
    index = seq100[9]!;
    mas.index = index;
    mas.last = index;
    M.mas_reset(mas);
    expect(M.mas_find(mas, INF)).toBe(v(index));
    const mn2 = mas.node;
    expect(M.mas_next(mas, INF)).toBe(v(index + 4));
    M.mas_next(mas, INF);
    expect(mas.node).not.toBe(mn2);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, seq100[10]!, seq100[11]!, seq100[12]!)).toBe(0);
    expect(mas.index).toBe(seq100[6]);

    M.mtree_store(mt, seq100[13]!, 0);
    load(mt, seq100[13]!, 0);
    load(mt, seq100[14]!, v(seq100[14]!));
    M.mtree_store(mt, seq100[14]!, 0);
    load(mt, seq100[13]!, 0);
    load(mt, seq100[14]!, 0);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, seq100[16]!, seq100[15]!, seq100[17]!)).toBe(0);
    expect(mas.index).toBe(seq100[13]);
    valid(mt);

    M.mtree_store_range(mt, seq100[18]!, seq100[14]!, 0);
    M.mtree_erase(mt, seq100[15]!);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, seq100[16]!, seq100[19]!, seq100[20]!)).toBe(0);
    expect(mas.index).toBe(seq100[18]);
    valid(mt);

    const seq2000 = [1152, 1151, 1100, 1200, 2];
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 2000);
    M.mtree_erase(mt, seq2000[0]!);
    M.mtree_erase(mt, seq2000[1]!);
    const m2 = M.MA_STATE(mt, 0, 0);
    expect(M.mas_empty_area_rev(m2, seq2000[2]!, seq2000[3]!, seq2000[4]!)).toBe(0);
    expect(m2.index).toBe(seq2000[1]);
    valid(mt);

    const seq400 = [286, 318, 256, 260, 266, 270, 275, 280, 290, 398, 286, 310];
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 400);
    expect(M.mtree_store_range(mt, seq400[0]!, seq400[1]!, 0)).toBe(0);
    valid(mt);
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 400);
    for (const k of [2, 3, 4, 5, 0, 6, 7, 8]) expect(M.mtree_store_range(mt, seq400[k]!, seq400[9]!, v(seq400[k]!))).toBe(0);
    expect(M.mtree_store_range(mt, seq400[10]!, seq400[11]!, v(seq400[10]!))).toBe(0);
    valid(mt);
  });
});

// ------------------------------------------------------- shapes, splits, seqs

describe('larger shapes', () => {
  test('check_node_overwrite, check_spanning_relatives, check_bnode_min_spanning', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 4000; i++) M.mtree_store_range(mt, i * 100, i * 100 + 50, v(i * 100));
    expect(M.mtree_store_range(mt, 319951, 367950, 0)).toBe(0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 1000; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    expect(M.mtree_store_range(mt, 9365, 9955, 0)).toBe(0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const mas = M.MA_STATE(mt, 0, 0);
    for (let i = 50; i >= 0; i--) {
      M.mas_set_range(mas, i * 10, i * 10 + 9);
      M.mas_store(mas, FN_PTR);
    }
    M.mas_set_range(mas, 240, 509);
    M.mas_store(mas, 0);
    valid(mt);
  });

  test('check_lower_bound_split, check_upper_bound_split, check_mid_split', () => {
    const lb_not_empty = (mt: M.MapleTree) => {
      const huge = 4000 * 1000 * 1000;
      for (let i = huge; i > 4096; i = Math.floor(i / 2)) {
        ins(mt, i, i);
        for (let j = huge; j >= i; j = Math.floor(j / 2)) {
          load(mt, j - 1, 0);
          load(mt, j, j);
          load(mt, j + 1, 0);
        }
      }
      valid(mt);
      M.mtree_destroy(mt);
    };
    let mt = M.mt_init_flags(0);
    lb_not_empty(mt);
    for (let i = 4096; i < 4000 * 1000 * 1000; i *= 2) ins(mt, i, i);
    valid(mt);
    M.mtree_destroy(mt);
    mt = M.mt_init_flags(0);
    ins(mt, 8000 * 1000 * 1000, 8000 * 1000 * 1000);
    ins(mt, 0, v(0));
    lb_not_empty(mt);
  });

  test('check_seq(16), check_seq(1000), check_rev_seq(1000)', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 16);
    M.mtree_destroy(mt);
    seq(mt, 1000);
    valid(mt);
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 1000; i; i--) {
      expect(M.mtree_insert(mt, i, xi(i))).toBe(0);
      for (let j = i; j <= 1000; j++) load(mt, j, xi(j));
      load(mt, i - 1, 0);
      M.mt_set_in_rcu(mt);
      expect(M.mt_height(mt)).toBeGreaterThan(0);
      M.mt_clear_in_rcu(mt);
      expect(M.mt_height(mt)).toBeGreaterThan(0);
    }
    load(mt, 1001, 0);
    valid(mt);
  });

  test("maple_tree_seed's inserts and loads (set[] = 5015, 5014, ...)", () => {
    const set = [5015, 5014, 5017, 25, 1000, 1001, 1002, 1003, 1005, 0, 5003, 5002];
    let mt = M.mt_init_flags(0);
    load(mt, set[0]!, 0);
    ins(mt, set[9]!, TREE_PTR);
    load(mt, set[9]!, TREE_PTR);
    load(mt, set[0]!, 0);
    ins(mt, set[10]!, SET_PTR);
    load(mt, set[9]!, TREE_PTR);
    load(mt, set[11]!, 0);
    load(mt, set[10]!, SET_PTR);
    M.mtree_destroy(mt);

    mt = M.mt_init_flags(0);
    ins(mt, set[0]!, TREE_PTR);
    expect(M.mtree_insert(mt, set[0]!, ul(TREE_PTR))).toBe(-M.EEXIST);
    load(mt, set[0]!, TREE_PTR);
    load(mt, set[1]!, 0);
    ins(mt, set[1]!, SET_PTR);
    load(mt, set[1]!, SET_PTR);
    load(mt, set[0]!, TREE_PTR);
    ins(mt, set[6]!, SET_PTR);
    ins(mt, set[7]!, TREE_PTR);
    for (const [i, p] of [[0, TREE_PTR], [1, SET_PTR], [6, SET_PTR], [7, TREE_PTR]] as const) load(mt, set[i]!, p);
    M.mtree_destroy(mt);

    mt = M.mt_init_flags(0);
    ins(mt, set[5]!, SET_PTR);
    ins(mt, set[7]!, TREE_PTR);
    ins(mt, set[6]!, SET_PTR);
    for (const [i, p] of [[5, SET_PTR], [6, SET_PTR], [7, TREE_PTR]] as const) load(mt, set[i]!, p);
    M.mtree_destroy(mt);

    mt = M.mt_init_flags(0);
    const want: Array<[number, bigint]> = [];
    const add = (k: number, p: bigint) => {
      ins(mt, set[k]!, p);
      want.push([set[k]!, p]);
      for (const [i, q] of want) load(mt, i, q);
    };
    add(0, SET_PTR);
    add(1, TREE_PTR);
    add(2, SET_PTR);
    add(3, TREE_PTR);
    add(4, SET_PTR); // should split
    add(5, TREE_PTR);
    add(6, SET_PTR);
    add(7, TREE_PTR);
    add(8, SET_PTR);
    add(9, TREE_PTR);
    valid(mt);
  });
});

// ------------------------------------------------------------ forking, dup

describe('check_forking / check_mas_store_gfp / check_dup', () => {
  const build = (mt: M.MapleTree, n: number, width: number) => {
    for (let i = 0; i <= n; i++) {
      const mas = M.MA_STATE(mt, i * 10, i * 10 + width);
      expect(M.mas_store_gfp(mas, v(i))).toBe(0);
    }
  };

  test('check_forking: __mt_dup of an external-lock alloc tree, then a store of every entry over itself', () => {
    const flags = M.MT_FLAGS_ALLOC_RANGE | M.MT_FLAGS_LOCK_EXTERN;
    const mt = M.mt_init_flags(flags);
    const newmt = M.mt_init_flags(flags);
    build(mt, 134, 5);
    expect(M.__mt_dup(mt, newmt)).toBe(0);
    const newmas = M.MA_STATE(newmt, 0, 0);
    for (let val = M.mas_find(newmas, INF); val; val = M.mas_find(newmas, INF)) M.mas_store(newmas, val);
    valid(newmt);
    expect(M.mt_dump(newmt)).toBe(M.mt_dump(mt));
    expect(M.__mt_dup(mt, newmt)).toBe(-M.EINVAL); // not empty
    expect(M.__mt_dup(mt, M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE))).toBe(-M.EINVAL); // attributes differ
  });

  test('check_mas_store_gfp: copy 135 ranges entry by entry', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 135; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    const newmt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const newmas = M.MA_STATE(newmt, 0, 0);
    const mas = M.MA_STATE(mt, 0, 0);
    for (let val = M.mas_find(mas, INF); val; val = M.mas_find(mas, INF)) {
      newmas.index = mas.index;
      newmas.last = mas.last;
      expect(M.mas_store_gfp(newmas, val)).toBe(0);
    }
    valid(newmt);
  });

  test('check_dup_gaps over a stride of check_dup sizes, with and without a zero start and gaps', () => {
    const dup_gaps = (flags: number, nr: number, zero_start: boolean, gap: number) => {
      const mt = M.mt_init_flags(flags);
      for (let i = zero_start ? 0 : 1; i <= nr; i++) M.mtree_store_range(mt, i * 10, (i + 1) * 10 - gap, v(i));
      const newmt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
      const newmas = M.MA_STATE(newmt, 0, 0);
      const mas = M.MA_STATE(mt, 0, 0);
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) {
        newmas.index = mas.index;
        newmas.last = mas.last;
        M.mas_store(newmas, e);
      }
      valid(newmt);
      expect([...M.mt_entries(newmt)]).toEqual([...M.mt_entries(mt)]);
    };
    const A = M.MT_FLAGS_ALLOC_RANGE;
    for (let i = 10; i < 1000; i += 47) dup_gaps(A, i, true, 5);
    for (let i = 1000; i < 2000; i += 211) dup_gaps(A, i, true, 0);
    dup_gaps(A, 100010, true, 5);
    for (let i = 200; i < 1000; i += 97) dup_gaps(A, i, false, 5);
    dup_gaps(A, 100011, false, 5);
    for (let i = 1500; i < 3000; i += 307) dup_gaps(0, i, false, 5);
    for (let i = 200; i < 1000; i += 131) dup_gaps(0, i, true, 5);
    dup_gaps(0, 100015, true, 5);
  }, 120_000);
});

// ----------------------------------------------------------------- check_fuzzer

type FuzzOp = ['i' | 's' | 'e' | 'l', U | bigint, (U | bigint)?] | ['r' | 'I', U | bigint, U | bigint, U | bigint];

/** Run a fuzzer sequence on a plain tree; every return is checked against the bigint reference, and the tree after every step. */
function fuzz(ops: FuzzOp[]): void {
  const mt = M.mt_init_flags(0);
  const ranges: Array<[bigint, bigint, bigint]> = [];
  const find = (i: bigint) => ranges.find(([a, b]) => a <= i && i <= b);
  const put = (a: bigint, b: bigint, e: bigint) => {
    const out: Array<[bigint, bigint, bigint]> = [];
    for (const x of ranges) {
      if (x[1] < a || x[0] > b) out.push(x);
      else {
        if (x[0] < a) out.push([x[0], a - 1n, x[2]]);
        if (x[1] > b) out.push([b + 1n, x[1], x[2]]);
      }
    }
    if (e) out.push([a, b, e]);
    ranges.length = 0;
    ranges.push(...out);
  };
  for (const op of ops) {
    const a = B(ul(op[1]));
    switch (op[0]) {
      case 'i':
      case 's': {
        const e = B(ul(op[2]!));
        const exists = !!find(a);
        const got = (op[0] === 'i' ? M.mtree_insert : M.mtree_store)(mt, ul(a), ul(e));
        expect(got, `${op[0]} ${a}`).toBe(op[0] === 'i' && exists ? -M.EEXIST : 0);
        if (!got) put(a, a, e);
        break;
      }
      case 'r':
      case 'I': {
        const b = B(ul(op[2]));
        const e = B(ul(op[3]));
        const overlap = ranges.some((x) => !(x[1] < a || x[0] > b));
        const want = a > b ? -M.EINVAL : op[0] === 'I' && overlap ? -M.EEXIST : 0;
        expect((op[0] === 'I' ? M.mtree_insert_range : M.mtree_store_range)(mt, ul(a), ul(b), ul(e)), `${op[0]} ${a}-${b}`).toBe(want);
        if (!want) put(a, b, e);
        break;
      }
      case 'e': {
        const x = find(a);
        expect(B(M.mtree_erase(mt, ul(a))), `e ${a}`).toBe(x ? x[2] : 0n);
        if (x) ranges.splice(ranges.indexOf(x), 1);
        break;
      }
      case 'l':
        expect(B(M.mtree_load(mt, ul(a))), `l ${a}`).toBe(find(a)?.[2] ?? 0n);
        break;
    }
    valid(mt);
  }
}

describe('check_fuzzer', () => {
  const U_MAX = INF;
  const U_MAX_10 = TOP - 10n;
  test('1: spanning rebalance of a single root node', () => {
    fuzz([['i', 88, 0xb1], ['i', 84, 0xa9], ['i', 2, 0x5], ['i', 4, 0x9], ['i', 14, 0x1d], ['i', 7, 0xf], ['i', 12, 0x19], ['i', 18, 0x25], ['r', 8, 18, 0x11]]);
  });
  test('2: spanning rebalance of two nodes in root', () => {
    fuzz([['s', 87, 0xaf], ['s', 0, 0x1], ['l', 4], ['i', 4, 0x9], ['s', 8, 0x11], ['s', 44, 0x59], ['s', 68, 0x89], ['s', 2, 0x5], ['i', 43, 0x57], ['i', 24, 0x31], ['i', 844, 0x699], ['s', 84, 0xa9], ['s', 4, 0x9], ['e', 4], ['l', 5], ['e', 0]]);
  });
  test('3: node overflow on copy', () => {
    fuzz([['r', 0, U_MAX, 0x1], ['s', 4, 0x9], ['e', 5], ['e', 0], ['e', 4], ['s', 5, 0xb], ['e', 5], ['s', 5, 0xb], ['e', 5], ['e', 4], ['s', 4, 0x9], ['s', 444, 0x379], ['s', 0, 0x1], ['l', 0], ['s', 5, 0xb], ['e', 0]]);
  });
  test('4: wrong pivot at the last slot of a spanning store', () => {
    fuzz([['i', 261, 0x20b], ['s', 516, 0x409], ['s', 6, 0xd], ['i', 5, 0xb], ['i', 1256, 0x9d1], ['s', 4, 0x9], ['e', 1], ['s', 56, 0x71], ['i', 1, 0x3], ['s', 24, 0x31], ['e', 1], ['i', 2263, 0x11af], ['i', 446, 0x37d], ['r', 6, 45, 0xd], ['r', 3, 446, 0x7]]);
  });
  test('5: mas_wr_extend_null() overflow; an entry 0xffffffffffffffff at ULONG_MAX', () => {
    fuzz([['s', 48, 0x61], ['s', 3, 0x7], ['l', 0], ['s', 88, 0xb1], ['s', 81, 0xa3], ['i', 0, 0x1], ['i', 8, 0x11], ['i', 4, 0x9], ['i', 2480, 0x1361], ['i', U_MAX, 0xffffffffffffffffn], ['l', U_MAX], ['e', U_MAX]]);
  });
  test('6: old data left in the implied slot', () => {
    fuzz([
      ['e', 3], ['i', 22, 0x2d], ['i', 15, 0x1f], ['l', 2], ['i', 1, 0x3], ['i', 1, 0x3], ['i', 5, 0xb], ['e', 1], ['i', 1, 0x3], ['i', 4, 0x9], ['i', 1, 0x3], ['e', 1], ['i', 2, 0x5], ['i', 1, 0x3], ['e', 3], ['i', 22, 0x2d], ['i', 15, 0x1f], ['i', 2, 0x5], ['i', 1, 0x3], ['i', 8, 0x11], ['l', 2], ['i', 1, 0x3], ['i', 1, 0x3], ['s', 1, 0x3], ['i', 5, 0xb], ['e', 1], ['i', 1, 0x3], ['i', 4, 0x9], ['i', 1, 0x3], ['e', 1], ['i', 2, 0x5], ['i', 1, 0x3], ['e', 3], ['i', 22, 0x2d], ['i', 15, 0x1f], ['i', 2, 0x5], ['i', 1, 0x3], ['i', 8, 0x11], ['i', 12, 0x19], ['e', 1], ['r', 4, 62, 0x9], ['e', 62], ['r', 1, 0, 0x3], ['i', 11, 0x17], ['i', 3, 0x7], ['i', 3, 0x7], ['s', 62, 0x7d], ['e', 62], ['r', 1, 15, 0x3], ['e', 1], ['i', 22, 0x2d], ['i', 12, 0x19], ['e', 1], ['i', 3, 0x7], ['s', 62, 0x7d], ['e', 62], ['i', 122, 0xf5], ['s', 3, 0x7], ['i', 0, 0x1], ['r', 0, 1, 0x1], ['i', 85, 0xab], ['i', 72, 0x91], ['i', 81, 0xa3], ['i', 726, 0x5ad], ['i', 0, 0x1], ['i', 1, 0x3], ['s', 51, 0x67], ['i', 611, 0x4c7], ['i', 485, 0x3cb], ['i', 1, 0x3], ['e', 1], ['i', 0, 0x1], ['i', 1, 0x3], ['I', 26, 1, 0x35], ['l', 1], ['r', 1, 22, 0x3], ['i', 1, 0x3], ['e', 1], ['l', 53], ['l', 1], ['r', 1, 1, 0x3], ['i', 222, 0x1bd], ['i', 485, 0x3cb], ['i', 1, 0x3], ['e', 1], ['l', 0], ['i', 21, 0x2b], ['i', 3, 0x7], ['s', 621, 0x4db], ['i', 0, 0x1], ['e', 5], ['i', 1, 0x3], ['s', 62, 0x7d], ['e', 62], ['r', 1, 0, 0x3], ['i', 22, 0x2d], ['i', 12, 0x19], ['e', 1], ['i', 1, 0x3], ['r', 4, 62, 0x9], ['e', 62], ['e', 1], ['l', 1], ['r', 1, 22, 0x3], ['i', 1, 0x3], ['e', 1], ['l', 53], ['l', 1], ['r', 1, 1, 0x3], ['i', 222, 0x1bd], ['i', 485, 0x3cb], ['i', 1, 0x3], ['e', 1], ['i', 1, 0x3], ['l', 0], ['l', 0],
    ]);
  });
  test('7: old data cleared by overwriting first', () => {
    fuzz([
      ['l', 1], ['i', 102, 0xcd], ['e', 2], ['e', 0], ['l', 0], ['i', 4, 0x9], ['i', 2, 0x5], ['i', 110, 0xdd], ['i', 1, 0x3], ['I', 5, 0, 0xb], ['e', 2], ['s', 0, 0x1], ['s', 112, 0xe1], ['i', 21, 0x2b], ['s', 1, 0x3], ['I', 110, 2, 0xdd], ['s', 2, 0x5], ['l', 22], ['e', 2], ['s', 210, 0x1a5], ['r', 0, 2, 0x1], ['s', 2, 0x5], ['e', 2], ['e', 22], ['e', 1], ['e', 2], ['s', 0, 0x1], ['l', 112], ['i', 2, 0x5], ['e', 2], ['s', 1, 0x3], ['I', 1, 2, 0x3], ['e', 0], ['e', 2], ['s', 2, 0x5], ['e', 0], ['e', 2], ['s', 0, 0x1], ['s', 0, 0x1], ['e', 2], ['s', 2, 0x5], ['e', 2], ['i', 2, 0x5], ['I', 1, 2, 0x3], ['e', 0], ['e', 2], ['s', 0, 0x1], ['l', 112], ['r', 110, 12, 0xdd], ['s', 2, 0x5], ['l', 110], ['I', 4, 71, 0x9], ['l', 2], ['s', 2, 0x5], ['I', 11, 22, 0x17], ['e', 12], ['s', 2, 0x5], ['l', 22],
    ]);
  });
  test('8: the max of a new node after a rebalance', () => {
    fuzz([
      ['s', 6, 0xd], ['s', 67, 0x87], ['i', 15, 0x1f], ['i', 6716, 0x3479], ['s', 61, 0x7b], ['i', 13, 0x1b], ['s', 8, 0x11], ['i', 1, 0x3], ['l', 0], ['e', 67167], ['I', 6, 7167, 0xd], ['i', 6, 0xd], ['e', 67], ['i', 1, 0x3], ['e', 667167], ['i', 6, 0xd], ['s', 67, 0x87], ['i', 5, 0xb], ['e', 1], ['i', 6, 0xd], ['e', 67], ['i', 15, 0x1f], ['i', 67167, 0x20cbf], ['i', 1, 0x3], ['l', 7], ['i', 16, 0x21], ['i', 36, 0x49], ['s', 67, 0x87], ['s', 6, 0xd], ['i', 367, 0x2df], ['i', 115, 0xe7], ['s', 0, 0x1], ['r', 1, 3, 0x3], ['s', 1, 0x3], ['e', 67167], ['I', 6, 47, 0xd], ['s', 1, 0x3], ['I', 1, 67, 0x3], ['l', 67], ['i', 1, 0x3], ['e', 67167],
    ]);
  });
  test('9: a spanning store to the end of data; entries at ULONG_MAX - 10', () => {
    fuzz([
      ['i', 21, 0x2b], ['i', 12, 0x19], ['i', 6, 0xd], ['i', 8, 0x11], ['i', 2, 0x5], ['i', 91, 0xb7], ['i', 18, 0x25], ['i', 81, 0xa3], ['r', 0, 128, 0x1], ['s', 1, 0x3], ['e', 8], ['i', 11, 0x17], ['i', 8, 0x11], ['i', 21, 0x2b], ['i', 2, 0x5], ['i', U_MAX_10, 0xffffffffffffffebn], ['l', U_MAX_10], ['e', U_MAX_10], ['r', 0, 281, 0x1], ['e', 2], ['i', 1211, 0x977], ['i', 111, 0xdf], ['i', 13, 0x1b], ['i', 211, 0x1a7], ['i', 11, 0x17], ['i', 5, 0xb], ['i', 1218, 0x985], ['i', 61, 0x7b], ['s', 1, 0x3], ['i', 121, 0xf3], ['i', 8, 0x11], ['i', 21, 0x2b], ['i', 2, 0x5], ['i', U_MAX_10, 0xffffffffffffffebn], ['e', U_MAX_10],
    ]);
  });
});
