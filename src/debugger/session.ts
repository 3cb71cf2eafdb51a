// The Session: one World under the debugger, with its history, breakpoints,
// watchpoints, event log and checkpoints. A plain TypeScript API that the
// REPL, the TUI, tests and the explorer drive.
//
// Time travel is rr's model made cheap by determinism: a copy of the World
// every `interval` steps (checkpoints.ts) and re-execution from the nearest
// one, following the recorded history (timeline.ts): the scheduler policy
// re-makes the same picks from the same World, the steps the user forced
// are forced again, and the pokes are re-applied at their steps. Going back
// and forward again replays; forcing a different thread or poking in the
// past starts a new timeline from there.
//
// Long operations are generators that yield every `slice` steps: the
// synchronous methods run them to the end (or until interrupt()), and
// start() hands them to a front end as a Job to run a slice at a time.
import { serialize } from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { Event } from '../core/machine/events.js';
import { all_invariants } from '../core/machine/invariants.js';
import type { Schedule, StepResult } from '../core/machine/machine.js';
import { describe_wait, wait_holds } from '../core/machine/model.js';
import { sched_init } from '../core/machine/scheduler.js';
import type { Thread, Violation, World } from '../core/machine/world.js';
import { BreakpointTable, dprintf_line, sample_event, watch_key, watch_value, type Breakpoint, type WatchValue } from './breakpoints.js';
import { Checkpoints, thaw } from './checkpoints.js';
import { DebugError, describe_error } from './errors.js';
import { EventLog } from './event_log.js';
import { expr_evals, expr_error } from './expr.js';
import { poke_def } from './pokes.js';
import { Runner } from './runner.js';
import type { Stop, StopReason } from './stop.js';
import { Timeline, type Poke } from './timeline.js';
// The built-in pokes (variant is in pokes.ts): maple trees and page tables.
import './trees.js';
import './pagetables.js';

export type { Stop, StopReason } from './stop.js';
export type { Poke } from './timeline.js';

export interface SessionOptions {
  /** Builds the initial World (called again by load()). */
  world: () => World;
  /** Steps between automatic checkpoints (default 1000). */
  interval?: number;
  /** Automatic checkpoints kept at most (default 64). */
  max_checkpoints?: number;
  /** Recent events kept in memory (default 20,000); older ones are regenerated. */
  event_window?: number;
  /** Steps between yields of long operations (default 4096). */
  slice?: number;
  /** A recorded schedule for the first steps to follow (a recording). */
  schedule?: Schedule;
  /**
   * A recorded history to start with as the session's own timeline (a
   * recording opened with `kvmdbg repl FILE`): per step the pick in the
   * Timeline's encoding, the choice answers of that step, and the pokes.
   */
  history?: SessionHistory | null;
}

export interface SessionHistory {
  picks: ArrayLike<number>;
  choices_at: (step: number) => readonly number[];
  pokes: Poke[];
}

/** A long operation a front end runs a slice at a time. */
export interface Job {
  /** Run one slice: the Stop when the operation is over, else null. */
  resume(): Stop | null;
}

/** A `checkpoint` the user made: a position that survives a change of timeline. */
export interface UserCheckpoint {
  id: number;
  step: number;
  /** The history up to `step` once the session's timeline stopped agreeing with it; null while it agrees. */
  detached: Timeline | null;
}

type Gen<T> = Generator<void, T, void>;

interface Hit {
  step: number;
  stop: Omit<Stop, 'step'>;
  bp: Breakpoint | null;
}

export class Session {
  /** The initial World, never run. */
  private base: World;
  private tl!: Timeline;
  private ck!: Checkpoints;
  private run!: Runner;
  readonly breakpoints = new BreakpointTable();
  private log: EventLog;
  private user_cps = new Map<number, UserCheckpoint>();
  private next_cp = 1;
  private interrupted = false;
  /** Changes whenever the timeline is cut or replaced (a recorder then compares it whole). */
  private epoch = 0;
  /** Where the current slice of a long operation started: expression evaluations and the clock. */
  private slice_evals = 0;
  private slice_t0 = 0;
  private watch_vals = new Map<number, WatchValue>();
  private readonly interval: number;
  private readonly max_checkpoints: number;
  private readonly slice: number;
  private ext: Schedule | null;
  /** Dropped by load() and a new seed: the recording no longer applies. */
  private history: SessionHistory | null;

