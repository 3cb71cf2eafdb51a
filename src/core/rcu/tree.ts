// kernel/rcu/tree.c and include/linux/rcupdate.h at the level KVM sees them:
// read-side critical sections (rcu_read_lock/unlock, nesting per thread),
// call_rcu() callbacks, grace periods driven by the grace-period kthread,
// synchronize_rcu() and rcu_barrier().
//
// A grace period (GP) starts by snapshotting the threads inside a read-side
// section ("holdouts"); a holdout reports a quiescent state when its
// outermost rcu_read_unlock() runs; the GP ends when no holdout is left.
// Readers that enter after the GP started do not hold it up. A callback is
// queued on the "next" list and joins the first GP that starts after it was
// queued; it runs after that GP ends. Callbacks are data ({kind, arg}) run by
// a registry, so the World holds no closures.
//
// Left out: the rcu_node tree and per-CPU data (one global state), expedited
// GPs, callback offloading, softirq context (the kthread invokes callbacks),
// SRCU/tasks RCU, CPU hotplug, and the preemptible-vs-not distinction (every
// reader is a thread whose nesting the GP watches).
import { emit } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import { might_sleep } from '../machine/machine.js';
import { RETURN, block, call, model_fn, wait_kind } from '../machine/model.js';
import { define_op } from '../machine/ops.js';
import { spawn_thread } from '../machine/thread.js';
import type { Event } from '../machine/events.js';
import type { Thread, World } from '../machine/world.js';
import { metric_add } from '../machine/world.js';
import { define_history } from '../machine/history.js';

export interface RcuCallback {
  id: number;
  kind: string;
  arg: Record<string, unknown>;
  /** The GP whose end lets it run; -1 until a GP starts after it was queued. */
  gp: number;
  queued_step: number;
  by: string;
}

export interface RcuState {
  /** Thread id of the grace-period kthread. */
  kthread: number;
  /** rcu_read_lock() nesting per thread id. */
  nesting: Record<number, number>;
  /** Event seq of each thread's outermost rcu_read_lock() (valid while nesting > 0). */
  section_start: Record<number, number>;
  /** Completed grace periods (the GP numbered gp_seq + 1 is the next or current one). */
  gp_seq: number;
  gp_active: boolean;
  /** Event seq of the current GP's start (rcu.gp_start). */
  gp_start_seq: number;
  /** Readers the current GP waits for. */
  holdouts: number[];
  /**
   * Readers inside a read-side critical section when the current GP
   * started, until they leave it: what the grace-period invariant checks,
   * apart from the `holdouts` the kthread waits on.
   */
  gp_readers: number[];
  /** Queued callbacks, in call_rcu() order. */
  cbs: RcuCallback[];
  next_cb_id: number;
  /** Id of the last callback invoked (callbacks run in queue order). */
  invoked_upto: number;
  /** Highest GP number a synchronize_rcu() waits for. */
  gp_requested: number;
}

declare module '../machine/world.js' {
  interface World {
    rcu?: RcuState;
  }
}

export function rcu_state(w: World): RcuState {
  if (!w.rcu) throw new Error('RCU is not initialised (rcu_init)');
  return w.rcu;
}

/** Create the RCU state and its grace-period kthread, a daemon on `cpu`. */
export function rcu_init(w: World, cpu: number): Thread {
  const t = spawn_thread(w, 'rcu_gp', 'rcu', { cpu, root: rcu_gp_kthread.name, daemon: true });
  w.rcu = {
    kthread: t.id,
    nesting: {},
    section_start: {},
    gp_seq: 0,
    gp_active: false,
    gp_start_seq: -1,
    holdouts: [],
    gp_readers: [],
    cbs: [],
    next_cb_id: 0,
    invoked_upto: -1,
    gp_requested: 0,
  };
  return t;
}

export function rcu_read_lock_held(w: World, t: Thread): boolean {
  return (w.rcu?.nesting[t.id] ?? 0) > 0;
}

export function rcu_read_lock(w: World, t: Thread): void {
  const s = rcu_state(w);
  const n = (s.nesting[t.id] ?? 0) + 1;
  s.nesting[t.id] = n;
  if (n === 1) s.section_start[t.id] = w.seq;
  emit(w, t, 'rcu.read_lock', {});
}

