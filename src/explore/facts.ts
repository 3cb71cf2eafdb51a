// Learned ownership: which locations of the World only one thread touches,
// and which nobody writes, so that coarse transitions (local.ts) may treat
// a step that touches only those as local, like a step that touches only
// its own frames. A vCPU's memory cache, its rcu_read_lock() nesting, the
// fields of its struct kvm_vcpu nobody else looks at in this scenario: on
// fault-vs-invalidate about half of the scheduling points go. The thread
// records are learned too: a thread's preempt_count, its op index, and the
// frames of a function an invariant may look into (observed_frames()),
// where in this scenario none does, are its own.
//
// Which locations are private depends on the scenario (vcpu->mode is the
// vCPU's own until another thread kicks it), so the facts are learned, from
// random runs of the scenario (every step's footprint and every blocked
// thread's wait predicate), and then checked: the search records the
// footprint of every step it runs and of every waiting thread's predicate
// at every state it visits, and a step of thread u that touches a location
// the facts give to another thread, or writes one they say nobody writes,
// is a breach. A search with a breach proves nothing: it goes on for a
// while only to learn (dfs.ts Dfs.breaches), and the explorer adds every
// breach it saw to the facts and starts the search again (explore.ts).
//
// Why a search without a breach is sound. Let F be the facts and G the
// search without them (own frames only). Take any path of G within the
// bounds that breaches F, and its first breaching step b. Before b every
// step keeps F, so a step that F makes local commutes with the other
// threads' steps before b (they touch neither its thread's private
// locations nor anything it reads that F calls constant): moving it
// forward to its thread's previous step, as the reduced search does, gives
// a path of the reduced search that reaches b in a state that differs at
// most in locations private to other threads and in their frames; b either
// reads one of those (a breach itself) or behaves the same (the same
// breach). The reduced search runs every move from every state it visits
// (a move a sleep set skips was run from a state where it did the same),
// so it sees a breach. With no breach seen, no path of G within the bounds
// breaches F, and on G's paths a step local by F is independent of every
// other thread's steps and invisible to the invariants (their reads count
// as the stepping thread's): a persistent set of size one, as in local.ts.
// Preemption and fault bounds are kept as local.ts argues.
import { is_index, new_footprint, type Footprint } from './track.js';
import { Sim } from './sim.js';
import { frames_of, local_step } from './local.js';
import type { Thread } from '../core/machine/world.js';
import type { WorldConfig } from '../core/world_init.js';
import { rand, random_answer, schedule_rng } from './walks.js';

const SEP = '\x01';

/** The facts as data (they go to workers and into shard results). */
export interface Facts {
  /** Locations touched in the learning runs, with the one thread that touched them, or -1 for several. */
  who: [string, number][];
  /** Locations written in the learning runs. */
  written: string[];
  /**
   * Labels ("fn:pc") whose step was never local in the learning runs run
   * again with the facts learned: dfs.ts takes a thread there as at a
   * scheduling point without running the step to see (never_local()).
   */
  never_local?: string[];
}

/** Touched by several threads, or unknown. */
export const SHARED = -1;
/** Read, never written. */
export const CONSTANT = -2;

/** A step that touched a location against the facts. */
export interface Breach {
  thread: number;
  loc: string;
  write: boolean;
  /** What the facts said: the owning thread, or CONSTANT. */
  was: number;
}

function each_prefix(loc: string, f: (p: string) => void): void {
  let i = loc.indexOf(SEP);
  while (i >= 0) {
    f(loc.slice(0, i));
    i = loc.indexOf(SEP, i + 1);
  }
}

/** Any element of an array: a breach at one element is learned for all (Ownership.learn_breach()). */
const ANY = '*';

/**
 * Every element of the array `loc` is in, by its last index, or null:
 * x86.flushes.5.targets is in x86.flushes.*; a thread's own index under
 * `threads` is kept (another thread's frames are not every thread's).
 */
function any_element(loc: string): string | null {
  const parts = loc.split(SEP);
  for (let i = parts.length - 1; i >= 1; i--) {
    if (!is_index(parts[i]!)) continue;
    if (i === 1 && parts[0] === 'threads') return null;
    parts[i] = ANY;
    return parts.slice(0, i + 1).join(SEP);
  }
  return null;
}

/** What never changes (local.ts reads it freely): not learned. Thread records are learned like the rest. */
function untracked(loc: string): boolean {
  return loc === 'arch' || loc === 'variants' || loc.startsWith('variants' + SEP);
}

