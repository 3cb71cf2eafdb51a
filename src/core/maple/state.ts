// The advanced API of lib/maple_tree.c on struct ma_state: MA_STATE,
// mas_walk, mas_find / mas_find_range, mas_find_rev / mas_find_range_rev,
// mas_next / mas_next_range, mas_prev / mas_prev_range, mas_pause,
// mas_store / mas_store_gfp, mas_insert, mas_erase, with the kernel's status
// machine (ma_start, ma_active, ma_none, ma_root, ma_pause, ma_overflow,
// ma_underflow, ma_error; the setup functions mas_find_setup,
// mas_next_setup, mas_prev_setup, mas_find_rev_setup are followed closely).
// The ma_state is a plain object. It does not keep a node pointer across
// calls: an active state means [index, last] is the current slot, and the
// next/previous slot is found by walking to last+1 / index-1 (the kernel
// steps through the node; the answer is the same while the tree is not
// changed behind the state's back, which the kernel forbids anyway).
// Left out: the node preallocation fields (alloc, mas_flags), resuming a
// gap search from a previous position, and lock assertions.

import {
  EINVAL,
  GFP_KERNEL,
  GFP_NOWAIT,
} from './constants.js';
import { mas_store_core, WR } from './store.js';
import {
  type MapleTree,
} from './tree.js';
import { type ulong, ul, ul_dec, ul_inc } from './ulong.js';
import { RW, key_offset, range_walk, rw_next_in_leaf, rw_prev_in_leaf } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const ULONG_MAX = Infinity;
const MAX_SAFE = 9007199254740991;

export type MaStatus = 'start' | 'active' | 'none' | 'root' | 'pause' | 'overflow' | 'underflow' | 'error';

export interface MaState {
  tree: MapleTree;
  index: ulong;
  last: ulong;
  status: MaStatus;
  /** Negative errno when status is 'error'. */
  error: number;
  /** Leaf the state last looked at, its range, offset and end (informational). */
  node: number;
  min: ulong;
  max: ulong;
  offset: number;
  end: number;
}

/** MA_STATE(); first and last may be any integer 0..2^64-1 (a bigint or an exact number). */
export function MA_STATE(mt: MapleTree, first: ulong, last: ulong): MaState {
  return { tree: mt, index: ul(first) ?? first, last: ul(last) ?? last, status: 'start', error: 0, node: 0, min: 0, max: ULONG_MAX, offset: 0, end: 0 };
}

export function mas_reset(mas: MaState): void {
  mas.status = 'start';
  mas.node = 0;
}
export function mas_set_range(mas: MaState, first: ulong, last: ulong): void {
  mas.index = ul(first) ?? first;
  mas.last = ul(last) ?? last;
  mas_reset(mas);
}
export function mas_set(mas: MaState, index: ulong): void {
  mas_set_range(mas, index, index);
}
export function mas_is_err(mas: MaState): boolean {
  return mas.status === 'error';
}
export function mas_pause(mas: MaState): void {
  mas.status = 'pause';
  mas.node = 0;
}

function from_rw(mas: MaState): ulong {
  mas.index = RW.first;
  mas.last = RW.last;
  mas.node = RW.node;
  mas.min = RW.nmin;
  mas.max = RW.nmax;
  mas.offset = RW.off;
  mas.end = RW.end;
  return RW.entry;
}

