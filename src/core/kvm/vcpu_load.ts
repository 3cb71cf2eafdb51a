// virt/kvm/kvm_main.c: vcpu_load()/vcpu_put() and the preempt notifiers
// kvm_sched_out()/kvm_sched_in(). A vCPU thread that is scheduled out runs
// kvm_arch_vcpu_put() with vcpu->scheduled_out set, and kvm_arch_vcpu_load()
// when it comes back. Left out: vcpu->preempted/ready (directed yield).
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn } from '../machine/model.js';
import { define_choice } from '../machine/scheduler.js';
import { vcpu_of } from './kvm_host.js';

export const PREEMPT = define_choice({
  name: 'preempt',
  n: 2,
  description: 'need_resched() is set at a preemption point: the vCPU thread is scheduled out and back in',
  p_random: 0.1,
});

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
export const kvm_preempt = model_fn<Record<string, never>>('kvm_preempt', {
  sched_out: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.scheduled_out = true;
    t.preempt_count++;
    return call('kvm_arch_vcpu_put', {}, 'switched');
  },
  switched: (w, t) => {
    t.preempt_count--;
    emit(w, t, 'sched.preempt', {});
    return 'sched_in';
  },
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
