// Cases rewritten from the behaviour checked by lib/test_maple_tree.c
// (check_ranges, check_alloc_range, check_alloc_rev_range,
// check_empty_area_window, next_prev_test, check_find, check_root_expand,
// check_gap_combining, check_rev_find, check_fuzzer, check_iteration, ...).
// Values are the kernel test's, shifted by 12 where it uses page addresses.
import { describe, expect, test } from 'vitest';
import * as M from '../../src/core/maple/index.js';

const v = M.xa_mk_value;
const INF = M.ULONG_MAX;

function valid(mt: M.MapleTree): void {
  const errs = M.mt_validate(mt);
  if (errs.length) throw new Error(errs.join('\n') + '\n' + M.mt_dump(mt));
}
function store(mt: M.MapleTree, a: number, b: number, e: number, want = 0): void {
  expect(M.mtree_store_range(mt, a, b, e)).toBe(want);
  if (want === 0) for (let i = a; i <= b && i < a + 64; i++) expect(M.mtree_load(mt, i)).toBe(e === M.XA_ZERO_ENTRY ? 0 : e);
}
function insert(mt: M.MapleTree, a: number, b: number, e: number, want = 0): void {
  expect(M.mtree_insert_range(mt, a, b, e)).toBe(want);
  if (want === 0) for (let i = a; i <= b && i < a + 64; i++) expect(M.mtree_load(mt, i)).toBe(e);
}
function seq(mt: M.MapleTree, max: number): void {
  for (let i = 0; i <= max; i++) {
    expect(M.mtree_insert(mt, i, v(i))).toBe(0);
    expect(M.mtree_load(mt, i + 1)).toBe(0);
  }
  for (let i = 0; i <= max; i++) expect(M.mtree_load(mt, i)).toBe(v(i));
}