  constructor(opts: SessionOptions) {
    this.interval = Math.max(1, opts.interval ?? 1000);
    this.max_checkpoints = Math.max(4, opts.max_checkpoints ?? 64);
    this.slice = Math.max(1, opts.slice ?? 4096);
    this.log = new EventLog(Math.max(16, opts.event_window ?? 20_000));
    this.ext = opts.schedule ? { picks: [...opts.schedule.picks], choices: [...opts.schedule.choices] } : null;
    this.history = opts.history ?? null;
    this.base = structuredClone(opts.world());
    this.reset();
  }

  // ---------------------------------------------------------------- state

  /** The live World. Front ends read it; they change it only through pokes. */
  get world(): World {
    return this.run.w;
  }

  /** The global step number: steps executed to reach the current state. */
  get step_no(): number {
    return this.run.w.step;
  }

  /** The last step of the recorded history (> step_no after going back). */
  get end_step(): number {
    return this.tl.length;
  }

  /** The thread that ran the current step (null at step 0). */
  get last_thread(): Thread | null {
    const s = this.step_no;
    if (s === 0 || s > this.tl.length) return null;
    return this.world.threads[this.tl.pick(s).id] ?? null;
  }

  /** Events of the current step. */
  last_events(): Event[] {
    const s = this.step_no;
    return s === 0 ? [] : this.events_between(s, s);
  }

  /** Changes whenever the timeline is cut or replaced; while it stays, the timeline only grows at its end. */
  get timeline_epoch(): number {
    return this.epoch;
  }

  /** The picks of steps k+1.. in the Timeline's encoding (~id where forced). */
  picks_since(k: number): Int32Array {
    return this.tl.picks_since(k);
  }

  /** A copy of the initial World (what step 0 was): src/explain replays the history on it without moving. */
  initial_world(): World {
    return structuredClone(this.base);
  }

  /** The recorded pokes, in order. */
  pokes(): readonly Poke[] {
    return this.tl.pokes;
  }

  /** Steps where the user forced the thread. */
  forced_steps(): number[] {
    return this.tl.forced_steps();
  }

  /** The schedule so far (what a recording stores). */
  schedule(): Schedule {
    return this.tl.schedule();
  }

  thread(name: string): Thread {
    const w = this.world;
    const t = /^\d+$/.test(name) ? w.threads[Number(name)] : w.threads.find((x) => x.name === name);
    if (!t) throw new DebugError('ENOENT', `no thread ${name}; the threads are ${w.threads.map((x) => x.name).join(', ')}`);
    return t;
  }

  /** Memory and bookkeeping of time travel, for `info checkpoints` and the benchmark. */
  checkpoint_info(): { interval: number; steps: number[]; user: UserCheckpoint[]; history_bytes: number; events_held: number; events_from: number } {
    return {
      interval: this.ck.interval,
      steps: this.ck.all().map((c) => c.step),
      user: [...this.user_cps.values()],
      history_bytes: this.tl.bytes(),
      events_held: this.log.length,
      events_from: this.log.lo,
    };
  }

  /** Bytes the automatic checkpoints hold, measured by serializing each World (slow: for `info` and benchmarks). */
  checkpoint_bytes(): number {
    let n = 0;
    for (const c of this.ck.all()) n += serialize(c.w).byteLength;
    return n;
  }

  // ------------------------------------------------------- lifecycle

  /** Back to step 0 of the initial World; history and checkpoints go, breakpoints stay. */
  reset(): void {
    this.epoch++;
    this.tl = new Timeline();
    if (this.ext) this.tl.ext = { picks: [...this.ext.picks], choices: [...this.ext.choices] };
    const h = this.history;
    if (h) {
      for (let i = 0; i < h.picks.length; i++) this.tl.push(h.picks[i]!, h.choices_at(i + 1));
      this.tl.pokes = h.pokes.map((p) => ({ ...p, args: structuredClone(p.args) }));
    }
    this.ck = new Checkpoints(this.base, this.interval, this.max_checkpoints);
    this.user_cps.clear();
    this.log.clear();
    this.restore(0);
  }

