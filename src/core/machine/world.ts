// The World: every bit of simulation state, as plain data (objects, arrays,
// numbers, strings, typed arrays). No closures or class instances, so a
// checkpoint is structuredClone, a hash is a walk, and a recording is the
// scenario plus the scheduler's choices. Layers add their own fields by
// declaration merging on `World` (see src/core/kvm/kvm_host.ts).

export type Locals = Record<string, unknown>;

/** One model-function activation: `where` prints a stack of these. */
export interface Frame {
  fn: string;
  pc: string;
  locals: Locals;
}

/** What a blocked thread waits for; a predicate registered per kind decides. */
export interface Wait {
  kind: string;
  [k: string]: unknown;
}

export type ThreadKind = 'vcpu' | 'mm' | 'vmm' | 'rcu';

export interface Op {
  op: string;
  args: Record<string, unknown>;
}

export interface Thread {
  id: number;
  name: string;
  kind: ThreadKind;
  /** Physical CPU the thread runs on (vCPU i on CPU i; host threads after). */
  cpu: number;
  /** vcpu_id for vCPU threads, else -1. */
  vcpu: number;
  stack: Frame[];
  wait: Wait | null;
  done: boolean;
  /** The scenario's program for this thread and the index of the next op. */
  prog: Op[];
  ip: number;
  /** Labels this thread has run (its share of the global step count). */
  steps: number;
  /** Daemons (rcu_gp_kthread) idle forever: a run ends when only they are left. */
  daemon: boolean;
  /** Value returned by the last model function that returned to this frame. */
  retval: unknown;
  /** preempt_count(): spinlocks held, preempt_disable(), get_cpu(). */
  preempt_count: number;
  irqs_disabled: boolean;
}

export interface SchedState {
  policy: 'rr' | 'random' | 'script';
  /** xoroshiro128+ state (pure-rand), so the PRNG is part of the World. */
  rng: number[];
  seed: number;
  /** Round-robin cursor: index of the thread picked last. */
  rr: number;
  script: string[];
  script_pos: number;
}

export interface Violation {
  invariant: string;
  message: string;
  step: number;
  thread: string;
  values: Record<string, unknown>;
}

export interface World {
  arch: 'arm64' | 'x86';
  /** Global step number: how many scheduler steps have run. */
  step: number;
  /** Next event sequence number. */
  seq: number;
  threads: Thread[];
  sched: SchedState;
  /** Enabled variants, by name. */
  variants: Record<string, true>;
  /** Events emitted by the step in progress; drained after every step. */
  events: import('./events.js').Event[];
  /** Counters printed by `run` (retries, unmaps, remote flushes, ...). */
  metrics: Record<string, number>;
  violations: Violation[];
}

export function variant_on(w: World, name: string): boolean {
  return w.variants[name] === true;
}

export function metric_add(w: World, name: string, n = 1): void {
  w.metrics[name] = (w.metrics[name] ?? 0) + n;
}

export function thread_by_name(w: World, name: string): Thread | undefined {
  return w.threads.find((t) => t.name === name);
}