describe('check_ranges', () => {
  test('insert, overlapping stores, huge overwrite', () => {
    const mt = M.mt_init_flags(0);
    insert(mt, 10, 15, v(10));
    insert(mt, 20, 25, v(20));
    insert(mt, 17, 22, v(17), -M.EEXIST);
    expect(M.mt_height(mt)).toBeGreaterThan(0);
    store(mt, 17, 22, v(17));
    // The neighbours were trimmed, not dropped.
    expect(M.mtree_load(mt, 16)).toBe(0);
    expect(M.mtree_load(mt, 15)).toBe(v(10));
    expect(M.mtree_load(mt, 23)).toBe(v(20));
    store(mt, 9, 1000, v(9));
    store(mt, 100, 200, v(100));
    expect(M.mtree_load(mt, 99)).toBe(v(9));
    expect(M.mtree_load(mt, 201)).toBe(v(9));
    valid(mt);
    M.mtree_destroy(mt);
    expect(M.mt_height(mt)).toBe(0);
  });

  test('overwrite across multiple levels', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 50);
    store(mt, 5, 47, v(47));
    valid(mt);
    mt = M.mt_init_flags(0);
    seq(mt, 100);
    store(mt, 45, 168, v(45));
    valid(mt);
    mt = M.mt_init_flags(0);
    seq(mt, 400);
    store(mt, 118, 128, v(118));
    for (const i of [140, 141, 142, 143, 130, 131, 132, 133, 134, 135]) M.mtree_erase(mt, i);
    expect(M.mtree_load(mt, 118)).toBe(v(118));
    expect(M.mtree_load(mt, 128)).toBe(v(118));
    expect(M.mtree_load(mt, 127)).toBe(v(118));
    expect(M.mtree_load(mt, 129)).toBe(v(129));
    expect(M.mtree_load(mt, 135)).toBe(0);
    expect(M.mtree_load(mt, 140)).toBe(0);
    valid(mt);
  });

  test('overwrite multiple levels at the end of the tree', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 400);
    store(mt, 353, 361, v(353));
    store(mt, 347, 352, v(347));
    expect(M.mtree_load(mt, 346)).toBe(v(346));
    expect(M.mtree_load(mt, 362)).toBe(v(362));
    valid(mt);

    mt = M.mt_init_flags(0);
    seq(mt, 400);
    store(mt, 352, 364, 0);
    store(mt, 351, 363, v(352));
    expect(M.mtree_load(mt, 350)).toBe(v(350));
    expect(M.mtree_load(mt, 364)).toBe(0);
    expect(M.mtree_load(mt, 365)).toBe(v(365));
    valid(mt);

    mt = M.mt_init_flags(0);
    seq(mt, 400);
    store(mt, 352, 364, 0);
    store(mt, 351, 364, v(352));
    expect(M.mtree_load(mt, 365)).toBe(v(365));
    valid(mt);

    mt = M.mt_init_flags(0);
    seq(mt, 400);
    store(mt, 362, 367, v(362));
    store(mt, 353, 361, v(353));
    valid(mt);
  });

  test('interesting overwrite cases on 500 ranges', () => {
    let mt = M.mt_init_flags(0);
    for (let i = 0; i <= 500; i++) store(mt, i * 5, (i + 1) * 5, v(i * 5));
    store(mt, 2400, 2400, v(2400));
    store(mt, 2411, 2411, v(2411));
    store(mt, 2412, 2412, v(2412));
    store(mt, 2396, 2400, v(4052020));
    store(mt, 2402, 2402, v(2402));
    valid(mt);
    mt = M.mt_init_flags(0);
    for (let i = 0; i <= 500; i++) store(mt, i * 5, (i + 1) * 5, v(i * 5));
    store(mt, 2422, 2422, v(2422));
    store(mt, 2424, 2424, v(2424));
    store(mt, 2425, 2425, v(2));
    store(mt, 2460, 2470, 0);
    store(mt, 2435, 2460, v(2435));
    store(mt, 2461, 2470, v(2461));
    valid(mt);
  });

  test('rebalance gaps (alloc tree)', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 50; i++) store(mt, i * 10, (i + 1) * 10, v(i * 10));
    store(mt, 161, 161, v(161));
    store(mt, 162, 162, v(162));
    store(mt, 163, 163, v(163));
    store(mt, 240, 249, 0);
    for (const i of [200, 210, 220, 230]) M.mtree_erase(mt, i);
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

  test('3-child split all the way up reaches height 4 (kernel: height < 4 before)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
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
  });

  test('triple split across multiple levels gives height exactly 4', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
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

// /proc/self/maps of the kernel test, as [start, end) page numbers.
const MAPS = [
  0x565234af2, 0x565234af4, 0x565234af4, 0x565234af9, 0x565234af9, 0x565234afb, 0x565234afc, 0x565234afd,
  0x565234afd, 0x565234afe, 0x565235def, 0x565235e10, 0x7f36d4bfd, 0x7f36d4ee2, 0x7f36d4ee2, 0x7f36d4f04,
  0x7f36d4f04, 0x7f36d504c, 0x7f36d504c, 0x7f36d5098, 0x7f36d5098, 0x7f36d5099, 0x7f36d5099, 0x7f36d509d,
  0x7f36d509d, 0x7f36d509f, 0x7f36d509f, 0x7f36d50a5, 0x7f36d50b9, 0x7f36d50db, 0x7f36d50db, 0x7f36d50dc,
  0x7f36d50dc, 0x7f36d50fa, 0x7f36d50fa, 0x7f36d5102, 0x7f36d5102, 0x7f36d5103, 0x7f36d5103, 0x7f36d5104,
  0x7f36d5104, 0x7f36d5105, 0x7fff5876b, 0x7fff5878d, 0x7fff5878e, 0x7fff58791, 0x7fff58791, 0x7fff58793,
];
const HOLES = [0x565234afb, 0x565234afc, 0x1, 0x565234afe, 0x565235def, 0x12f1, 0x565235e10, 0x7f36d4bfd, 0x28e49eded];
const MTREE_ALLOC_MAX = 0x2000000000000;

function maps_tree(): M.MapleTree {
  const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
  store(mt, MTREE_ALLOC_MAX, INF, M.XA_ZERO_ENTRY);
  for (let i = 0; i < MAPS.length; i += 2) {
    insert(mt, MAPS[i]!, MAPS[i + 1]! - 1, v(MAPS[i]!));
    valid(mt);
  }
  return mt;
}

describe('check_alloc_range / check_alloc_rev_range', () => {
  test('forward holes and requests', () => {
    const mt = maps_tree();
    let min = 0x565234af2;
    for (let i = 0; i < HOLES.length; i += 3) {
      const mas = M.MA_STATE(mt, 0, 0);
      expect(M.mas_empty_area(mas, min, HOLES[i + 1]!, HOLES[i + 2]!)).toBe(0);
      expect(mas.index).toBe(HOLES[i]);
      min = HOLES[i + 1]!;
    }
    const req: Array<[number, number, number, number, number]> = [
      [0x565234af9, 0x7fff58791, 0x1, 0x565234afb, 0],
      [0x0, 0x7fff58791, 0x1, 0x0, 0],
      [34148797436, 0x7fff587af, 0x3, 34148798629, 0],
      [34148798623, 34148798683, 0x15, 0, -M.EBUSY],
      [34148798623, 0x7fff587af, 0x10, 34148798632, 0],
      [0, 2 ** 52 - 1, 2 ** 52 - 1, 0, -M.EBUSY],
      [0, 2 ** 52 - 1, 4503599618982063, 0, -M.EBUSY],
    ];
    for (const [lo, hi, size, want, ret] of req) {
      const r = { value: want + 1 };
      expect(M.mtree_alloc_range(mt, r, v(lo), size, lo, hi)).toBe(ret);
      if (ret === 0) expect(r.value).toBe(want);
      valid(mt);
    }
  });

  test('reverse holes and requests', () => {
    const mt = maps_tree();
    let min = 0;
    for (let i = 0; i < HOLES.length; i += 3) {
      const mas = M.MA_STATE(mt, 0, 0);
      expect(M.mas_empty_area_rev(mas, min, HOLES[i + 1]!, HOLES[i + 2]!)).toBe(0);
      expect(mas.last + 1).toBe(HOLES[i + 1]);
      expect(mas.index).toBe(HOLES[i + 1]! - HOLES[i + 2]!);
      min = HOLES[i + 1]!;
    }
    const req: Array<[number, number, number, number, number]> = [
      [0x565234af9, 0x7fff58791, 0x1, 0x7fff5878d, 0],
      [0x0, 0x565234af1, 0x3, 0x565234aee, 0],
      [0x0, 2 ** 52 - 1, 0x1, 562949953421311, 0],
      [0x0, 0x7f36d510a, 0x4, 0x7f36d5106, 0],
      [0x0, 34148798629, 19, 34148797418, 0],
      [0x0, 2 ** 52 - 1, 562915594369134, 0, -M.EBUSY],
    ];
    for (const [lo, hi, size, want, ret] of req) {
      const r = { value: want + 1 };
      // The kernel test passes end - 1 as the window's max.
      expect(M.mtree_alloc_rrange(mt, r, v(lo), size, lo, hi - 1)).toBe(ret);
      if (ret === 0) expect(r.value).toBe(want);
      valid(mt);
    }
    M.mtree_erase(mt, 34148798727);
    const r = { value: 0 };
    expect(M.mtree_alloc_rrange(mt, r, 0x1000, 210253414, 0, 34359052172)).toBe(0);
    expect(r.value).toBe(34148798725);
    valid(mt);
  });

  test('alloc_range exhaustion, reserved entries, plain trees', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const got: number[] = [];
    for (;;) {
      const r = { value: -1 };
      const ret = M.mtree_alloc_range(mt, r, v(got.length), 3, 100, 129);
      if (ret) {
        expect(ret).toBe(-M.EBUSY);
        break;
      }
      got.push(r.value);
    }
    expect(got).toEqual([100, 103, 106, 109, 112, 115, 118, 121, 124, 127]);
    M.mtree_erase(mt, 110);
    const r = { value: 0 };
    expect(M.mtree_alloc_rrange(mt, r, v(1), 3, 100, 129)).toBe(0);
    expect(r.value).toBe(109);
    expect(M.mtree_alloc_range(mt, r, v(1), 1, 100, 129)).toBe(-M.EBUSY);
    // Reserved (internal, < 4096) entries are refused; XA_ZERO_ENTRY too.
    expect(M.mtree_alloc_range(mt, r, M.XA_ZERO_ENTRY, 1, 0, 99)).toBe(-M.EINVAL);
    expect(M.mtree_alloc_range(mt, r, 2050, 1, 0, 99)).toBe(-M.EINVAL);
    expect(M.mtree_alloc_range(mt, r, 4098, 1, 0, 99)).toBe(0);
    // Only MT_FLAGS_ALLOC_RANGE trees allocate.
    expect(M.mtree_alloc_range(M.mt_init_flags(0), r, v(1), 1, 0, 99)).toBe(-M.EINVAL);
    valid(mt);
  });
});

