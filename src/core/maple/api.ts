// The normal API of lib/maple_tree.c: mtree_store_range, mtree_store,
// mtree_insert_range, mtree_insert, mtree_erase, mtree_alloc_range,
// mtree_alloc_rrange, mt_find, mt_find_after, the mt_for_each loop,
// mt_next / mt_prev, and __mt_dup / mtree_dup.
// Locking is the caller's business in the model (the simulator takes
// ma_lock / mmu_lock around these calls); mtree_load lives in walk.ts.
// Indices and entries are any unsigned long (ulong.ts); the entry checks
// are the kernel's: store and insert refuse only xa_is_advanced() entries
// (XA_ZERO_ENTRY is stored, and reads as NULL), the allocators refuse
// every mt_is_reserved() one.
// Left out: mtree_alloc_cyclic, __mt_dup's partial-copy failure path
// (the copy here is one arena slice, or fails before touching anything).

import {
  EINVAL,
  GFP_KERNEL,
  mt_is_reserved,
  xa_is_advanced,
  ENOMEM,
} from './constants.js';
import { AREA, empty_area } from './gap.js';
import { alloc_would_fail, mod, note_write, written } from './hooks.js';
import { MA_STATE, mas_erase, mas_next, mas_prev } from './state.js';
import { mas_store_core } from './store.js';
import {
  type MapleTree,
  mt_is_alloc,
  mt_nr_nodes,
  mtree_empty,
  rd,
} from './tree.js';
import { type ulong, ul, ul_inc } from './ulong.js';
import { type Path, RW, new_path, path_next_leaf, path_walk, range_walk, rw_next_in_leaf } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const ULONG_MAX = Infinity;
const XA_ZERO_ENTRY = 1030;
const MAX_SAFE = 9007199254740991;

/** A by-reference unsigned long (the kernel's `unsigned long *`). */
export interface IndexRef {
  value: ulong;
}

/** Canonical arguments of the last check_range() that passed. */
const CR = { first: 0 as ulong, last: 0 as ulong, entry: 0 as ulong };

/** mtree_store_range()'s checks: an advanced entry or first > last is -EINVAL. */
function check_range(first: ulong, last: ulong, entry: ulong): number {
  // ul() inline for the common case, canonical numbers (walk.ts).
  const f = typeof first === 'number' && first >= 0 && first <= MAX_SAFE && Math.floor(first) === first ? first : ul(first);
  const l = typeof last === 'number' && ((last >= 0 && last <= MAX_SAFE && Math.floor(last) === last) || last === Infinity) ? last : ul(last);
  const e = typeof entry === 'number' && entry >= 0 && entry <= MAX_SAFE && Math.floor(entry) === entry ? entry : ul(entry);
  if (f === null || l === null || e === null) return -EINVAL;
  if (typeof e === 'number' ? e <= 1026 && e % 4 === 2 : xa_is_advanced(e)) return -EINVAL;
  if (f > l) return -EINVAL;
  CR.first = f;
  CR.last = l;
  CR.entry = e;
  return 0;
}

/** mtree_store_range(): 0, -EINVAL or -ENOMEM. */
export function mtree_store_range(mt: MapleTree, first: ulong, last: ulong, entry: ulong, gfp: number = GFP_KERNEL): number {
  const e = check_range(first, last, entry);
  if (e) return e;
  return mas_store_core(mt, CR.first, CR.last, CR.entry, gfp, false);
}

export function mtree_store(mt: MapleTree, index: ulong, entry: ulong, gfp: number = GFP_KERNEL): number {
  return mtree_store_range(mt, index, index, entry, gfp);
}

/** mtree_insert_range(): like store but -EEXIST when any index is occupied. */
export function mtree_insert_range(mt: MapleTree, first: ulong, last: ulong, entry: ulong, gfp: number = GFP_KERNEL): number {
  const e = check_range(first, last, entry);
  if (e) return e;
  return mas_store_core(mt, CR.first, CR.last, CR.entry, gfp, true);
}

export function mtree_insert(mt: MapleTree, index: ulong, entry: ulong, gfp: number = GFP_KERNEL): number {
  return mtree_insert_range(mt, index, index, entry, gfp);
}

