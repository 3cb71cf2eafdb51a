// Free-area searches of lib/maple_tree.c: mas_empty_area (mas_awalk,
// mas_anode_descend, mas_skip_node), mas_empty_area_rev (mas_rev_awalk,
// mas_rewind_node) and mas_sparse_area for trees without nodes.
// Both are depth-first searches that skip subtrees whose recorded largest
// gap (maple_arange_64 gap[]) is too small, then clip the NULL ranges of a
// leaf to the window; the answer is the lowest (highest) fitting area, as
// the kernel's. For trees without MT_FLAGS_ALLOC_RANGE there are no gaps to
// prune with and the model simply scans (the kernel's walk only works on
// such trees while they are a single leaf). All arithmetic is exact over
// 0..ULONG_MAX and never overflows: sizes are compared as `e - s >= size - 1`.
// Left out: restarting a search from where a previous one stopped (every
// call starts at the root).

import { EBUSY, EINVAL } from './constants.js';
import { type MapleTree, rd, slot_base } from './tree.js';
import { type ulong, ul, ul_add, ul_dec, ul_inc, ul_sub } from './ulong.js';
import type { MaState } from './state.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const GAP_A = 20;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const MAX_SAFE = 9007199254740991;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

/** Result of the last successful search. */
export const AREA = { index: 0 as ulong, last: 0 as ulong };

let W_MIN: ulong = 0;
let W_MAX: ulong = 0;
let SIZE: ulong = 0;
/** SIZE - 1. */
let SIZE1: ulong = 0;

/** Does a SIZE area fit in the free [s, e]? Then AREA is set. */
function try_fit(s: ulong, e: ulong, rev: boolean): boolean {
  if (typeof s === 'number' && typeof e === 'number' && e !== ULONG_MAX) {
    if (e - s < SIZE1) return false; // numbers: exact, no call (walk.ts)
  } else if (ul_sub(e, s) < SIZE1) return false;
  if (rev) {
    AREA.last = e;
    AREA.index = ul_sub(e, SIZE1);
  } else {
    AREA.index = s;
    AREA.last = ul_add(s, SIZE1);
  }
  return true;
}

const FOUND = 1;
const STOP = 2;

/** Forward DFS: FOUND, 0 keep looking, STOP past the window. */
function fwd(mt: MapleTree, n: number, nmin: ulong, nmax: ulong): number {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS;
  const t = a[base]! & 3;
  const end = (a[base]! >> 2) & 15;
  const sb = base + slot_base(t);
  let lo = nmin;
  // rd() and ul_inc() inline (walk.ts).
  for (let i = 0; i <= end; i++) {
    let hi: ulong = nmax;
    if (i < end) {
      const v = a[base + PIV + i]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![base + PIV + i]! : v;
    }
    if (hi >= W_MIN) {
      if (lo > W_MAX) return STOP;
      if (t === maple_leaf_64) {
        if (a[sb + i] === 0 && try_fit(lo > W_MIN ? lo : W_MIN, hi < W_MAX ? hi : W_MAX, false)) return FOUND;
      } else if (t !== maple_arange_64 || a[base + GAP_A + i]! >= SIZE || (typeof SIZE !== 'number' && rd(a, w, base + GAP_A + i) >= SIZE)) {
        const r = fwd(mt, a[sb + i]!, lo, hi);
        if (r !== 0) return r;
      }
      if (hi >= W_MAX) return STOP;
    }
    lo = typeof hi === 'number' && hi < MAX_SAFE ? hi + 1 : ul_inc(hi);
  }
  return 0;
}

/** Reverse DFS: FOUND, 0 keep looking, STOP below the window. */
function rev(mt: MapleTree, n: number, nmin: ulong, nmax: ulong): number {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS;
  const t = a[base]! & 3;
  const end = (a[base]! >> 2) & 15;
  const sb = base + slot_base(t);
  // rd() and ul_inc() inline (walk.ts).
  for (let i = end; i >= 0; i--) {
    let lo: ulong = nmin;
    if (i > 0) {
      const v = a[base + PIV + i - 1]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![base + PIV + i - 1]! : v;
      lo = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    if (lo > W_MAX) continue;
    let hi: ulong = nmax;
    if (i < end) {
      const v = a[base + PIV + i]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![base + PIV + i]! : v;
    }
    if (hi < W_MIN) return STOP;
    if (t === maple_leaf_64) {
      if (a[sb + i] === 0 && try_fit(lo > W_MIN ? lo : W_MIN, hi < W_MAX ? hi : W_MAX, true)) return FOUND;
    } else if (t !== maple_arange_64 || a[base + GAP_A + i]! >= SIZE || (typeof SIZE !== 'number' && rd(a, w, base + GAP_A + i) >= SIZE)) {
      const r = rev(mt, a[sb + i]!, lo, hi);
      if (r !== 0) return r;
    }
    if (lo <= W_MIN) return STOP;
  }
  return 0;
}

/**
 * The lowest (or, with `reverse`, highest) free [index, index+size-1] inside
 * [min, max]. 0 and AREA set, or -EINVAL / -EBUSY.
 */
export function empty_area(mt: MapleTree, min: ulong, max: ulong, size: ulong, reverse: boolean): number {
  const lo = ul(min);
  const hi = ul(max);
  const sz = ul(size);
  if (lo === null || hi === null || sz === null) return -EINVAL;
  // mas_empty_area(): min > max, size 0, or a window smaller than size.
  if (lo > hi) return -EINVAL;
  if (sz === 0 || ul_sub(hi, lo) < ul_dec(sz)) return -EINVAL;
  W_MIN = lo;
  W_MAX = hi;
  SIZE = sz;
  SIZE1 = ul_dec(sz);
  if (!mt.root_is_node) {
    // mas_sparse_area(): all free, except index 0 when the root holds it.
    let s = lo;
    if (mt.ma_root !== 0 && s === 0) {
      s = 1;
      if (s > hi || ul_sub(hi, s) < SIZE1) return -EBUSY;
    }
    if (reverse) {
      AREA.last = hi;
      AREA.index = ul_sub(hi, SIZE1);
    } else {
      AREA.index = s;
      AREA.last = ul_add(s, SIZE1);
    }
    return 0;
  }
  const r = reverse ? rev(mt, mt.ma_root as number, 0, ULONG_MAX) : fwd(mt, mt.ma_root as number, 0, ULONG_MAX);
  return r === FOUND ? 0 : -EBUSY;
}

/** mas_empty_area(): lowest gap; mas.index/last become the area. */
export function mas_empty_area(mas: MaState, min: ulong, max: ulong, size: ulong): number {
  const r = empty_area(mas.tree, min, max, size, false);
  return finish(mas, r);
}

/** mas_empty_area_rev(): highest gap; mas.index/last become the area. */
export function mas_empty_area_rev(mas: MaState, min: ulong, max: ulong, size: ulong): number {
  const r = empty_area(mas.tree, min, max, size, true);
  return finish(mas, r);
}

function finish(mas: MaState, r: number): number {
  if (r === 0) {
    mas.index = AREA.index;
    mas.last = AREA.last;
    mas.status = mas.tree.root_is_node ? 'active' : mas.tree.ma_root ? 'root' : 'none';
  } else if (r !== -EINVAL) {
    mas.status = 'error';
    mas.error = r;
  }
  return r;
}
