// The write path of lib/maple_tree.c: mas_wr_walk / mas_is_span_wr,
// mas_wr_store_type, mas_prealloc_calc, mas_wr_extend_null, mas_store_b_node,
// mas_wr_store_entry (exact fit, append, slot store, node store), the root
// cases (mas_store_root, mas_root_expand, mas_new_root) and
// mas_wr_spanning_store with mas_extend_spanning_null.
// Splits live in split.ts, rebalancing in rebalance.ts.
// Left out: resuming a write from an active ma_state (every write walks from
// the root, which gives the same result for a correctly set range), the
// MA_STATE_PREALLOC / mas_preallocate two-step API, bulk mode, and the
// wrong return value of a spanning mas_store (the kernel hands back whatever
// its walk last read, often a node pointer; here the entry at index is
// returned, as the documentation promises).

import { EEXIST, ENOMEM } from './constants.js';
import { bn_copy, bn_push, bn_reset, leaf_write_bn, update_gap } from './bignode.js';
import { alloc_hooked, alloc_would_fail, note_write, trace_flush } from './hooks.js';
import { do_rebalance, rebuild, consumed_reset } from './rebalance.js';
import { do_split } from './split.js';
import {
  type MapleTree,
  arena_reserve,
  aset,
  mt_in_rcu,
  node_alloc,
  rd,
  set_height,
  set_meta,
  subtree_free,
  node_free,
} from './tree.js';
import { type ulong, ul_dec, ul_inc, ul_low2 } from './ulong.js';
import { LP, RP, key_offset, path_walk, range_walk } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const MAX_SAFE = 9007199254740991;
const maple_leaf_64 = 1;

export const enum StoreType {
  invalid = 0,
  new_root,
  store_root,
  exact_fit,
  append,
  slot_store,
  node_store,
  spanning_store,
  split_store,
  rebalance,
}

/** Write-walk state (struct ma_wr_state plus the ma_state fields it touches). */
const WS = {
  type: StoreType.invalid as StoreType,
  /** Depth of the leaf (or of the node where a spanning write was found). */
  d: 0,
  index: 0 as ulong,
  last: 0 as ulong,
  off: 0,
  end: 0,
  r_min: 0 as ulong,
  r_max: 0 as ulong,
  offset_end: 0,
  end_piv: 0 as ulong,
  content: 0 as ulong,
};

/** What the last store saw and did: the overwritten entry and the final range. */
export const WR = { content: 0 as ulong, index: 0 as ulong, last: 0 as ulong };

/**
 * mas_wr_walk() + mas_wr_store_type(): find where [index, last] goes and
 * which kind of write it is. Fills LP from the root.
 */
function wr_prepare(mt: MapleTree, index: ulong, last: ulong, entry: ulong): void {
  WS.index = index;
  WS.last = last;
  if (!mt.root_is_node) {
    WS.type = StoreType.store_root;
    WS.content = index === 0 ? mt.ma_root : 0;
    return;
  }
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root as number;
  let min: ulong = 0;
  let max: ulong = ULONG_MAX;
  for (let d = 0; ; d++) {
    const base = n * NODE_WORDS;
    const t = a[base]! & 3;
    const end = (a[base]! >> 2) & 15;
    let o = 0;
    if (typeof index === 'number') while (o < end && a[base + PIV + o]! < index) o++;
    else o = key_offset(a, w, base + PIV, end, index);
    // rd() and ul_inc() inline (walk.ts).
    let r_min: ulong = min;
    if (o > 0) {
      const v = a[base + PIV + o - 1]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o - 1]! : v;
      r_min = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    let r_max: ulong = max;
    if (o < end) {
      const v = a[base + PIV + o]!;
      r_max = v > MAX_SAFE && v !== Infinity ? w![base + PIV + o]! : v;
    }
    LP.node[d] = n;
    LP.off[d] = o;
    LP.min[d] = min;
    LP.max[d] = max;
    const leaf = t === maple_leaf_64;
    // mas_is_span_wr()
    let span = false;
    if (last >= r_max) {
      const m = leaf ? max : r_max;
      if (last > m) span = true;
      else if (last === m) span = entry === 0 && last !== ULONG_MAX;
    }
    if (span) {
      WS.type = StoreType.spanning_store;
      WS.d = d;
      WS.content = 0;
      return;
    }
    const sw = base + (t === 3 ? 10 : 16) + o;
    if (leaf) {
      WS.d = d;
      WS.off = o;
      WS.end = end;
      WS.r_min = r_min;
      WS.r_max = r_max;
      const v = a[sw]!;
      WS.content = v > MAX_SAFE && v !== Infinity ? w![sw]! : v;
      leaf_store_type(mt, entry);
      return;
    }
    n = a[sw]!;
    min = r_min;
    max = r_max;
  }
}