  /** A new initial World (`load`), with a recorded history to start with (a recording); breakpoints stay. */
  load(world: () => World, rec: { history?: SessionHistory | null; schedule?: Schedule | null } = {}): void {
    this.history = rec.history ?? null;
    this.ext = rec.schedule ? { picks: [...rec.schedule.picks], choices: [...rec.schedule.choices] } : null;
    this.base = structuredClone(world());
    this.reset();
  }

  /** `seed N`: the initial World with the scheduler seeded by N, from step 0. */
  set_seed(seed: number): void {
    const s = this.base.sched;
    this.base.sched = sched_init(s.policy, seed, s.script);
    this.history = null;
    this.reset();
  }

  get seed(): number {
    return this.base.sched.seed;
  }

  /** Ask the running long operation to stop at its next slice. */
  interrupt(): void {
    this.interrupted = true;
  }

  /** For a long operation that is not the Session's (an expression in the evaluator): forget old interrupts, then ask. */
  interrupt_watch(): () => boolean {
    this.interrupted = false;
    return () => this.interrupted;
  }

  // ------------------------------------------------------- execution

  /** N scheduler steps (stopping at breakpoints); with `thread`, each forced to run that thread. */
  step(n = 1, thread?: string): Stop {
    return this.drive(this.gen_step(n, thread));
  }

  /** Run until a breakpoint, a violation, the end, or `limit` steps. */
  continue(limit = Infinity): Stop {
    return this.drive(this.gen_forward(limit, undefined, true));
  }

  /** Go back N steps (exactly; breakpoints are not consulted). */
  reverseStep(n = 1): Stop {
    return this.drive(this.gen_reverse_step(n));
  }

  /** Go back to the latest earlier step where a breakpoint, watchpoint or violation would have stopped. */
  reverseContinue(): Stop {
    return this.drive(this.gen_reverse_continue());
  }

  /** Go to step N: backwards by re-execution, forwards along the history and then the scheduler, ignoring breakpoints. */
  goto(step: number): Stop {
    return this.drive(this.gen_goto(step));
  }

  /** The same operations as Jobs, for front ends that run a slice at a time. */
  start(op: { op: 'step'; n?: number; thread?: string } | { op: 'continue'; limit?: number } | { op: 'reverse-step'; n?: number } | { op: 'reverse-continue' } | { op: 'goto'; step: number }): Job {
    let g: Gen<Stop>;
    switch (op.op) {
      case 'step':
        g = this.gen_step(op.n ?? 1, op.thread);
        break;
      case 'continue':
        g = this.gen_forward(op.limit ?? Infinity, undefined, true);
        break;
      case 'reverse-step':
        g = this.gen_reverse_step(op.n ?? 1);
        break;
      case 'reverse-continue':
        g = this.gen_reverse_continue();
        break;
      case 'goto':
        g = this.gen_goto(op.step);
        break;
    }
    this.interrupted = false;
    this.slice_begin();
    return {
      resume: () => {
        const r = g.next();
        return r.done ? r.value : null;
      },
    };
  }

  /** `checkpoint`: remember this position; restart(id) comes back to it even from another timeline. */
  checkpoint(): UserCheckpoint {
    const cp: UserCheckpoint = { id: this.next_cp++, step: this.step_no, detached: null };
    this.user_cps.set(cp.id, cp);
    return cp;
  }

  restart(id: number): Stop {
    const cp = this.user_cps.get(id);
    if (!cp) throw new DebugError('ENOENT', `no checkpoint ${id}`);
    if (cp.detached) {
      // Back to the timeline the checkpoint was made on; the current one's checkpoints detach.
      this.detach_user_cps(-1);
      this.epoch++;
      this.tl = cp.detached.prefix(cp.step);
      cp.detached = null;
      this.ck = new Checkpoints(this.base, this.interval, this.max_checkpoints);
      this.log.clear();
      this.restore(0);
    }
    return this.goto(cp.step);
  }