/** mtree_erase(): remove the whole range containing index; returns its entry or 0. */
export function mtree_erase(mt: MapleTree, index: ulong): ulong {
  return mas_erase(MA_STATE(mt, index, index));
}

function alloc_common(
  mt: MapleTree,
  startp: IndexRef,
  entry: ulong,
  size: ulong,
  min: ulong,
  max: ulong,
  gfp: number,
  rev: boolean,
): number {
  if (!mt_is_alloc(mt)) return -EINVAL;
  const en = ul(entry);
  if (en === null || mt_is_reserved(en)) return -EINVAL;
  entry = en;
  const r = empty_area(mt, min, max, size, rev);
  if (r) return r;
  const index = AREA.index;
  const last = AREA.last;
  const ret = mas_store_core(mt, index, last, entry, gfp, true);
  if (ret) return ret;
  startp.value = index;
  return 0;
}

/** mtree_alloc_range(): store entry in the lowest free [x, x+size-1] within [min, max]. */
export function mtree_alloc_range(
  mt: MapleTree,
  startp: IndexRef,
  entry: ulong,
  size: ulong,
  min: ulong,
  max: ulong,
  gfp: number = GFP_KERNEL,
): number {
  return alloc_common(mt, startp, entry, size, min, max, gfp, false);
}

/** mtree_alloc_rrange(): the highest free area instead. */
export function mtree_alloc_rrange(
  mt: MapleTree,
  startp: IndexRef,
  entry: ulong,
  size: ulong,
  min: ulong,
  max: ulong,
  gfp: number = GFP_KERNEL,
): number {
  return alloc_common(mt, startp, entry, size, min, max, gfp, true);
}

/** Range of the entry the last mt_find() returned. */
export const MT_FOUND = { first: 0 as ulong, last: 0 as ulong };

/**
 * mt_find(): first non-NULL entry (XA_ZERO_ENTRY counts as NULL) whose range
 * covers *index or starts after it, starting no later than max. On success
 * *index becomes last+1 of that entry, wrapping to 0 after ULONG_MAX (the
 * kernel's unsigned overflow, which stops mt_for_each).
 */
export function mt_find(mt: MapleTree, index: IndexRef, max: ulong): ulong {
  let start = index.value;
  if (typeof start !== 'number' || start > MAX_SAFE) {
    const s = ul(start);
    if (s === null) return 0;
    start = s;
  }
  if (start > max) return 0;
  if (!mt.root_is_node) {
    const r = mt.ma_root;
    if (start !== 0 || r === 0 || r === XA_ZERO_ENTRY) return 0;
    MT_FOUND.first = 0;
    MT_FOUND.last = 0;
    index.value = 1;
    return r;
  }
  range_walk(mt, start);
  let e = RW.entry;
  while (e === 0 || e === XA_ZERO_ENTRY) {
    if (RW.last >= max) return 0;
    if (!rw_next_in_leaf(mt)) range_walk(mt, ul_inc(RW.last));
    e = RW.entry;
  }
  MT_FOUND.first = RW.first;
  MT_FOUND.last = RW.last;
  index.value = ul_inc(RW.last);
  return e;
}

/** mt_find_after(): mt_find unless *index wrapped to 0. */
export function mt_find_after(mt: MapleTree, index: IndexRef, max: ulong): ulong {
  if (index.value === 0) return 0;
  return mt_find(mt, index, max);
}

/**
 * mt_for_each(mt, entry, index, max): call fn for every entry whose range
 * meets [index, max], in order. fn may return false to stop; it may write
 * to the tree (iteration then resumes after the entry it was given, as the
 * kernel's loop does). Returns the final index (0 after wrapping).
 */
// Paths for mt_for_each, one per nesting level (a callback may iterate too).
const ITER_PATHS: Path[] = [];
let iter_depth = 0;