/** mas_wr_end_piv(), mas_wr_extend_null() and the store-type decision. */
function leaf_store_type(mt: MapleTree, entry: ulong): void {
  const a = mt.arena;
  const w = mt.wide;
  const d = WS.d;
  const base = LP.node[d]! * NODE_WORDS;
  const nmin = LP.min[d]!;
  const nmax = LP.max[d]!;
  const end = WS.end;
  let index = WS.index;
  let last = WS.last;
  let off = WS.off;
  let offset_end = off;
  if (typeof last === 'number') {
    while (offset_end < end && last > a[base + PIV + offset_end]!) offset_end++;
  } else {
    while (offset_end < end && last > rd(a, w, base + PIV + offset_end)) offset_end++;
  }
  let end_piv: ulong = nmax;
  if (offset_end < end) {
    const v = a[base + PIV + offset_end]!; // rd() inline (walk.ts)
    end_piv = v > MAX_SAFE && v !== Infinity ? w![base + PIV + offset_end]! : v;
  }
  let r_min = WS.r_min;
  let r_max = WS.r_max;
  if (entry === 0) {
    if (a[base + 16 + offset_end] === 0) {
      last = end_piv;
    } else if (last === end_piv && end !== offset_end && a[base + 16 + offset_end + 1] === 0) {
      offset_end++;
      last = offset_end === end ? nmax : rd(a, w, base + PIV + offset_end);
      end_piv = last;
    }
    if (WS.content === 0) {
      index = r_min;
    } else if (index === r_min && off > 0 && a[base + 16 + off - 1] === 0) {
      off--;
      r_min = index = off > 0 ? ul_inc(rd(a, w, base + PIV + off - 1)) : nmin;
      r_max = rd(a, w, base + PIV + off);
    }
  }
  WS.index = index;
  WS.last = last;
  WS.off = off;
  WS.offset_end = offset_end;
  WS.end_piv = end_piv;
  WS.r_min = r_min;
  WS.r_max = r_max;
  if (r_min === index && r_max === last) {
    WS.type = StoreType.exact_fit;
    return;
  }
  if (index === 0 && last === ULONG_MAX) {
    WS.type = StoreType.new_root;
    return;
  }
  const new_end = end + 2 - (offset_end - off) - (r_min === index ? 1 : 0) - (end_piv === last ? 1 : 0);
  const rcu = mt_in_rcu(mt);
  if (new_end < 6 /* mt_min_slots[maple_leaf_64] */) {
    WS.type = d !== 0 ? StoreType.rebalance : StoreType.node_store;
  } else if (new_end >= 16 /* mt_slots[maple_leaf_64] */) {
    WS.type = StoreType.split_store;
  } else if (!rcu && off === end) {
    WS.type = StoreType.append;
  } else if (new_end === end && (!rcu || offset_end - off === 1)) {
    WS.type = StoreType.slot_store;
  } else {
    WS.type = StoreType.node_store;
  }
}

/** mas_prealloc_calc(): nodes the kernel preallocates for this write. */
function prealloc_calc(mt: MapleTree, entry: ulong): number {
  const h = mt.height;
  switch (WS.type) {
    case StoreType.new_root:
      return 1;
    case StoreType.store_root:
      if (WS.last !== 0 || WS.index !== 0) return 1;
      return ul_low2(entry) === 2 ? 1 : 0;
    case StoreType.spanning_store:
      return h * 3 + 1;
    case StoreType.split_store:
      return h * 2 + 1;
    case StoreType.rebalance:
      return h * 2 - 1;
    case StoreType.node_store:
      return mt_in_rcu(mt) ? 1 : 0;
    default:
      return 0;
  }
}

// ---- executing a write ------------------------------------------------------

