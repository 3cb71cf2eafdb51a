// One simulated machine under the explorer's control: the Machine on a
// tracked World, stepped with a forced thread and forced answers to the
// injected-fault choices, undone step by step.
import '../core/world_init.js';
import { Machine, type StepResult } from '../core/machine/machine.js';
import { wait_holds, wait_preempted } from '../core/machine/model.js';
import type { ChoiceKind } from '../core/machine/scheduler.js';
import type { Thread, World } from '../core/machine/world.js';
import { create_world, type WorldConfig } from '../core/world_init.js';
import { CHECK_MASK, Tracker, copy_plain, new_footprint, type Footprint, type SNode, type StepLog } from './track.js';

/** One step as the explorer names it: a thread and its answers to the choices the step asks. */
export interface Move {
  thread: number;
  /** Answers to the choices, in the order the step asked them (missing ones are 0). */
  answers: number[];
}

export interface Exec {
  result: StepResult;
  /** The full answer vector the step used (one per choice it asked). */
  answers: number[];
  /** How many answers each choice asked has for the search (its kind's `exhaustive`, else n). */
  asked: number[];
  log: StepLog | null;
  picks: number;
  choices: number;
}

export interface SimOptions {
  /** Keep an undo log (depth-first search). */
  undo?: boolean;
  /** Cut depth of the tracker's locations. */
  depth?: number;
  /** Check invariants (default true). */
  invariants?: boolean;
  /** No tracker: the Machine on the plain World, no keys, no undo (fast random walks). */
  track?: boolean;
  /** Put the step and event counters in the state key (tests of key53()'s argument). */
  key_counters?: boolean;
  /** Have the search try every answer of every choice, `exhaustive` or not (tests of that claim). */
  all_answers?: boolean;
  /** Key history fields (core/machine/history.ts) by their exact values (tests of the abstraction). */
  exact_history?: boolean;
  /** Keep the state key (default true); learning facts needs footprints only. */
  key?: boolean;
}

export class Sim {
  readonly m: Machine;
  private readonly tracker: Tracker | null;
  readonly initial: World;
  private readonly initial_shadow: SNode | null;
  /** Answers choices instead of the prefix (random walks, PCT). */
  answer: ((kind: ChoiceKind) => number) | null = null;
  private prefix: number[] = [];
  private asked: number[] = [];
  private used: number[] = [];
  private readonly key_counters: boolean;
  private readonly all_answers: boolean;

  constructor(
    readonly config: WorldConfig,
    opts: SimOptions = {},
  ) {
    this.initial = create_world(config);
    this.key_counters = opts.key_counters ?? false;
    this.all_answers = opts.all_answers ?? false;
    this.tracker = opts.track === false ? null : new Tracker(copy_plain(this.initial), { undo: opts.undo ?? true, exact_history: opts.exact_history ?? false, key: opts.key ?? true, ...(opts.depth ? { depth: opts.depth } : {}) });
    this.initial_shadow = this.tracker ? this.tracker.snapshot_shadow() : null;
    this.m = new Machine(this.tracker ? this.tracker.world : copy_plain(this.initial), {
      ...(opts.invariants === false ? { invariants: false } : {}),
      chooser: (_w: World, _t: Thread, kind: ChoiceKind) => {
        const i = this.asked.length;
        this.asked.push(this.all_answers ? kind.n : (kind.exhaustive ?? kind.n));
        const v = this.answer ? this.answer(kind) : i < this.prefix.length ? this.prefix[i]! : 0;
        const a = v < kind.n ? v : 0;
        this.used.push(a);
        return a;
      },
    });
  }

  /** Back to the initial World (a fresh copy). */
  restart(): void {
    if (this.tracker) this.tracker.reset(copy_plain(this.initial), this.initial_shadow!);
    else this.m.w = copy_plain(this.initial);
    this.m.schedule.picks.length = 0;
    this.m.schedule.choices.length = 0;
  }

  /** The tracker (a Sim made with track: false has none). */
  get tr(): Tracker {
    if (!this.tracker) throw new Error('explorer: this Sim does not track the World');
    return this.tracker;
  }

  get tracked(): boolean {
    return this.tracker !== null;
  }

  /** The plain World (not the proxy). */
  get w(): World {
    return this.tracker ? this.tracker.raw : this.m.w;
  }

  /**
   * Thread ids that can run now, ascending: Machine.runnable()'s rule
   * (a thread not done whose wait holds; daemons only while a non-daemon
   * thread is left), evaluated on the plain World so that it costs no
   * proxy traps. The explorer only runs a thread this returned, so exec()
   * tells Machine.step() not to compute the set again.
   */
  runnable(): number[] {
    const w = this.w;
    const out: number[] = [];
    let workers = false;
    for (const t of w.threads) {
      if (t.done) continue;
      if (!t.daemon) workers = true;
      if (wait_holds(w, t)) out.push(t.id);
    }
    return workers ? out : [];
  }