/** mas_walk(): entry at mas.index; index/last become its range (NULL ranges too). */
export function mas_walk(mas: MaState): ulong {
  const mt = mas.tree;
  mas.status = 'start';
  if (!mt.root_is_node) {
    if (mt.ma_root === 0) {
      mas.status = 'none';
      mas.index = 0;
      mas.last = ULONG_MAX;
      return 0;
    }
    if (mas.index === 0) {
      mas.status = 'root';
      mas.last = 0;
      return mt.ma_root;
    }
    mas.index = 1;
    mas.last = ULONG_MAX;
    mas.status = 'none';
    return 0;
  }
  mas.status = 'active';
  const index = mas.index;
  if (mt.wide === null && typeof index === 'number') {
    // Every word a number: walk_narrow()'s loop, inline here (a call costs bench_walk ~10%).
    const a = mt.arena;
    let n = mt.ma_root as number;
    let min = 0;
    let max = ULONG_MAX;
    for (;;) {
      const base = n * NODE_WORDS;
      const meta = a[base]!;
      const end = (meta >> 2) & 15;
      let o = 0;
      while (o < end && a[base + 1 + o]! < index) o++;
      const lo = o > 0 ? a[base + o]! + 1 : min;
      const hi = o < end ? a[base + 1 + o]! : max;
      const s = a[base + ((meta & 3) === 3 ? 10 : 16) + o]!;
      if ((meta & 3) === 1) {
        mas.index = lo;
        mas.last = hi;
        mas.node = n;
        mas.min = min;
        mas.max = max;
        mas.offset = o;
        mas.end = end;
        return s;
      }
      n = s;
      min = lo;
      max = hi;
    }
  }
  // mtree_range_walk() straight into the state.
  const a = mt.arena;
  const w = mt.wide;
  let n = mt.ma_root as number;
  let min: ulong = 0;
  let max: ulong = ULONG_MAX;
  for (;;) {
    const base = n * NODE_WORDS;
    const meta = a[base]!;
    const t = meta & 3;
    const end = (meta >> 2) & 15;
    let o = 0;
    if (typeof index === 'number') while (o < end && a[base + 1 + o]! < index) o++;
    else o = key_offset(a, w, base + 1, end, index);
    // rd() and ul_inc() inline (walk.ts).
    let lo: ulong = min;
    if (o > 0) {
      const v = a[base + o]!;
      const x = v > MAX_SAFE && v !== Infinity ? w![base + o]! : v;
      lo = typeof x === 'number' && x < MAX_SAFE ? x + 1 : ul_inc(x);
    }
    let hi: ulong = max;
    if (o < end) {
      const v = a[base + 1 + o]!;
      hi = v > MAX_SAFE && v !== Infinity ? w![base + 1 + o]! : v;
    }
    const sw = base + (t === 3 ? 10 : 16) + o;
    if (t === 1) {
      const v = a[sw]!;
      const s = v > MAX_SAFE && v !== Infinity ? w![sw]! : v;
      mas.index = lo;
      mas.last = hi;
      mas.node = n;
      mas.min = min;
      mas.max = max;
      mas.offset = o;
      mas.end = end;
      return s;
    }
    n = a[sw]!;
    min = lo;
    max = hi;
  }
}

/** mas_next_slot(): the slot after [index, last], skipping NULLs unless `empty`. */
function next_slot(mas: MaState, max: ulong, empty: boolean): ulong {
  const mt = mas.tree;
  if (mas.last >= max) {
    mas.status = 'overflow';
    return 0;
  }
  range_walk(mt, ul_inc(mas.last));
  for (;;) {
    const e = from_rw(mas);
    if (e !== 0 || empty) return e;
    if (mas.last >= max) {
      mas.status = 'overflow';
      return 0;
    }
    if (!rw_next_in_leaf(mt)) range_walk(mt, ul_inc(mas.last));
  }
}

/** mas_prev_slot(): the slot before [index, last], skipping NULLs unless `empty`. */
function prev_slot(mas: MaState, min: ulong, empty: boolean): ulong {
  const mt = mas.tree;
  if (mas.index <= min) {
    mas.status = 'underflow';
    return 0;
  }
  range_walk(mt, ul_dec(mas.index));
  for (;;) {
    const e = from_rw(mas);
    if (e !== 0 || empty) return e;
    if (mas.index <= min) {
      mas.status = 'underflow';
      return 0;
    }
    if (!rw_prev_in_leaf(mt)) range_walk(mt, ul_dec(mas.index));
  }
}

const OUT = { entry: 0 as ulong };

/** Read the status afresh (calls such as mas_walk change it behind TS's back). */
function st(mas: MaState): MaStatus {
  return mas.status;
}

/** mas_find_setup(): true when OUT.entry is already the answer. */
function find_setup(mas: MaState, max: ulong): boolean {
  OUT.entry = 0;
  switch (mas.status) {
    case 'active':
      return !(mas.last < max);
    case 'start':
      break;
    case 'pause':
      if (mas.last >= max) return true;
      mas.index = mas.last = ul_inc(mas.last);
      mas.status = 'start';
      break;
    case 'none':
      if (mas.last >= max) return true;
      mas.index = mas.last;
      mas.status = 'start';
      break;
    case 'underflow':
      if (mas.index >= max) {
        mas.status = 'overflow';
        return true;
      }
      mas.status = 'active';
      OUT.entry = mas_walk(mas);
      if (OUT.entry) return true;
      break;
    case 'overflow':
      if (mas.last >= max) return true;
      mas.status = 'active';
      OUT.entry = mas_walk(mas);
      if (OUT.entry) return true;
      break;
    case 'root':
      break;
    case 'error':
      return true;
  }
  if (st(mas) === 'start') {
    if (mas.index > max) return true;
    OUT.entry = mas_walk(mas);
    if (OUT.entry) return true;
  }
  if (st(mas) === 'root') {
    mas.status = 'none';
    mas.index = 1;
    mas.last = ULONG_MAX;
    return true;
  }
  if (st(mas) === 'none') return true;
  if (mas.index === max) return true;
  return false;
}