/** mas_new_root(): the whole range [0, ULONG_MAX] holds one entry (or none). */
function new_root(mt: MapleTree, entry: ulong): void {
  const old = mt.root_is_node ? (mt.ma_root as number) : 0;
  if (entry === 0) {
    mt.ma_root = 0;
    mt.root_is_node = false;
    set_height(mt, 0);
  } else {
    const n = node_alloc(mt);
    aset(mt, n * NODE_WORDS + 16, entry);
    mt.arena[n * NODE_WORDS + PIV] = ULONG_MAX;
    set_meta(mt.arena, n, maple_leaf_64, 0, 0);
    mt.ma_root = n;
    mt.root_is_node = true;
    set_height(mt, 1);
  }
  if (old !== 0) subtree_free(mt, old);
}

/** mas_store_root() / mas_root_expand(). */
function store_root(mt: MapleTree, index: ulong, last: ulong, entry: ulong): void {
  if (entry === 0) {
    if (index === 0) mt.ma_root = 0;
    return;
  }
  if (last === 0 && index === 0 && ul_low2(entry) !== 2) {
    mt.ma_root = entry;
    return;
  }
  // mas_root_expand()
  const contents = mt.ma_root;
  const n = node_alloc(mt);
  const base = n * NODE_WORDS;
  let slot = 0;
  if (index !== 0) {
    if (contents !== 0) {
      aset(mt, base + 16, contents);
      if (index > 1) slot++;
    }
    aset(mt, base + PIV + slot++, ul_dec(index));
  }
  aset(mt, base + 16 + slot, entry);
  aset(mt, base + PIV + slot, last);
  if (last !== ULONG_MAX) mt.arena[base + PIV + ++slot] = ULONG_MAX;
  set_meta(mt.arena, n, maple_leaf_64, slot, 0);
  mt.ma_root = n;
  mt.root_is_node = true;
  set_height(mt, 1);
}

/** mas_store_b_node() for a write inside one leaf. */
function leaf_bn(mt: MapleTree, entry: ulong): void {
  const a = mt.arena;
  const w = mt.wide;
  const d = WS.d;
  const n = LP.node[d]!;
  const base = n * NODE_WORDS;
  const nmax = LP.max[d]!;
  const off = WS.off;
  bn_reset(maple_leaf_64);
  if (off > 0) bn_copy(mt, n, nmax, 0, off - 1);
  // rd() and ul_dec() inline (walk.ts).
  if (WS.r_min < WS.index) {
    const i = WS.index;
    const v = a[base + 16 + off]!;
    bn_push(typeof i === 'number' && i > 0 && i !== Infinity ? i - 1 : ul_dec(i), v > MAX_SAFE && v !== Infinity ? w![base + 16 + off]! : v, 0);
  }
  bn_push(WS.last, entry, 0);
  if (WS.last >= nmax) return;
  const oe = WS.offset_end;
  let piv: ulong = nmax;
  if (oe < WS.end) {
    const v = a[base + PIV + oe]!;
    piv = v > MAX_SAFE && v !== Infinity ? w![base + PIV + oe]! : v;
  }
  if (piv > WS.last) {
    const v = a[base + 16 + oe]!;
    bn_push(piv, v > MAX_SAFE && v !== Infinity ? w![base + 16 + oe]! : v, 0);
  }
  if (oe + 1 <= WS.end) bn_copy(mt, n, nmax, oe + 1, WS.end);
}

/** mas_wr_append(): the write starts in the last slot; extend the leaf in place. */
function wr_append(mt: MapleTree, entry: ulong): void {
  const a = mt.arena;
  const d = WS.d;
  const base = LP.node[d]! * NODE_WORDS;
  const end = WS.end;
  const new_end = end + 2 - (WS.r_min === WS.index ? 1 : 0) - (WS.end_piv === WS.last ? 1 : 0);
  const P = base + PIV;
  const S = base + 16;
  const content = rd(a, mt.wide, S + end);
  if (new_end < 15) aset(mt, P + new_end, end < 15 ? rd(a, mt.wide, P + end) : LP.max[d]!);
  if (new_end === end + 1) {
    if (WS.last === WS.r_max) {
      // Append to the end of the range.
      aset(mt, S + new_end, entry);
      aset(mt, P + end, ul_dec(WS.index));
    } else {
      // Append to the start of the range.
      aset(mt, S + new_end, content);
      aset(mt, P + end, WS.last);
      aset(mt, S + end, entry);
    }
  } else {
    // Inside the range without touching its boundaries.
    aset(mt, S + new_end, content);
    aset(mt, P + end + 1, WS.last);
    aset(mt, S + end + 1, entry);
    aset(mt, P + end, ul_dec(WS.index));
  }
  set_meta(a, LP.node[d]!, maple_leaf_64, new_end, 0);
}