describe('check_empty_area_window', () => {
  const mk = () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 1; i <= 20; i++) store(mt, i * 10, i * 10 + 9, v(i));
    store(mt, 160, 169, 0);
    return mt;
  };
  const rev = (mt: M.MapleTree, a: number, b: number, s: number) => {
    const mas = M.MA_STATE(mt, 0, 0);
    return [M.mas_empty_area_rev(mas, a, b, s), mas.index, mas.last];
  };
  const fwd = (mt: M.MapleTree, a: number, b: number, s: number) => {
    const mas = M.MA_STATE(mt, 0, 0);
    return [M.mas_empty_area(mas, a, b, s), mas.index, mas.last];
  };
  test('reverse', () => {
    const mt = mk();
    expect(rev(mt, 5, 90, 10)[0]).toBe(-M.EBUSY);
    expect(rev(mt, 6, 90, 5)[0]).toBe(-M.EBUSY);
    expect(rev(mt, 5, 90, 5)).toEqual([0, 5, 9]);
    expect(rev(mt, 5, 217, 9)).toEqual([0, 161, 169]);
    expect(rev(mt, 100, 218, 3)).toEqual([0, 216, 218]);
    expect(rev(mt, 100, 218, 16)[0]).toBe(-M.EBUSY);
    expect(rev(mt, 167, 200, 4)[0]).toBe(-M.EBUSY);
    expect(rev(mt, 100, 162, 4)[0]).toBe(-M.EBUSY);
  });
  test('forward', () => {
    const mt = mk();
    expect(fwd(mt, 0, 100, 9)).toEqual([0, 0, 8]);
    expect(fwd(mt, 0, 100, 4)).toEqual([0, 0, 3]);
    expect(fwd(mt, 0, 100, 11)[0]).toBe(-M.EBUSY);
    expect(fwd(mt, 5, 100, 6)[0]).toBe(-M.EBUSY);
    expect(fwd(mt, 0, 8, 10)[0]).toBe(-M.EINVAL);
    expect(fwd(mt, 100, 165, 3)).toEqual([0, 160, 162]);
    expect(fwd(mt, 100, 163, 6)[0]).toBe(-M.EBUSY);
  });
  test('invalid requests', () => {
    const mt = mk();
    expect(fwd(mt, 50, 40, 1)[0]).toBe(-M.EINVAL);
    expect(rev(mt, 50, 40, 1)[0]).toBe(-M.EINVAL);
    expect(fwd(mt, 0, 100, 0)[0]).toBe(-M.EINVAL);
    expect(rev(mt, 0, 100, 0)[0]).toBe(-M.EINVAL);
    expect(rev(mt, 10, 12, 4)[0]).toBe(-M.EINVAL);
  });
  test('empty and root-entry trees (mas_sparse_area)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    expect(fwd(mt, 0, 100, 10)).toEqual([0, 0, 9]);
    expect(rev(mt, 0, 100, 10)).toEqual([0, 91, 100]);
    store(mt, 0, 0, v(0));
    expect(mt.root_is_node).toBe(false);
    expect(fwd(mt, 0, 100, 10)).toEqual([0, 1, 10]);
    expect(fwd(mt, 0, 9, 10)[0]).toBe(-M.EBUSY);
  });
  test('check_empty_area_fill', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const max = 0x25d78000;
    const mas = M.MA_STATE(mt, 0, 0);
    for (let shift = 12; shift <= 16; shift++) {
      const size = 2 ** shift;
      for (let loop = 0; loop < 1000; loop++) {
        M.mas_set(mas, 0);
        expect(M.mas_empty_area(mas, 0, max, size)).toBe(0);
        expect(mas.last).toBe(mas.index + size - 1);
        expect(M.mas_store_gfp(mas, size)).toBe(0);
      }
    }
    valid(mt);
    for (let i = 629440511; i <= 629440800; i += 6) store(mt, i, i + 5, i + 1);
    M.mtree_erase(mt, 631668735);
    M.mtree_erase(mt, 629506047);
    M.mas_reset(mas);
    expect(M.mas_empty_area(mas, 629506048, 690000000, 0x5000)).toBe(0);
    valid(mt);
  });
});

