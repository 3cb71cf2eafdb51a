// The step interpreter. One call of step() picks a runnable thread and runs
// exactly one label of its innermost model function, then drains the events
// that label emitted to the subscribers and checks the invariants.
import type { Event, EventKind } from './events.js';
import { emit } from './events.js';
import { hash_value } from './hash.js';
import { all_invariants, type Invariant } from './invariants.js';
import { BLOCKED, RETURN, describe_wait, lookup_fn, wait_holds, wait_sleeps } from './model.js';
import { sched_choose, sched_pick, set_chooser, type ChoiceKind, type Chooser } from './scheduler.js';
import { thread_struct } from './thread.js';
import type { Locals, Thread, Violation, World } from './world.js';

export type StopKind = 'ok' | 'end' | 'deadlock';

export interface StepResult {
  status: StopKind;
  /** The thread that ran (status 'ok'). */
  thread: Thread | null;
  events: Event[];
  violations: Violation[];
  /** For 'deadlock': each blocked thread and what it waits for. */
  blocked?: string[];
}

/** A recorded schedule: the thread picked at each step and every choice answer. */
export interface Schedule {
  picks: number[];
  choices: number[];
}

export type Subscriber = (e: Event) => void;

/** Keys of the World that are history or bookkeeping rather than state. */
const NOT_STATE = ['step', 'seq', 'events', 'metrics', 'sched', 'violations'] as const;

export class Machine {
  readonly subscribers: Subscriber[] = [];
  readonly schedule: Schedule = { picks: [], choices: [] };
  /** Replay source: answers picks and choices from here while it lasts. */
  replay: { s: Schedule; pick: number; choice: number } | null = null;
  private readonly unconditional: Invariant[] = [];
  private readonly by_kind = new Map<string, Invariant[]>();
  /**
   * Answers injected-fault choices instead of the World's policy (after the
   * replay source, if any, runs out): the explorer branches on them.
   */
  answer: Chooser | null;
  private readonly chooser = (w: World, t: Thread, kind: ChoiceKind): number => {
    const r = this.replay;
    const v =
      r && r.choice < r.s.choices.length ? r.s.choices[r.choice++]! : this.answer ? this.answer(w, t, kind) : sched_choose(w, kind);
    this.schedule.choices.push(v);
    return v;
  };

  constructor(
    public w: World,
    opts: { invariants?: boolean; chooser?: Chooser } = {},
  ) {
    this.answer = opts.chooser ?? null;
    for (const inv of opts.invariants === false ? [] : all_invariants()) {
      if (inv.arch && inv.arch !== w.arch) continue;
      if (!inv.on) {
        this.unconditional.push(inv);
        continue;
      }
      for (const k of inv.on) {
        let list = this.by_kind.get(k);
        if (!list) this.by_kind.set(k, (list = []));
        list.push(inv);
      }
    }
  }