/**
 * mas_wr_slot_store(): same number of slots, rewrite one or two in place.
 * Returns whether a NULL was among the slots touched (the gap may move).
 */
function wr_slot_store(mt: MapleTree, entry: ulong): boolean {
  const a = mt.arena;
  const base = LP.node[WS.d]! * NODE_WORDS;
  const off = WS.off;
  const P = base + PIV;
  const S = base + 16;
  let gap = a[S + off] === 0 || a[S + off + 1] === 0;
  if (WS.offset_end - off === 1) {
    if (WS.index === WS.r_min) {
      // The whole range and part of the next one.
      aset(mt, S + off, entry);
      aset(mt, P + off, WS.last);
    } else {
      // Part of the range and the whole next one.
      aset(mt, S + off + 1, entry);
      aset(mt, P + off, ul_dec(WS.index));
    }
  } else {
    // The whole next range and parts of its neighbours.
    if (a[S + off + 2] === 0) gap = true;
    aset(mt, S + off + 1, entry);
    aset(mt, P + off, ul_dec(WS.index));
    aset(mt, P + off + 1, WS.last);
  }
  return gap;
}

/** mas_wr_store_entry() once the walk and the allocation are done. */
function wr_execute(mt: MapleTree, entry: ulong): void {
  const d = WS.d;
  switch (WS.type) {
    case StoreType.store_root:
      store_root(mt, WS.index, WS.last, entry);
      return;
    case StoreType.new_root:
      new_root(mt, entry);
      return;
    case StoreType.exact_fit: {
      aset(mt, LP.node[d]! * NODE_WORDS + 16 + WS.off, entry);
      // Gaps only move when a slot turns NULL or stops being NULL.
      if ((entry === 0) !== (WS.content === 0)) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    }
    case StoreType.append:
      wr_append(mt, entry);
      if (WS.content === 0 || entry === 0) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    case StoreType.slot_store:
      if (wr_slot_store(mt, entry) || entry === 0) update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    case StoreType.node_store: {
      leaf_bn(mt, entry);
      if (WS.type === StoreType.node_store && mt_in_rcu(mt)) {
        // RCU readers may be in the old node: write a copy and swap it in.
        const old = LP.node[d]!;
        const n = node_alloc(mt);
        leaf_write_bn(mt, n, LP.max[d]!);
        if (d === 0) mt.ma_root = n;
        else {
          const p = LP.node[d - 1]!;
          mt.arena[p * NODE_WORDS + (((mt.arena[p * NODE_WORDS]! & 3) === 3) ? 10 : 16) + LP.off[d - 1]!] = n;
        }
        LP.node[d] = n;
        node_free(mt, old);
      } else {
        leaf_write_bn(mt, LP.node[d]!, LP.max[d]!);
      }
      update_gap(mt, LP.node, LP.off, LP.min, LP.max, d);
      return;
    }
    case StoreType.split_store:
      leaf_bn(mt, entry);
      do_split(mt, d);
      return;
    case StoreType.rebalance:
      leaf_bn(mt, entry);
      do_rebalance(mt, d);
      return;
    case StoreType.spanning_store:
      spanning_store(mt, entry);
      return;
    default:
      throw new Error('maple: invalid store type');
  }
}