  user_checkpoints(): UserCheckpoint[] {
    return [...this.user_cps.values()];
  }

  delete_checkpoint(id: number): void {
    if (!this.user_cps.delete(id)) throw new DebugError('ENOENT', `no checkpoint ${id}`);
  }

  // ------------------------------------------------------- breakpoints

  /**
   * Breakpoint changes go through the table (this.breakpoints); watchpoints
   * need their first value, and one whose expression throws now is refused.
   * `first`: the value already computed (the REPL evaluates it first, in a
   * way Ctrl-C can interrupt).
   */
  watch(expr: string, first?: { value: unknown }): Breakpoint {
    let value: unknown;
    if (first) value = first.value;
    else {
      this.breakpoints.check_expr(expr);
      try {
        value = watch_value({ type: 'watchpoint', expr } as Breakpoint, this.world, true).value;
      } catch (e) {
        throw expr_error(expr, e);
      }
    }
    const bp = this.breakpoints.add_watch(expr);
    this.watch_vals.set(bp.id, watch_key(value));
    return bp;
  }

  /** An event of `kind` to try a condition on when it is set: the latest one held, else one with every field at a neutral value. */
  sample_event(kind: string): { e: Event; real: boolean } {
    const e = this.log.last(1, (x) => x.kind === kind)[0];
    return e ? { e, real: true } : { e: sample_event(kind, this.world), real: false };
  }

  /** Current value of watchpoint `id`. */
  watch_now(id: number): unknown {
    return this.watch_vals.get(id)?.value;
  }

  /** After enabling breakpoints: watchpoints take their value now. */
  refresh_watches(): void {
    this.watch_vals.clear();
    for (const bp of this.breakpoints.watches) this.watch_vals.set(bp.id, watch_value(bp, this.world));
  }

  // ------------------------------------------------------- pokes

  /**
   * Change the World through a registered poke handler, recorded at the
   * current step (the future after it is dropped: a new timeline).
   */
  poke(name: string, args: Record<string, unknown>, text: string): unknown {
    const def = poke_def(name);
    const w = this.world;
    def.check?.(w, args);
    const saved = structuredClone(args);
    let result: unknown;
    try {
      result = def.apply(w, args);
    } catch (e) {
      // A refused poke leaves the World as it was; anything else may have half-changed it.
      if (!(e instanceof DebugError)) this.restore_here();
      throw e;
    }
    w.events.length = 0;
    const s = this.step_no;
    this.new_timeline(s);
    this.tl.add_poke({ step: s, name, args: saved, text });
    this.run.poke_i = this.tl.pokes.length;
    if (this.breakpoints.watches.length) this.refresh_watches();
    return result;
  }

  // ------------------------------------------------------- queries

  /** Evaluate every invariant that judges a state (not an event) now, plus the violations recorded so far. */
  check(): Violation[] {
    const w = this.world;
    const out: Violation[] = [...w.violations];
    for (const inv of all_invariants()) {
      if (inv.on || (inv.arch && inv.arch !== w.arch)) continue;
      let f;
      try {
        f = inv.check(w, null);
      } catch (e) {
        f = { message: `the invariant threw: ${describe_error(e).message}`, thread: '-', values: {} };
      }
      if (!f) continue;
      if (out.some((v) => v.invariant === inv.name && v.message === f.message)) continue;
      out.push({ invariant: inv.name, message: f.message, step: w.step, thread: f.thread, values: f.values });
    }
    return out;
  }

  /**
   * The last `n` events up to the current step whose kind `keep` accepts,
   * oldest first: from the recent window, regenerated from checkpoints for
   * older ranges.
   */
  events(n: number, keep: (e: Event) => boolean = () => true): Event[] {
    return this.drive(this.gen_events(n, keep));
  }

  /** Every event of steps [from, to] (to <= the current step). */
  events_between(from: number, to: number): Event[] {
    to = Math.min(to, this.step_no);
    if (from > to) return [];
    if (from > this.log.lo) return this.log.range(from, to);
    const out: Event[] = [];
    this.drive(this.gen_scan(from - 1, to, (_r, events) => {
      for (const e of events) out.push(e);
      return null;
    }));
    return out;
  }

