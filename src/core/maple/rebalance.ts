// Rebalancing in lib/maple_tree.c: mas_rebalance (a deficient node joins its
// next, else previous, sibling), mas_spanning_rebalance (rebuild the levels
// above a spanning write or a rebalance, splitting into up to three nodes
// per level and pulling in neighbours via mast_spanning_rebalance), and the
// disposal of replaced and dropped nodes (mas_topiary_replace).
// The kernel's two maple states per side (orig_l/orig_r and l/m/r) are kept
// here as two recorded root-to-node paths, LP and RP; a neighbour pulled in
// is found by walking from the root to the index just past the current edge,
// which lands on the same node mast_spanning_rebalance descends to.
// Left out: RCU-safe publication order (new nodes are built off-tree and
// the tree is switched over at the end, old nodes are freed at once).

import {
  MT_MIN_SLOTS,
  MT_SLOTS,
  MAPLE_TYPE_NAMES,
} from './constants.js';
import { SPLIT, bn, bn_copy, bn_prepend_node, bn_push, bn_reset, calc_split, node_from_bn, node_max_gap } from './bignode.js';
import { trace_queue } from './hooks.js';
import {
  type MapleTree,
  internal_type,
  nend,
  node_free,
  ntype,
  rd,
  set_height,
  slot_base,
} from './tree.js';
import { type ulong, ul_dec, ul_inc } from './ulong.js';
import { LP, RP, path_copy, path_walk } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

/** Nodes whose contents were copied into new nodes (all freed at the end). */
const consumed = new Int32Array(256);
let n_consumed = 0;
/** Children no longer referenced by the rebuilt levels (freed as subtrees). */
let dropped = new Int32Array(256);
let n_dropped = 0;
let level_consumed = 0;

export function consumed_reset(): void {
  n_consumed = 0;
  n_dropped = 0;
  level_consumed = 0;
}

export function consume(n: number): void {
  consumed[n_consumed++] = n;
}

function drop(n: number): void {
  if (n_dropped === dropped.length) {
    const next = new Int32Array(dropped.length * 2);
    next.set(dropped);
    dropped = next;
  }
  dropped[n_dropped++] = n;
}

/** New nodes of the level being built. */
const NEWN = new Int32Array(3);
const NEWMIN: ulong[] = [0, 0, 0];
const NEWMAX: ulong[] = [0, 0, 0];

/** Meta bit marking a consumed node while the old nodes are disposed of. */
const DEAD = 1 << 10;

function destroy(mt: MapleTree, x: number): void {
  const a = mt.arena;
  const meta = a[x * NODE_WORDS]!;
  if (meta & DEAD) return; // consumed: freed on its own, children live on
  const t = meta & 3;
  if (t !== maple_leaf_64) {
    const end = (meta >> 2) & 15;
    const sb = x * NODE_WORDS + slot_base(t);
    for (let i = 0; i <= end; i++) destroy(mt, a[sb + i]!);
  }
  node_free(mt, x);
}

/** Free everything replaced or dropped, keeping what the new tree uses. */
export function dispose(mt: MapleTree, old_root: number): void {
  const a = mt.arena;
  for (let i = 0; i < n_consumed; i++) {
    const base = consumed[i]! * NODE_WORDS;
    a[base] = a[base]! | DEAD;
  }
  if (old_root !== 0) destroy(mt, old_root);
  for (let i = 0; i < n_dropped; i++) destroy(mt, dropped[i]!);
  for (let i = 0; i < n_consumed; i++) {
    const c = consumed[i]!;
    if (a[c * NODE_WORDS]! & DEAD) node_free(mt, c);
  }
  consumed_reset();
}

function finish_root(mt: MapleTree, root: number, height: number): void {
  const old = mt.ma_root as number;
  dispose(mt, old);
  mt.ma_root = root;
  mt.root_is_node = true;
  set_height(mt, height);
}

/**
 * mast_spanning_rebalance(): pull the nearest neighbour at level `lvl` into
 * the big node, looking right before left at each ancestor going up.
 */
