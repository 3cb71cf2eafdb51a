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
  entry_errno,
  index_errno,
} from './constants.js';
import { mas_store_core, WR } from './store.js';
import {
  type MapleTree,
} from './tree.js';
import { RW, range_walk, rw_next_in_leaf, rw_prev_in_leaf } from './walk.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const NODE_WORDS = 32;
const ULONG_MAX = Infinity;

export type MaStatus = 'start' | 'active' | 'none' | 'root' | 'pause' | 'overflow' | 'underflow' | 'error';

export interface MaState {
  tree: MapleTree;
  index: number;
  last: number;
  status: MaStatus;
  /** Negative errno when status is 'error'. */
  error: number;
  /** Leaf the state last looked at, its range, offset and end (informational). */
  node: number;
  min: number;
  max: number;
  offset: number;
  end: number;
}

export function MA_STATE(mt: MapleTree, first: number, last: number): MaState {
  return { tree: mt, index: first, last, status: 'start', error: 0, node: 0, min: 0, max: ULONG_MAX, offset: 0, end: 0 };
}

export function mas_reset(mas: MaState): void {
  mas.status = 'start';
  mas.node = 0;
}
export function mas_set_range(mas: MaState, first: number, last: number): void {
  mas.index = first;
  mas.last = last;
  mas_reset(mas);
}
export function mas_set(mas: MaState, index: number): void {
  mas_set_range(mas, index, index);
}
export function mas_is_err(mas: MaState): boolean {
  return mas.status === 'error';
}
export function mas_pause(mas: MaState): void {
  mas.status = 'pause';
  mas.node = 0;
}

function from_rw(mas: MaState): number {
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
export function mas_walk(mas: MaState): number {
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
  // mtree_range_walk() straight into the state.
  const a = mt.arena;
  const index = mas.index;
  let n = mt.ma_root;
  let min = 0;
  let max = ULONG_MAX;
  for (;;) {
    const base = n * NODE_WORDS;
    const meta = a[base]!;
    const t = meta & 3;
    const end = (meta >> 2) & 15;
    let o = 0;
    while (o < end && a[base + 1 + o]! < index) o++;
    const lo = o > 0 ? a[base + o]! + 1 : min;
    const hi = o < end ? a[base + 1 + o]! : max;
    const s = a[base + (t === 3 ? 10 : 16) + o]!;
    if (t === 1) {
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

/** mas_next_slot(): the slot after [index, last], skipping NULLs unless `empty`. */
function next_slot(mas: MaState, max: number, empty: boolean): number {
  const mt = mas.tree;
  if (mas.last >= max) {
    mas.status = 'overflow';
    return 0;
  }
  range_walk(mt, mas.last + 1);
  for (;;) {
    const e = from_rw(mas);
    if (e !== 0 || empty) return e;
    if (mas.last >= max) {
      mas.status = 'overflow';
      return 0;
    }
    if (!rw_next_in_leaf(mt)) range_walk(mt, mas.last + 1);
  }
}

/** mas_prev_slot(): the slot before [index, last], skipping NULLs unless `empty`. */
function prev_slot(mas: MaState, min: number, empty: boolean): number {
  const mt = mas.tree;
  if (mas.index <= min) {
    mas.status = 'underflow';
    return 0;
  }
  range_walk(mt, mas.index - 1);
  for (;;) {
    const e = from_rw(mas);
    if (e !== 0 || empty) return e;
    if (mas.index <= min) {
      mas.status = 'underflow';
      return 0;
    }
    if (!rw_prev_in_leaf(mt)) range_walk(mt, mas.index - 1);
  }
}

const OUT = { entry: 0 };

/** Read the status afresh (calls such as mas_walk change it behind TS's back). */
function st(mas: MaState): MaStatus {
  return mas.status;
}

/** mas_find_setup(): true when OUT.entry is already the answer. */
function find_setup(mas: MaState, max: number): boolean {
  OUT.entry = 0;
  switch (mas.status) {
    case 'active':
      return !(mas.last < max);
    case 'start':
      break;
    case 'pause':
      if (mas.last >= max) return true;
      mas.index = ++mas.last;
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
export function mas_find(mas: MaState, max: number): number {
  if (find_setup(mas, max)) return OUT.entry;
  const e = next_slot(mas, max, false);
  mas.status = 'active'; // the kernel ignores the overflow here
  return e;
}

/** mas_find_range(): like mas_find but also stops on NULL ranges. */
export function mas_find_range(mas: MaState, max: number): number {
  if (find_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, true);
}

/** mas_next_setup(). */
function next_setup(mas: MaState, max: number): boolean {
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
export function mas_next(mas: MaState, max: number): number {
  if (next_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, false);
}

/** mas_next_range(): the next range, NULL or not. */
export function mas_next_range(mas: MaState, max: number): number {
  if (next_setup(mas, max)) return OUT.entry;
  return next_slot(mas, max, true);
}

/** mas_prev_setup(). */
function prev_setup(mas: MaState, min: number): boolean {
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
export function mas_prev(mas: MaState, min: number): number {
  if (prev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, false);
}

/** mas_prev_range(): the previous range, NULL or not. */
export function mas_prev_range(mas: MaState, min: number): number {
  if (prev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, true);
}

/** mas_find_rev_setup(). */
function find_rev_setup(mas: MaState, min: number): boolean {
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
      mas.last = --mas.index;
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
export function mas_find_rev(mas: MaState, min: number): number {
  if (find_rev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, false);
}

/** mas_find_range_rev(): like mas_find_rev, also stopping on NULL ranges. */
export function mas_find_range_rev(mas: MaState, min: number): number {
  if (find_rev_setup(mas, min)) return OUT.entry;
  return prev_slot(mas, min, true);
}

function check_write(mas: MaState, entry: number): number {
  let err = index_errno(mas.index) || index_errno(mas.last) || entry_errno(entry);
  if (!err && mas.index === ULONG_MAX) err = -34; // -ERANGE: the pivot before ULONG_MAX is not representable
  if (!err && mas.index > mas.last) err = -EINVAL;
  return err;
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
export function mas_store(mas: MaState, entry: number): number {
  const err = check_write(mas, entry);
  if (err) {
    mas.status = 'error';
    mas.error = err;
    return 0;
  }
  const ret = mas_store_core(mas.tree, mas.index, mas.last, entry, GFP_NOWAIT, false);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return 0;
  }
  const content = WR.content;
  after_write(mas);
  return content;
}

/** mas_store_gfp(): 0, -EINVAL, -ERANGE or -ENOMEM. */
export function mas_store_gfp(mas: MaState, entry: number, gfp: number = GFP_KERNEL): number {
  const err = check_write(mas, entry);
  if (err) return err;
  const ret = mas_store_core(mas.tree, mas.index, mas.last, entry, gfp, false);
  if (ret) {
    mas.status = 'error';
    mas.error = ret;
    return ret;
  }
  after_write(mas);
  return 0;
}

/** mas_insert() + mas_nomem(): store only if [index, last] is empty. */
export function mas_insert(mas: MaState, entry: number, gfp: number = GFP_KERNEL): number {
  const err = check_write(mas, entry);
  if (err) return err;
  const ret = mas_store_core(mas.tree, mas.index, mas.last, entry, gfp, true);
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
export function mas_erase(mas: MaState): number {
  // Only a lookup key: 2^53 (where mt_find leaves off after 2^53-1) is fine.
  if (index_errno(mas.index) && mas.index !== 2 ** 53) return 0;
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