export class Ownership {
  private readonly who = new Map<string, number>();
  private readonly written = new Set<string>();
  /** Owners and writes of everything at or below a location (its prefixes index it). */
  private readonly below = new Map<string, number>();
  private readonly written_below = new Set<string>();
  private readonly cache = new Map<string, number>();
  /** Some location learned for any element of an array (learn_breach()). */
  private wild = false;
  /** Facts.never_local, by function then label. */
  private readonly never = new Map<string, Set<string>>();

  constructor(f: Facts = { who: [], written: [] }) {
    for (const [l, t] of f.who) {
      this.touch(l, t);
      if (l.includes(SEP + ANY)) this.wild = true;
    }
    for (const l of f.written) this.write(l);
    for (const l of f.never_local ?? []) this.set_never_local(l);
  }

  get facts(): Facts {
    const f: Facts = { who: [...this.who].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)), written: [...this.written].sort() };
    if (this.never.size) f.never_local = [...this.never].flatMap(([fn, pcs]) => [...pcs].map((pc) => `${fn}:${pc}`)).sort();
    return f;
  }

  /** Whether a step at `fn`'s label `pc` was never local in the learning runs (Facts.never_local). */
  never_local(fn: string, pc: string): boolean {
    return this.never.get(fn)?.has(pc) === true;
  }

  /** Take the label "fn:pc" as never local (learn_from()). */
  set_never_local(label: string): void {
    const i = label.lastIndexOf(':');
    const fn = label.slice(0, i);
    let pcs = this.never.get(fn);
    if (!pcs) this.never.set(fn, (pcs = new Set()));
    pcs.add(label.slice(i + 1));
  }

  private touch(loc: string, t: number): void {
    // Seen already: `below` took t in for it and its prefixes then.
    const had = this.who.get(loc);
    if (had === t || had === SHARED) return;
    const merge = (m: Map<string, number>, k: string) => {
      const o = m.get(k);
      m.set(k, o === undefined || o === t ? t : SHARED);
    };
    merge(this.who, loc);
    merge(this.below, loc);
    each_prefix(loc, (p) => merge(this.below, p));
    this.cache.clear();
  }

  private write(loc: string): void {
    if (this.written.has(loc)) return;
    this.written.add(loc);
    this.written_below.add(loc);
    each_prefix(loc, (p) => this.written_below.add(p));
    this.cache.clear();
  }

  /** Learn from a step (or a wait predicate) of `thread`. */
  learn(thread: number, fp: Footprint): void {
    for (const l of fp.r) if (!untracked(l)) this.touch(l, thread);
    for (const l of fp.w) {
      if (untracked(l)) continue;
      this.touch(l, thread);
      this.write(l);
    }
  }

  /**
   * Learn what a breach showed: its thread touches (and maybe writes) that
   * location too, every element of that array (the next breach would be
   * the flush FIFO's next entry, or another field of it), and all of another
   * thread's stack when it looked at one of its frames.
   */
  learn_breach(b: Breach): void {
    const locs = [b.loc];
    // Another thread looking into this one's frames walks the whole stack (observed_frames()).
    const p = b.loc.split(SEP);
    if (p[0] === 'threads' && p[2] === 'stack' && p.length > 3) locs.push(p.slice(0, 3).join(SEP));
    const w = any_element(b.loc);
    if (w !== null) {
      locs.push(w);
      this.wild = true;
    }
    this.learn(b.thread, { r: new Set(locs), w: new Set(b.write ? locs : []), clock: false });
  }

  /**
   * What the facts say of `loc`, over every learned location that overlaps
   * it: the one thread that touched them (some written), CONSTANT (none
   * written), or SHARED (several threads, or nothing learned).
   */
  class_of(loc: string): number {
    const c = this.cache.get(loc);
    if (c !== undefined) return c;
    const none: [number | undefined, boolean] = [undefined, false];
    const any = this.wild ? any_element(loc) : null;
    const [owner, written] = this.overlapping(loc, any === null ? none : this.overlapping(any, none));
    // Nothing learned is shared; a location read by several threads and written by none is constant.
    const out = owner === undefined ? SHARED : !written ? CONSTANT : owner;
    if (this.cache.size > 1 << 16) this.cache.clear();
    this.cache.set(loc, out);
    return out;
  }

  /** The owner and whether written, over the learned locations overlapping `loc`, merged into `acc`. */
  private overlapping(loc: string, acc: [number | undefined, boolean]): [number | undefined, boolean] {
    let [owner, written] = acc;
    const merge = (o: number | undefined) => {
      if (o !== undefined) owner = owner === undefined || owner === o ? o : SHARED;
    };
    merge(this.below.get(loc));
    if (this.written_below.has(loc)) written = true;
    each_prefix(loc, (p) => {
      merge(this.who.get(p));
      if (this.written.has(p)) written = true;
    });
    return [owner, written];
  }

  /** The first location `thread`'s footprint touches against the facts, or null. */
  check(thread: number, fp: Footprint): Breach | null {
    for (const l of fp.w) {
      if (untracked(l)) continue;
      const c = this.class_of(l);
      if (c === CONSTANT || (c >= 0 && c !== thread)) return { thread, loc: l, write: true, was: c };
    }
    for (const l of fp.r) {
      if (untracked(l)) continue;
      const c = this.class_of(l);
      if (c >= 0 && c !== thread) return { thread, loc: l, write: false, was: c };
    }
    return null;
  }

  /** Whether `thread` may touch `loc` in a local step (reading: also a constant). */
  mine(thread: number, loc: string, write: boolean): boolean {
    if (untracked(loc)) return false;
    const c = this.class_of(loc);
    return c === thread || (!write && c === CONSTANT);
  }
}

