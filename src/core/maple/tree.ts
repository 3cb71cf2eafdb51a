// struct maple_tree and struct maple_node storage (include/linux/maple_tree.h,
// mt_init_flags / mas_pop_node / mt_free_* in lib/maple_tree.c).
// The tree is plain data: every node lives in one Float64Array arena, 32
// words (256 bytes, the kernel's node size) per node, node 0 unused so that a
// slot value of 0 means "no child". Freed nodes go on a free list threaded
// through the arena.
// Exact 64-bit values: every word holds a number. An index, pivot, gap or
// entry of 2^53..2^64-2 (a bigint, ulong.ts) is kept twice: rounded in the
// Float64Array (the rounding keeps the order, so a walk for a number key
// compares the arena words as they are) and exactly in `wide`, a
// BigUint64Array of the same length made on the first such value. A word
// is read through `wide` only when it is above 2^53 (ul_wide_word), so a
// tree that never sees such a value never has `wide` and pays one compare.
// Left out: the parent pointer (walks keep the path instead; mt_dump derives
// the kernel's encoded parent from the walk), the rcu_head, dead-node marking
// and RCU-delayed freeing (a node is reused by the next allocation).
//
// Node layout (words):
//   0                 meta: type | end << 2 | gap_offset << 6 (type 0: free,
//                     and word 1 then links the free list)
//   leaf_64/range_64: 1..15 pivots, 16..31 slots
//   arange_64:        1..9 pivots, 10..19 slots, 20..29 gaps
// A node whose data ends before the last slot stores its max at pivot[end],
// as the kernel does; pivots and slots past the end are zero.

import {
  MT_FLAGS_ALLOC_RANGE,
  MT_FLAGS_HEIGHT_MASK,
  MT_FLAGS_HEIGHT_OFFSET,
  MT_FLAGS_USE_RCU,
  maple_arange_64,
  maple_range_64,
} from './constants.js';
import { note_write } from './hooks.js';
import { type ulong, ul_wide_word } from './ulong.js';

export interface MapleTree {
  /** Kernel ma_flags, including the height in bits 2..6. */
  ma_flags: number;
  /** Root node index when root_is_node, else the single entry at 0 (0 = empty). */
  ma_root: ulong;
  root_is_node: boolean;
  /** Same as mt_height(): number of node levels (0 without nodes). */
  height: number;
  /** Node storage, NODE_WORDS words per node. */
  arena: Float64Array;
  /** Exact values of the arena words above 2^53 (null until the first one). */
  wide: BigUint64Array | null;
  /** High-water mark: nodes 1..nr_nodes-1 have been handed out at least once. */
  nr_nodes: number;
  /** Head of the free list (0 = empty). */
  free_head: number;
  nr_free: number;
  /** Address tag, only used to print distinct synthetic pointers in mt_dump. */
  id: number;
}

export const NODE_WORDS = 32;
export const W_META = 0;
export const PIV = 1;
export const SLOT_R = 16;
export const SLOT_A = 10;
export const GAP_A = 20;
export const NODE_FREE = 0;

const INITIAL_NODES = 8;

/** mt_init_flags(): a new, empty tree. `id` only changes mt_dump addresses. */
export function mt_init_flags(flags: number, id = 0): MapleTree {
  return {
    ma_flags: flags & ~MT_FLAGS_HEIGHT_MASK,
    ma_root: 0,
    root_is_node: false,
    height: 0,
    arena: new Float64Array(INITIAL_NODES * NODE_WORDS),
    wide: null,
    nr_nodes: 1,
    free_head: 0,
    nr_free: 0,
    id,
  };
}

export function mt_init(id = 0): MapleTree {
  return mt_init_flags(0, id);
}

export function mt_height(mt: MapleTree): number {
  return (mt.ma_flags & MT_FLAGS_HEIGHT_MASK) >> MT_FLAGS_HEIGHT_OFFSET;
}

export function set_height(mt: MapleTree, h: number): void {
  mt.height = h;
  mt.ma_flags = (mt.ma_flags & ~MT_FLAGS_HEIGHT_MASK) | (h << MT_FLAGS_HEIGHT_OFFSET);
}

export function mt_is_alloc(mt: MapleTree): boolean {
  return (mt.ma_flags & MT_FLAGS_ALLOC_RANGE) !== 0;
}
export function mt_in_rcu(mt: MapleTree): boolean {
  return (mt.ma_flags & MT_FLAGS_USE_RCU) !== 0;
}
export function mt_set_in_rcu(mt: MapleTree): void {
  mt.ma_flags |= MT_FLAGS_USE_RCU;
}
export function mt_clear_in_rcu(mt: MapleTree): void {
  mt.ma_flags &= ~MT_FLAGS_USE_RCU;
}
export function mtree_empty(mt: MapleTree): boolean {
  return mt.ma_root === 0;
}
/** Internal node type of this tree. */
export function internal_type(mt: MapleTree): number {
  return mt.ma_flags & MT_FLAGS_ALLOC_RANGE ? maple_arange_64 : maple_range_64;
}

// ---- exact words ------------------------------------------------------------

const MAX_SAFE = 9007199254740991;

/** The exact value of arena word i. */
export function aget(mt: MapleTree, i: number): ulong {
  const v = mt.arena[i]!;
  return v > MAX_SAFE && v !== Infinity ? mt.wide![i]! : v;
}

/** The exact value of word i of arena a (with its wide words w). */
export function rd(a: Float64Array, w: BigUint64Array | null, i: number): ulong {
  const v = a[i]!;
  return v > MAX_SAFE && v !== Infinity ? w![i]! : v;
}

