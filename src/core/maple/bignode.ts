// struct maple_big_node and the helpers that fill it and turn it back into
// nodes (mas_mab_cp, mab_mas_cp, mab_calc_split, mab_no_null_split,
// mab_middle_node), plus gap bookkeeping (mas_leaf_max_gap, ma_max_gap,
// mas_parent_gap / mas_update_gap) from lib/maple_tree.c.
// Left out: maple_dense nodes, MA_STATE_BULK splitting (bulk loads via
// mas_expected_entries are not modelled) and the in-place reuse tricks that
// do not change the resulting contents.
//
// The big node keeps a count `n` (the kernel keeps b_end, an end offset or a
// count depending on the phase); pivots are inclusive ends, the first entry
// starts at the range minimum of whatever the big node describes.
//
// Gaps are exact ulongs with one deliberate saturation: a NULL range that
// runs to ULONG_MAX counts as ULONG_MAX (the kernel's gap there is
// ULONG_MAX - pivot). The rightmost path of every tree then keeps number
// gaps instead of bigints; a gap search gives the same answer because the
// leaf check that decides it is exact; mt_dump prints the kernel's value.

import {
  MT_MIN_SLOTS,
  MT_SLOTS,
} from './constants.js';
import {
  type MapleTree,
  aset,
  mt_is_alloc,
  nend,
  ngapoff,
  node_alloc,
  npivots,
  ntype,
  rd,
  set_meta,
  slot_base,
} from './tree.js';
import { type ulong, ul_inc, ul_sub } from './ulong.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const GAP_A = 20;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const MAX_SAFE = 9007199254740991;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

const BN_MAX = 80;

export const bn = {
  n: 0,
  type: 0,
  piv: new Array<ulong>(BN_MAX).fill(0),
  slot: new Array<ulong>(BN_MAX).fill(0),
  gap: new Array<ulong>(BN_MAX).fill(0),
};

export function bn_reset(type: number): void {
  bn.n = 0;
  bn.type = type;
}

export function bn_push(piv: ulong, slot: ulong, gap: ulong): void {
  const i = bn.n++;
  bn.piv[i] = piv;
  bn.slot[i] = slot;
  bn.gap[i] = gap;
}

/** Append slots [from..to] of node n (range max `max`) to the big node. */
export function bn_copy(mt: MapleTree, n: number, max: ulong, from: number, to: number): void {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS;
  const t = a[base]! & 3;
  const end = (a[base]! >> 2) & 15;
  const sb = base + slot_base(t);
  const arange = t === maple_arange_64;
  // rd() inline (walk.ts).
  for (let i = from; i <= to; i++) {
    const j = bn.n++;
    if (i < end) {
      const v = a[base + PIV + i]!;
      bn.piv[j] = v > MAX_SAFE && v !== Infinity ? w![base + PIV + i]! : v;
    } else {
      bn.piv[j] = max;
    }
    const v = a[sb + i]!;
    bn.slot[j] = v > MAX_SAFE && v !== Infinity ? w![sb + i]! : v;
    if (arange) {
      const g = a[base + GAP_A + i]!;
      bn.gap[j] = g > MAX_SAFE && g !== Infinity ? w![base + GAP_A + i]! : g;
    } else {
      bn.gap[j] = 0;
    }
  }
}

/** Put the whole of node n (range max `max`) in front of the big node. */
export function bn_prepend_node(mt: MapleTree, n: number, max: ulong): void {
  const cnt = nend(mt.arena, n) + 1;
  // Array.prototype.copyWithin is a slow generic loop on plain arrays.
  const piv = bn.piv;
  const slot = bn.slot;
  const gap = bn.gap;
  for (let i = bn.n - 1; i >= 0; i--) {
    piv[i + cnt] = piv[i]!;
    slot[i + cnt] = slot[i]!;
    gap[i + cnt] = gap[i]!;
  }
  const keep = bn.n;
  bn.n = 0;
  bn_copy(mt, n, max, 0, cnt - 1);
  bn.n = keep + cnt;
}

