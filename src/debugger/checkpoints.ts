// Automatic checkpoints: a copy of the World every `interval` steps, taken
// after the step and before the pokes made at that step. Step 0 (the
// initial World) is always kept. When there are more than `max`, the one
// whose removal costs least is dropped, where the cost of a removal is the
// gap it leaves divided by its distance from where the user is: so
// checkpoints stay dense near the current step and exponentially spaced
// further away, and memory stays bounded however long the run.
//
// The interval adapts to the World's size: when a copy costs more than 5%
// of the time spent stepping since the last one, the interval doubles (up
// to 64 times the configured one), and it halves back when copies get
// cheap. (A clock here changes only where checkpoints fall, never what a
// step does.)
//
// The threads' programs (Thread.prog, the scenario's op lists) never change
// once the World is built, and can be most of its size: copies share them
// instead of cloning them (copy() / thaw()).
import { performance } from 'node:perf_hooks';
import type { Op, World } from '../core/machine/world.js';

export interface Checkpoint {
  step: number;
  /** The World without its threads' programs (see thaw()). */
  w: World;
  progs: Op[][];
}

const NO_PROG: Op[] = [];

/** A checkpoint of `w`: a deep copy sharing the threads' programs. */
export function copy(w: World): Checkpoint {
  const progs = w.threads.map((t) => t.prog);
  for (const t of w.threads) t.prog = NO_PROG;
  try {
    return { step: w.step, w: structuredClone(w), progs };
  } finally {
    w.threads.forEach((t, i) => (t.prog = progs[i]!));
  }
}

/** A live World made from a checkpoint (which stays as it is). */
export function thaw(c: Checkpoint): World {
  const w = structuredClone(c.w);
  w.threads.forEach((t, i) => (t.prog = c.progs[i] ?? NO_PROG));
  return w;
}

export class Checkpoints {
  /** Sorted by step; [0] is step 0. */
  private list: Checkpoint[] = [];
  /** Steps between checkpoints now (see the adaptation above). */
  interval: number;
  private last_step = -1;
  private last_at = 0;

  constructor(
    base: World,
    readonly base_interval: number,
    readonly max: number,
  ) {
    this.interval = base_interval;
    this.list.push(copy(base));
  }

  get count(): number {
    return this.list.length;
  }

  all(): readonly Checkpoint[] {
    return this.list;
  }

  has(step: number): boolean {
    const i = this.floor_index(step);
    return this.list[i]!.step === step;
  }

  /** The checkpoint at or before `step`. */
  floor(step: number): Checkpoint {
    return this.list[this.floor_index(step)]!;
  }

  /** The checkpoint strictly before `step` (step 0's for step <= 0). */
  before(step: number): Checkpoint {
    return this.list[this.floor_index(step - 1)]!;
  }

  private floor_index(step: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.list[mid]!.step <= step) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Keep a copy of `w` (at w.step, before that step's pokes); `focus` is where the user is. */
  add(w: World, focus: number): void {
    const step = w.step;
    const i = this.floor_index(step);
    const t0 = performance.now();
    const c = copy(w);
    const t1 = performance.now();
    if (this.last_step >= 0 && step > this.last_step) {
      const stepping = ((t0 - this.last_at) * this.interval) / (step - this.last_step);
      if (t1 - t0 > 0.05 * stepping && this.interval < this.base_interval * 64) this.interval *= 2;
      else if (t1 - t0 < 0.01 * stepping && this.interval > this.base_interval) this.interval /= 2;
    }
    this.last_step = step;
    this.last_at = t1;
    if (this.list[i]!.step === step) {
      if (step !== 0) this.list[i] = c;
      return;
    }
    this.list.splice(i + 1, 0, c);
    while (this.list.length > this.max) this.thin(focus);
  }

  /** Forget the checkpoints after `step` (the future changed). */
  drop_after(step: number): void {
    const i = this.floor_index(step);
    this.list.length = i + 1;
  }


  private thin(focus: number): void {
    const l = this.list;
    let best = -1;
    let best_cost = Infinity;
    // Never step 0, never the newest.
    for (let i = 1; i < l.length - 1; i++) {
      const gap = l[i + 1]!.step - l[i - 1]!.step;
      const cost = gap / (Math.abs(l[i]!.step - focus) + this.interval);
      if (cost < best_cost) {
        best_cost = cost;
        best = i;
      }
    }
    if (best > 0) l.splice(best, 1);
    else l.splice(1, 1);
  }
}