export function rcu_read_unlock(w: World, t: Thread): void {
  const s = rcu_state(w);
  const n = (s.nesting[t.id] ?? 0) - 1;
  if (n < 0) throw new Error(`${t.name}: rcu_read_unlock() without rcu_read_lock()`);
  if (n === 0) {
    delete s.nesting[t.id];
    delete s.section_start[t.id];
    // The outermost unlock is this reader's quiescent state.
    const i = s.holdouts.indexOf(t.id);
    if (i >= 0) s.holdouts.splice(i, 1);
    const j = s.gp_readers.indexOf(t.id);
    if (j >= 0) s.gp_readers.splice(j, 1);
  } else {
    s.nesting[t.id] = n;
  }
  emit(w, t, 'rcu.read_unlock', {});
}

/** What an RCU callback does when its grace period is over, by kind. */
export type RcuCallbackFn = (w: World, t: Thread, arg: Record<string, unknown>) => void;
const callbacks = new Map<string, RcuCallbackFn>();

export function define_rcu_callback(kind: string, fn: RcuCallbackFn): void {
  if (callbacks.has(kind)) throw new Error(`RCU callback ${kind} defined twice`);
  callbacks.set(kind, fn);
}

/** call_rcu(): queue `kind(arg)` to run after a grace period. Never blocks. */
export function call_rcu(w: World, t: Thread, kind: string, arg: Record<string, unknown>): RcuCallback {
  if (!callbacks.has(kind)) throw new Error(`no RCU callback kind ${kind}`);
  const s = rcu_state(w);
  const cb: RcuCallback = { id: s.next_cb_id++, kind, arg, gp: -1, queued_step: w.step, by: t.name };
  s.cbs.push(cb);
  emit(w, t, 'rcu.call', { page: typeof arg['page'] === 'number' ? arg['page'] : -1, level: typeof arg['level'] === 'number' ? arg['level'] : -1 });
  metric_add(w, 'rcu_callbacks');
  return cb;
}

function cb_ready(s: RcuState): boolean {
  const cb = s.cbs[0];
  return cb !== undefined && cb.gp >= 0 && cb.gp <= s.gp_seq;
}

function gp_needed(s: RcuState): boolean {
  return s.cbs.some((cb) => cb.gp < 0) || s.gp_requested > s.gp_seq;
}

wait_kind('rcu_gp_idle', true, (w) => {
  const s = rcu_state(w);
  return cb_ready(s) || gp_needed(s);
});
wait_kind('rcu_gp_readers', true, (w) => rcu_state(w).holdouts.length === 0);
wait_kind('rcu_sync', true, (w, _t, wait) => rcu_state(w).gp_seq >= (wait['target'] as number));
wait_kind('rcu_barrier', true, (w, _t, wait) => rcu_state(w).invoked_upto >= (wait['target'] as number));

/**
 * rcu_gp_kthread(): wait for work, start a GP (snapshot the readers),
 * wait until each has left its section, end the GP, then invoke the ready
 * callbacks one per step.
 */
export const rcu_gp_kthread = model_fn<Record<string, never>>('rcu_gp_kthread', {
  idle: (w, t) => {
    const s = rcu_state(w);
    if (cb_ready(s)) return 'invoke';
    if (gp_needed(s)) return 'gp_start';
    return block(t, { kind: 'rcu_gp_idle' });
  },
  // rcu_gp_init(): the callbacks queued so far wait for this GP.
  gp_start: (w, t) => {
    const s = rcu_state(w);
    const gp = s.gp_seq + 1;
    for (const cb of s.cbs) if (cb.gp < 0) cb.gp = gp;
    s.holdouts = Object.keys(s.nesting)
      .map(Number)
      .filter((id) => (s.nesting[id] ?? 0) > 0 && id !== t.id)
      .sort((a, b) => a - b);
    s.gp_readers = s.holdouts.slice();
    s.gp_active = true;
    s.gp_start_seq = w.seq;
    emit(w, t, 'rcu.gp_start', { gp });
    return 'gp_wait';
  },
  // rcu_gp_fqs_loop(): until every holdout has reported a quiescent state.
  gp_wait: (w, t) => (rcu_state(w).holdouts.length === 0 ? 'gp_end' : block(t, { kind: 'rcu_gp_readers' })),
  gp_end: (w, t) => {
    const s = rcu_state(w);
    s.gp_seq++;
    s.gp_active = false;
    emit(w, t, 'rcu.gp_end', { gp: s.gp_seq });
    metric_add(w, 'rcu_grace_periods');
    return 'idle';
  },
  // rcu_do_batch(): one callback per step.
  invoke: (w, t) => {
    const s = rcu_state(w);
    const cb = s.cbs.shift()!;
    s.invoked_upto = cb.id;
    callbacks.get(cb.kind)!(w, t, cb.arg);
    return 'idle';
  },
});