describe('next_prev_test and friends', () => {
  test('next/prev across nodes and levels, off the ends', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const nr = 200;
    for (let i = 0; i <= nr; i++) store(mt, i * 10, i * 10 + 5, v(i));
    const mas = M.MA_STATE(mt, 0, 0);
    let n = 0;
    for (let e = M.mas_find(mas, 1000); e; e = M.mas_find(mas, 1000)) n++;
    expect(n).toBe(101);
    M.mas_set(mas, 0);
    n = 0;
    for (let e = M.mas_find(mas, 1000); e; e = M.mas_find(mas, 1000)) {
      M.mas_pause(mas);
      n++;
    }
    expect(n).toBe(101);

    M.mas_set(mas, 686);
    expect(M.mas_walk(mas)).toBe(0);
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(69), 690, 695]);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([v(68), 680, 685]);
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(69), 690, 695]);
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(70), 700, 705]);

    M.mas_set(mas, 70);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([v(7), 70, 75]);
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(8), 80, 85]);
    expect([M.mas_prev(mas, 70), mas.index, mas.last]).toEqual([v(7), 70, 75]);

    M.mas_set(mas, 707);
    expect(M.mas_walk(mas)).toBe(0);
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(71), 710, 715]);
    const mn = mas.node;
    expect([M.mas_next(mas, 1000), mas.index, mas.last]).toEqual([v(72), 720, 725]);
    expect(mas.node).not.toBe(mn);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([v(71), 710, 715]);

    M.mas_set(mas, nr * 10);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([v(nr), nr * 10, nr * 10 + 5]);
    expect([M.mas_next(mas, INF), mas.index, mas.last]).toEqual([0, 0x7d6, INF]);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([v(nr), nr * 10, nr * 10 + 5]);

    M.mas_set(mas, 10);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([v(1), 10, 15]);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([v(0), 0, 5]);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([0, 0, 5]);
    expect(mas.status).toBe('underflow');

    mas.index = 0;
    mas.last = 5;
    M.mas_store(mas, 0);
    M.mas_set(mas, 10);
    M.mas_walk(mas);
    expect([M.mas_prev(mas, 0), mas.index, mas.last]).toEqual([0, 0, 9]);
    valid(mt);

    const t2 = M.mt_init_flags(0);
    store(t2, 0, 0, v(0));
    store(t2, 5, 5, v(5));
    const m2 = M.MA_STATE(t2, 5, 5);
    expect(M.mas_prev(m2, 4)).toBe(0);
  });

  test('check_next_entry / check_prev_entry', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 30);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_walk(mas)).toBe(v(0));
    for (let i = 1; i <= 31; i++) expect(M.mas_next(mas, 30)).toBe(i > 30 ? 0 : v(i));

    const m2 = M.MA_STATE(mt, 16, 16);
    expect(M.mas_find(m2, INF)).toBe(v(16));
    expect(M.mas_prev(m2, 0)).toBe(v(15));

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const m3 = M.MA_STATE(mt, 0, 0);
    for (let i = 0; i <= 16; i++) {
      M.mas_set_range(m3, i * 10, i * 10 + 5);
      expect(M.mas_store_gfp(m3, v(i))).toBe(0);
    }
    M.mas_set(m3, 20);
    expect(M.mas_walk(m3)).toBe(v(2));
    expect(M.mas_prev(m3, 19)).toBe(0);
    M.mas_set(m3, 80);
    expect(M.mas_walk(m3)).toBe(v(8));
    expect(M.mas_prev(m3, 76)).toBe(0);
  });

  test('check_rev_find', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 200; i++) store(mt, i * 10, i * 10 + 5, v(i));
    const mas = M.MA_STATE(mt, 1000, 1000);
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

  test('check_find (ULONG_MAX entry, XA_ZERO_ENTRY, mt_find wrap)', () => {
    const mt = M.mt_init_flags(0);
    expect(M.mtree_insert(mt, 0, v(0))).toBe(0);
    let val = 1;
    for (let i = 0; i <= 20; i++) {
      expect(M.mtree_insert(mt, val, val !== 64 ? v(val) : M.XA_ZERO_ENTRY)).toBe(0);
      val *= 4;
    }
    // mas_find sees the zero entry, mt_for_each skips it.
    const mas = M.MA_STATE(mt, 0, 0);
    val = 0;
    for (let e = M.mas_find(mas, 268435456); e; e = M.mas_find(mas, 268435456)) {
      expect(e).toBe(val === 64 ? M.XA_ZERO_ENTRY : v(val));
      val = val ? val * 4 : 1;
    }
    val = 0;
    M.mt_for_each(mt, 0, 300, (e) => {
      expect(e).toBe(v(val));
      val = val ? val * 4 : 1;
      if (val === 64) val *= 4;
    });
    // The kernel test inserts at index ULONG_MAX. A range may not start
    // there in the model (the pivot ULONG_MAX-1 before it is not
    // representable): -ERANGE. An entry ending at ULONG_MAX is fine, and
    // mt_find's index wraps to 0 after it, ending mt_for_each.
    expect(M.mtree_insert(mt, INF, v(123456))).toBe(-M.ERANGE);
    expect(M.mtree_insert_range(mt, 2 ** 53 - 1, INF, v(123456))).toBe(0);
    let count = 0;
    const end = M.mt_for_each(mt, 0, INF, () => {
      count++;
    });
    expect(count).toBe(22); // 0, twenty powers of 4 minus the zero entry, the top one
    expect(end).toBe(0);
    expect(M.mtree_erase(mt, INF)).toBe(v(123456));
    const ir = { value: 17 };
    expect(M.mt_find(mt, ir, 512)).toBe(v(256));
    expect(ir.value).toBe(257);
    ir.value = 17;
    expect(M.mt_find(mt, ir, 20)).toBe(0);
    // Find the last value with prev from ULONG_MAX.
    expect(M.mtree_insert_range(mt, 2 ** 53 - 1, INF, v(123456))).toBe(0);
    const m2 = M.MA_STATE(mt, INF, INF);
    expect(M.mas_find(m2, INF)).toBe(v(123456));
    const e = M.mas_prev(m2, 0);
    const [idx, last] = [m2.index, m2.last];
    M.mas_set(m2, INF);
    M.mas_erase(m2);
    M.mas_reset(m2);
    m2.index = m2.last = INF;
    expect(M.mas_prev(m2, 0)).toBe(e);
    expect([m2.index, m2.last]).toEqual([idx, last]);
    M.mas_set(m2, 0);
    expect(M.mas_prev(m2, 0)).toBe(0);
    valid(mt);
  });

  test('check_find_2: insert then erase 256 with iteration', () => {
    const mt = M.mt_init_flags(0);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_find(mas, INF)).toBe(0);
    for (let i = 0; i < 256; i++) {
      M.mtree_insert(mt, i, v(i));
      let j = 0;
      M.mas_set(mas, 0);
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) expect(e).toBe(v(j++));
      expect(j).toBe(i + 1);
    }
    for (let i = 0; i < 256; i++) {
      expect(M.mtree_erase(mt, i)).toBe(v(i));
      let j = i + 1;
      M.mas_set(mas, 0);
      for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) expect(e).toBe(v(j++));
      expect(j).toBe(256);
      valid(mt);
    }
  });

  test('check_iteration: stores inside mas_for_each', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 125; i++) store(mt, i * 10, i * 10 + 9, v(i));
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

