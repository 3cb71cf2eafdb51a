// One simulated machine under the explorer's control: the Machine on a
// tracked World, stepped with a forced thread and forced answers to the
// injected-fault choices, undone step by step.
import '../core/world_init.js';
import { Machine, type StepResult } from '../core/machine/machine.js';
import { wait_holds } from '../core/machine/model.js';
import type { ChoiceKind } from '../core/machine/scheduler.js';
import type { Thread, World } from '../core/machine/world.js';
import { create_world, type WorldConfig } from '../core/world_init.js';
import { Tracker, copy_plain, type Footprint, type SNode, type StepLog } from './track.js';

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
  /** How many answers each choice asked had (its kind's n). */
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
}

export class Sim {
  readonly m: Machine;
  readonly tr: Tracker;
  readonly initial: World;
  private readonly initial_shadow: SNode;
  private prefix: number[] = [];
  private asked: number[] = [];
  private used: number[] = [];

  constructor(
    readonly config: WorldConfig,
    opts: SimOptions = {},
  ) {
    this.initial = create_world(config);
    this.tr = new Tracker(copy_plain(this.initial), { undo: opts.undo ?? true, ...(opts.depth ? { depth: opts.depth } : {}) });
    this.initial_shadow = this.tr.snapshot_shadow();
    this.m = new Machine(this.tr.world, {
      ...(opts.invariants === false ? { invariants: false } : {}),
      chooser: (_w: World, _t: Thread, kind: ChoiceKind) => {
        const i = this.asked.length;
        this.asked.push(kind.n);
        const v = i < this.prefix.length ? this.prefix[i]! : 0;
        const a = v < kind.n ? v : 0;
        this.used.push(a);
        return a;
      },
    });
  }

  /** Back to the initial World (a fresh copy). */
  restart(): void {
    this.tr.reset(copy_plain(this.initial), this.initial_shadow);
    this.m.schedule.picks.length = 0;
    this.m.schedule.choices.length = 0;
  }

  get w(): World {
    return this.tr.raw;
  }

  runnable(): number[] {
    return this.m.runnable();
  }

  key(): string {
    return this.tr.key();
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
    const tr = this.tr;
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
    try {
      result = this.m.step(thread);
    } finally {
      var log = tr.end();
    }
    return { result, answers: this.used, asked: this.asked, log: tr.logging ? log : null, picks, choices };
  }

  undo(x: Exec): void {
    if (!x.log) throw new Error('undo without an undo log');
    this.tr.undo(x.log);
    this.m.schedule.picks.length = x.picks;
    this.m.schedule.choices.length = x.choices;
  }
}