/** Store an exact value in arena word i. */
export function aset(mt: MapleTree, i: number, v: ulong): void {
  if (typeof v === 'number') {
    mt.arena[i] = v;
  } else {
    mt.arena[i] = Number(v);
    (mt.wide ??= new BigUint64Array(mt.arena.length))[i] = v;
  }
}

/** Copy arena words [from, from+n) of node-relative offsets into another place in the arena. */
export function acopy(mt: MapleTree, dst: number, src: number, n: number): void {
  mt.arena.copyWithin(dst, src, src + n);
  if (mt.wide) mt.wide.copyWithin(dst, src, src + n);
}

export { ul_wide_word };

// ---- node accessors ---------------------------------------------------------

export function ntype(a: Float64Array, n: number): number {
  return a[n * NODE_WORDS]! & 3;
}
export function nend(a: Float64Array, n: number): number {
  return (a[n * NODE_WORDS]! >> 2) & 15;
}
export function ngapoff(a: Float64Array, n: number): number {
  return (a[n * NODE_WORDS]! >> 6) & 15;
}
export function set_meta(a: Float64Array, n: number, type: number, end: number, gapoff: number): void {
  a[n * NODE_WORDS] = type | (end << 2) | (gapoff << 6);
}
export function slot_base(type: number): number {
  return type === maple_arange_64 ? SLOT_A : SLOT_R;
}
export function npivots(type: number): number {
  return type === maple_arange_64 ? 9 : 15;
}
export function nslots(type: number): number {
  return type === maple_arange_64 ? 10 : 16;
}
/** Pivot `i` of node `n` (range `max` when i is past the stored pivots). */
export function pivot_at(mt: MapleTree, n: number, type: number, i: number, max: ulong): ulong {
  return i < npivots(type) ? aget(mt, n * NODE_WORDS + PIV + i) : max;
}
export function slot_at(mt: MapleTree, n: number, type: number, i: number): ulong {
  return aget(mt, n * NODE_WORDS + slot_base(type) + i);
}
export function gap_at(mt: MapleTree, n: number, i: number): ulong {
  return aget(mt, n * NODE_WORDS + GAP_A + i);
}

// ---- allocation -------------------------------------------------------------

/** Make sure `count` more nodes can be handed out without growing mid-write. */
export function arena_reserve(mt: MapleTree, count: number): void {
  const need = (mt.nr_nodes + count) * NODE_WORDS;
  if (need <= mt.arena.length) return;
  let cap = mt.arena.length;
  while (cap < need) cap *= 2;
  const next = new Float64Array(cap);
  next.set(mt.arena.subarray(0, mt.nr_nodes * NODE_WORDS));
  mt.arena = next;
  if (mt.wide) {
    const w = new BigUint64Array(cap);
    w.set(mt.wide.subarray(0, mt.nr_nodes * NODE_WORDS));
    mt.wide = w;
  }
}

/** mas_pop_node(): a zeroed node. */
export function node_alloc(mt: MapleTree): number {
  let n = mt.free_head;
  if (n !== 0) {
    const a = mt.arena;
    const base = n * NODE_WORDS;
    mt.free_head = a[base + 1]!;
    mt.nr_free--;
    a[base + 1] = 0;
    return n;
  }
  n = mt.nr_nodes;
  if ((n + 1) * NODE_WORDS > mt.arena.length) arena_reserve(mt, 1);
  mt.nr_nodes = n + 1;
  return n;
}

/** Free one node: zero it and push it on the free list. */
export function node_free(mt: MapleTree, n: number): void {
  const a = mt.arena;
  const base = n * NODE_WORDS;
  a.fill(0, base, base + NODE_WORDS);
  if (mt.wide) mt.wide.fill(0n, base, base + NODE_WORDS);
  a[base + 1] = mt.free_head;
  mt.free_head = n;
  mt.nr_free++;
}

/** Free a whole subtree rooted at node n (mt_destroy_walk). */
export function subtree_free(mt: MapleTree, n: number): void {
  const a = mt.arena;
  const t = ntype(a, n);
  if (t !== 1) {
    const end = nend(a, n);
    const sb = n * NODE_WORDS + slot_base(t);
    for (let i = 0; i <= end; i++) {
      const c = a[sb + i]!;
      if (c !== 0) subtree_free(mt, c);
    }
  }
  node_free(mt, n);
}

/** Number of nodes in use. */
export function mt_nr_nodes(mt: MapleTree): number {
  return mt.nr_nodes - 1 - mt.nr_free;
}

/** mtree_destroy(): drop every node, keep the tree's attributes. */
export function mtree_destroy(mt: MapleTree): void {
  note_write(mt);
  mt.ma_root = 0;
  mt.root_is_node = false;
  set_height(mt, 0);
  mt.arena = new Float64Array(INITIAL_NODES * NODE_WORDS);
  mt.wide = null;
  mt.nr_nodes = 1;
  mt.free_head = 0;
  mt.nr_free = 0;
}

/**
 * A copy of the tree sharing nothing with it: one typed-array slice. This is
 * what a World checkpoint (structuredClone) costs for the tree, minus slack.
 */
export function mt_clone(mt: MapleTree): MapleTree {
  return {
    ma_flags: mt.ma_flags,
    ma_root: mt.ma_root,
    root_is_node: mt.root_is_node,
    height: mt.height,
    arena: mt.arena.slice(0, Math.max(mt.nr_nodes, 2) * NODE_WORDS),
    wide: mt.wide ? mt.wide.slice(0, Math.max(mt.nr_nodes, 2) * NODE_WORDS) : null,
    nr_nodes: mt.nr_nodes,
    free_head: mt.free_head,
    nr_free: mt.nr_free,
    id: mt.id,
  };
}