/** mas_find(): first entry at or after index (first call), then the next one. */
export function mas_find(mas: MaState, max: ulong): ulong {
  if (find_setup(mas, max)) return OUT.entry;
  const e = next_slot(mas, max, false);
  mas.status = 'active'; // the kernel ignores the overflow here
  return e;
}

/** mas_find_range(): like mas_find but also stops on NULL ranges. */
export function mas_find_range(mas: MaState, max: ulong): ulong {
  if (find_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, true);
}

/** mas_next_setup(). */
function next_setup(mas: MaState, max: ulong): boolean {
  OUT.entry = 0;
  const was_none = mas.status === 'none';
  if (mas.last >= max) {
    mas.status = 'overflow';
    return true;
  }
  switch (mas.status) {
    case 'active':
      return false;
    case 'none':
    case 'pause':
    case 'start':
      mas.status = 'start';
      mas_walk(mas);
      break;
    case 'overflow':
      mas.status = 'active';
      break;
    case 'underflow':
      mas.status = 'active';
      OUT.entry = mas_walk(mas);
      if (OUT.entry) return true;
      break;
    case 'root':
      break;
    case 'error':
      return true;
  }
  if (st(mas) === 'active') return false;
  if (st(mas) === 'root') {
    OUT.entry = 0;
    if (was_none && mas.index === 0) {
      mas.index = mas.last = 0;
      return true;
    }
    mas.index = 1;
    mas.last = ULONG_MAX;
    mas.status = 'none';
    return true;
  }
  return st(mas) === 'none';
}

/** mas_next(): next entry after the current one (after index from start). */
export function mas_next(mas: MaState, max: ulong): ulong {
  if (next_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, false);
}

/** mas_next_range(): the next range, NULL or not. */
export function mas_next_range(mas: MaState, max: ulong): ulong {
  if (next_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, true);
}

/** mas_prev_setup(). */
function prev_setup(mas: MaState, min: ulong): boolean {
  OUT.entry = 0;
  if (mas.index <= min) {
    mas.status = 'underflow';
    return true;
  }
  switch (mas.status) {
    case 'active':
      return false;
    case 'start':
      break;
    case 'none':
    case 'pause':
      mas.status = 'start';
      break;
    case 'underflow':
      mas.status = 'active';
      break;
    case 'overflow':
      mas.status = 'active';
      OUT.entry = mas_walk(mas);
      if (OUT.entry) return true;
      break;
    case 'root':
      break;
    case 'error':
      return true;
  }
  if (st(mas) === 'start') mas_walk(mas);
  const mt = mas.tree;
  if (st(mas) === 'root') {
    if (!mas.index) {
      mas.status = 'none';
      return true;
    }
    mas.index = mas.last = 0;
    OUT.entry = mt.root_is_node ? 0 : mt.ma_root;
    return true;
  }
  if (st(mas) === 'none') {
    if (mas.index) {
      mas.index = mas.last = 0;
      mas.status = 'root';
      OUT.entry = mt.root_is_node ? 0 : mt.ma_root;
      return true;
    }
    return true;
  }
  return false;
}

/** mas_prev(): previous entry. */
export function mas_prev(mas: MaState, min: ulong): ulong {
  if (prev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, false);
}

/** mas_prev_range(): the previous range, NULL or not. */
export function mas_prev_range(mas: MaState, min: ulong): ulong {
  if (prev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, true);
}

