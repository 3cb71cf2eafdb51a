// kvmdbg/model: the API a patch (`--patch FILE`) imports. It is the one
// src/core uses: the same model functions, steps, calls, locks, requests,
// events and World types; what differs is that every definition made while
// a patch loads is checked with a message that names the patch's line, and
// is taken back when the patch is unloaded (src/patch/scope.ts).
// package.json maps `kvmdbg/model` here; inside kvmdbg the loader hands a
// patch this module itself, so a patch changes the running model.
// Every layer registered first, as in kvmdbg itself (also when this module is imported on its own).
import '../core/world_init.js';
import { is_event_kind } from '../core/machine/events.js';
import { define_invariant as core_define_invariant, forget_invariant, invariant_named, type Failure, type Invariant } from '../core/machine/invariants.js';
import { fn_names, has_fn, lookup_fn, model_fn as core_model_fn, swap_fn, type ModelFn, type Next, type StepFn } from '../core/machine/model.js';
import { define_op as core_define_op, forget_op, op_named, type GuestResult, type OpDef } from '../core/machine/ops.js';
import { define_variant as core_define_variant, forget_variant, variant_named, type Variant } from '../core/machine/variants.js';
import type { Locals, Thread, World } from '../core/machine/world.js';
import { UserError } from '../scenario/errors.js';
import { patch_place, place_str } from './locate.js';
import { on_unload } from './scope.js';

// The machine: World, threads, steps, calls.
export type { Event, EventKind } from '../core/machine/events.js';
export type { Failure, Invariant } from '../core/machine/invariants.js';
export type { Call, ModelFn, Next, StepFn } from '../core/machine/model.js';
export type { GuestResult, OpDef } from '../core/machine/ops.js';
export type { Variant } from '../core/machine/variants.js';
export type { Frame, Locals, Op, Thread, ThreadKind, Violation, Wait, World } from '../core/machine/world.js';
export { BLOCKED, RETURN, block, call, has_fn, kvm_arch_fn, observed_frames, ret } from '../core/machine/model.js';
export { emit } from '../core/machine/events.js';
export { might_sleep } from '../core/machine/machine.js';
export { S } from '../core/machine/ops.js';
export { metric_add, thread_by_name, variant_on } from '../core/machine/world.js';
// Generic KVM: locks, requests, the VM and its vCPUs, preemption.
export type { KvmVcpu, Memslot, VcpuMode } from '../core/kvm/kvm_host.js';
export { INVALID_GPA, KVM_REQ_ARM64, KVM_REQ_GENERIC, KVM_REQ_X86, PAGE_SHIFT, PAGE_SIZE, gfn_to_hva, gfn_to_memslot, req_name, vcpu_of } from '../core/kvm/kvm_host.js';
export { kvm_check_request, kvm_make_request, kvm_request_pending, kvm_test_request, kvm_vcpu_kick, set_mode } from '../core/kvm/requests.js';
export { lock_read, lock_write, lockdep_assert_held_write, read_unlock, write_unlock } from '../core/kvm/rwlock.js';
export { preempt_point } from '../core/kvm/vcpu_load.js';
export { local_irq_disable, local_irq_enable } from '../core/kvm/smp.js';
// arm64 and x86 state.
export type { KvmArm64, KvmVcpuArm64, kvm_s2_mmu } from '../core/arm64/kvm_host.js';
export { arm64, kvm_s2_mmu_valid, mmu_by_id, mmu_name } from '../core/arm64/kvm_host.js';
export { vcpu_of_thread } from '../core/arm64/arm.js';
export type { KvmVcpuX86, KvmX86 } from '../core/x86/kvm_host.js';
export { x86, x86_vcpu } from '../core/x86/kvm_host.js';

/** A definition the patch got wrong; the loader names the patch's line (`key`: the object key to point at). */
export class PatchDefError extends Error {
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'PatchDefError';
  }
}

/** A patched or added step: `original` is the step it replaces (undefined for a new label). */
export type PatchStepFn<L extends object = Locals> = (w: World, t: Thread, l: L, original: StepFn<L> | undefined) => Next;

function kind_of(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'undefined' : `a ${t}`;
}

function need_string(what: string, v: unknown, key?: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new PatchDefError(`${what} is ${kind_of(v)}${typeof v === 'string' ? ' (empty)' : ''}; expected a non-empty string`, key);
  return v;
}

function need_steps(fn: string, steps: unknown): Record<string, unknown> {
  if (!steps || typeof steps !== 'object' || Array.isArray(steps)) throw new PatchDefError(`${fn}: the steps are ${kind_of(steps)}; expected an object { label: (w, t, l) => next, ... }`);
  const labels = Object.keys(steps);
  if (labels.length === 0) throw new PatchDefError(`${fn}: no steps; expected at least one label`);
  for (const k of labels) {
    const f = (steps as Record<string, unknown>)[k];
    if (typeof f !== 'function') throw new PatchDefError(`${fn} step "${k}" is ${kind_of(f)}; expected a step function (w, t, l) => next label`, k);
  }
  return steps as Record<string, unknown>;
}