/** The size of [lo, hi], saturated: a range reaching ULONG_MAX counts as ULONG_MAX (see the header). */
export function gap_size(lo: ulong, hi: ulong): ulong {
  if (hi === ULONG_MAX) return ULONG_MAX;
  if (typeof hi === 'number' && typeof lo === 'number') return hi - lo + 1;
  return ul_inc(ul_sub(hi, lo));
}

/** mas_leaf_max_gap(): largest NULL range of leaf n covering [min, max]. */
export function leaf_max_gap(mt: MapleTree, n: number, min: ulong, max: ulong): ulong {
  const a = mt.arena;
  const w = mt.wide;
  const base = n * NODE_WORDS;
  const end = (a[base]! >> 2) & 15;
  // The last leaf's trailing NULL up to ULONG_MAX is the largest gap there is.
  if (max === ULONG_MAX && a[base + 16 + end] === 0) return ULONG_MAX;
  let g: ulong = 0;
  let lo: ulong = min;
  // rd(), gap_size() and ul_inc() inline (walk.ts).
  for (let i = 0; i <= end; i++) {
    let hi: ulong = max;
    if (i < end) {
      const v = a[base + PIV + i]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![base + PIV + i]! : v;
    }
    if (a[base + 16 + i] === 0) {
      const size = typeof hi === 'number' && typeof lo === 'number' ? (hi === ULONG_MAX ? ULONG_MAX : hi - lo + 1) : gap_size(lo, hi);
      if (size > g) g = size;
    }
    lo = typeof hi === 'number' && hi < MAX_SAFE ? hi + 1 : ul_inc(hi);
  }
  return g;
}

/** mas_max_gap(): the largest gap below node n. */
export function node_max_gap(mt: MapleTree, n: number, min: ulong, max: ulong): ulong {
  const a = mt.arena;
  const t = ntype(a, n);
  if (t === maple_leaf_64) return leaf_max_gap(mt, n, min, max);
  return rd(a, mt.wide, n * NODE_WORDS + GAP_A + ngapoff(a, n));
}

/**
 * mab_mas_cp(): a new node of `type` holding big-node entries [s..e];
 * `max` is the node's range max (stored at pivot[end] when there is room).
 */
export function node_from_bn(mt: MapleTree, type: number, s: number, e: number, max: ulong): number {
  const n = node_alloc(mt);
  const base = n * NODE_WORDS;
  const sb = base + slot_base(type);
  const np = npivots(type);
  const end = e - s;
  const a = mt.arena;
  // aset() inline for numbers (walk.ts on hot-loop calls).
  for (let j = 0; j <= end; j++) {
    const x = bn.slot[s + j]!;
    if (typeof x === 'number') a[sb + j] = x;
    else aset(mt, sb + j, x);
    if (j < np) {
      const y = j < end ? bn.piv[s + j]! : max;
      if (typeof y === 'number') a[base + PIV + j] = y;
      else aset(mt, base + PIV + j, y);
    }
  }
  let gapoff = 0;
  if (type === maple_arange_64) {
    let mg: ulong = 0;
    for (let j = end; j >= 0; j--) {
      const g = bn.gap[s + j]!;
      aset(mt, base + GAP_A + j, g);
      if (g > mg) {
        mg = g;
        gapoff = j;
      }
    }
  }
  set_meta(a, n, type, end, gapoff);
  return n;
}

/** Overwrite leaf n in place with the whole big node (mas_wr_node_store). */
export function leaf_write_bn(mt: MapleTree, n: number, max: ulong): void {
  const a = mt.arena;
  const base = n * NODE_WORDS;
  a.fill(0, base + 1, base + NODE_WORDS);
  const end = bn.n - 1;
  for (let j = 0; j <= end; j++) {
    const x = bn.slot[j]!;
    if (typeof x === 'number') a[base + 16 + j] = x;
    else aset(mt, base + 16 + j, x);
    if (j < 15) {
      const y = j < end ? bn.piv[j]! : max;
      if (typeof y === 'number') a[base + PIV + j] = y;
      else aset(mt, base + PIV + j, y);
    }
  }
  set_meta(a, n, maple_leaf_64, end, 0);
}