  // ------------------------------------------------------- internals

  private drive<T>(g: Gen<T>): T {
    this.interrupted = false;
    this.slice_begin();
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
    }
  }

  private slice_begin(): void {
    this.slice_evals = expr_evals();
    this.slice_t0 = performance.now();
  }

  /**
   * A slice also ends when its breakpoint conditions and watchpoints have
   * taken 40 ms (dear expressions, or ones in the evaluator): so a front end
   * sees Ctrl-C soon however costly they are. (The clock decides only where
   * a slice ends, never what a step does.)
   */
  private slice_over(): boolean {
    const n = expr_evals();
    if (n - this.slice_evals < 16) return false;
    this.slice_evals = n;
    return performance.now() - this.slice_t0 > 40;
  }

  private stop(reason: StopReason, extra: Omit<Stop, 'reason' | 'step'> = {}): Stop {
    return { reason, step: this.step_no, ...extra };
  }

  /** Make the live Runner start from the checkpoint at or before `step` (no steps run). */
  private restore(step: number): void {
    const c = this.ck.floor(step);
    // The event window stays the contiguous history up to the current step.
    const here = this.run ? this.step_no : 0;
    if (c.step < here) this.log.truncate(c.step);
    else if (c.step > here) this.log.clear(c.step);
    this.run = new Runner(this.tl, thaw(c), this.ck, () => this.step_no);
    this.refresh_watches();
  }

  /** Rebuild the state at step `s` from a checkpoint (after a model threw mid-step or a poke half-applied). */
  private restore_to(s: number): void {
    this.restore(s);
    this.drive(this.gen_seek(s));
  }

  private restore_here(): void {
    this.restore_to(this.step_no);
  }

  /** The future after step `s` is about to change: forget it. */
  private new_timeline(s: number): void {
    if (s < this.tl.length || this.tl.poke_index(s + 1) < this.tl.pokes.length || (this.tl.ext && this.tl.ext.picks.length > s)) {
      this.epoch++;
      this.detach_user_cps(s);
      this.tl.truncate(s);
      this.ck.drop_after(s);
    }
  }

  /** User checkpoints after step `s` keep a copy of the history they were made on. */
  private detach_user_cps(s: number): void {
    for (const cp of this.user_cps.values()) if (cp.step > s && !cp.detached) cp.detached = this.tl.prefix(cp.step);
  }

  private gen_step(n: number, thread?: string): Gen<Stop> {
    if (thread === undefined) return this.gen_forward(n, undefined, true);
    const t = this.thread(thread);
    return this.gen_forward(n, t.id, true);
  }

  /**
   * The forward loop: up to `limit` steps (forcing thread `force` when
   * given); with `stops`, breakpoints, watchpoints and violations stop it.
   */
  private *gen_forward(limit: number, force: number | undefined, stops: boolean): Gen<Stop> {
    const printed: string[] = [];
    const slice = this.slice;
    const with_printed = (s: Stop): Stop => (printed.length ? { ...s, printed } : s);
    let n = 0;
    while (n < limit) {
      if ((n > 0 && n % slice === 0) || this.slice_over()) {
        yield;
        this.slice_begin();
        if (this.interrupted) return with_printed(this.stop('interrupted'));
      }
      const run = this.run;
      const w = run.w;
      const s = w.step + 1;
      if (force !== undefined) {
        const t = w.threads[force]!;
        if (!run.m.runnable().includes(force)) {
          const why = t.done ? `${t.name} has finished` : t.wait && !wait_holds(w, t) ? `${t.name} is blocked (${describe_wait(t.wait)})` : `${t.name} cannot run now`;
          if (n === 0) throw new DebugError('EBUSY', why);
          return with_printed(this.stop('blocked', { blocked: [why] }));
        }
        if (s <= this.tl.length && this.tl.raw(s) !== Timeline.encode(force, true)) this.new_timeline(s - 1);
      }
      let r: StepResult;
      try {
        r = run.step(force);
      } catch (e) {
        // The World is half-way through a step: rebuild the state before it.
        const { message } = describe_error(e);
        this.restore_to(s - 1);
        return with_printed(this.stop('error', { error: `step ${s}: ${message}` }));
      }
      if (r.status !== 'ok') {
        return with_printed(this.stop(r.status, r.status === 'deadlock' ? { blocked: r.blocked ?? [] } : {}));
      }
      n++;
      const events = r.events;
      for (let i = 0; i < events.length; i++) this.log.push(events[i]!);
      if (stops) {
        const hit = this.check_stops(r, run.w, printed, this.watch_vals);
        if (hit) return with_printed(this.finish_hit(hit));
      }
    }
    return with_printed(this.stop('limit'));
  }

  /**
   * Breakpoints, catchpoints and watchpoints after step r of `world`
   * (updating `watch_vals`). With `printed` (the live run) hits are counted,
   * ignore counts consumed and dprintfs printed; without, it only says
   * whether the step would stop (reverse searches).
   */
  private check_stops(r: StepResult, world: World, printed: string[] | null, watch_vals: Map<number, WatchValue>): Hit | null {
    const bpt = this.breakpoints;
    const live = printed !== null;
    let bp_hit: Hit | null = null;
    if (bpt.index.size) {
      for (const e of r.events) {
        const list = bpt.index.get(e.kind);
        if (!list) continue;
        for (const bp of list) {
          const v = bpt.test_event(bp, e, world);
          if (!v) continue;
          if (typeof v === 'object') {
            bp_hit ??= { step: world.step, stop: { reason: 'breakpoint', breakpoint: bp.id, event: e, error: v.error }, bp };
            continue;
          }
          if (live) {
            bp.hits++;
            if (bp.ignore > 0) {
              bp.ignore--;
              continue;
            }
          }
          if (bp.type === 'dprintf') {
            if (printed) printed.push(dprintf_line(bp, e, world));
            continue;
          }
          bp_hit ??= { step: world.step, stop: { reason: 'breakpoint', breakpoint: bp.id, event: e }, bp };
        }
      }
    }
    let v_hit: Hit | null = null;
    for (const v of r.violations) {
      const { bp, verdict } = bpt.violation_stops(v, world);
      if (!verdict) continue;
      if (typeof verdict === 'object') {
        v_hit ??= { step: world.step, stop: { reason: 'violation', violation: v, error: verdict.error, ...(bp ? { breakpoint: bp.id } : {}) }, bp };
        continue;
      }
      if (live && bp) {
        bp.hits++;
        if (bp.ignore > 0) {
          bp.ignore--;
          continue;
        }
      }
      v_hit ??= { step: world.step, stop: { reason: 'violation', violation: v, ...(bp ? { breakpoint: bp.id } : {}) }, bp };
    }
    let w_hit: Hit | null = null;
    if (bpt.watches.length) {
      for (const bp of bpt.watches) {
        const nv = watch_value(bp, world);
        const old = watch_vals.get(bp.id);
        watch_vals.set(bp.id, nv);
        if (!old || old.key === nv.key) continue;
        if (live) {
          bp.hits++;
          if (bp.ignore > 0) {
            bp.ignore--;
            continue;
          }
        }
        w_hit ??= { step: world.step, stop: { reason: 'watchpoint', breakpoint: bp.id, watch: { id: bp.id, expr: bp.expr!, old: old.value, new: nv.value } }, bp };
      }
    }
    return v_hit ?? bp_hit ?? w_hit;
  }

  /** Report a hit at the current step: temporary breakpoints go, command lists come along. */
  private finish_hit(hit: Hit): Stop {
    const bp = hit.bp;
    const stop: Stop = { ...hit.stop, step: this.step_no };
    if (bp) {
      if (bp.commands.length) stop.commands = [...bp.commands];
      if (bp.temporary) this.breakpoints.delete([bp.id]);
    }
    return stop;
  }

  private *gen_reverse_step(n: number): Gen<Stop> {
    const target = this.step_no - n;
    yield* this.gen_seek(Math.max(0, target));
    if (this.interrupted) return this.stop('interrupted');
    return this.stop(target <= 0 ? 'start' : 'limit');
  }

  private *gen_goto(step: number): Gen<Stop> {
    if (!Number.isInteger(step) || step < 0) throw new DebugError('EINVAL', `step ${step}: expected a step number >= 0`);
    if (step <= this.end_step) {
      yield* this.gen_seek(step);
      if (this.interrupted) return this.stop('interrupted');
      return this.stop(step === 0 ? 'start' : 'limit');
    }
    // Past the recorded history: along it first, then new steps from the scheduler.
    yield* this.gen_seek(this.end_step);
    if (this.interrupted) return this.stop('interrupted');
    return yield* this.gen_forward(step - this.step_no, undefined, false);
  }

  /** Move the live Runner to step `t` (<= end_step) without consulting breakpoints. */
  private *gen_seek(t: number): Gen<void> {
    // Backwards always from a checkpoint; forwards from one when it is ahead of here.
    if (t < this.step_no || this.ck.floor(t).step > this.step_no) this.restore(t);
    // A long replay leaves a checkpoint shortly before `t`, so that stepping
    // back again from there is quick however sparse the checkpoints are.
    const mark = Math.floor((t - 1) / this.interval) * this.interval;
    if (mark > this.step_no) this.run.mark = mark;
    let n = 0;
    while (this.step_no < t) {
      if (++n % this.slice === 0) {
        yield;
        if (this.interrupted) break;
      }
      const r = this.run.step();
      if (r.status !== 'ok') break;
      for (const e of r.events) this.log.push(e);
    }
    this.run.mark = -1;
    this.refresh_watches();
  }

  /**
   * Scan steps (from, to] on a scratch Runner started at the checkpoint at
   * or before `from`, calling `visit` after each step with its events; a
   * non-null answer ends the scan with it.
   */
  private *gen_scan<T>(from: number, to: number, visit: (r: StepResult, events: Event[], w: World) => T | null, init?: (w: World) => void): Gen<T | null> {
    const c = this.ck.floor(from);
    const run = new Runner(this.tl, thaw(c), null, () => this.step_no);
    let n = 0;
    if (run.w.step === from) init?.(run.w);
    while (run.w.step < to) {
      if (++n % this.slice === 0) {
        yield;
        if (this.interrupted) return null;
      }
      const r = run.step();
      if (r.status !== 'ok') return null;
      if (run.w.step < from) continue;
      if (run.w.step === from) {
        init?.(run.w);
        continue;
      }
      const got = visit(r, r.events, run.w);
      if (got !== null) return got;
    }
    return null;
  }

  private *gen_reverse_continue(): Gen<Stop> {
    let hi = this.step_no - 1;
    while (hi >= 1) {
      const c = this.ck.floor(hi - 1);
      let last: Hit | null = null;
      const vals = new Map<number, WatchValue>();
      yield* this.gen_scan(
        c.step,
        hi,
        (r, _events, w) => {
          const hit = this.check_stops(r, w, null, vals);
          if (hit) last = hit;
          return null;
        },
        (w) => {
          for (const bp of this.breakpoints.watches) vals.set(bp.id, watch_value(bp, w));
        },
      );
      if (this.interrupted) return this.stop('interrupted');
      if (last) {
        const hit = last as Hit;
        yield* this.gen_seek(hit.step);
        if (this.interrupted) return this.stop('interrupted');
        if (hit.bp) hit.bp.hits++;
        return this.finish_hit(hit);
      }
      hi = c.step;
    }
    yield* this.gen_seek(0);
    return this.stop('start');
  }

  private *gen_events(n: number, keep: (e: Event) => boolean): Gen<Event[]> {
    const recent = this.log.last(n, keep);
    let need = n - recent.length;
    let hi = this.log.lo;
    const older: Event[][] = [];
    while (need > 0 && hi > 0) {
      const c = this.ck.floor(hi - 1);
      const seg: Event[] = [];
      yield* this.gen_scan(c.step, hi, (_r, events) => {
        for (const e of events) if (keep(e)) seg.push(e);
        return null;
      });
      if (this.interrupted) break;
      const take = seg.slice(Math.max(0, seg.length - need));
      older.push(take);
      need -= take.length;
      hi = c.step;
    }
    return [...older.reverse().flat(), ...recent];
  }
}