function pull(mt: MapleTree, lvl: number): boolean {
  const a = mt.arena;
  for (let u = lvl - 1; u >= 0; u--) {
    if (RP.off[u]! < nend(a, RP.node[u]!)) {
      path_walk(mt, ul_inc(RP.max[lvl]!), RP, lvl);
      const n = RP.node[lvl]!;
      trace_queue('rebalance', MAPLE_TYPE_NAMES[ntype(a, n)], bn.n);
      bn_copy(mt, n, RP.max[lvl]!, 0, nend(a, n));
      consume(n);
      level_consumed++;
      return true;
    }
    if (LP.off[u]! !== 0) {
      path_walk(mt, ul_dec(LP.min[lvl]!), LP, lvl);
      const n = LP.node[lvl]!;
      trace_queue('rebalance', MAPLE_TYPE_NAMES[ntype(a, n)], bn.n);
      bn_prepend_node(mt, n, LP.max[lvl]!);
      consume(n);
      level_consumed++;
      return true;
    }
  }
  return false;
}

/** Parent-level big node: left parent's head, the new nodes, right parent's tail. */
function build_parent(mt: MapleTree, lvl: number, k: number): void {
  const a = mt.arena;
  const pl = lvl - 1;
  const lp = LP.node[pl]!;
  const loff = LP.off[pl]!;
  const rp = RP.node[pl]!;
  const roff = RP.off[pl]!;
  const ptype = ntype(a, lp);
  bn_reset(ptype);
  if (loff > 0) bn_copy(mt, lp, LP.max[pl]!, 0, loff - 1);
  const gaps = ptype === maple_arange_64;
  for (let j = 0; j < k; j++) {
    bn_push(NEWMAX[j]!, NEWN[j]!, gaps ? node_max_gap(mt, NEWN[j]!, NEWMIN[j]!, NEWMAX[j]!) : 0);
  }
  const rend = nend(a, rp);
  if (roff < rend) bn_copy(mt, rp, RP.max[pl]!, roff + 1, rend);
  const lsb = lp * NODE_WORDS + slot_base(ptype);
  const rsb = rp * NODE_WORDS + slot_base(ptype);
  if (lp === rp) {
    for (let i = loff + 1; i < roff; i++) drop(a[lsb + i]!);
  } else {
    const lend = nend(a, lp);
    for (let i = loff + 1; i <= lend; i++) drop(a[lsb + i]!);
    for (let i = 0; i < roff; i++) drop(a[rsb + i]!);
  }
  consume(lp);
  level_consumed = 1;
  if (rp !== lp) {
    consume(rp);
    level_consumed = 2;
  }
}

/** mas_mab_to_node() + mast_cp_to_nodes(): cut the big node into 1..3 nodes. */
function bn_to_nodes(mt: MapleTree, type: number, lo: ulong, hi: ulong): number {
  const b_end = bn.n - 1;
  if (b_end < MT_SLOTS[type]!) {
    NEWN[0] = node_from_bn(mt, type, 0, b_end, hi);
    NEWMIN[0] = lo;
    NEWMAX[0] = hi;
    return 1;
  }
  calc_split(type, lo);
  const split = SPLIT.split;
  const mid = SPLIT.mid;
  trace_queue('split', MAPLE_TYPE_NAMES[type], bn.n);
  NEWN[0] = node_from_bn(mt, type, 0, split, bn.piv[split]!);
  NEWMIN[0] = lo;
  NEWMAX[0] = bn.piv[split]!;
  if (mid) {
    NEWN[1] = node_from_bn(mt, type, split + 1, mid, bn.piv[mid]!);
    NEWMIN[1] = ul_inc(bn.piv[split]!);
    NEWMAX[1] = bn.piv[mid]!;
    NEWN[2] = node_from_bn(mt, type, mid + 1, b_end, hi);
    NEWMIN[2] = ul_inc(bn.piv[mid]!);
    NEWMAX[2] = hi;
    return 3;
  }
  NEWN[1] = node_from_bn(mt, type, split + 1, b_end, hi);
  NEWMIN[1] = ul_inc(bn.piv[split]!);
  NEWMAX[1] = hi;
  return 2;
}

