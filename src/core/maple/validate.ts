// mt_validate() of lib/maple_tree.c (mas_validate_limits,
// mas_validate_child_slot, mas_validate_gaps, mt_validate_nulls and the
// minimum-size check), returning the problems found instead of BUG()ing.
// Stricter than the kernel in one place its own algorithms guarantee: no
// leaf but the last ends in NULL. Like the kernel it lets the last node of
// a level (max == ULONG_MAX) be below minimum occupancy, and it accepts a
// root leaf holding a single NULL (what erasing the only entry of a
// [0, ULONG_MAX] range leaves behind). It also checks the model's own
// bookkeeping: the height in ma_flags, leaves all at the same depth, and
// that every arena node is either reachable exactly once or on the free list.

import {
  MT_FLAGS_HEIGHT_MASK,
  MT_FLAGS_HEIGHT_OFFSET,
  MT_MIN_SLOTS,
} from './constants.js';
import { leaf_max_gap } from './bignode.js';
import {
  type MapleTree,
  aget,
  internal_type,
  nend,
  ngapoff,
  npivots,
  nslots,
  ntype,
  slot_base,
} from './tree.js';
import { type ulong, ul_big, ul_inc } from './ulong.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const GAP_A = 20;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

function show(x: ulong): string {
  return x === ULONG_MAX ? 'ULONG_MAX' : '0x' + ul_big(x).toString(16);
}

