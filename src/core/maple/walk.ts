// Read-side walks of lib/maple_tree.c: mtree_lookup_walk / mtree_load,
// mtree_range_walk (entry plus its range) and a path-recording descent used
// by the write side (mas_wr_walk_index / mas_ascend replaced by a path).
// Left out: dead-node detection and RCU retry (the model has no concurrent
// node replacement inside one call), and parent pointers: callers that must
// go up use the recorded path instead of mas_ascend.

import { type MapleTree, nend, slot_base } from './tree.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const MT_FLAGS_ALLOC_RANGE = 0x01;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const XA_ZERO_ENTRY = 1030;

/** A root-to-node walk: per depth the node, the offset taken, and its range. */
export interface Path {
  node: Int32Array;
  off: Int32Array;
  min: Float64Array;
  max: Float64Array;
}

export function new_path(): Path {
  return {
    node: new Int32Array(34),
    off: new Int32Array(34),
    min: new Float64Array(34),
    max: new Float64Array(34),
  };
}

/** The left and right paths shared by the write side (module scratch). */
export const LP = new_path();
export const RP = new_path();

export function path_copy(dst: Path, src: Path, upto: number): void {
  for (let d = 0; d <= upto; d++) {
    dst.node[d] = src.node[d]!;
    dst.off[d] = src.off[d]!;
    dst.min[d] = src.min[d]!;
    dst.max[d] = src.max[d]!;
  }
}

/**
 * Offset of the slot covering `key` in node n (the write-side rule:
 * the first pivot >= key among the first `end` pivots, else `end`).
 */
export function node_offset(a: Float64Array, n: number, key: number): number {
  const base = n * NODE_WORDS + PIV;
  const end = nend(a, n);
  let o = 0;
  while (o < end && a[base + o]! < key) o++;
  return o;
}

/** Walk from the root towards `key`, recording depths 0..to_depth in p. */
export function path_walk(mt: MapleTree, key: number, p: Path, to_depth: number): void {
  const a = mt.arena;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX;
  for (let d = 0; ; d++) {
    const base = n * NODE_WORDS;
    const end = (a[base]! >> 2) & 15;
    let o = 0;
    while (o < end && a[base + PIV + o]! < key) o++;
    p.node[d] = n;
    p.off[d] = o;
    p.min[d] = min;
    p.max[d] = max;
    if (d === to_depth) return;
    const nmin = o > 0 ? a[base + PIV + o - 1]! + 1 : min;
    const nmax = o < end ? a[base + PIV + o]! : max;
    n = a[base + slot_base(a[base]! & 3) + o]!;
    min = nmin;
    max = nmax;
  }
}

/**
 * mtree_load(): the entry covering index, NULL (0) when none. A stored
 * XA_ZERO_ENTRY reads as NULL, as in the kernel.
 */
export function mtree_load(mt: MapleTree, index: number): number {
  if (!mt.root_is_node) {
    const r = mt.ma_root;
    return index === 0 && r !== XA_ZERO_ENTRY ? r : 0;
  }
  const a = mt.arena;
  let n = mt.ma_root;
  // Internal levels all have the tree's internal type: no per-node type
  // test. The scans stop at the data end and stride by four first.
  if (mt.height > 1) {
    const sb = (mt.ma_flags & MT_FLAGS_ALLOC_RANGE) !== 0 ? 9 : 15; // slot offset from the pivot cursor
    for (let d = mt.height - 1; d > 0; d--) {
      let i = n * NODE_WORDS + PIV;
      const lim = i + ((a[i - 1]! >> 2) & 15);
      while (i + 3 < lim && a[i + 3]! < index) i += 4;
      while (i < lim && a[i]! < index) i++;
      n = a[i + sb]!;
    }
  }
  let i = n * NODE_WORDS + PIV;
  const lim = i + ((a[i - 1]! >> 2) & 15);
  while (i + 3 < lim && a[i + 3]! < index) i += 4;
  while (i < lim && a[i]! < index) i++;
  const e = a[i + 15]!;
  return e === XA_ZERO_ENTRY ? 0 : e;
}

/** Result of range_walk (module scratch, valid until the next walk). */
export const RW = {
  entry: 0,
  first: 0,
  last: 0,
  /** Leaf node, offset in it, its end and range (node walks only). */
  node: 0,
  off: 0,
  end: 0,
  nmin: 0,
  nmax: 0,
};

/**
 * mtree_range_walk(): entry at index and the range of its slot (NULL ranges
 * too). Requires a tree with nodes.
 */
export function range_walk(mt: MapleTree, index: number): number {
  const a = mt.arena;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX;
  for (;;) {
    const base = n * NODE_WORDS;
    const t = a[base]! & 3;
    const end = (a[base]! >> 2) & 15;
    const pb = base + PIV;
    let o = 0;
    while (o < end && a[pb + o]! < index) o++;
    const lo = o > 0 ? a[pb + o - 1]! + 1 : min;
    const hi = o < end ? a[pb + o]! : max;
    const s = a[base + (t === 3 ? 10 : 16) + o]!;
    if (t === 1) {
      RW.entry = s;
      RW.first = lo;
      RW.last = hi;
      RW.node = n;
      RW.off = o;
      RW.end = end;
      RW.nmin = min;
      RW.nmax = max;
      return s;
    }
    n = s;
    min = lo;
    max = hi;
  }
}

/** Move RW to the next slot of its leaf; false at the end of the leaf. */
export function rw_next_in_leaf(mt: MapleTree): boolean {
  if (RW.off >= RW.end) return false;
  const a = mt.arena;
  const base = RW.node * NODE_WORDS;
  RW.off++;
  RW.first = RW.last + 1;
  RW.last = RW.off < RW.end ? a[base + PIV + RW.off]! : RW.nmax;
  RW.entry = a[base + 16 + RW.off]!;
  return true;
}

/** Move RW to the previous slot of its leaf; false at the start of the leaf. */
export function rw_prev_in_leaf(mt: MapleTree): boolean {
  if (RW.off === 0) return false;
  const a = mt.arena;
  const base = RW.node * NODE_WORDS;
  RW.off--;
  RW.last = RW.first - 1;
  RW.first = RW.off > 0 ? a[base + PIV + RW.off - 1]! + 1 : RW.nmin;
  RW.entry = a[base + 16 + RW.off]!;
  return true;
}

/**
 * Move a recorded root-to-leaf path (leaf at depth D) to the next leaf,
 * going up only as far as needed (the kernel's mas_next_node()). Sets the
 * new leaf's node, range and offset 0; false when the leaf was the last.
 */
export function path_next_leaf(mt: MapleTree, p: Path, D: number): boolean {
  const a = mt.arena;
  let d = D - 1;
  while (d >= 0 && p.off[d]! >= ((a[p.node[d]! * NODE_WORDS]! >> 2) & 15)) d--;
  if (d < 0) return false;
  let o = ++p.off[d]!;
  for (;;) {
    const base = p.node[d]! * NODE_WORDS;
    const meta = a[base]!;
    const end = (meta >> 2) & 15;
    const lo = o > 0 ? a[base + PIV + o - 1]! + 1 : p.min[d]!;
    const hi = o < end ? a[base + PIV + o]! : p.max[d]!;
    const c = a[base + ((meta & 3) === 3 ? 10 : 16) + o]!;
    d++;
    p.node[d] = c;
    p.min[d] = lo;
    p.max[d] = hi;
    p.off[d] = 0;
    if (d === D) return true;
    o = 0;
  }
}