  subscribe(fn: Subscriber): () => void {
    this.subscribers.push(fn);
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  /** Thread ids that can run now, ascending. */
  runnable(): number[] {
    return this.fill_runnable([]);
  }

  private readonly run_buf: number[] = [];

  private fill_runnable(out: number[]): number[] {
    out.length = 0;
    let workers = false;
    for (const t of this.w.threads) {
      if (t.done) continue;
      if (!t.daemon) workers = true;
      if (wait_holds(this.w, t)) out.push(t.id);
    }
    // Daemons serve the other threads: once those are done, the run is over.
    if (!workers) out.length = 0;
    return out;
  }

  /**
   * Run one step; `force` makes that thread run (it must be runnable).
   * `known` says the caller has just checked that it is (the explorer's
   * Sim, on the plain World), so the runnable set is not computed again.
   */
  step(force?: number, known = false): StepResult {
    const w = this.w;
    const runnable = known && force !== undefined ? [force] : this.fill_runnable(this.run_buf);
    if (runnable.length === 0) {
      const stuck = w.threads.filter((t) => !t.done && !t.daemon);
      const blocked = stuck.map((t) => `${t.name} (${t.wait ? describe_wait(t.wait) : '?'})`);
      return { status: blocked.length ? 'deadlock' : 'end', thread: null, events: [], violations: [], blocked };
    }
    let id: number;
    const r = this.replay;
    if (force !== undefined) {
      if (!runnable.includes(force)) throw new Error(`thread ${w.threads[force]?.name ?? force} cannot run now`);
      id = force;
    } else if (r && r.pick < r.s.picks.length) {
      id = r.s.picks[r.pick++]!;
      if (!runnable.includes(id)) throw new Error(`replay diverged at step ${w.step + 1}: thread ${w.threads[id]?.name ?? id} cannot run`);
    } else {
      id = sched_pick(w, runnable);
    }
    this.schedule.picks.push(id);
    const t = w.threads[id]!;
    w.step++;
    set_chooser(this.chooser);
    exec_label(w, t);
    const events = w.events;
    w.events = [];
    const violations = this.check(events);
    for (const e of events) for (const s of this.subscribers) s(e);
    return { status: 'ok', thread: t, events, violations };
  }

  private check(events: Event[]): Violation[] {
    const w = this.w;
    let out: Violation[] | null = null;
    const fail = (inv: Invariant, ev: Event | null) => {
      const f = inv.check(w, ev);
      if (!f) return;
      const v: Violation = { invariant: inv.name, message: f.message, step: w.step, thread: f.thread, values: f.values };
      (out ??= []).push(v);
      w.violations.push(v);
    };
    for (const inv of this.unconditional) fail(inv, null);
    for (const e of events) {
      const list = this.by_kind.get(e.kind);
      if (list) for (const inv of list) fail(inv, e);
    }
    return out ?? NO_VIOLATIONS;
  }

  /** Hash of the whole World but the transient event buffer. */
  hash(): string {
    return hash_value(this.w, ['events']);
  }

  /** Hash of the simulated state only (no step counters, PRNG or metrics): two paths to the same state agree. */
  state_hash(): string {
    return hash_value(this.w, NOT_STATE);
  }
}

const NO_VIOLATIONS: Violation[] = [];

/**
 * Run model function `fn` to completion outside the scheduler, on a
 * transient thread that is not in the World: pokes (`pt map`) and test
 * set-up. It must not block. Its events are dropped unless `keep_events`.
 */
export function run_now(w: World, fn: string, args: Locals, opts: { thread?: string; keep_events?: boolean } = {}): unknown {
  const t = thread_struct(w, opts.thread ?? 'poke', 'vmm', { cpu: -1, root: fn, args });
  t.id = -1;
  const n_events = w.events.length;
  while (!t.done) {
    exec_label(w, t);
    if (t.wait) throw new Error(`${opts.thread ?? 'poke'}: ${fn} blocked (${describe_wait(t.wait)}) while run outside the scheduler`);
  }
  if (!opts.keep_events) w.events.length = n_events;
  return t.retval;
}

function same_wait(a: Thread['wait'], b: NonNullable<Thread['wait']>): boolean {
  if (!a || a.kind !== b.kind) return false;
  for (const k in b) if (a[k] !== b[k]) return false;
  return true;
}

/** Run one label of `t`'s innermost frame and apply what it returns. */
function exec_label(w: World, t: Thread): void {
  const f = t.stack[t.stack.length - 1];
  if (!f) {
    t.done = true;
    return;
  }
  const prev_wait = t.wait;
  t.wait = null;
  t.steps++;
  const fn = lookup_fn(f.fn);
  const step = fn.steps[f.pc];
  if (!step) throw new Error(`${f.fn} has no label ${f.pc}`);
  const next = step(w, t, f.locals);
  if (typeof next === 'string') {
    if (next === RETURN) {
      t.stack.pop();
      if (t.stack.length === 0) {
        t.done = true;
        emit(w, t, 'thread.exit', {});
      }
    } else if (next === BLOCKED) {
      const wait = t.wait as Thread['wait'];
      if (!wait) throw new Error(`${f.fn}:${f.pc} returned BLOCKED without a wait`);
      // Blocking again on what it already waited for (a lock it lost to another
      // waiter) is the same wait: one event when it starts.
      if (!same_wait(prev_wait, wait)) {
        emit(w, t, 'sched.block', { reason: describe_wait(wait) });
        if (wait_sleeps(wait)) might_sleep(w, t, describe_wait(wait));
      }
    } else {
      f.pc = next;
    }
    return;
  }
  f.pc = next.ret;
  const callee = lookup_fn(next.call);
  t.stack.push({ fn: callee.name, pc: callee.entry, locals: next.args });
}

/**
 * __might_sleep(): every point where a thread may sleep reports its context;
 * the sched.sleep_in_atomic invariant judges it. `offset` is the preempt
 * count the caller legitimately holds (PREEMPT_LOCK_OFFSET for
 * cond_resched_rwlock_write, whose rwlock disabled preemption).
 */
export function might_sleep(w: World, t: Thread, what: string, offset = 0): void {
  emit(w, t, 'sched.might_sleep', { what, preempt_count: t.preempt_count - offset, irqs_disabled: t.irqs_disabled });
}

export type { EventKind };
