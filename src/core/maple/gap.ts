// Free-area searches of lib/maple_tree.c: mas_empty_area (mas_awalk,
// mas_anode_descend, mas_skip_node), mas_empty_area_rev (mas_rev_awalk,
// mas_rewind_node) and mas_sparse_area for trees without nodes.
// Both are depth-first searches that skip subtrees whose recorded largest
// gap (maple_arange_64 gap[]) is too small, then clip the NULL ranges of a
// leaf to the window; the answer is the lowest (highest) fitting area, as
// the kernel's. For trees without MT_FLAGS_ALLOC_RANGE there are no gaps to
// prune with and the model simply scans (the kernel's walk only works on
// such trees while they are a single leaf).
// Left out: restarting a search from where a previous one stopped (every
// call starts at the root). Areas that would start or end strictly between
// 2^53 and ULONG_MAX cannot be represented: -ERANGE (notably a reverse
// search whose window ends at ULONG_MAX above a free top of the tree).

import {
  EBUSY,
  EINVAL,
  ERANGE,
  index_errno,
} from './constants.js';
import {
  type MapleTree,
  slot_base,
} from './tree.js';
import type { MaState } from './state.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const GAP_A = 20;
const MAPLE_MAX_EXACT = Number.MAX_SAFE_INTEGER;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

/** Result of the last successful search. */
export const AREA = { index: 0, last: 0 };

let W_MIN = 0;
let W_MAX = 0;
let SIZE = 0;

/** Fit a SIZE area into the free [s, e]: 1 found, 0 no, -ERANGE unrepresentable. */
function try_fit(s: number, e: number, rev: boolean): number {
  if (SIZE === ULONG_MAX) {
    if (e !== ULONG_MAX || s > 1) return 0;
    if (rev || s === 1) {
      AREA.index = 1;
      AREA.last = ULONG_MAX;
      return 1;
    }
    return -ERANGE; // [0, ULONG_MAX-1]
  }
  if (e !== ULONG_MAX && e - s + 1 < SIZE) return 0;
  if (rev) {
    if (e === ULONG_MAX) return -ERANGE; // would start at ULONG_MAX-SIZE+1
    AREA.last = e;
    AREA.index = e - (SIZE - 1);
    return 1;
  }
  // s may be 2^53 (just past the last exact pivot): s + SIZE - 1 would
  // round 2^53 + 1 down and come out 2^53 - 1. This order cannot.
  const last = s + (SIZE - 1);
  if (last > MAPLE_MAX_EXACT) return -ERANGE;
  AREA.index = s;
  AREA.last = last;
  return 1;
}

const STOP = 2;

/** Forward DFS: 1 found, 0 keep looking, STOP past the window, -ERANGE. */
function fwd(a: Float64Array, n: number, nmin: number, nmax: number): number {
  const base = n * NODE_WORDS;
  const t = a[base]! & 3;
  const end = (a[base]! >> 2) & 15;
  const sb = base + slot_base(t);
  let lo = nmin;
  for (let i = 0; i <= end; i++) {
    const hi = i < end ? a[base + PIV + i]! : nmax;
    if (hi >= W_MIN) {
      if (lo > W_MAX) return STOP;
      if (t === maple_leaf_64) {
        if (a[sb + i] === 0) {
          const r = try_fit(lo > W_MIN ? lo : W_MIN, hi < W_MAX ? hi : W_MAX, false);
          if (r !== 0) return r;
        }
      } else if (t !== maple_arange_64 || a[base + GAP_A + i]! >= SIZE) {
        const r = fwd(a, a[sb + i]!, lo, hi);
        if (r !== 0) return r;
      }
      if (hi >= W_MAX) return STOP;
    }
    lo = hi + 1;
  }
  return 0;
}

/** Reverse DFS: 1 found, 0 keep looking, STOP below the window, -ERANGE. */
function rev(a: Float64Array, n: number, nmin: number, nmax: number): number {
  const base = n * NODE_WORDS;
  const t = a[base]! & 3;
  const end = (a[base]! >> 2) & 15;
  const sb = base + slot_base(t);
  for (let i = end; i >= 0; i--) {
    const lo = i > 0 ? a[base + PIV + i - 1]! + 1 : nmin;
    if (lo > W_MAX) continue;
    const hi = i < end ? a[base + PIV + i]! : nmax;
    if (hi < W_MIN) return STOP;
    if (t === maple_leaf_64) {
      if (a[sb + i] === 0) {
        const r = try_fit(lo > W_MIN ? lo : W_MIN, hi < W_MAX ? hi : W_MAX, true);
        if (r !== 0) return r;
      }
    } else if (t !== maple_arange_64 || a[base + GAP_A + i]! >= SIZE) {
      const r = rev(a, a[sb + i]!, lo, hi);
      if (r !== 0) return r;
    }
    if (lo <= W_MIN) return STOP;
  }
  return 0;
}

/**
 * The lowest (or, with `reverse`, highest) free [index, index+size-1] inside
 * [min, max]. 0 and AREA set, or -EINVAL / -EBUSY / -ERANGE.
 */
export function empty_area(mt: MapleTree, min: number, max: number, size: number, reverse: boolean): number {
  if (index_errno(min) || index_errno(max)) return index_errno(min) || index_errno(max);
  if (min > max) return -EINVAL;
  if (!(size > 0) || (size !== ULONG_MAX && !Number.isInteger(size))) return -EINVAL;
  if (size === ULONG_MAX) {
    if (!(max === ULONG_MAX && min <= 1)) return -EINVAL;
  } else if (size > MAPLE_MAX_EXACT) {
    return -ERANGE;
  } else if (max !== ULONG_MAX && max - min < size - 1) {
    return -EINVAL;
  }
  W_MIN = min;
  W_MAX = max;
  SIZE = size;
  if (!mt.root_is_node) {
    // mas_sparse_area(): all free, except index 0 when the root holds it.
    let lo = min;
    if (mt.ma_root !== 0 && lo === 0) {
      lo = 1;
      if (lo > max) return -EBUSY;
    }
    const r = try_fit(lo, max, reverse);
    return r === 1 ? 0 : r === 0 ? -EBUSY : r;
  }
  const r = reverse ? rev(mt.arena, mt.ma_root, 0, ULONG_MAX) : fwd(mt.arena, mt.ma_root, 0, ULONG_MAX);
  if (r === 1) return 0;
  if (r < 0) return r;
  return -EBUSY;
}

/** mas_empty_area(): lowest gap; mas.index/last become the area. */
export function mas_empty_area(mas: MaState, min: number, max: number, size: number): number {
  const r = empty_area(mas.tree, min, max, size, false);
  return finish(mas, r);
}

/** mas_empty_area_rev(): highest gap; mas.index/last become the area. */
export function mas_empty_area_rev(mas: MaState, min: number, max: number, size: number): number {
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
