// Splitting in lib/maple_tree.c: mas_split (split upwards from the leaf,
// one level at a time), mas_push_data (move data into a sibling with room
// instead, which stops the ripple: "push left" then "push right"),
// mast_split_data / mast_fill_bnode / mas_split_final_node.
// Left out: nothing that changes the result; nodes are rebuilt off-tree and
// switched in at the end instead of the kernel's topiary walk.

import {
  MT_SLOTS,
  MAPLE_TYPE_NAMES,
} from './constants.js';
import {
  SPLIT,
  bn,
  bn_copy,
  bn_prepend_node,
  bn_push,
  bn_reset,
  calc_split,
  no_null_split,
  node_from_bn,
  node_max_gap,
  update_gap,
} from './bignode.js';
import { trace_queue } from './hooks.js';
import { consume, consumed_reset, dispose } from './rebalance.js';
import {
  type MapleTree,
  internal_type,
  nend,
  ntype,
  rd,
  set_height,
  slot_base,
} from './tree.js';
import { type ulong, ul_dec, ul_inc } from './ulong.js';
import { LP } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

/** Replace the node at depth lvl of LP with n (same range), then free. */
function final_replace(mt: MapleTree, lvl: number, n: number): void {
  if (lvl === 0) {
    dispose(mt, 0);
    mt.ma_root = n;
    return;
  }
  const a = mt.arena;
  const p = LP.node[lvl - 1]!;
  a[p * NODE_WORDS + slot_base(ntype(a, p)) + LP.off[lvl - 1]!] = n;
  LP.node[lvl] = n;
  dispose(mt, 0);
  update_gap(mt, LP.node, LP.off, LP.min, LP.max, lvl);
}

function gap_of(mt: MapleTree, n: number, lo: ulong, hi: ulong, type: number): ulong {
  return type === maple_arange_64 ? node_max_gap(mt, n, lo, hi) : 0;
}

/** mas_push_data(): move bn's overflow into the left or right sibling. */
function try_push(mt: MapleTree, lvl: number, left: boolean): boolean {
  const a = mt.arena;
  const pl = lvl - 1;
  const P = LP.node[pl]!;
  const off = LP.off[pl]!;
  const pend = nend(a, P);
  const ptype = ntype(a, P);
  const psb = P * NODE_WORDS + slot_base(ptype);
  let sib: number;
  let smin: ulong;
  let smax: ulong;
  if (left) {
    if (off === 0) return false;
    sib = a[psb + off - 1]!;
    smax = ul_dec(LP.min[lvl]!);
    smin = off - 1 > 0 ? ul_inc(rd(a, mt.wide, P * NODE_WORDS + PIV + off - 2)) : LP.min[pl]!;
  } else {
    if (off >= pend) return false;
    sib = a[psb + off + 1]!;
    smin = ul_inc(LP.max[lvl]!);
    smax = off + 1 < pend ? rd(a, mt.wide, P * NODE_WORDS + PIV + off + 1) : LP.max[pl]!;
  }
  const type = bn.type;
  const sib_end = nend(a, sib);
  const slot_total = bn.n - 1 + sib_end;
  let space = 2 * MT_SLOTS[type]! - 2;
  if (type === maple_leaf_64) space--;
  if (LP.max[lvl] === ULONG_MAX) space--;
  if (slot_total >= space) return false;

  let split: number;
  if (left) {
    bn_prepend_node(mt, sib, smax);
    split = no_null_split(MT_SLOTS[type]! - 2, type, bn.n - 1);
  } else {
    bn_copy(mt, sib, smax, 0, sib_end);
    // The kernel's b_end is a count on this path (see no_null_split).
    split = no_null_split(slot_total - (MT_SLOTS[type]! - 2), type, bn.n);
  }
  trace_queue('split', MAPLE_TYPE_NAMES[type], bn.n);
  const lo = left ? smin : LP.min[lvl]!;
  const hi = left ? LP.max[lvl]! : smax;
  const lmax = bn.piv[split]!;
  const l = node_from_bn(mt, type, 0, split, lmax);
  const r = node_from_bn(mt, type, split + 1, bn.n - 1, hi);
  consume(sib);
  const lpos = left ? off - 1 : off;
  bn_reset(ptype);
  if (lpos > 0) bn_copy(mt, P, LP.max[pl]!, 0, lpos - 1);
  bn_push(lmax, l, gap_of(mt, l, lo, lmax, ptype));
  bn_push(hi, r, gap_of(mt, r, ul_inc(lmax), hi, ptype));
  if (lpos + 1 < pend) bn_copy(mt, P, LP.max[pl]!, lpos + 2, pend);
  consume(P);
  final_replace(mt, pl, node_from_bn(mt, ptype, 0, bn.n - 1, LP.max[pl]!));
  return true;
}

/** mas_split(): bn holds the overflowing contents of the leaf at depth D. */
export function do_split(mt: MapleTree, D: number): void {
  consumed_reset();
  consume(LP.node[D]!);
  let lvl = D;
  let prev_min: ulong = 0; // the kernel's prev_l_mas starts as MA_STATE(): min 0
  for (;;) {
    const type = bn.type;
    if (lvl > 0 && (try_push(mt, lvl, true) || try_push(mt, lvl, false))) return;
    calc_split(type, prev_min);
    const split = SPLIT.split;
    trace_queue('split', MAPLE_TYPE_NAMES[type], bn.n);
    const lo = LP.min[lvl]!;
    const hi = LP.max[lvl]!;
    const lmax = bn.piv[split]!;
    const l = node_from_bn(mt, type, 0, split, lmax);
    const r = node_from_bn(mt, type, split + 1, bn.n - 1, hi);
    if (lvl === 0) {
      // The root split: a new root above the two halves.
      const it = internal_type(mt);
      bn_reset(it);
      bn_push(lmax, l, gap_of(mt, l, lo, lmax, it));
      bn_push(hi, r, gap_of(mt, r, ul_inc(lmax), hi, it));
      const root = node_from_bn(mt, it, 0, 1, ULONG_MAX);
      dispose(mt, 0);
      mt.ma_root = root;
      set_height(mt, mt.height + 1);
      return;
    }
    const pl = lvl - 1;
    const a = mt.arena;
    const P = LP.node[pl]!;
    const off = LP.off[pl]!;
    const pend = nend(a, P);
    const ptype = ntype(a, P);
    bn_reset(ptype);
    if (off > 0) bn_copy(mt, P, LP.max[pl]!, 0, off - 1);
    bn_push(lmax, l, gap_of(mt, l, lo, lmax, ptype));
    bn_push(hi, r, gap_of(mt, r, ul_inc(lmax), hi, ptype));
    if (off < pend) bn_copy(mt, P, LP.max[pl]!, off + 1, pend);
    consume(P);
    prev_min = lo;
    lvl = pl;
    if (bn.n <= MT_SLOTS[ptype]!) {
      final_replace(mt, lvl, node_from_bn(mt, ptype, 0, bn.n - 1, LP.max[lvl]!));
      return;
    }
  }
}