describe('root handling (check_root_expand)', () => {
  test('the root-only index-0 entry', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const mas = M.MA_STATE(mt, 3, 3);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 0, INF]);
    // A single entry at 0 lives in the root pointer, no node.
    expect(M.mtree_store(mt, 0, 0x1000)).toBe(0);
    expect(mt.root_is_node).toBe(false);
    expect(mt.height).toBe(0);
    expect(M.mtree_load(mt, 0)).toBe(0x1000);
    expect(M.mtree_load(mt, 1)).toBe(0);
    M.mas_set(mas, 5);
    expect([M.mas_walk(mas), mas.index, mas.last]).toEqual([0, 1, INF]);
    M.mas_set_range(mas, 0, 100);
    expect([M.mas_walk(mas), mas.last]).toEqual([0x1000, 0]);
    expect(M.mtree_insert(mt, 0, 0x2000)).toBe(-M.EEXIST);
    // Any other index expands the root into a leaf keeping the entry at 0.
    expect(M.mtree_store(mt, 1, 0x3000)).toBe(0);
    expect(mt.root_is_node).toBe(true);
    expect(M.mtree_load(mt, 0)).toBe(0x1000);
    expect(M.mtree_load(mt, 1)).toBe(0x3000);
    valid(mt);
  });

  test('root entries with low bits set, next/prev around them', () => {
    let mt = M.mt_init_flags(0);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_store_gfp(mas, 0x1001)).toBe(0);
    expect(mt.root_is_node).toBe(false);
    expect(M.mas_next(mas, INF)).toBe(0);
    M.mas_set(mas, 1);
    expect(M.mas_prev(mas, 0)).toBe(0x1001);
    expect([mas.index, mas.last]).toEqual([0, 0]);
    // An internal entry cannot sit in the root pointer: it gets a node.
    mt = M.mt_init_flags(0);
    const m2 = M.MA_STATE(mt, 0, 0);
    expect(M.mas_store_gfp(m2, 0x1002)).toBe(0);
    expect(mt.root_is_node).toBe(true);
    M.mas_set(m2, 1);
    expect(M.mas_prev(m2, 0)).toBe(0x1002);
    valid(mt);
  });

  test('erasing everything', () => {
    const mt = M.mt_init_flags(0);
    store(mt, 5, 10, v(1));
    expect(M.mtree_erase(mt, 7)).toBe(v(1));
    expect(M.mtree_empty(mt)).toBe(true);
    expect(mt.height).toBe(0);
    store(mt, 0, INF, v(2));
    expect(mt.height).toBe(1);
    expect(M.mtree_erase(mt, 12345)).toBe(v(2));
    // An exact-fit NULL store leaves the (now empty) root leaf, as the
    // kernel's store-type order (exact fit before new root) does.
    expect(mt.root_is_node).toBe(true);
    expect(M.mtree_load(mt, 0)).toBe(0);
    valid(mt);
  });
});