/**
 * An error thrown while patch code runs (a step, an invariant's check),
 * as one line naming the patch's line; errors of kvmdbg's own code pass.
 */
function located(e: unknown, what: string): unknown {
  if (e instanceof UserError) return e;
  const at = patch_place(e);
  if (!at) return e;
  const err = e as Error;
  const out = new UserError(`${place_str(at)}: ${what}: ${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`);
  out.cause = e;
  return out;
}

function guard_step(what: string, f: StepFn<any>): StepFn<any> {
  return (w, t, l) => {
    try {
      return f(w, t, l);
    } catch (e) {
      throw located(e, `${what} (step ${w.step}, ${t.name})`);
    }
  };
}

/** The name of a model function nearest `name` (for "did you mean"). */
function nearest(name: string): string | null {
  let best: string | null = null;
  let bd = Infinity;
  for (const n of fn_names()) {
    const d = distance(name, n);
    if (d < bd) [best, bd] = [n, d];
  }
  return best !== null && bd <= Math.max(2, name.length / 3) ? best : null;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * Define a new model function (a kernel function the model does not have
 * yet). The first label is the entry point; locals stay plain data.
 */
export function model_fn<L extends object = Locals>(name: string, steps: Record<string, StepFn<L>>): ModelFn {
  need_string('model_fn: the name', name);
  if (has_fn(name)) throw new PatchDefError(`model function ${name} is already defined; patch_fn('${name}', { label: ... }) changes its steps`);
  const checked = need_steps(name, steps);
  const guarded: Record<string, StepFn<any>> = {};
  for (const k of Object.keys(checked)) guarded[k] = guard_step(`${name}:${k}`, checked[k] as StepFn<any>);
  const fn = core_model_fn(name, guarded);
  on_unload(() => swap_fn(name, undefined));
  return fn;
}

/**
 * Replace labelled steps of an existing model function, or add new labels
 * (name each in `opts.insert`: a label the function does not have is
 * otherwise a typo). A step gets the step it replaces as its fourth
 * argument. The entry label stays the entry.
 */
export function patch_fn<L extends object = Locals>(name: string, steps: Record<string, PatchStepFn<L>>, opts: { insert?: string[] } = {}): ModelFn {
  need_string('patch_fn: the function name', name);
  if (!has_fn(name)) {
    const near = nearest(name);
    throw new PatchDefError(`patch_fn: no model function ${name}${near ? `; did you mean ${near}?` : ''} (model_fn('${name}', ...) defines a new one)`);
  }
  const old = lookup_fn(name);
  const checked = need_steps(name, steps);
  const insert = opts.insert ?? [];
  if (!Array.isArray(insert) || !insert.every((x) => typeof x === 'string')) throw new PatchDefError(`patch_fn ${name}: opts.insert is ${kind_of(insert)}; expected a list of new labels`);
  for (const k of insert) {
    if (k in old.steps) throw new PatchDefError(`patch_fn ${name}: insert names "${k}", which ${name} already has; leave it out of insert to replace it`, k);
    if (!(k in checked)) throw new PatchDefError(`patch_fn ${name}: insert names "${k}" but the steps do not define it`);
  }
  const labels = Object.keys(old.steps);
  for (const k of Object.keys(checked)) {
    if (!(k in old.steps) && !insert.includes(k)) {
      throw new PatchDefError(`${name} has no step "${k}"; its steps are: ${labels.join(', ')} (a new label goes in patch_fn's { insert: ['${k}'] })`, k);
    }
  }
  const merged: Record<string, StepFn<any>> = { ...old.steps };
  for (const k of Object.keys(checked)) {
    const user = checked[k] as PatchStepFn<any>;
    const original = old.steps[k];
    merged[k] = guard_step(`${name}:${k}`, (w, t, l) => user(w, t, l, original));
  }
  const fn: ModelFn = { name, entry: old.entry, steps: merged };
  swap_fn(name, fn);
  on_unload(() => swap_fn(name, old));
  return fn;
}

const ARCHES = ['arm64', 'x86'];

/** A switch (`--variant NAME`) that steps test with variant_on(w, NAME). */
export function define_variant(v: Variant): Variant {
  if (!v || typeof v !== 'object') throw new PatchDefError(`define_variant: got ${kind_of(v)}; expected { name, description, source, breaks, arch? }`);
  need_string('define_variant: name', v.name, 'name');
  for (const f of ['description', 'source', 'breaks'] as const) need_string(`variant ${v.name}: ${f}`, v[f], f);
  if (v.arch !== undefined && !ARCHES.includes(v.arch)) throw new PatchDefError(`variant ${v.name}: arch is ${JSON.stringify(v.arch)}; expected "arm64" or "x86"`, 'arch');
  if (variant_named(v.name)) throw new PatchDefError(`variant ${v.name} is already defined`, 'name');
  const out = core_define_variant(v);
  on_unload(() => forget_variant(v.name));
  return out;
}

/** A safety property checked after every step (or after steps that emitted one of `on`). */
export function define_invariant(inv: Invariant): Invariant {
  if (!inv || typeof inv !== 'object') throw new PatchDefError(`define_invariant: got ${kind_of(inv)}; expected { name, description, check(w, ev), on?, arch? }`);
  need_string('define_invariant: name', inv.name, 'name');
  need_string(`invariant ${inv.name}: description`, inv.description, 'description');
  if (typeof inv.check !== 'function') throw new PatchDefError(`invariant ${inv.name}: check is ${kind_of(inv.check)}; expected a function (w, ev) => failure or null`, 'check');
  if (inv.arch !== undefined && !ARCHES.includes(inv.arch)) throw new PatchDefError(`invariant ${inv.name}: arch is ${JSON.stringify(inv.arch)}; expected "arm64" or "x86"`, 'arch');
  if (inv.on !== undefined) {
    if (!Array.isArray(inv.on)) throw new PatchDefError(`invariant ${inv.name}: on is ${kind_of(inv.on)}; expected a list of event kinds`, 'on');
    const bad = inv.on.find((k) => !is_event_kind(k as string));
    if (bad !== undefined) throw new PatchDefError(`invariant ${inv.name}: on names ${JSON.stringify(bad)}, not an event kind (src/core/machine/events.ts)`, 'on');
  }
  if (invariant_named(inv.name)) throw new PatchDefError(`invariant ${inv.name} is already defined`, 'name');
  const check = inv.check;
  const def: Invariant = {
    ...inv,
    check(w, ev) {
      try {
        return check.call(inv, w, ev) as Failure | null;
      } catch (e) {
        throw located(e, `invariant ${inv.name} (step ${w.step})`);
      }
    },
  };
  const out = core_define_invariant(def);
  on_unload(() => forget_invariant(inv.name));
  return out;
}

const THREAD_KINDS = ['vcpu', 'mm', 'vmm', 'rcu'];

/** A scenario op: what a thread's program may say, with a JSON schema for its arguments. */
export function define_op(d: OpDef): OpDef {
  if (!d || typeof d !== 'object') throw new PatchDefError(`define_op: got ${kind_of(d)}; expected { name, threads, summary, schema, fn? | in_guest? }`);
  need_string('define_op: name', d.name, 'name');
  need_string(`op ${d.name}: summary`, d.summary, 'summary');
  if (!Array.isArray(d.threads) || d.threads.length === 0 || !d.threads.every((k) => THREAD_KINDS.includes(k))) {
    throw new PatchDefError(`op ${d.name}: threads is ${JSON.stringify(d.threads)}; expected a non-empty list of ${THREAD_KINDS.join(', ')}`, 'threads');
  }
  if (!d.schema || typeof d.schema !== 'object' || Array.isArray(d.schema)) throw new PatchDefError(`op ${d.name}: schema is ${kind_of(d.schema)}; expected a JSON schema object`, 'schema');
  if (d.fn !== undefined) {
    need_string(`op ${d.name}: fn`, d.fn, 'fn');
    if (!has_fn(d.fn)) throw new PatchDefError(`op ${d.name}: fn names ${d.fn}, which is not a model function (define it with model_fn first)`, 'fn');
  }
  if (d.in_guest !== undefined && typeof d.in_guest !== 'function') throw new PatchDefError(`op ${d.name}: in_guest is ${kind_of(d.in_guest)}; expected a function (w, t, args) => { done: true } | { exit }`, 'in_guest');
  if (d.fn === undefined && d.in_guest === undefined) throw new PatchDefError(`op ${d.name}: neither fn (host threads) nor in_guest (vCPUs); expected one`);
  if (d.arch !== undefined && !ARCHES.includes(d.arch)) throw new PatchDefError(`op ${d.name}: arch is ${JSON.stringify(d.arch)}; expected "arm64" or "x86"`, 'arch');
  if (op_named(d.name)) throw new PatchDefError(`op ${d.name} is already defined`, 'name');
  const in_guest = d.in_guest;
  const def: OpDef = in_guest
    ? {
        ...d,
        in_guest: (w, t, args): GuestResult => {
          try {
            return in_guest(w, t, args);
          } catch (e) {
            throw located(e, `op ${d.name} (step ${w.step}, ${t.name})`);
          }
        },
      }
    : d;
  const out = core_define_op(def);
  on_unload(() => forget_op(d.name));
  return out;
}