/** mas_wr_spanning_store() with mas_extend_spanning_null(). */
function spanning_store(mt: MapleTree, entry: ulong): void {
  let index = WS.index;
  let last = WS.last;
  if (index === 0 && last === ULONG_MAX) {
    new_root(mt, entry);
    return;
  }
  const D = mt.height - 1;
  const smax = LP.max[WS.d]!;
  const rkey = last === ULONG_MAX || last === smax ? last : ul_inc(last);
  path_walk(mt, index, LP, D);
  path_walk(mt, rkey, RP, D);
  const a = mt.arena;
  const w = mt.wide;
  const ln = LP.node[D]!;
  const lb = ln * NODE_WORDS;
  const rn = RP.node[D]!;
  const rb = rn * NODE_WORDS;
  const lmin = LP.min[D]!;
  const lmax = LP.max[D]!;
  const rmax = RP.max[D]!;
  const rend = (a[rb]! >> 2) & 15;
  let loff = LP.off[D]!;
  let roff = RP.off[D]!;
  const lcontent = rd(a, w, lb + 16 + loff);
  const rcontent = rd(a, w, rb + 16 + roff);
  let l_rmin = loff > 0 ? ul_inc(rd(a, w, lb + PIV + loff - 1)) : lmin;
  const r_rmax = roff < rend ? rd(a, w, rb + PIV + roff) : rmax;
  if (entry === 0) {
    if (lcontent === 0) index = l_rmin;
    if (index === l_rmin && loff > 0 && a[lb + 16 + loff - 1] === 0) {
      loff--;
      index = l_rmin = loff > 0 ? ul_inc(rd(a, w, lb + PIV + loff - 1)) : lmin;
    }
    if (rcontent === 0) {
      if (last < r_rmax) last = r_rmax;
      roff++;
    } else if (last === r_rmax && last < rmax && a[rb + 16 + roff + 1] === 0) {
      last = roff + 1 < rend ? rd(a, w, rb + PIV + roff + 1) : rmax;
      roff++;
    }
  }
  WS.index = index;
  WS.last = last;
  if (index === 0 && last === ULONG_MAX) {
    new_root(mt, entry);
    return;
  }
  bn_reset(maple_leaf_64);
  if (loff > 0) bn_copy(mt, ln, lmax, 0, loff - 1);
  if (l_rmin < index) bn_push(ul_dec(index), lcontent, 0);
  bn_push(last, entry, 0);
  if (last < lmax) {
    // Cannot happen for a spanning write (last >= the left leaf's max), kept
    // for symmetry with mas_store_b_node().
    throw new Error('maple: spanning store inside one leaf');
  }
  if (rmax > last && roff <= rend) bn_copy(mt, rn, rmax, roff, rend);
  consumed_reset();
  rebuild(mt, D, ln, rn);
}

/**
 * The common store: mas_store_gfp() for stores, mas_insert() when `insert`.
 * Arguments must already be validated. Returns 0 or a negative errno; WR
 * holds the overwritten entry and the final (NULL-extended) range.
 */
export function mas_store_core(
  mt: MapleTree,
  index: ulong,
  last: ulong,
  entry: ulong,
  gfp: number,
  insert: boolean,
): number {
  wr_prepare(mt, index, last, entry);
  // The kernel returns garbage for spanning stores; give the documented
  // "first entry overwritten" (the one at index) instead.
  WR.content = WS.type === StoreType.spanning_store ? range_walk(mt, index) : WS.content;
  WR.index = WS.index;
  WR.last = WS.last;
  if (insert && WS.type === StoreType.store_root && WS.content !== 0) return -EEXIST;
  const req = prealloc_calc(mt, entry);
  if (req > 0 && alloc_hooked()) {
    if (alloc_would_fail(mt, req, gfp)) return -ENOMEM;
    // The hook may have used the maple code itself: walk again.
    wr_prepare(mt, index, last, entry);
  }
  if (insert && insert_exists(mt)) return -EEXIST;
  arena_reserve(mt, 3 * (mt.height + 2));
  wr_execute(mt, entry);
  WR.index = WS.index;
  WR.last = WS.last;
  note_write(mt);
  trace_flush();
  return 0;
}

/** mas_insert()'s occupancy check (plus a whole-range insert, see below). */
function insert_exists(mt: MapleTree): boolean {
  switch (WS.type) {
    case StoreType.store_root:
      return WS.content !== 0;
    case StoreType.spanning_store:
      return true;
    case StoreType.new_root: {
      // The kernel skips its check for this store type and would overwrite a
      // single-leaf tree; the documented semantics (-EEXIST when anything in
      // the range is occupied) are kept here instead.
      const a = mt.arena;
      const base = LP.node[WS.d]! * NODE_WORDS;
      for (let i = 0; i <= WS.end; i++) if (a[base + 16 + i] !== 0) return true;
      return false;
    }
    default:
      return WS.content !== 0 || WS.last > WS.r_max;
  }
}