/** synchronize_rcu(): sleep until a full grace period has elapsed after the call. */
export const synchronize_rcu = model_fn<{ target: number }>('synchronize_rcu', {
  start: (w, t, l) => {
    might_sleep(w, t, 'synchronize_rcu');
    const s = rcu_state(w);
    if (rcu_read_lock_held(w, t)) throw new Error(`${t.name}: synchronize_rcu() inside an RCU read-side critical section`);
    // A GP already running may have started before our caller's updates.
    l.target = s.gp_seq + (s.gp_active ? 2 : 1);
    s.gp_requested = Math.max(s.gp_requested, l.target);
    return 'wait';
  },
  wait: (w, t, l) => (rcu_state(w).gp_seq >= l.target ? RETURN : block(t, { kind: 'rcu_sync', target: l.target })),
});

/** rcu_barrier(): sleep until every callback queued before the call has run. */
export const rcu_barrier = model_fn<{ target: number }>('rcu_barrier', {
  start: (w, t, l) => {
    might_sleep(w, t, 'rcu_barrier');
    l.target = rcu_state(w).next_cb_id - 1;
    return 'wait';
  },
  wait: (w, t, l) => (rcu_state(w).invoked_upto >= l.target ? RETURN : block(t, { kind: 'rcu_barrier', target: l.target })),
});

define_invariant({
  name: 'rcu.grace_period',
  description: 'a grace period never ends while a reader that entered its read-side critical section before the grace period started is still inside it',
  on: ['rcu.gp_end'],
  check(w, ev) {
    const s = w.rcu;
    if (!s) return null;
    for (const id of s.gp_readers) {
      if ((s.nesting[id] ?? 0) > 0) {
        const start = s.section_start[id];
        const reader = w.threads[id]?.name ?? `thread ${id}`;
        const gp = (ev as Event & { gp: number }).gp;
        return {
          thread: ev!.thread,
          message: `grace period ${gp} ended while ${reader} is still inside the read-side critical section it entered before the grace period started (event ${start} < ${s.gp_start_seq})`,
          values: { gp, reader, section_start: start, gp_start: s.gp_start_seq },
        };
      }
    }
    return null;
  },
});

/**
 * Scenario op for host threads: rcu_barrier(), after first waiting until at
 * least `min_callbacks` callbacks have been queued since boot (so that a VMM
 * thread can outlive the faults whose unlinked tables it wants to see freed;
 * a run ends when only the RCU kthread is left), or until no other thread is
 * left to queue one. The wait is the scenario's, not the kernel's: a variant
 * that frees without call_rcu() (pgtable.free_unlinked_sync) must not turn
 * it into a deadlock the kernel cannot have.
 */
const callbacks_queued = (w: World, t: Thread, n: number) => rcu_state(w).next_cb_id >= n || w.threads.every((o) => o === t || o.done || o.daemon);
export const rcu_barrier_op = model_fn<{ min_callbacks?: number }>('rcu_barrier_op', {
  wait: (w, t, l) => (callbacks_queued(w, t, l.min_callbacks ?? 0) ? 'barrier' : block(t, { kind: 'rcu_callbacks_queued', n: l.min_callbacks ?? 0 })),
  barrier: () => call(rcu_barrier, {}, 'done'),
  done: () => RETURN,
});
wait_kind('rcu_callbacks_queued', true, (w, t, wait) => callbacks_queued(w, t, wait['n'] as number));

define_op({
  name: 'rcu_barrier',
  threads: ['vmm', 'mm'],
  summary: 'rcu_barrier(): wait until every RCU callback queued so far has run; with min_callbacks, first wait until that many have been queued (or no other thread is left to queue one)',
  schema: { type: 'object', properties: { min_callbacks: { type: 'integer', minimum: 0 } }, additionalProperties: false },
  fn: rcu_barrier_op.name,
});

// Stamps kept for messages and the REPL; the grace-period invariant reads `gp_readers`.
define_history('section_start', 'stamp');
define_history('gp_start_seq', 'stamp');
define_history('queued_step', 'stamp');
