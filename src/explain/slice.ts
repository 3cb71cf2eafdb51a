// The causal slice of a step (dynamic backward slicing, Agrawal and Horgan,
// "Dynamic Program Slicing", PLDI 1990, over the tracker's footprints): the
// steps whose writes reached what the step read, transitively, across
// threads. A read depends on the last earlier step whose write overlaps it
// (the same location, or one above or below it); a thread's control state
// (which label runs next, what it waits for) is not data and is left out,
// so that a thread's steps are in the slice only when a value flows.
//
// Then the context a reader needs to follow the race on the threads that
// appear (context()): their lock operations, requests, TLBIs and
// pending_unmap changes between the first slice step and the target.
import type { Event, EventKind } from '../core/machine/events.js';
import { SEP, type Trace, type TracedStep } from './trace.js';

export interface Dep {
  /** The earlier step that wrote what `loc` names. */
  from: number;
  loc: string;
}

export interface Slice {
  /** The step sliced from (the violating one, or the one asked for). */
  target: number;
  /** Step numbers in the slice, ascending (the target included). */
  steps: number[];
  /** For each slice step, what it read from which earlier slice step. */
  deps: Map<number, Dep[]>;
}

/** Locations of a thread's control state: not values the slice follows. */
function is_control(loc: string): boolean {
  if (!loc.startsWith('threads' + SEP)) return false;
  const p = loc.split(SEP);
  if (p.length === 2) return true; // the thread record as a whole
  const f = p[2]!;
  if (f === 'ip' || f === 'wait' || f === 'done' || f === 'steps' || f === 'prog' || f === '#keys') return true;
  if (f === 'stack') {
    // The stack itself (its length), a frame as a whole, which label is next.
    if (p.length <= 4) return true;
    const g = p[4]!;
    return g === 'pc' || g === 'fn' || g === '#keys';
  }
  return false;
}

function* prefixes(loc: string): Generator<string> {
  let i = loc.indexOf(SEP);
  while (i >= 0) {
    yield loc.slice(0, i);
    i = loc.indexOf(SEP, i + 1);
  }
}

/** For every step, which earlier step each of its reads depends on. */
export function dependences(trace: Trace): Map<number, Dep[]> {
  /** The last step that wrote exactly this location. */
  const exact = new Map<string, number>();
  /** The last step that wrote anything strictly below this location. */
  const below = new Map<string, number>();
  const out = new Map<number, Dep[]>();
  for (const s of trace.steps) {
    const deps: Dep[] = [];
    for (const loc of s.r) {
      if (is_control(loc) || loc.endsWith(SEP + '#keys')) continue;
      // The last write of this location, of something below it, or of something above it.
      let from = Math.max(exact.get(loc) ?? 0, below.get(loc) ?? 0);
      for (const p of prefixes(loc)) {
        const e = exact.get(p);
        if (e !== undefined && e > from) from = e;
      }
      if (from > 0 && from < s.step) deps.push({ from, loc });
    }
    out.set(s.step, deps);
    for (const loc of s.w) {
      exact.set(loc, s.step);
      for (const p of prefixes(loc)) below.set(p, s.step);
    }
  }
  return out;
}

/** The backward slice from step `target` (a step of `trace`). */
export function slice(trace: Trace, target: number): Slice {
  const all = dependences(trace);
  const seen = new Set<number>([target]);
  const work = [target];
  const deps = new Map<number, Dep[]>();
  while (work.length) {
    const s = work.pop()!;
    const d = all.get(s) ?? [];
    deps.set(s, d);
    for (const x of d) {
      if (seen.has(x.from)) continue;
      seen.add(x.from);
      work.push(x.from);
    }
  }
  return { target, steps: [...seen].sort((a, b) => a - b), deps };
}

/** Event kinds a reader of a race needs to see on the threads that take part. */
export const CONTEXT_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'lock.acquire',
  'lock.release',
  'request.make',
  'request.make_all',
  'request.check',
  'tlbi',
  'tlbi.hyp',
  'pending_unmap.set',
  'pending_unmap.clear',
  'vcpu.enter',
  'invalidate.start',
  'invalidate.begin',
  'invalidate.end',
  'fault.seq_snapshot',
  'fault.check',
  'fault.map',
  's2mmu.recycle',
  's2mmu.assign',
  'hv.suspend',
  'hv.unsuspend',
  'hv.inhibit',
  'srcu.sync',
  'rcu.free',
  'table.free',
  'pte.break',
]);

function has_context(s: TracedStep, kinds: ReadonlySet<EventKind>): boolean {
  return s.events.some((e: Event) => kinds.has(e.kind));
}

/**
 * The steps of the slice's threads, from the first slice step to the
 * target, that emitted a context event (see CONTEXT_KINDS).
 */
export function context(trace: Trace, sl: Slice, kinds: ReadonlySet<EventKind> = CONTEXT_KINDS): number[] {
  const threads = new Set<number>();
  const first = sl.steps[0] ?? sl.target;
  for (const n of sl.steps) threads.add(trace.steps[n - 1]!.thread);
  const out: number[] = [];
  for (let n = first; n <= sl.target; n++) {
    const s = trace.steps[n - 1]!;
    if (threads.has(s.thread) && has_context(s, kinds)) out.push(n);
  }
  return out;
}
