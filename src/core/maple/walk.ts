// Read-side walks of lib/maple_tree.c: mtree_lookup_walk / mtree_load,
// mtree_range_walk (entry plus its range) and a path-recording descent used
// by the write side (mas_wr_walk_index / mas_ascend replaced by a path).
// Left out: dead-node detection and RCU retry (the model has no concurrent
// node replacement inside one call), and parent pointers: callers that must
// go up use the recorded path instead of mas_ascend.
//
// Keys are ulongs. A number key is compared with the arena words as they
// are (a word above 2^53 is a rounded bigint, and every such word is above
// every number key but ULONG_MAX, which is stored as itself); a bigint key
// is compared with the exact words (tree.ts).
// Hot loops here and in the other files spell rd() and ul_inc() out inline
// (`v > MAX_SAFE && v !== Infinity ? w![i]! : v`, `typeof x === 'number' &&
// x < MAX_SAFE ? x + 1 : ul_inc(x)`): V8 stops inlining small calls into
// large functions, and a call that returns a double boxes it (measured:
// mt_for_each went from 13 to 100 ns per entry with the calls).

import { type MapleTree, nend, rd, slot_base } from './tree.js';
import { type ulong, ul, ul_dec, ul_inc } from './ulong.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const MT_FLAGS_ALLOC_RANGE = 0x01;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const XA_ZERO_ENTRY = 1030;
const MAX_SAFE = 9007199254740991;

/** A root-to-node walk: per depth the node, the offset taken, and its range. */
export interface Path {
  node: Int32Array;
  off: Int32Array;
  min: ulong[];
  max: ulong[];
}

