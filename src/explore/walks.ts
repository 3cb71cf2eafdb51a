// Seeded random walks and PCT.
//
// Random walk: at each step a thread drawn uniformly from the runnable
// ones; each injected-fault choice is answered as the scheduler's random
// policy answers it (its kind's p_random). Schedule i of a search with seed
// S draws from its own xoroshiro128+ stream, seeded from (S, i), so any
// schedule can be re-run alone, a budget of N means schedules 0..N-1, and a
// search splits over workers and shards by schedule index.
//
// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler
// with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010), bug depth d:
// the n threads get distinct random priorities d..d+n-1; d-1 change points
// are drawn uniformly from steps 1..k (k: an estimate of the longest run);
// at each step the runnable thread with the highest priority runs, and when
// the run reaches the i-th change point the running thread drops to
// priority i (below every initial priority). Its guarantee: a bug of depth d
// is found by one schedule with probability at least 1/(n k^(d-1)).
// Two departures, both needed by a model with spin loops: when the state
// after a step was already seen in this schedule (the thread spins waiting
// for a lower-priority one; without state keys (no --states): when it ran
// SPIN_RUN steps in a row while others could run), the spinning thread
// drops below every other (as a fair scheduler would let the others run;
// it does not use up a change point); and choices are answered at random
// as in a random walk.
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import type { ChoiceKind } from '../core/machine/scheduler.js';
import type { Violation } from '../core/machine/world.js';
import { MAX_STATES, type Finding } from './dfs.js';
import { KeySet } from './keyset.js';
import type { Sim } from './sim.js';

export type WalkStrategy = 'random' | 'pct';

/** Without state keys, PCT takes a thread that ran this many steps in a row while others could run for a spinning one. */
const SPIN_RUN = 2000;

export interface WalkOptions {
  strategy: WalkStrategy;
  seed: number;
  /** PCT bug depth d (>= 1). */
  pct_depth: number;
  /** Steps per schedule at most (longer ones are cut). */
  depth: number;
  /** Maximum non-zero choice answers per schedule. */
  faults: number;
  /** Schedules 0..budget-1 are run, by all parts together. */
  budget: number;
  /** Whether this part runs schedule i. */
  owns: (i: number) => boolean;
  /** Schedules at or above this index are skipped (a violation was found in an earlier one). */
  item_limit?: number;
  /** PCT's k; estimate_k() gives the same value in every part. */
  k?: number;
  /** Keep the visited state keys (coverage); off saves the hashing. */
  states?: boolean;
}

export interface WalkStats {
  transitions: number;
  schedules: number;
  max_depth: number;
  /** Schedules cut at the depth bound. */
  cut: number;
}

export type WalkStatus = 'running' | 'done' | 'violation' | 'budget';

/** The PRNG of schedule `i` of a search seeded with `seed`. */
export function schedule_rng(seed: number, i: number): RandomGenerator {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h ^= h >>> 15;
  return xoroshiro128plus(h | 0);
}

export function rand(g: RandomGenerator, n: number): number {
  return n <= 1 ? 0 : unsafeUniformIntDistribution(0, n - 1, g);
}

/** The answer a random scheduler gives to a choice (as sched_choose does under the random policy). */
export function random_answer(g: RandomGenerator, kind: ChoiceKind): number {
  if (kind.n <= 1) return 0;
  if (rand(g, 1024) >= Math.round(kind.p_random * 1024)) return 0;
  return 1 + rand(g, kind.n - 1);
}

/** PCT's k: the longest of a few random runs (the same in every part, since it depends only on the seed). */
export function estimate_k(sim: Sim, seed: number, depth: number, runs = 4): number {
  const w = new Walks(sim, { strategy: 'random', seed: seed ^ 0x5ca1ab1e, pct_depth: 1, depth, faults: Infinity, budget: runs, owns: () => true, states: false });
  w.run();
  return Math.max(1, w.stats.max_depth);
}

export class Walks {
  readonly states = new KeySet();
  readonly stats: WalkStats = { transitions: 0, schedules: 0, max_depth: 0, cut: 0 };
  finding: Finding | null = null;
  /** The first deadlock met (every thread left blocked); the search goes on. */
  deadlock: Finding | null = null;
  status: WalkStatus = 'running';
  /** Next schedule index to consider. */
  next = 0;

  constructor(
    readonly sim: Sim,
    readonly o: WalkOptions,
  ) {}