/**
 * mas_spanning_rebalance(): bn holds the new contents of level `lvl` for
 * [LP.min[lvl], RP.max[lvl]] (left node `ln`, right node `rn`, already
 * read). Rebuild every level up to the root.
 */
export function rebuild(mt: MapleTree, lvl: number, ln: number, rn: number): void {
  const H = mt.height;
  consume(ln);
  level_consumed = 1;
  if (rn !== ln) {
    consume(rn);
    level_consumed = 2;
  }
  {
    const t0 = ntype(mt.arena, LP.node[lvl]!);
    if (!(LP.min[lvl] === 0 && RP.max[lvl] === ULONG_MAX) && bn.n <= MT_MIN_SLOTS[t0]!) pull(mt, lvl);
  }
  for (;;) {
    const type = ntype(mt.arena, LP.node[lvl]!);
    const lo = LP.min[lvl]!;
    const hi = RP.max[lvl]!;
    bn.type = type;
    const k = bn_to_nodes(mt, type, lo, hi);
    if (level_consumed > k) trace_queue('merge', MAPLE_TYPE_NAMES[type], bn.n);
    if (k === 1 && lo === 0 && hi === ULONG_MAX) {
      finish_root(mt, NEWN[0]!, H - lvl);
      return;
    }
    if (lvl === 0) {
      const it = internal_type(mt);
      const gaps = it === maple_arange_64;
      bn_reset(it);
      for (let j = 0; j < k; j++) {
        bn_push(NEWMAX[j]!, NEWN[j]!, gaps ? node_max_gap(mt, NEWN[j]!, NEWMIN[j]!, NEWMAX[j]!) : 0);
      }
      finish_root(mt, node_from_bn(mt, it, 0, k - 1, ULONG_MAX), H + 1);
      return;
    }
    build_parent(mt, lvl, k);
    lvl--;
    const pt = ntype(mt.arena, LP.node[lvl]!);
    if (bn.n > MT_MIN_SLOTS[pt]!) continue;
    if (lvl === 0) {
      finish_root(mt, node_from_bn(mt, pt, 0, bn.n - 1, ULONG_MAX), H);
      return;
    }
    pull(mt, lvl);
  }
}

/**
 * mas_rebalance(): the leaf at depth D (contents already in bn) is below
 * minimum occupancy; join it with its next sibling, else its previous one.
 */
export function do_rebalance(mt: MapleTree, D: number): void {
  const a = mt.arena;
  consumed_reset();
  path_copy(RP, LP, D);
  const P = LP.node[D - 1]!;
  const off = LP.off[D - 1]!;
  const pend = nend(a, P);
  const pt = ntype(a, P);
  const sb = P * NODE_WORDS + slot_base(pt);
  const leaf = LP.node[D]!;
  trace_queue('rebalance', MAPLE_TYPE_NAMES[maple_leaf_64], bn.n);
  if (off < pend) {
    const sib = a[sb + off + 1]!;
    const smax = off + 1 < pend ? rd(a, mt.wide, P * NODE_WORDS + PIV + off + 1) : LP.max[D - 1]!;
    bn_copy(mt, sib, smax, 0, nend(a, sib));
    RP.node[D] = sib;
    RP.off[D - 1] = off + 1;
    RP.min[D] = ul_inc(LP.max[D]!);
    RP.max[D] = smax;
    rebuild(mt, D, leaf, sib);
  } else {
    const sib = a[sb + off - 1]!;
    const smin = off - 1 > 0 ? ul_inc(rd(a, mt.wide, P * NODE_WORDS + PIV + off - 2)) : LP.min[D - 1]!;
    const smax = ul_dec(LP.min[D]!);
    bn_prepend_node(mt, sib, smax);
    LP.node[D] = sib;
    LP.off[D - 1] = off - 1;
    LP.min[D] = smin;
    LP.max[D] = smax;
    rebuild(mt, D, sib, leaf);
  }
}