/** The location as people read it. */
export function loc_name(loc: string): string {
  return loc.split(SEP).join('.');
}

/**
 * Learn the facts from `runs` random runs of the scenario (seeded from
 * `seed`, at most `depth` steps and `faults` injected faults each): every
 * step's footprint, and every waiting thread's wait predicate before each
 * step. Deterministic: the same scenario, seed and bounds give the same facts.
 */
export function learn_facts(config: WorldConfig, seed: number, depth: number, faults: number, runs = LEARN_RUNS): Ownership {
  // Footprints are all it needs: no undo log, no state key (rehashing was a third of its time).
  return learn_from(new Sim(config, { undo: false, key: false }), seed, depth, faults, runs);
}

/** learn_facts() on a given Sim. */
export function learn_from(sim: Sim, seed: number, depth: number, faults: number, runs = LEARN_RUNS): Ownership {
  const own = new Ownership();
  learning_runs(sim, seed, depth, faults, runs, (t, fp) => own.learn(t, fp), (t) => own.learn(t.id, sim.wait_reads(t.id)));
  // The same runs again with what they taught: which labels' steps were local under these facts.
  const local = new Map<string, boolean>();
  let before: string[] = [];
  let label = '';
  learning_runs(sim, seed, depth, faults, Math.min(runs, NEVER_LOCAL_RUNS), (t, fp) => {
    const was = local.get(label);
    if (was !== true) local.set(label, local_step(sim.w, t, fp, 0, before, own));
  }, undefined, (t) => {
    before = frames_of(sim.w, t);
    const f = sim.w.threads[t]!.stack.at(-1);
    label = f ? `${f.fn}:${f.pc}` : '';
  });
  for (const [l, was] of local) if (!was && l) own.set_never_local(l);
  sim.restart();
  return own;
}

/**
 * The learning runs: `runs` random runs from `seed`, each step's footprint
 * to `step` (after `pre` saw the thread about to run), and every waiting
 * thread to `waiting` before each step.
 */
function learning_runs(
  sim: Sim,
  seed: number,
  depth: number,
  faults: number,
  runs: number,
  step: (t: number, fp: Footprint) => void,
  waiting?: (t: Thread) => void,
  pre?: (t: number) => void,
): void {
  for (let i = 0; i < runs; i++) {
    const g = schedule_rng(seed ^ 0x1ea2, i);
    sim.restart();
    let used = 0;
    sim.answer = (kind) => {
      if (used >= faults) return 0;
      const a = random_answer(g, kind);
      if (a) used++;
      return a;
    };
    try {
      for (let s = 0; s < depth; s++) {
        if (waiting) for (const t of sim.w.threads) if (!t.done && t.wait !== null) waiting(t);
        const r = sim.runnable();
        if (r.length === 0) break;
        const t = r[rand(g, r.length)]!;
        pre?.(t);
        const fp = new_footprint();
        const x = sim.exec(t, [], fp);
        step(t, fp);
        if (x.result.violations.length) break;
      }
    } finally {
      sim.answer = null;
    }
  }
}

/** Random runs the facts are learned from. */
export const LEARN_RUNS = 64;

/** Learning runs run again to learn Facts.never_local: a quarter of them cost a quarter and learn nearly the same labels (default 38 as from 64, fault-vs-invalidate 24 of 26). */
export const NEVER_LOCAL_RUNS = 16;