export function mt_for_each(
  mt: MapleTree,
  index: ulong,
  max: ulong,
  fn: (entry: ulong, first: ulong, last: ulong) => boolean | void,
): ulong {
  const ref: IndexRef = { value: index };
  let e = mt_find(mt, ref, max);
  if (!e) return ref.value;
  if (!mt.root_is_node) {
    fn(e, 0, 0);
    return ref.value;
  }
  if (iter_depth === ITER_PATHS.length) ITER_PATHS.push(new_path());
  const p = ITER_PATHS[iter_depth++]!;
  mod.iterating++;
  try {
    const first = MT_FOUND.first;
    if (mt.wide === null && typeof first === 'number' && typeof max === 'number') return for_each_narrow(mt, p, first, max, fn);
    return for_each_leaves(mt, p, first, max, fn);
  } finally {
    iter_depth--;
    mod.iterating--;
  }
}

/**
 * for_each_leaves() for a tree without a word above 2^53 (mt.wide null)
 * and number bounds: every pivot and entry is a plain number, ULONG_MAX
 * is Infinity and the arithmetic is the double's. The union-typed general
 * loop costs this one about 1.4x (bench_mt_for_each). A callback that
 * writes to the tree hands the rest of the walk to the general loop.
 */
function for_each_narrow(
  mt: MapleTree,
  p: Path,
  index: number,
  max: number,
  fn: (entry: ulong, first: ulong, last: ulong) => boolean | void,
): ulong {
  const D = mt.height - 1;
  path_walk(mt, index, p, D);
  const a = mt.arena;
  let base = p.node[D]! * NODE_WORDS;
  let end = (a[base]! >> 2) & 15;
  let nmax = p.max[D] as number;
  let off = p.off[D]!;
  let first = off > 0 ? a[base + off]! + 1 : (p.min[D] as number);
  let last = off < end ? a[base + 1 + off]! : nmax;
  let e = a[base + 16 + off]!;
  let next = index;
  const seq = mod.seq;
  for (;;) {
    if (e !== 0 && e !== XA_ZERO_ENTRY) {
      next = last === ULONG_MAX ? 0 : last + 1;
      if (fn(e, first, last) === false || last >= max) return next;
      if (seq !== mod.seq && (written.get(mt) ?? 0) > seq) return next === 0 ? 0 : for_each_leaves(mt, p, next, max, fn);
    } else if (last >= max) {
      return next;
    }
    if (off < end) {
      off++;
    } else {
      if (!path_next_leaf(mt, p, D)) return next;
      base = p.node[D]! * NODE_WORDS;
      end = (a[base]! >> 2) & 15;
      nmax = p.max[D] as number;
      off = 0;
    }
    first = last + 1;
    last = off < end ? a[base + 1 + off]! : nmax;
    e = a[base + 16 + off]!;
  }
}

/**
 * The loop of mt_for_each(): walk to the leaf holding `index` once, then
 * step through leaves along the recorded path. A callback that writes to
 * any tree (the modification counter moves) makes it restart with a fresh
 * mt_find() from just after the entry it was given, as the kernel's loop.
 */
function for_each_leaves(
  mt: MapleTree,
  p: Path,
  index: ulong,
  max: ulong,
  fn: (entry: ulong, first: ulong, last: ulong) => boolean | void,
): ulong {
  let D = mt.height - 1;
  path_walk(mt, index, p, D);
  let a = mt.arena;
  let w = mt.wide;
  let base = p.node[D]! * NODE_WORDS;
  let end = (a[base]! >> 2) & 15;
  let nmax = p.max[D]!;
  let off = p.off[D]!;
  let first = off > 0 ? ul_inc(rd(a, w, base + 1 + off - 1)) : p.min[D]!;
  let last = off < end ? rd(a, w, base + 1 + off) : nmax;
  let e = rd(a, w, base + 16 + off);
  // rd() and ul_inc() inline below (walk.ts).
  let next: ulong = index; // the index after the entry delivered last
  let seq = mod.seq;
  for (;;) {
    if (e !== 0 && e !== XA_ZERO_ENTRY) {
      next = typeof last === 'number' && last < MAX_SAFE ? last + 1 : ul_inc(last);
      if (fn(e, first, last) === false || last >= max) return next;
      if (seq !== mod.seq && (written.get(mt) ?? 0) <= seq) seq = mod.seq; // another tree
      if (seq !== mod.seq) {
        // This tree was written: start again just after this entry.
        if (next === 0) return 0;
        const ref: IndexRef = { value: next };
        e = mt_find(mt, ref, max);
        if (!e) return ref.value;
        if (!mt.root_is_node) {
          fn(e, 0, 0);
          return ref.value;
        }
        D = mt.height - 1;
        path_walk(mt, MT_FOUND.first, p, D);
        a = mt.arena;
        w = mt.wide;
        base = p.node[D]! * NODE_WORDS;
        end = (a[base]! >> 2) & 15;
        nmax = p.max[D]!;
        off = p.off[D]!;
        first = MT_FOUND.first;
        last = MT_FOUND.last;
        seq = mod.seq;
        continue;
      }
    } else if (last >= max) {
      return next;
    }
    if (off < end) {
      off++;
    } else {
      if (!path_next_leaf(mt, p, D)) return next;
      base = p.node[D]! * NODE_WORDS;
      end = (a[base]! >> 2) & 15;
      nmax = p.max[D]!;
      off = 0;
    }
    first = typeof last === 'number' && last < MAX_SAFE ? last + 1 : ul_inc(last);
    if (off < end) {
      const v = a[base + 1 + off]!;
      last = v > MAX_SAFE && v !== Infinity ? w![base + 1 + off]! : v;
    } else {
      last = nmax;
    }
    const v = a[base + 16 + off]!;
    e = v > MAX_SAFE && v !== Infinity ? w![base + 16 + off]! : v;
  }
}