/** mas_find_rev_setup(). */
function find_rev_setup(mas: MaState, min: ulong): boolean {
  OUT.entry = 0;
  const mt = mas.tree;
  switch (mas.status) {
    case 'active':
      return mas.index < min;
    case 'start':
      break;
    case 'pause':
      if (mas.index <= min) {
        mas.status = 'underflow';
        return true;
      }
      mas.last = mas.index = ul_dec(mas.index);
      mas.status = 'start';
      break;
    case 'none':
      if (mas.index <= min) {
        mas.status = 'none';
        return true;
      }
      mas.last = mas.index;
      mas.status = 'start';
      break;
    case 'overflow':
      if (mas.index <= min) {
        mas.status = 'underflow';
        return true;
      }
      mas.status = 'active';
      break;
    case 'underflow':
      if (mas.index <= min) return true;
      mas.status = 'active';
      break;
    case 'root':
      break;
    case 'error':
      return true;
  }
  if (st(mas) === 'start') {
    if (mas.index < min) return true;
    OUT.entry = mas_walk(mas);
    if (OUT.entry) return true;
  }
  if (st(mas) === 'root') {
    mas.status = 'none';
    return true;
  }
  if (st(mas) === 'none') {
    mas.last = mas.index = 0;
    mas.status = 'root';
    OUT.entry = mt.root_is_node ? 0 : mt.ma_root;
    return true;
  }
  return mas.index < min;
}

/** mas_find_rev(): first entry at or below index (first call), then the previous one. */
export function mas_find_rev(mas: MaState, min: ulong): ulong {
  if (find_rev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, false);
}

/** mas_find_range_rev(): like mas_find_rev, also stopping on NULL ranges. */
export function mas_find_range_rev(mas: MaState, min: ulong): ulong {
  if (find_rev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, true);
}

/** The canonical entry check_write() accepted. */
const CW = { entry: 0 as ulong };

/**
 * Arguments the model cannot take (not unsigned longs) or a range with
 * index > last: -EINVAL. Like the kernel's mas_store(), no entry check.
 */
function check_write(mas: MaState, entry: ulong): number {
  const i = ul(mas.index);
  const l = ul(mas.last);
  const e = ul(entry);
  if (i === null || l === null || e === null) return -EINVAL;
  mas.index = i;
  mas.last = l;
  CW.entry = e;
  return i > l ? -EINVAL : 0;
}

function after_write(mas: MaState): void {
  mas.index = WR.index;
  mas.last = WR.last;
  mas.status = mas.tree.root_is_node ? 'active' : 'start';
  mas.node = 0;
}

/**
 * mas_store(): store entry over [index, last]; returns the entry that was at
 * index (NULL when none). Allocation uses GFP_NOWAIT; on failure the state
 * is in error (-ENOMEM) and the tree unchanged.
 */
export function mas_store(mas: MaState, entry: ulong): ulong {
  const err = check_write(mas, entry);
  if (err) {
    mas.status = 'error';
    mas.error = err;
    return 0;
  }
  const ret = mas_store_core(mas.tree, mas.index, mas.last, CW.entry, GFP_NOWAIT, false);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return 0;
  }
  const content = WR.content;
  after_write(mas);
  return content;
}

/** mas_store_gfp(): 0, -EINVAL or -ENOMEM. */
export function mas_store_gfp(mas: MaState, entry: ulong, gfp: number = GFP_KERNEL): number {
  const err = check_write(mas, entry);
  if (err) return err;
  const ret = mas_store_core(mas.tree, mas.index, mas.last, CW.entry, gfp, false);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return ret;
  }
  after_write(mas);
  return 0;
}

/** mas_insert() + mas_nomem(): store only if [index, last] is empty. */
export function mas_insert(mas: MaState, entry: ulong, gfp: number = GFP_KERNEL): number {
  const err = check_write(mas, entry);
  if (err) return err;
  const ret = mas_store_core(mas.tree, mas.index, mas.last, CW.entry, gfp, true);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return ret;
  }
  after_write(mas);
  return 0;
}

/**
 * mas_erase(): erase the whole range containing index; returns its entry.
 * index/last become the erased (NULL-merged) range. If the node allocation
 * fails the entry is still returned but the tree is unchanged, as in the
 * kernel (the state is left in error).
 */
export function mas_erase(mas: MaState): ulong {
  const i = ul(mas.index);
  if (i === null) return 0;
  mas.index = i;
  const entry = mas_walk(mas);
  if (!entry) return 0;
  const ret = mas_store_core(mas.tree, mas.index, mas.last, 0, GFP_KERNEL, false);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return entry;
  }
  after_write(mas);
  return entry;
}