  /** Run schedules until done, a violation, the budget, or `deadline` (performance.now() ms). */
  run(deadline = Infinity): WalkStatus {
    while (this.status === 'running') {
      while (this.next < this.o.budget && !this.o.owns(this.next)) this.next++;
      if (this.next >= this.o.budget) {
        this.status = 'budget';
        break;
      }
      if (this.o.item_limit !== undefined && this.next >= this.o.item_limit) {
        this.status = 'done';
        break;
      }
      const i = this.next++;
      this.one(i);
      if (performance.now() >= deadline) break;
    }
    return this.status;
  }

  /** Schedule `i`. */
  one(i: number): void {
    const o = this.o;
    const sim = this.sim;
    const g = schedule_rng(o.seed, i);
    sim.restart();
    let faults = 0;
    sim.answer = (kind) => {
      if (faults >= o.faults) return 0;
      const a = random_answer(g, kind);
      if (a) faults++;
      return a;
    };
    const track = o.states !== false && sim.tracked;
    if (track) this.states.add(sim.key53());
    const pct = o.strategy === 'pct' ? new Pct(g, sim.w.threads.length, o.pct_depth, o.k ?? 1000) : null;
    // Spin detection needs state keys; without them, a thread that runs this long without a switch spins.
    const seen = pct && sim.tracked ? new Set<number>() : null;
    let run_of = 0;
    let last = -1;
    let steps = 0;
    try {
      for (;;) {
        const runnable = sim.runnable();
        if (runnable.length === 0) {
          const w = sim.w;
          const stuck = w.threads.filter((t) => !t.done && !t.daemon);
          if (stuck.length) {
            const v: Violation = {
              invariant: 'deadlock',
              message: `every thread left is blocked: ${stuck.map((t) => t.name).join(', ')}`,
              step: w.step,
              thread: stuck[0]!.name,
              values: { blocked: stuck.map((t) => t.name) },
            };
            if (!this.deadlock) this.deadlock = this.finding_of([v], i);
          }
          break;
        }
        if (steps >= o.depth) {
          this.stats.cut++;
          break;
        }
        const thread = pct ? pct.pick(runnable, steps) : runnable[rand(g, runnable.length)]!;
        const x = sim.exec(thread, [], null);
        steps++;
        this.stats.transitions++;
        if (pct && !seen) {
          run_of = thread === last ? run_of + 1 : 1;
          last = thread;
          if (run_of >= SPIN_RUN && runnable.length > 1) {
            pct.spinning(thread);
            run_of = 0;
          }
        }
        if (track && this.states.size < MAX_STATES) this.states.add(sim.key53());
        if (seen) {
          // The state without the step counters: back where it was means spinning.
          const k = sim.tr.key53();
          if (seen.has(k)) pct!.spinning(thread);
          else seen.add(k);
        }
        if (x.result.violations.length) {
          this.found(x.result.violations, i);
          break;
        }
      }
    } finally {
      sim.answer = null;
    }
    if (steps > this.stats.max_depth) this.stats.max_depth = steps;
    this.stats.schedules++;
  }

  private finding_of(violations: Violation[], item: number): Finding {
    const s = this.sim.m.schedule;
    return {
      violation: violations[0]!,
      violations: [...violations],
      schedule: { picks: [...s.picks], choices: [...s.choices] },
      steps: s.picks.length,
      item,
    };
  }

  private found(violations: Violation[], item: number): void {
    this.finding = this.finding_of(violations, item);
    this.status = 'violation';
  }
}

/** PCT's priorities and change points for one schedule. */
class Pct {
  private readonly prio: number[];
  /** Step numbers (1-based) where the running thread drops, in order; the i-th drop goes to priority d-1-i. */
  private readonly change: Map<number, number>;
  private low = 0;

  constructor(g: RandomGenerator, n: number, d: number, k: number) {
    // Distinct random priorities d..d+n-1 (a Fisher-Yates shuffle).
    const p = Array.from({ length: n }, (_, i) => d + i);
    for (let i = n - 1; i > 0; i--) {
      const j = rand(g, i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    this.prio = p;
    this.change = new Map();
    for (let i = 1; i < d; i++) this.change.set(1 + rand(g, k), i);
  }

  /** The runnable thread with the highest priority; at a change point the one about to run drops first. */
  pick(runnable: number[], steps: number): number {
    let best = this.best(runnable);
    const c = this.change.get(steps + 1);
    if (c !== undefined) {
      this.prio[best] = c;
      best = this.best(runnable);
    }
    return best;
  }

  /** `thread` spins: below everyone (and below the change-point priorities). */
  spinning(thread: number): void {
    this.prio[thread] = --this.low;
  }

  private best(runnable: number[]): number {
    let best = runnable[0]!;
    for (const t of runnable) if (this.prio[t]! > this.prio[best]!) best = t;
    return best;
  }
}
