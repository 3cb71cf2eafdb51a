// Module-level hooks standing in for the slab allocator (mas_alloc_nodes /
// mas_nomem in lib/maple_tree.c) and for the maple_tree tracepoints
// (include/trace/events/maple_tree.h).
// Left out: real memory accounting. The hook only decides whether an
// allocation of `nodes_needed` nodes fails; the tree itself never runs out.
// These hooks live outside the tree on purpose: the tree stays plain data.

import type { MapleTree } from './tree.js';

export type AllocFailHook = (mt: MapleTree, nodes_needed: number, gfp: number) => boolean;
export interface MapleTraceEvent {
  op: 'split' | 'merge' | 'rebalance';
  /** Node type name, e.g. 'maple_leaf_64'. */
  type: string;
  /** Entries involved (the size of the combined data). */
  slots: number;
}
export type TraceHook = (ev: MapleTraceEvent) => void;

let alloc_fail_hook: AllocFailHook | null = null;
let trace_hook: TraceHook | null = null;

/** Install the allocation-failure injector (null removes it). */
export function mt_set_alloc_fail_hook(fn: AllocFailHook | null): void {
  alloc_fail_hook = fn;
}

/** Install the observer of node splits/merges/rebalances (null removes it). */
export function mt_set_trace_hook(fn: TraceHook | null): void {
  trace_hook = fn;
}

/** Is an allocation-failure hook installed? */
export function alloc_hooked(): boolean {
  return alloc_fail_hook !== null;
}

/** Would allocating `count` nodes fail? (false when no hook is set). */
export function alloc_would_fail(mt: MapleTree, count: number, gfp: number): boolean {
  if (count <= 0 || alloc_fail_hook === null) return false;
  return alloc_fail_hook(mt, count, gfp);
}

// Trace events are queued while a tree is being rewritten and delivered once
// the tree is consistent again, so a hook may safely look at the tree.
const pending: MapleTraceEvent[] = [];

export function trace_queue(op: MapleTraceEvent['op'], type: string, slots: number): void {
  if (trace_hook !== null) pending.push({ op, type, slots });
}

export function trace_flush(): void {
  if (pending.length === 0) return;
  const evs = pending.splice(0, pending.length);
  const fn = trace_hook;
  if (fn === null) return;
  for (const ev of evs) fn(ev);
}

/**
 * A process-wide modification counter (not part of any tree, so it is never
 * copied or hashed). Iterators use it to notice that a callback wrote to a
 * tree and re-walk from the root instead of trusting a cached leaf.
 */
export const mod = { seq: 0, iterating: 0 };

/**
 * While an mt_for_each() callback runs (mod.iterating > 0), the sequence
 * number of the last write to each tree, so that writing to some other
 * tree does not make the iteration start over.
 */
export const written = new WeakMap<object, number>();

/** Count a modification of `mt`. */
export function note_write(mt: object): void {
  const s = ++mod.seq;
  if (mod.iterating !== 0) written.set(mt, s);
}