/** Check the whole tree; [] when it is sound. */
export function mt_validate(mt: MapleTree): string[] {
  const errs: string[] = [];
  const a = mt.arena;
  const fh = (mt.ma_flags & MT_FLAGS_HEIGHT_MASK) >> MT_FLAGS_HEIGHT_OFFSET;
  if (fh !== mt.height) errs.push(`height ${mt.height} but ma_flags says ${fh}`);
  if (mt.nr_nodes * NODE_WORDS > a.length) errs.push('arena shorter than nr_nodes');
  const seen = new Uint8Array(mt.nr_nodes);
  // free list
  let f = mt.free_head;
  let nfree = 0;
  while (f !== 0) {
    if (f <= 0 || f >= mt.nr_nodes || seen[f]) {
      errs.push(`free list corrupt at node ${f}`);
      break;
    }
    seen[f] = 2;
    if (ntype(a, f) !== 0) errs.push(`free node ${f} has a type`);
    nfree++;
    f = a[f * NODE_WORDS + 1]!;
  }
  if (nfree !== mt.nr_free) errs.push(`nr_free ${mt.nr_free} but the free list holds ${nfree}`);
  if (!mt.root_is_node) {
    if (mt.height !== 0) errs.push(`no root node but height ${mt.height}`);
    const used = mt.nr_nodes - 1 - nfree;
    if (used !== 0) errs.push(`${used} node(s) leaked (no root node)`);
    return errs;
  }
  if (mt.height < 1) errs.push('root node but height 0');
  const itype = internal_type(mt);
  const alloc = itype === maple_arange_64;
  let reached = 0;
  let prev_null = false;
  let prev_leaf_max: ulong | null = null;

  // Returns the node's largest gap (for arange parents).
  const visit = (n: number, min: ulong, max: ulong, depth: number): ulong => {
    const where = `node ${n} [${show(min)}-${show(max)}] depth ${depth}`;
    if (n <= 0 || n >= mt.nr_nodes) {
      errs.push(`${where}: bad node index`);
      return 0;
    }
    if (seen[n]) {
      errs.push(`${where}: ${seen[n] === 2 ? 'is on the free list' : 'reached twice'}`);
      return 0;
    }
    seen[n] = 1;
    reached++;
    const t = ntype(a, n);
    const end = nend(a, n);
    const base = n * NODE_WORDS;
    const leaf = depth === mt.height - 1;
    if (leaf && t !== maple_leaf_64) errs.push(`${where}: type ${t} at leaf depth`);
    if (!leaf && t !== itype) errs.push(`${where}: type ${t}, internal nodes of this tree are type ${itype}`);
    if (t === 0) return 0;
    const np = npivots(t);
    const ns = nslots(t);
    if (end >= ns) errs.push(`${where}: end ${end} >= slots ${ns}`);
    // Minimum occupancy. The kernel's mt_validate() wants end >= mt_min_slots
    // except for the last node of a level, but its own mab_calc_split() on
    // dense ranges (pivot - min < slots - 1) stops once the right node holds
    // mt_min_slots entries, i.e. end == mt_min_slots - 1, anywhere in the
    // tree (the next write to such a node rebalances it). That is the bound
    // the algorithms guarantee, so it is the one checked here.
    if (depth > 0 && end < MT_MIN_SLOTS[t]! - 1) errs.push(`${where}: insufficient, end ${end} < ${MT_MIN_SLOTS[t]! - 1}`);
    // pivots
    let lo = min;
    for (let i = 0; i < end; i++) {
      const pv = aget(mt, base + PIV + i);
      if (pv < lo) errs.push(`${where}: pivot[${i}] ${show(pv)} below ${show(lo)}`);
      if (pv >= max) errs.push(`${where}: pivot[${i}] ${show(pv)} not below max ${show(max)}`);
      lo = ul_inc(pv);
    }
    if (end < np && aget(mt, base + PIV + end) !== max) errs.push(`${where}: pivot[end=${end}] ${show(aget(mt, base + PIV + end))} != max`);
    for (let i = end + 1; i < np; i++) if (a[base + PIV + i] !== 0) errs.push(`${where}: pivot[${i}] set past the end`);
    const sb = base + slot_base(t);
    for (let i = end + 1; i < ns; i++) if (a[sb + i] !== 0) errs.push(`${where}: slot[${i}] set past the end`);
    if (t === maple_leaf_64) {
      if (prev_leaf_max === null ? min !== 0 : min !== ul_inc(prev_leaf_max)) errs.push(`${where}: leaves not contiguous`);
      prev_leaf_max = max;
      for (let i = 0; i <= end; i++) {
        const e = a[sb + i]!;
        if (e === 0) {
          if (prev_null) errs.push(`${where}: sequential NULLs at slot ${i}`);
          prev_null = true;
        } else {
          prev_null = false;
        }
      }
      if (a[sb + end] === 0 && max !== ULONG_MAX) errs.push(`${where}: ends in NULL but is not the last leaf`);
      return leaf_max_gap(mt, n, min, max);
    }
    if (alloc) for (let i = end + 1; i < ns; i++) if (a[base + GAP_A + i] !== 0) errs.push(`${where}: gap[${i}] set past the end`);
    let cmin = min;
    let mg: ulong = 0;
    for (let i = 0; i <= end; i++) {
      const cmax = i < end ? aget(mt, base + PIV + i) : max;
      const c = a[sb + i]!;
      if (c === 0) {
        errs.push(`${where}: missing child at slot ${i}`);
      } else {
        const g = visit(c, cmin, cmax, depth + 1);
        if (alloc) {
          const rec = aget(mt, base + GAP_A + i);
          if (rec !== g) errs.push(`${where}: gap[${i}] ${show(rec)} but the child's largest gap is ${show(g)}`);
          if (g > mg) mg = g;
        }
      }
      cmin = ul_inc(cmax);
    }
    if (alloc) {
      const off = ngapoff(a, n);
      if (off > end) errs.push(`${where}: gap offset ${off} past the end`);
      else if (aget(mt, base + GAP_A + off) !== mg) errs.push(`${where}: gap offset ${off} does not hold the largest gap ${show(mg)}`);
    }
    return mg;
  };
  visit(mt.ma_root as number, 0, ULONG_MAX, 0);
  if (prev_leaf_max !== ULONG_MAX) errs.push('the last leaf does not end at ULONG_MAX');
  const used = mt.nr_nodes - 1 - nfree;
  if (reached !== used) errs.push(`${used - reached} node(s) leaked (${used} in use, ${reached} reachable)`);
  return errs;
}
