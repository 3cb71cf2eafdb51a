// Model functions: kernel functions written as tables of labelled steps.
// Each label runs one atomic action (a lock acquire, a cmpxchg, a READ_ONCE
// that matters) and says what happens next. Frames hold only the function's
// name, the label and plain locals, so threads stay plain data.
import type { Locals, Thread, Wait, World } from './world.js';

export const RETURN = '#return';
export const BLOCKED = '#blocked';

export interface Call {
  call: string;
  args: Locals;
  ret: string;
}

/** A label, RETURN, BLOCKED, or a call of another model function. */
export type Next = string | Call;

export type StepFn<L extends object = Locals> = (w: World, t: Thread, l: L) => Next;

export interface ModelFn {
  name: string;
  entry: string;
  steps: Record<string, StepFn<any>>;
}

const registry = new Map<string, ModelFn>();

/**
 * Define a model function. The first label is the entry point. Locals are
 * typed per function; they must stay plain data.
 */
export function model_fn<L extends object>(name: string, steps: Record<string, StepFn<L>>): ModelFn {
  if (registry.has(name)) throw new Error(`model function ${name} defined twice`);
  const labels = Object.keys(steps);
  if (labels.length === 0) throw new Error(`model function ${name} has no steps`);
  const fn: ModelFn = { name, entry: labels[0]!, steps };
  registry.set(name, fn);
  return fn;
}

export function lookup_fn(name: string): ModelFn {
  const fn = registry.get(name);
  if (!fn) throw new Error(`no model function ${name}`);
  return fn;
}

/** Every model function's name, sorted. */
export function fn_names(): string[] {
  return [...registry.keys()].sort();
}

export function has_fn(name: string): boolean {
  return registry.has(name);
}

/**
 * Put `fn` in the registry in place of what holds its name (patches,
 * src/patch): returns what it replaced, for undo. `undefined` removes it.
 */
export function swap_fn(name: string, fn: ModelFn | undefined): ModelFn | undefined {
  const old = registry.get(name);
  if (fn) registry.set(name, fn);
  else registry.delete(name);
  return old;
}

/**
 * Functions whose frames code running on ANOTHER thread inspects (an
 * invariant that finds a vCPU's user_mem_abort() frame, a kick that looks
 * at where a vCPU is). The explorer runs a thread's steps that touch only
 * its own frames as one transition (src/explore/local.ts); a step that
 * pushes, pops or changes one of these frames is visible to other threads
 * and stays a scheduling point. Register next to the code that reads.
 */
const observed = new Set<string>();

export function observed_frames(...names: string[]): void {
  for (const n of names) observed.add(n);
}

export function frame_observed(name: string): boolean {
  return observed.has(name);
}

/** Call `fn` with `args` as its locals; continue at `ret` when it returns. */
export function call(fn: ModelFn | string, args: Locals, ret: string): Call {
  return { call: typeof fn === 'string' ? fn : fn.name, args, ret };
}

/** Return `value` to the caller (read it there with `t.retval`). */
export function ret(t: Thread, value: unknown): typeof RETURN {
  t.retval = value;
  return RETURN;
}

/**
 * Block `t` until `wait` holds; the same label runs again when the thread is
 * next scheduled, so it retries its acquire.
 */
export function block(t: Thread, wait: Wait): typeof BLOCKED {
  t.wait = wait;
  return BLOCKED;
}

/** Wait predicates, one per Wait.kind, registered by the layer that blocks. */
type WaitPred = (w: World, t: Thread, wait: Wait) => boolean;
interface WaitKind {
  pred: WaitPred;
  /** Sleeping waits (SRCU, wait_event) may not happen in atomic context; spinning ones may. */
  sleeps: boolean;
  /**
   * The scheduler took the CPU from a thread that could have gone on
   * (a preemption, not a wait for something): the explorer counts entering
   * such a wait against its preemption bound.
   */
  preempts: boolean;
}
const wait_kinds = new Map<string, WaitKind>();

export function wait_kind(kind: string, sleeps: boolean, pred: WaitPred, opts: { preempts?: boolean } = {}): void {
  wait_kinds.set(kind, { pred, sleeps, preempts: opts.preempts ?? false });
}

function wait_kind_of(wait: Wait): WaitKind {
  const k = wait_kinds.get(wait.kind);
  if (!k) throw new Error(`no wait predicate for ${wait.kind}`);
  return k;
}

export function wait_holds(w: World, t: Thread): boolean {
  const wait = t.wait;
  return wait === null || wait_kind_of(wait).pred(w, t, wait);
}

export function wait_sleeps(wait: Wait): boolean {
  return wait_kind_of(wait).sleeps;
}

/** Whether `t` is off its CPU by preemption (a wait kind registered with `preempts`). */
export function wait_preempted(t: Thread): boolean {
  return t.wait !== null && wait_kind_of(t.wait).preempts;
}

export function describe_wait(wait: Wait): string {
  const rest = Object.entries(wait)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return rest ? `${wait.kind} ${rest}` : wait.kind;
}

/**
 * The arch's version of a model function both arches define: names are
 * global, so an arch that registered `NAME_<arch>` (kvm_unmap_gfn_range_x86)
 * gets that, else the plain name (arm64's).
 */
export function kvm_arch_fn(w: World, name: string): string {
  const own = `${name}_${w.arch}`;
  return registry.has(own) ? own : name;
}
