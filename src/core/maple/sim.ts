// A maple tree that belongs to the simulation: the same API, plus the
// `mt.*` events and allocation failure as a scheduler choice (the
// GFP_NOWAIT path: the explorer can make any allocation fail). Event
// fields carry exact values: a number up to 2^53-1, a bigint above.
import { emit } from '../machine/events.js';
import { choose, define_choice } from '../machine/scheduler.js';
import type { Thread, World } from '../machine/world.js';
import { GFP_NOWAIT } from './constants.js';
import { mt_set_alloc_fail_hook, mt_set_trace_hook } from './hooks.js';
import { mt_entries, mtree_erase, mtree_store_range } from './api.js';
import type { MapleTree } from './tree.js';
import { type ulong, ul_arg } from './ulong.js';
import { mtree_load } from './walk.js';

export const MT_ALLOC_FAIL = define_choice({
  name: 'mt_alloc_fail',
  n: 2,
  description: 'a GFP_NOWAIT maple-tree node allocation fails (-ENOMEM)',
  p_random: 0.05,
});

/** Run `fn` with node allocations answered by the scheduler and node splits reported as mt.node events. */
function traced<T>(w: World, t: Thread, gfp: number, fn: () => T): T {
  mt_set_alloc_fail_hook(gfp === GFP_NOWAIT ? () => choose(w, t, MT_ALLOC_FAIL) === 1 : null);
  mt_set_trace_hook((ev) => emit(w, t, 'mt.node', { op: ev.op, type: ev.type, slots: ev.slots }));
  try {
    return fn();
  } finally {
    mt_set_alloc_fail_hook(null);
    mt_set_trace_hook(null);
  }
}

/** mtree_store_range() with events; returns the errno result. */
export function sim_mtree_store_range(w: World, t: Thread, mt: MapleTree, first: ulong, last: ulong, entry: ulong, gfp: number): number {
  const overwritten = mtree_load(mt, first);
  const r = traced(w, t, gfp, () => mtree_store_range(mt, first, last, entry, gfp));
  emit(w, t, 'mt.store', { first: ul_arg(first), last: ul_arg(last), entry: ul_arg(entry), overwritten: r === 0 ? ul_arg(overwritten) : 0 });
  return r;
}

export function sim_mtree_erase(w: World, t: Thread, mt: MapleTree, index: ulong, range: [ulong, ulong]): ulong {
  const entry = traced(w, t, 0, () => mtree_erase(mt, index));
  emit(w, t, 'mt.erase', { index: ul_arg(index), range: [ul_arg(range[0]), ul_arg(range[1])], entry: ul_arg(entry) });
  return entry;
}

/** Every entry overlapping [first, last], with the whole range it is stored at. */
export function sim_mt_ranges(mt: MapleTree, first: ulong, last: ulong): { first: ulong; last: ulong; entry: ulong }[] {
  return [...mt_entries(mt, first, last)];
}