describe('check_gap_combining', () => {
  test('seq100 on an alloc tree', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 100);
    M.mtree_erase(mt, 76);
    expect(M.mtree_load(mt, 76)).toBe(0);
    M.mtree_erase(mt, 75);
    expect(M.mtree_load(mt, 75)).toBe(0);
    const mas = M.MA_STATE(mt, 74, 74);
    expect(M.mas_find(mas, INF)).toBe(v(74));
    const mn1 = mas.node;
    M.mas_next(mas, INF);
    expect(M.mas_next(mas, INF)).toBe(v(78));
    expect(mas.node).not.toBe(mn1);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, 50, 100, 2)).toBe(0);
    expect(mas.index).toBe(75);

    M.mtree_erase(mt, 44);
    M.mtree_erase(mt, 45);
    M.mtree_erase(mt, 46);
    M.mas_set(mas, 43);
    expect(M.mas_find(mas, INF)).toBe(v(43));
    expect(M.mas_next(mas, INF)).toBe(v(47));
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, 20, 50, 3)).toBe(0);
    expect(mas.index).toBe(44);

    M.mtree_store(mt, 80, 0);
    expect(M.mtree_load(mt, 81)).toBe(v(81));
    M.mtree_store(mt, 81, 0);
    expect(M.mtree_load(mt, 80)).toBe(0);
    expect(M.mtree_load(mt, 81)).toBe(0);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, 76, 82, 2)).toBe(0);
    expect(mas.index).toBe(80);
    valid(mt);

    M.mtree_store_range(mt, 79, 81, 0);
    M.mtree_erase(mt, 82);
    M.mas_reset(mas);
    expect(M.mas_empty_area_rev(mas, 76, 85, 4)).toBe(0);
    expect(mas.index).toBe(79);
    valid(mt);
  });

  test('seq2000 multi-level gaps, seq400 rebalancing over two levels', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 2000);
    M.mtree_erase(mt, 1152);
    M.mtree_erase(mt, 1151);
    const mas = M.MA_STATE(mt, 0, 0);
    expect(M.mas_empty_area_rev(mas, 1100, 1200, 2)).toBe(0);
    expect(mas.index).toBe(1151);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 400);
    store(mt, 286, 318, 0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    seq(mt, 400);
    for (const a of [256, 260, 266, 270, 286, 275, 280, 290]) store(mt, a, 398, v(a));
    store(mt, 286, 310, v(286));
    valid(mt);
  });
});

