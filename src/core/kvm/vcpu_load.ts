// virt/kvm/kvm_main.c: vcpu_load()/vcpu_put() and the preempt notifiers
// kvm_sched_out()/kvm_sched_in(). A vCPU thread that is scheduled out runs
// kvm_arch_vcpu_put() with vcpu->scheduled_out set, and kvm_arch_vcpu_load()
// when it comes back; kvm_vcpu_block(), where a halted vCPU sleeps the same
// way until kvm_vcpu_wake_up() wakes it, and again until
// kvm_vcpu_check_block() finds a reason to run. Left out: vcpu->preempted/
// ready (directed yield), halt polling, timers and signals as wake-up
// reasons.
import { emit } from '../machine/events.js';
import { RETURN, block, call, model_fn, wait_holds, wait_kind, type Next } from '../machine/model.js';
import { choose, define_choice } from '../machine/scheduler.js';
import type { Thread, World } from '../machine/world.js';
import { KVM_REQ_GENERIC, vcpu_of, type KvmVcpu } from './kvm_host.js';
import { local_irq_disable, local_irq_enable } from './smp.js';
import { kvm_check_request } from './requests.js';
import { define_history } from '../machine/history.js';

export const PREEMPT = define_choice({
  name: 'preempt',
  n: 4,
  description: 'need_resched() is set at a preemption point: the vCPU thread is scheduled out for 8 (1), 64 (2) or 512 (3) steps of the other threads',
  p_random: 0.1,
  // Longer off the CPU only keeps the vCPU from running longer; after 8 steps
  // the search may still leave it off, at no preemption (it did not run last).
  exhaustive: 2,
});

/** How long (in steps of other threads) a preempted thread stays off its CPU, by PREEMPT choice. */
export const PREEMPT_STEPS = [0, 8, 64, 512] as const;

/** Take the preemption choice at a preemption point; the answer feeds kvm_preempt's `steps`. */
export function preempt_point(w: World, t: Thread, next: string): Next {
  const c = choose(w, t, PREEMPT);
  return c === 0 ? next : call(kvm_preempt, { steps: PREEMPT_STEPS[c]! }, next);
}

// Off its CPU until enough other steps ran, or until nothing else can run.
wait_kind(
  'preempted',
  false,
  (w, t, wait) => {
    if (w.step >= (wait['until'] as number)) return true;
    return w.threads.every((o) => o === t || o.done || o.daemon || (o.wait !== null && !other_can_run(w, o)));
  },
  { preempts: true },
);

function other_can_run(w: World, o: Thread): boolean {
  const wait = o.wait!;
  // Another preempted thread: judge by its own deadline only (no mutual recursion).
  return wait.kind === 'preempted' ? w.step >= (wait['until'] as number) : wait_holds(w, o);
}

/** vcpu_load(): get_cpu(); kvm_arch_vcpu_load(vcpu, cpu); put_cpu(). */
export const vcpu_load = model_fn<Record<string, never>>('vcpu_load', {
  get_cpu: (_w, t) => {
    t.preempt_count++;
    return call('kvm_arch_vcpu_load', {}, 'put_cpu');
  },
  put_cpu: (_w, t) => {
    t.preempt_count--;
    return RETURN;
  },
});

/** vcpu_put(): preempt_disable(); kvm_arch_vcpu_put(vcpu); preempt_enable(). */
export const vcpu_put = model_fn<Record<string, never>>('vcpu_put', {
  disable: (_w, t) => {
    t.preempt_count++;
    return call('kvm_arch_vcpu_put', {}, 'enable');
  },
  enable: (_w, t) => {
    t.preempt_count--;
    return RETURN;
  },
});

/**
 * schedule() from a preemption point of a vCPU thread: kvm_sched_out(),
 * other threads run, kvm_sched_in(). Both notifiers run with preemption
 * off, as the scheduler calls them; kvm_sched_out() with interrupts off too
 * (prepare_task_switch(), the runqueue lock held).
 */
export const kvm_preempt = model_fn<{ steps: number; until: number }>('kvm_preempt', {
  sched_out: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.scheduled_out = true;
    t.preempt_count++;
    local_irq_disable(t);
    return call('kvm_arch_vcpu_put', {}, 'switched');
  },
  switched: (w, t, l) => {
    local_irq_enable(w, t);
    t.preempt_count--;
    emit(w, t, 'sched.preempt', {});
    l.until = w.step + (l.steps ?? PREEMPT_STEPS[1]);
    return 'off_cpu';
  },
  off_cpu: (w, t, l) => (w.step >= l.until ? 'sched_in' : block(t, { kind: 'preempted', until: l.until })),
  sched_in: (_w, t) => {
    t.preempt_count++;
    return call('kvm_arch_vcpu_load', {}, 'back');
  },
  back: (w, t) => {
    t.preempt_count--;
    vcpu_of(w, t.vcpu).scheduled_out = false;
    return RETURN;
  },
});

