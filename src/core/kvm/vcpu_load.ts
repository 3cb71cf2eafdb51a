// virt/kvm/kvm_main.c: vcpu_load()/vcpu_put() and the preempt notifiers
// kvm_sched_out()/kvm_sched_in(). A vCPU thread that is scheduled out runs
// kvm_arch_vcpu_put() with vcpu->scheduled_out set, and kvm_arch_vcpu_load()
// when it comes back; kvm_vcpu_block(), where a halted vCPU sleeps the same
// way until kvm_vcpu_check_block() holds. Left out: vcpu->preempted/ready
// (directed yield), halt polling, timers and signals as wake-up reasons.
import { emit } from '../machine/events.js';
import { RETURN, block, call, model_fn, wait_holds, wait_kind, type Next } from '../machine/model.js';
import { choose, define_choice } from '../machine/scheduler.js';
import type { Thread, World } from '../machine/world.js';
import { KVM_REQ_GENERIC, test_bit, KVM_REQUEST_MASK, vcpu_of } from './kvm_host.js';
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
 * off, as the scheduler calls them.
 */
export const kvm_preempt = model_fn<{ steps: number; until: number }>('kvm_preempt', {
  sched_out: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.scheduled_out = true;
    t.preempt_count++;
    return call('kvm_arch_vcpu_put', {}, 'switched');
  },
  switched: (w, t, l) => {
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

/** kvm_arch_vcpu_runnable(), per arch (arm64: an interrupt pending for the vCPU). */
const arch_runnable = new Map<World['arch'], (w: World, vcpu: number) => boolean>();

export function register_kvm_arch_vcpu_runnable(arch: World['arch'], fn: (w: World, vcpu: number) => boolean): void {
  arch_runnable.set(arch, fn);
}

/** kvm_vcpu_check_block() without its side effect: would the vCPU stop blocking now? */
function kvm_vcpu_wakeup_pending(w: World, vcpu: number): boolean {
  return (arch_runnable.get(w.arch)?.(w, vcpu) ?? false) || test_bit(vcpu_of(w, vcpu).requests, KVM_REQ_GENERIC.UNBLOCK & KVM_REQUEST_MASK);
}

/**
 * A vCPU halted in kvm_vcpu_block() off its CPU: woken (rcuwait_wake_up()
 * from kvm_vcpu_kick()) once it has a reason to run. (x86's vcpu_block()
 * has its own wait, 'kvm_vcpu_block'.)
 */
const HALT_WAIT = 'kvm_vcpu_halt';
wait_kind(HALT_WAIT, true, (w, t) => kvm_vcpu_wakeup_pending(w, t.vcpu));

declare module './kvm_host.js' {
  interface KvmVcpu {
    /** vcpu->wait (rcuwait) holds the vCPU's task: it sleeps in kvm_vcpu_block(), kvm_vcpu_wake_up() would wake it. */
    rcuwait?: boolean;
  }
}

/** Whether `vcpu` sleeps in kvm_vcpu_block(): kvm_vcpu_wake_up() would wake it. */
export function kvm_vcpu_is_blocking(w: World, vcpu: number): boolean {
  return vcpu_of(w, vcpu).rcuwait === true;
}

/**
 * kvm_vcpu_block(): set_current_state(TASK_INTERRUPTIBLE); if
 * kvm_vcpu_check_block() finds no reason to run, schedule(): the preempt
 * notifiers put the vCPU (scheduled_out) and load it again once it is woken.
 */
export const kvm_vcpu_block = model_fn<Record<string, never>>('kvm_vcpu_block', {
  check_block: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    // kvm_vcpu_check_block(): kvm_arch_vcpu_runnable(), or a KVM_REQ_UNBLOCK (consumed).
    if (arch_runnable.get(w.arch)?.(w, t.vcpu)) return RETURN;
    if (kvm_check_request(w, t, KVM_REQ_GENERIC.UNBLOCK, vcpu)) return RETURN;
    return 'sched_out';
  },
  // schedule() -> kvm_sched_out()
  sched_out: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.rcuwait = true;
    vcpu.scheduled_out = true;
    t.preempt_count++;
    return call('kvm_arch_vcpu_put', {}, 'switched');
  },
  switched: (_w, t) => {
    t.preempt_count--;
    return 'asleep';
  },
  asleep: (w, t) => (kvm_vcpu_wakeup_pending(w, t.vcpu) ? 'sched_in' : block(t, { kind: HALT_WAIT })),
  // kvm_sched_in()
  sched_in: (w, t) => {
    vcpu_of(w, t.vcpu).rcuwait = false;
    emit(w, t, 'sched.wake', { reason: 'kvm_vcpu_block' });
    t.preempt_count++;
    return call('kvm_arch_vcpu_load', {}, 'back');
  },
  back: (w, t) => {
    t.preempt_count--;
    vcpu_of(w, t.vcpu).scheduled_out = false;
    return 'check_block';
  },
});

// kvm_preempt's and numa_scan_delay's deadline (sim.ts keys on the time left).
define_history('until', 'deadline');
