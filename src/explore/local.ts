// Coarser transitions: which steps touch only the running thread's own
// frames, so that the explorer can run them at once after the thread's
// previous step instead of making each a scheduling point.
//
// A step s of thread t is local when its footprint (track.ts: what it
// read and wrote, its own enabledness check and the invariants it
// triggered included) shows that
//   - it read only t's own record and what never changes (the variants,
//     the arch), not the clocks, and asked no injected-fault choice the
//     search could still answer otherwise (with the fault budget spent,
//     every answer is 0 and the step is as deterministic as any other);
//   - it wrote only t's frames, t.retval, and t.wait left null (it did not
//     block, finish, move t.ip or change preempt_count/irqs_disabled);
//   - no frame it pushed, popped or changed, and neither the top frame
//     before nor after it, belongs to a function whose frames another
//     thread looks at (model.ts observed_frames()).
// Such a step is independent of every step of every other thread (nothing
// another thread or an invariant reads changes, and what it reads no other
// thread writes), cannot be disabled by one (t.wait is null, so t can run
// whatever the others do), and does not change whether another can run.
// So at the state after t's previous step, {s} is a persistent set
// (an ample set of size one, Peled's C1), invisible to every invariant
// (C2); the depth bound stops a run of local steps, which is the cycle
// proviso (C3): a search never follows local steps forever. Running s
// right away reaches the same end states and the same violations, and a
// violating local step is still checked (the invariants run after every
// step). With a preemption bound: moving t's local steps forward to its
// previous step never adds a context switch (it can only empty a later
// run of t's and join its neighbours), so a schedule with at most P
// preemptions maps to a coarse one with at most P.
// test/explore/coarse.test.ts compares the violations and end states
// reachable with and without it.
//
// With learned facts (facts.ts), "t's own" also takes in the locations the
// facts give to t alone (written only by t, read by nobody else), the
// fields of t's record and its observed frames among them, and the ones
// nobody writes; facts.ts argues why that stays sound when the search sees
// no breach of them.
import { frame_observed } from '../core/machine/model.js';
import type { World } from '../core/machine/world.js';
import type { Footprint } from './track.js';
import type { Ownership } from './facts.js';

const SEP = '\x01';

/** Locations no step writes: reading them does not make a step depend on another. */
function constant(loc: string): boolean {
  return loc === 'arch' || loc === 'variants' || loc.startsWith('variants' + SEP);
}

/** Whether the step of `thread` that left footprint `fp` is local (see above); `before`: its frames' functions before the step. */
export function local_step(w: World, thread: number, fp: Footprint, asked: number, before: readonly string[], facts: Ownership | null = null): boolean {
  if (fp.clock || asked !== 0) return false;
  const own = 'threads' + SEP + thread + SEP;
  for (const l of fp.r) if (!l.startsWith(own) && !constant(l) && !facts?.mine(thread, l, false)) return false;
  const t = w.threads[thread]!;
  if (t.done || t.wait !== null) return false;
  const after = t.stack;
  for (const l of fp.w) {
    if (!l.startsWith(own)) {
      if (facts?.mine(thread, l, true)) continue;
      return false;
    }
    const rest = l.slice(own.length);
    if (rest === 'retval' || rest === 'wait') continue;
    // A field of its record, or a frame another thread could look at, that the facts say no other thread touches.
    if (facts?.mine(thread, l, true)) continue;
    if (rest === 'stack' || rest === 'stack' + SEP + '#keys') {
      // Frames pushed or popped: the tops before and after.
      const top_before = before[before.length - 1];
      const top_after = after[after.length - 1]?.fn;
      if ((top_before && frame_observed(top_before)) || (top_after && frame_observed(top_after))) return false;
      continue;
    }
    if (!rest.startsWith('stack' + SEP)) return false;
    const i = Number(rest.slice(6).split(SEP)[0]);
    const fn = after[i]?.fn ?? before[i];
    if (fn === undefined || frame_observed(fn)) return false;
  }
  return true;
}

/**
 * Whether a step that was not local would be again whenever the thread's
 * record is the same (dfs.ts caches those records): only when it read,
 * outside the record, nothing but constants and locations that alone make
 * it not local. A location the facts give to the thread may hold another
 * value next time, and the step may then take another path and be local;
 * caching it would make a scheduling point that depends on the order the
 * search met the states in (sound, but the states counted would differ
 * with the number of workers).
 */
export function not_local_by_record(thread: number, fp: Footprint, facts: Ownership | null): boolean {
  if (!facts) return true;
  const own = 'threads' + SEP + thread + SEP;
  for (const l of fp.r) if (!l.startsWith(own) && !constant(l) && facts.mine(thread, l, false)) return false;
  return true;
}

/** The functions of `thread`'s frames, innermost last. */
export function frames_of(w: World, thread: number): string[] {
  const s = w.threads[thread]!.stack;
  const out = new Array<string>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i]!.fn;
  return out;
}

/** Add footprint `b` into `a`. */
export function add_footprint(a: Footprint, b: Footprint): void {
  for (const l of b.r) a.r.add(l);
  for (const l of b.w) a.w.add(l);
  if (b.clock) a.clock = true;
}