describe('larger shapes and fuzzer finds', () => {
  test('check_node_overwrite, check_spanning_relatives, check_bnode_min_spanning', () => {
    let mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i < 4000; i++) M.mtree_store_range(mt, i * 100, i * 100 + 50, v(i * 100));
    store(mt, 319951, 367950, 0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 1000; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    store(mt, 9365, 9955, 0);
    valid(mt);

    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const mas = M.MA_STATE(mt, 0, 0);
    for (let i = 50; i >= 0; i--) {
      M.mas_set_range(mas, i * 10, i * 10 + 9);
      M.mas_store(mas, 0x1000);
    }
    M.mas_set_range(mas, 240, 509);
    M.mas_store(mas, 0);
    valid(mt);
  });

  test('lower, upper and mid bound splits', () => {
    const huge = 4000 * 1000 * 1000;
    let mt = M.mt_init_flags(0);
    for (let i = huge; i > 4096; i = Math.floor(i / 2)) {
      expect(M.mtree_insert(mt, i, i)).toBe(0);
      for (let j = huge; j >= i; j = Math.floor(j / 2)) {
        expect(M.mtree_load(mt, j - 1)).toBe(0);
        expect(M.mtree_load(mt, j)).toBe(j);
        expect(M.mtree_load(mt, j + 1)).toBe(0);
      }
    }
    valid(mt);
    mt = M.mt_init_flags(0);
    for (let i = 4096; i < huge; i *= 2) expect(M.mtree_insert(mt, i, i)).toBe(0);
    valid(mt);
    mt = M.mt_init_flags(0);
    expect(M.mtree_insert(mt, 8000 * 1000 * 1000, 0x1000)).toBe(0);
    expect(M.mtree_insert(mt, 0, v(0))).toBe(0);
    for (let i = huge; i > 4096; i = Math.floor(i / 2)) expect(M.mtree_insert(mt, i, i)).toBe(0);
    valid(mt);
  });

  test('check_seq / check_rev_seq', () => {
    let mt = M.mt_init_flags(0);
    seq(mt, 1000);
    valid(mt);
    mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 1000; i > 0; i--) {
      expect(M.mtree_insert(mt, i, v(i))).toBe(0);
      expect(M.mtree_load(mt, i - 1)).toBe(0);
    }
    for (let j = 1; j <= 1000; j++) expect(M.mtree_load(mt, j)).toBe(v(j));
    expect(M.mtree_load(mt, 1001)).toBe(0);
    valid(mt);
  });

  test('check_fuzzer sequences stay valid', () => {
    type Step = ['i' | 's' | 'e' | 'l' | 'r' | 'I', number, number?, number?];
    const run = (steps: Step[]) => {
      const mt = M.mt_init_flags(0);
      for (const [k, a, b, c] of steps) {
        if (k === 'i') M.mtree_insert(mt, a, b!);
        else if (k === 's') M.mtree_store(mt, a, b!);
        else if (k === 'e') M.mtree_erase(mt, a);
        else if (k === 'l') M.mtree_load(mt, a);
        else if (k === 'r') M.mtree_store_range(mt, a, b!, c!);
        else M.mtree_insert_range(mt, a, b!, c!);
        valid(mt);
      }
    };
    run([['i', 88, 0xb1], ['i', 84, 0xa9], ['i', 2, 0x5], ['i', 4, 0x9], ['i', 14, 0x1d], ['i', 7, 0xf], ['i', 12, 0x19], ['i', 18, 0x25], ['r', 8, 18, 0x11]]);
    run([['s', 87, 0xaf], ['s', 0, 0x1], ['l', 4], ['i', 4, 0x9], ['s', 8, 0x11], ['s', 44, 0x59], ['s', 68, 0x89], ['s', 2, 0x5], ['i', 43, 0x57], ['i', 24, 0x31], ['i', 844, 0x699], ['s', 84, 0xa9], ['s', 4, 0x9], ['e', 4], ['l', 5], ['e', 0]]);
    run([['r', 0, INF, 0x1], ['s', 4, 0x9], ['e', 5], ['e', 0], ['e', 4], ['s', 5, 0xb], ['e', 5], ['s', 5, 0xb], ['e', 5], ['e', 4], ['s', 4, 0x9], ['s', 444, 0x379], ['s', 0, 0x1], ['l', 0], ['s', 5, 0xb], ['e', 0]]);
    run([['i', 261, 0x20b], ['s', 516, 0x409], ['s', 6, 0xd], ['i', 5, 0xb], ['i', 1256, 0x9d1], ['s', 4, 0x9], ['e', 1], ['s', 56, 0x71], ['i', 1, 0x3], ['s', 24, 0x31], ['e', 1], ['i', 2263, 0x11af], ['i', 446, 0x37d], ['r', 6, 45, 0xd], ['r', 3, 446, 0x7]]);
    run([['s', 48, 0x61], ['s', 3, 0x7], ['l', 0], ['s', 88, 0xb1], ['s', 81, 0xa3], ['i', 0, 0x1], ['i', 8, 0x11], ['i', 4, 0x9], ['i', 2480, 0x1361], ['i', INF, 0x1fff], ['e', INF]]);
    run([['s', 6, 0xd], ['s', 67, 0x87], ['i', 15, 0x1f], ['i', 6716, 0x3479], ['s', 61, 0x7b], ['i', 13, 0x1b], ['s', 8, 0x11], ['i', 1, 0x3], ['l', 0], ['e', 67167], ['I', 6, 7167, 0xd], ['i', 6, 0xd], ['e', 67], ['i', 1, 0x3], ['e', 667167], ['i', 6, 0xd], ['s', 67, 0x87], ['i', 5, 0xb], ['e', 1], ['i', 6, 0xd], ['e', 67], ['i', 15, 0x1f], ['i', 67167, 0x20cbf], ['i', 1, 0x3], ['l', 7], ['i', 16, 0x21], ['i', 36, 0x49], ['s', 67, 0x87], ['s', 6, 0xd], ['i', 367, 0x2df], ['i', 115, 0xe7], ['s', 0, 0x1], ['r', 1, 3, 0x3], ['s', 1, 0x3], ['e', 67167], ['I', 6, 47, 0xd], ['s', 1, 0x3], ['I', 1, 67, 0x3], ['l', 67], ['i', 1, 0x3], ['e', 67167]]);
    run([['i', 21, 0x2b], ['i', 12, 0x19], ['i', 6, 0xd], ['i', 8, 0x11], ['i', 2, 0x5], ['i', 91, 0xb7], ['i', 18, 0x25], ['i', 81, 0xa3], ['r', 0, 128, 0x1], ['s', 1, 0x3], ['e', 8], ['i', 11, 0x17], ['i', 8, 0x11], ['i', 21, 0x2b], ['i', 2, 0x5], ['i', 2 ** 53 - 11, 0xeb], ['e', 2 ** 53 - 11], ['r', 0, 281, 0x1], ['e', 2], ['i', 1211, 0x977], ['i', 111, 0xdf], ['i', 13, 0x1b], ['i', 211, 0x1a7], ['i', 11, 0x17], ['i', 5, 0xb], ['i', 1218, 0x985], ['i', 61, 0x7b], ['s', 1, 0x3], ['i', 121, 0xf3], ['i', 8, 0x11], ['i', 21, 0x2b], ['i', 2, 0x5], ['i', 2 ** 53 - 11, 0xeb], ['e', 2 ** 53 - 11]]);
  });

  test('copying a tree entry by entry (check_forking / check_mas_store_gfp)', () => {
    const mt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0; i <= 134; i++) M.mtree_store_range(mt, i * 10, i * 10 + 5, v(i));
    const newmt = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const nm = M.MA_STATE(newmt, 0, 0);
    const mas = M.MA_STATE(mt, 0, 0);
    for (let e = M.mas_find(mas, INF); e; e = M.mas_find(mas, INF)) {
      nm.index = mas.index;
      nm.last = mas.last;
      expect(M.mas_store_gfp(nm, e)).toBe(0);
    }
    valid(newmt);
    const dup = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    expect(M.mtree_dup(mt, dup)).toBe(0);
    expect(M.mt_dump(dup)).toBe(M.mt_dump(mt));
    expect(M.mtree_dup(mt, dup)).toBe(-M.EINVAL); // not empty
    expect(M.mtree_dup(mt, M.mt_init_flags(0))).toBe(-M.EINVAL); // attributes differ
    valid(dup);
  });
});