/** kvm_arch_vcpu_runnable(), per arch (arm64: an interrupt pending for the vCPU; x86: not suspended). */
const arch_runnable = new Map<World['arch'], (w: World, vcpu: number) => boolean>();

export function register_kvm_arch_vcpu_runnable(arch: World['arch'], fn: (w: World, vcpu: number) => boolean): void {
  arch_runnable.set(arch, fn);
}

/** Arches whose kvm_arch_vcpu_put()/_load() the model has (the preempt notifiers call them). */
const arch_put_load = new Set<World['arch']>();

export function register_kvm_arch_vcpu_put_load(arch: World['arch']): void {
  arch_put_load.add(arch);
}

declare module './kvm_host.js' {
  interface KvmVcpu {
    /** vcpu->wait (rcuwait) holds the vCPU's task: from prepare_to_rcuwait() to finish_rcuwait() in kvm_vcpu_block(). */
    rcuwait?: boolean;
    /** The task is TASK_INTERRUPTIBLE (set_current_state() in kvm_vcpu_block()) until wake_up_process() makes it RUNNING. */
    task_interruptible?: boolean;
  }
}

/**
 * kvm_vcpu_wake_up(): rcuwait_wake_up() -> wake_up_process() on the task
 * in vcpu->wait; true when that woke it (the task was TASK_INTERRUPTIBLE:
 * asleep in schedule(), or between set_current_state() and schedule(),
 * which then returns at once). The vCPU wakes whatever the reason: it
 * checks kvm_vcpu_check_block() again and sleeps again without one.
 * A vCPU nobody wakes stays asleep, reason or not.
 */
export function kvm_vcpu_wake_up(vcpu: KvmVcpu): boolean {
  if (vcpu.rcuwait !== true || vcpu.task_interruptible !== true) return false;
  vcpu.task_interruptible = false;
  return true;
}

/** A vCPU asleep in kvm_vcpu_block() off its CPU, until kvm_vcpu_wake_up() makes its task RUNNING. */
const HALT_WAIT = 'kvm_vcpu_halt';
wait_kind(HALT_WAIT, true, (w, t) => vcpu_of(w, t.vcpu).task_interruptible !== true);

/**
 * kvm_vcpu_block(): prepare_to_rcuwait(); then, until
 * kvm_vcpu_check_block() finds a reason to run,
 * set_current_state(TASK_INTERRUPTIBLE) and schedule(): the preempt
 * notifiers put the vCPU (scheduled_out) and load it again once
 * kvm_vcpu_wake_up() woke it; finish_rcuwait(). A wake-up between
 * set_current_state() and schedule() leaves the task RUNNING, and
 * schedule() returns without switching. Left out: halt polling, timers,
 * signals, kvm_arch_vcpu_blocking()/_unblocking(), vcpu->ready.
 */
export const kvm_vcpu_block = model_fn<Record<string, never>>('kvm_vcpu_block', {
  prepare_to_rcuwait: (w, t) => {
    vcpu_of(w, t.vcpu).rcuwait = true;
    return 'set_current_state';
  },
  set_current_state: (w, t) => {
    vcpu_of(w, t.vcpu).task_interruptible = true;
    return 'check_block';
  },
  check_block: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    // kvm_vcpu_check_block(): kvm_arch_vcpu_runnable(), or a KVM_REQ_UNBLOCK (consumed).
    if (arch_runnable.get(w.arch)?.(w, t.vcpu)) return 'finish_rcuwait';
    if (kvm_check_request(w, t, KVM_REQ_GENERIC.UNBLOCK, vcpu)) return 'finish_rcuwait';
    return 'schedule';
  },
  // schedule(): with the task still TASK_INTERRUPTIBLE, off the CPU through kvm_sched_out().
  schedule: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    if (vcpu.task_interruptible !== true) return 'set_current_state';
    vcpu.scheduled_out = true;
    t.preempt_count++;
    local_irq_disable(t);
    return arch_put_load.has(w.arch) ? call('kvm_arch_vcpu_put', {}, 'switched') : 'switched';
  },
  switched: (w, t) => {
    local_irq_enable(w, t);
    t.preempt_count--;
    return 'asleep';
  },
  asleep: (w, t) => (vcpu_of(w, t.vcpu).task_interruptible !== true ? 'sched_in' : block(t, { kind: HALT_WAIT })),
  // kvm_sched_in()
  sched_in: (w, t) => {
    emit(w, t, 'sched.wake', { reason: 'kvm_vcpu_block' });
    t.preempt_count++;
    return arch_put_load.has(w.arch) ? call('kvm_arch_vcpu_load', {}, 'back') : 'back';
  },
  back: (w, t) => {
    t.preempt_count--;
    vcpu_of(w, t.vcpu).scheduled_out = false;
    return 'set_current_state';
  },
  // finish_rcuwait(): vcpu->wait empty, the task RUNNING.
  finish_rcuwait: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.rcuwait = false;
    vcpu.task_interruptible = false;
    return RETURN;
  },
});

// kvm_preempt's and numa_scan_delay's deadline (sim.ts keys on the time left).
define_history('until', 'deadline');