  /** Whether `thread` is off its CPU by preemption (an injected PREEMPT, a cond_resched that scheduled it out). */
  preempted(thread: number): boolean {
    return wait_preempted(this.w.threads[thread]!);
  }

  /** The state key as a string; see key53(). */
  key(): string {
    return this.tr.key() + ':' + this.time_left().toString(16);
  }

  /**
   * The state key as a number (53 bits), for compact visited sets: the
   * tracker's key of the simulated state (without the step and event
   * counters), and the time left on the timed waits.
   *
   * The model stamps the counters into the World (a TLB entry's
   * fill_step, a PTE's changed_step, RCU's section_start, a freed table's
   * freed_seq...) and declares those fields as history
   * (core/machine/history.ts): nothing branches on them but on a stamp's
   * sign, so the tracker hashes a stamp by its sign, and two Worlds equal
   * but for the counters and the stamps have the same futures; a spin loop
   * that leaves nothing else behind comes back to a visited state. The
   * exception is a deadline: a timed wait (kvm_preempt's `preempted`,
   * numa_scan_delay) ends when the step counter reaches `until` (left out
   * of the tracker's key), so this key carries `until - step` for each.
   * test/explore/key.test.ts compares searches with and without the
   * counters and with the stamps by value; history.test.ts checks the
   * declarations.
   */
  key53(x = this.key_x()): number {
    const k = this.tr.key53();
    let a = Math.imul(Math.floor(k / 2097152) ^ x, 0x9e3779b1);
    a ^= a >>> 13;
    let b = Math.imul((k % 2097152) ^ Math.imul(x, 0x85ebca6b), 0xc2b2ae35);
    b ^= b >>> 15;
    return (a >>> 0) * 2097152 + ((b >>> 0) & 0x1fffff);
  }

  /**
   * The 11 bits of the tracker's 64-bit key that key53() leaves out, mixed
   * with what it adds (the time left): beside key53(), 64 bits that the
   * visited sets compare, so that two states share a visit only when they
   * share all 64 (the verdict's bound on a missed state: keyset.ts).
   * `x`: key_x(), when the caller has it already for key53().
   */
  key_check(x = this.key_x()): number {
    return (this.tr.key_check() ^ Math.imul(x, 0x165667b1)) & CHECK_MASK;
  }

  /** What the key adds to the tracker's: the time left on timed waits (or the counters, for tests). */
  key_x(): number {
    const w = this.w;
    return this.key_counters ? Math.imul(w.step, 0x27d4eb2d) ^ w.seq : this.time_left();
  }

  /** A hash of the steps left before each timed wait's deadline (0 with none pending). */
  private time_left(): number {
    const w = this.w;
    let h = 0;
    for (const t of w.threads) {
      // The deadline is in the wait once blocked, in the frame's locals just before.
      const u = t.wait?.['until'] ?? t.stack[t.stack.length - 1]?.locals['until'];
      if (typeof u === 'number' && u > w.step) h = (Math.imul(h ^ (t.id + 1), 0x9e3779b1) + (u - w.step)) | 0;
    }
    return h;
  }

  /**
   * Run `thread` for one step, answering its choices from `prefix` (then 0).
   * `fp` collects the step's footprint, including what decides whether the
   * thread can run at all.
   */
  exec(thread: number, prefix: readonly number[], fp: Footprint | null): Exec {
    const picks = this.m.schedule.picks.length;
    const choices = this.m.schedule.choices.length;
    this.prefix = prefix as number[];
    this.asked = [];
    this.used = [];
    const tr = this.tracker;
    if (!tr) return { result: this.m.step(thread), answers: this.used, asked: this.asked, log: null, picks, choices };
    tr.begin(fp);
    if (fp) {
      tr.enab();
      const w = tr.world;
      const t = w.threads[thread]!;
      void t.done;
      wait_holds(w, t);
      if (t.daemon) for (const o of w.threads) void (o.done || o.daemon);
    }
    tr.pre();
    let result: StepResult;
    let log: StepLog;
    try {
      result = this.m.step(thread, true);
    } finally {
      log = tr.end();
    }
    return { result, answers: this.used, asked: this.asked, log: tr.logging ? log : null, picks, choices };
  }

  /** What `thread`'s wait predicate reads now (its footprint; nothing runs). */
  wait_reads(thread: number): Footprint {
    const tr = this.tr;
    const fp = new_footprint();
    tr.begin(fp);
    tr.enab();
    let log: StepLog;
    try {
      wait_holds(tr.world, tr.world.threads[thread]!);
    } finally {
      log = tr.end();
    }
    // A predicate may create state lazily: take it back, so the World stays the one the schedule reached.
    if (tr.logging && log.undo.length) tr.undo(log);
    return fp;
  }

  undo(x: Exec): void {
    if (!x.log) throw new Error('undo without an undo log');
    this.tr.undo(x.log);
    this.m.schedule.picks.length = x.picks;
    this.m.schedule.choices.length = x.choices;
  }
}