/**
 * mab_no_null_split(): never end the left node on a NULL. `b_end` is the
 * kernel's b_end at the call site (an end offset, except in the push-right
 * path where it is a count; the comparison below inherits that).
 */
export function no_null_split(split: number, type: number, b_end: number): number {
  if (bn.slot[split] === 0) {
    if (split < MT_SLOTS[type]! - 1 && b_end - split > MT_MIN_SLOTS[type]!) split++;
    else split--;
  }
  return split;
}

/** mab_calc_split() result: left ends at `split`, middle (if any) at `mid`. */
export const SPLIT = { split: 0, mid: 0 };

export function calc_split(type: number, min: ulong): void {
  const b_end = bn.n - 1;
  const slot_count = MT_SLOTS[type]!;
  let split = b_end >> 1;
  let mid = 0;
  if (b_end >= 2 * slot_count || (bn.slot[split] === 0 && b_end >= 2 * slot_count - 1)) {
    split = Math.floor(b_end / 3);
    mid = split * 2;
  } else {
    const slot_min = MT_MIN_SLOTS[type]!;
    // Unsigned in the kernel: a pivot below `min` (possible, mas_split passes
    // the child level's min) wraps to a huge difference.
    while (split < slot_count - 1 && bn.piv[split]! >= min && ul_sub(bn.piv[split]!, min) < slot_count - 1 && b_end - split > slot_min) split++;
  }
  split = no_null_split(split, type, b_end);
  if (mid) mid = no_null_split(mid, type, b_end);
  SPLIT.split = split;
  SPLIT.mid = mid;
}

// ---- gap propagation --------------------------------------------------------

/** ma_max_gap(): recompute the largest gap of arange node n; returns it and sets meta. */
export function arange_rescan(mt: MapleTree, n: number): ulong {
  const a = mt.arena;
  const base = n * NODE_WORDS;
  const end = nend(a, n);
  let off = end;
  let mg: ulong = 0;
  for (let i = end; i >= 0; i--) {
    const v = a[base + GAP_A + i]!; // rd() inline (walk.ts)
    const g = v > MAX_SAFE && v !== Infinity ? mt.wide![base + GAP_A + i]! : v;
    if (g > mg) {
      mg = g;
      off = i;
    }
  }
  set_meta(a, n, maple_arange_64, end, off);
  return mg;
}

/**
 * mas_update_gap() for the node at depth d of a recorded path: push its
 * largest gap into the parents, stopping when nothing changes.
 */
export function update_gap(mt: MapleTree, pnode: Int32Array, poff: Int32Array, pmin: ulong[], pmax: ulong[], d: number): void {
  if (!mt_is_alloc(mt) || d === 0) return;
  const a = mt.arena;
  let g = node_max_gap(mt, pnode[d]!, pmin[d]!, pmax[d]!);
  let pd = d - 1;
  let p = pnode[pd]!;
  let off = poff[pd]!;
  // rd() and aset() inline (walk.ts).
  const c = a[p * NODE_WORDS + GAP_A + off]!;
  const cur = c > MAX_SAFE && c !== Infinity ? mt.wide![p * NODE_WORDS + GAP_A + off]! : c;
  if (cur === g) return;
  for (;;) {
    // mas_parent_gap()
    const base = p * NODE_WORDS;
    const meta_off = ngapoff(a, p);
    const m = a[base + GAP_A + meta_off]!;
    const meta_gap = m > MAX_SAFE && m !== Infinity ? mt.wide![base + GAP_A + meta_off]! : m;
    if (typeof g === 'number') a[base + GAP_A + off] = g;
    else aset(mt, base + GAP_A + off, g);
    if (meta_gap === g) return;
    if (off !== meta_off) {
      if (meta_gap > g) return;
      set_meta(a, p, maple_arange_64, nend(a, p), off);
    } else if (g < meta_gap) {
      g = arange_rescan(mt, p);
    }
    if (pd === 0) return;
    pd--;
    off = poff[pd]!;
    p = pnode[pd]!;
  }
}