/** Every entry meeting [index, max] as {first, last, entry} (a generator). */
export function* mt_entries(mt: MapleTree, index: ulong = 0, max: ulong = ULONG_MAX): Generator<{ first: ulong; last: ulong; entry: ulong }> {
  const ref: IndexRef = { value: index };
  let e = mt_find(mt, ref, max);
  while (e) {
    yield { first: MT_FOUND.first, last: MT_FOUND.last, entry: e };
    e = mt_find_after(mt, ref, max);
  }
}

/**
 * __mt_dup(): make `dst` (empty, same attributes) a copy of `src` (the
 * caller holds both locks). The copy is one typed-array slice. -EINVAL on
 * attribute mismatch or non-empty dst, -ENOMEM when the allocation hook
 * refuses the node count.
 */
export function __mt_dup(src: MapleTree, dst: MapleTree, gfp: number = GFP_KERNEL): number {
  const attr = (f: number) => f & ~0x7c;
  if (attr(src.ma_flags) !== attr(dst.ma_flags) || !mtree_empty(dst)) return -EINVAL;
  if (src.root_is_node && alloc_would_fail(src, mt_nr_nodes(src), gfp)) return -ENOMEM;
  dst.ma_flags = src.ma_flags;
  dst.ma_root = src.ma_root;
  dst.root_is_node = src.root_is_node;
  dst.height = src.height;
  dst.arena = src.arena.slice(0, Math.max(src.nr_nodes, 2) * NODE_WORDS);
  dst.wide = src.wide ? src.wide.slice(0, Math.max(src.nr_nodes, 2) * NODE_WORDS) : null;
  dst.nr_nodes = src.nr_nodes;
  dst.free_head = src.free_head;
  dst.nr_free = src.nr_free;
  note_write(dst);
  return 0;
}

/** mtree_dup(): __mt_dup() taking the locks itself (the model has none to take). */
export function mtree_dup(src: MapleTree, dst: MapleTree, gfp: number = GFP_KERNEL): number {
  return __mt_dup(src, dst, gfp);
}

/** Range of the entry the last mt_next() / mt_prev() returned. */
export const MT_NEAR = { first: 0 as ulong, last: 0 as ulong };

/** mt_next(): the entry after the one at index, up to max (mas_next from MA_STATE(index)). */
export function mt_next(mt: MapleTree, index: ulong, max: ulong): ulong {
  const mas = MA_STATE(mt, index, index);
  const e = mas_next(mas, max);
  MT_NEAR.first = mas.index;
  MT_NEAR.last = mas.last;
  return e;
}

/** mt_prev(): the entry before the one at index, down to min (mas_prev from MA_STATE(index)). */
export function mt_prev(mt: MapleTree, index: ulong, min: ulong): ulong {
  const mas = MA_STATE(mt, index, index);
  const e = mas_prev(mas, min);
  MT_NEAR.first = mas.index;
  MT_NEAR.last = mas.last;
  return e;
}