export function new_path(): Path {
  return {
    node: new Int32Array(34),
    off: new Int32Array(34),
    min: new Array<ulong>(34).fill(0),
    max: new Array<ulong>(34).fill(0),
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
 * Offset of the slot covering `key` in the node whose pivots start at word
 * `pb` (the first pivot >= key among the first `end` pivots, else `end`).
 */
export function key_offset(a: Float64Array, w: BigUint64Array | null, pb: number, end: number, key: ulong): number {
  let o = 0;
  if (typeof key === 'number') {
    while (o < end && a[pb + o]! < key) o++;
    return o;
  }
  // A bigint key: the rounded words decide unless they tie (rounding keeps
  // the order), so the exact value is read only on a tie.
  const kd = Number(key);
  while (o < end) {
    const d = a[pb + o]!;
    if (d > kd || (d === kd && rd(a, w, pb + o) >= key)) break;
    o++;
  }
  return o;
}

/** Offset of the slot covering `key` in node n (the write-side rule). */
export function node_offset(mt: MapleTree, n: number, key: ulong): number {
  return key_offset(mt.arena, mt.wide, n * NODE_WORDS + PIV, nend(mt.arena, n), key);
}

/** Walk from the root towards `key`, recording depths 0..to_depth in p. */
export function path_walk(mt: MapleTree, key: ulong, p: Path, to_depth: number): void {
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root as number;
  let min: ulong = 0;
  let max: ulong = ULONG_MAX;
  for (let d = 0; ; d++) {
    const base = n * NODE_WORDS;
    const end = (a[base]! >> 2) & 15;
    let o = 0;
    if (typeof key === 'number') while (o < end && a[base + PIV + o]! < key) o++;
    else o = key_offset(a, w, base + PIV, end, key);
    p.node[d] = n;
    p.off[d] = o;
    p.min[d] = min;
    p.max[d] = max;
    if (d === to_depth) return;
    if (o > 0) {
      const v = a[base + PIV + o - 1]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o - 1]! : v;
      min = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    if (o < end) {
      const v = a[base + PIV + o]!;
      max = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o]! : v;
    }
    n = a[base + slot_base(a[base]! & 3) + o]!;
  }
}

/**
 * mtree_load(): the entry covering index, NULL (0) when none. A stored
 * XA_ZERO_ENTRY reads as NULL, as in the kernel.
 */
export function mtree_load(mt: MapleTree, index: ulong): ulong {
  if (!mt.root_is_node) {
    const r = mt.ma_root;
    return index === 0 && r !== XA_ZERO_ENTRY ? r : 0;
  }
  if (typeof index !== 'number' || (index > MAX_SAFE && index !== Infinity)) return load_slow(mt, index);
  const a = mt.arena;
  let n = mt.ma_root as number;
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
  if (e > MAX_SAFE && e !== Infinity) return mt.wide![i + 15]!;
  return e === XA_ZERO_ENTRY ? 0 : e;
}

/** mtree_load() for a bigint key (or a key not in canonical form): offsets only, no ranges. */
function load_slow(mt: MapleTree, index: ulong): ulong {
  const k = ul(index);
  if (k === null) return 0;
  if (typeof k === 'number') return mtree_load(mt, k);
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root as number;
  for (;;) {
    const base = n * NODE_WORDS;
    const meta = a[base]!;
    const o = key_offset(a, w, base + PIV, (meta >> 2) & 15, k);
    const sw = base + ((meta & 3) === 3 ? 10 : 16) + o;
    if ((meta & 3) === 1) {
      const e = rd(a, w, sw);
      return e === XA_ZERO_ENTRY ? 0 : e;
    }
    n = a[sw]!;
  }
}

/** Result of range_walk (module scratch, valid until the next walk). */
export const RW = {
  entry: 0 as ulong,
  first: 0 as ulong,
  last: 0 as ulong,
  /** Leaf node, offset in it, its end and range (node walks only). */
  node: 0,
  off: 0,
  end: 0,
  nmin: 0 as ulong,
  nmax: 0 as ulong,
};

/**
 * mtree_range_walk(): entry at index and the range of its slot (NULL ranges
 * too). Requires a tree with nodes.
 */
export function range_walk(mt: MapleTree, index: ulong): ulong {
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root as number;
  let min: ulong = 0;
  let max: ulong = ULONG_MAX;
  for (;;) {
    const base = n * NODE_WORDS;
    const t = a[base]! & 3;
    const end = (a[base]! >> 2) & 15;
    const pb = base + PIV;
    let o = 0;
    if (typeof index === 'number') while (o < end && a[pb + o]! < index) o++;
    else o = key_offset(a, w, pb, end, index);
    let lo: ulong = min;
    if (o > 0) {
      const v = a[pb + o - 1]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![pb + o - 1]! : v;
      lo = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    let hi: ulong = max;
    if (o < end) {
      const v = a[pb + o]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![pb + o]! : v;
    }
    const sw = base + (t === 3 ? 10 : 16) + o;
    if (t === 1) {
      const v = a[sw]!;
      const s = v > MAX_SAFE && v !== Infinity ? w![sw]! : v;
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
    n = a[sw]!;
    min = lo;
    max = hi;
  }
}

/** Move RW to the next slot of its leaf; false at the end of the leaf. */
export function rw_next_in_leaf(mt: MapleTree): boolean {
  if (RW.off >= RW.end) return false;
  const a = mt.arena;
  const base = RW.node * NODE_WORDS;
  const o = ++RW.off;
  const l = RW.last;
  RW.first = typeof l === 'number' && l < MAX_SAFE ? l + 1 : ul_inc(l);
  if (o < RW.end) {
    const v = a[base + PIV + o]!;
    RW.last = v > MAX_SAFE && v !== Infinity ? mt.wide![base + PIV + o]! : v;
  } else {
    RW.last = RW.nmax;
  }
  const e = a[base + 16 + o]!;
  RW.entry = e > MAX_SAFE && e !== Infinity ? mt.wide![base + 16 + o]! : e;
  return true;
}

/** Move RW to the previous slot of its leaf; false at the start of the leaf. */
export function rw_prev_in_leaf(mt: MapleTree): boolean {
  if (RW.off === 0) return false;
  const base = RW.node * NODE_WORDS;
  RW.off--;
  RW.last = ul_dec(RW.first);
  RW.first = RW.off > 0 ? ul_inc(rd(mt.arena, mt.wide, base + PIV + RW.off - 1)) : RW.nmin;
  RW.entry = rd(mt.arena, mt.wide, base + 16 + RW.off);
  return true;
}

/**
 * Move a recorded root-to-leaf path (leaf at depth D) to the next leaf,
 * going up only as far as needed (the kernel's mas_next_node()). Sets the
 * new leaf's node, range and offset 0; false when the leaf was the last.
 */
export function path_next_leaf(mt: MapleTree, p: Path, D: number): boolean {
  const a = mt.arena;
  const w = mt.wide;
  let d = D - 1;
  while (d >= 0 && p.off[d]! >= ((a[p.node[d]! * NODE_WORDS]! >> 2) & 15)) d--;
  if (d < 0) return false;
  let o = ++p.off[d]!;
  if (w === null) {
    // Every word a number (mt_for_each's hot loop): plain doubles.
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
  for (;;) {
    const base = p.node[d]! * NODE_WORDS;
    const meta = a[base]!;
    const end = (meta >> 2) & 15;
    let lo: ulong = p.min[d]!;
    if (o > 0) {
      const v = a[base + PIV + o - 1]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o - 1]! : v;
      lo = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    let hi: ulong = p.max[d]!;
    if (o < end) {
      const v = a[base + PIV + o]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o]! : v;
    }
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
