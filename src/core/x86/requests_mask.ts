// virt/kvm/kvm_main.c: kvm_make_vcpus_request_mask() and
// kvm_make_vcpu_request(), the targeted form of kvm_make_all_cpus_request()
// (src/core/kvm/requests.ts) that the Hyper-V flush and the inhibit's
// unsuspend use. Kept beside the x86 code until the generic layer has it.
//
// Per target: set the request bit (unless NO_ACTION); then, unless NO_WAKEUP,
// a vCPU asleep in kvm_vcpu_block() is woken (kvm_vcpu_wake_up(), a step of
// its own) and needs no IPI; else
// kvm_request_needs_ipi() decides (WAIT: any mode but OUTSIDE). Then
// smp_call_function_many(mask, wait = req & WAIT): with WAIT the caller
// spins, preemption off and interrupts on, until every target CPU took the
// IPI, i.e. left the guest.
import { emit } from '../machine/events.js';
import { RETURN, block, model_fn } from '../machine/model.js';
import { KVM_REQUEST_NO_ACTION, KVM_REQUEST_NO_WAKEUP, KVM_REQUEST_WAIT, req_name, vcpu_of } from '../kvm/kvm_host.js';
import { kick_wake_up, kvm_make_request, kvm_request_needs_ipi } from '../kvm/requests.js';
import { smp_send_ipi } from '../kvm/smp.js';

interface MaskReq {
  req: number;
  /** vcpu_ids to make the request of, ascending (for_each_set_bit order). */
  mask: number[];
  i: number;
  cpus: number[];
  targets: number[];
}

export const kvm_make_vcpus_request_mask = model_fn<MaskReq>('kvm_make_vcpus_request_mask', {
  get_cpu: (_w, t, l) => {
    t.preempt_count++;
    l.i = 0;
    l.cpus = [];
    l.targets = [];
    return 'make';
  },
  make: (w, t, l) => {
    if (l.i >= l.mask.length) return 'kick';
    const vcpu = vcpu_of(w, l.mask[l.i]!);
    if (!(l.req & KVM_REQUEST_NO_ACTION)) kvm_make_request(w, t, l.req, vcpu);
    l.targets.push(vcpu.vcpu_id);
    return l.req & KVM_REQUEST_NO_WAKEUP ? 'needs_ipi' : 'wake_up';
  },
  // kvm_vcpu_wake_up(): smp_mb(), then the task in vcpu->wait, after the set_bit (an atomic of its own).
  wake_up: (w, t, l) => {
    if (!kick_wake_up(w, t, vcpu_of(w, l.mask[l.i]!))) return 'needs_ipi';
    l.i++;
    return 'make';
  },
  needs_ipi: (w, t, l) => {
    const vcpu = vcpu_of(w, l.mask[l.i]!);
    if (kvm_request_needs_ipi(w, t, vcpu, l.req)) {
      const cpu = vcpu.cpu;
      if (cpu !== -1 && cpu !== t.cpu && !l.cpus.includes(cpu)) l.cpus.push(cpu);
    }
    l.i++;
    return 'make';
  },
  kick: (w, t, l) => {
    const wait = (l.req & KVM_REQUEST_WAIT) !== 0;
    emit(w, t, 'request.make_all', { req: req_name(w.arch, l.req), targets: l.targets.slice(), ipi_mask: l.cpus.slice(), wait });
    for (const cpu of l.cpus) smp_send_ipi(w, t, cpu, wait);
    return wait && l.cpus.length ? 'wait' : 'put_cpu';
  },
  // csd_lock_wait(): spin until every target CPU ran the (empty) handler.
  wait: (w, t, l) => (l.cpus.every((c) => !w.cpus[c]!.ipi_pending) ? 'put_cpu' : block(t, { kind: 'ipi_ack', cpus: l.cpus })),
  put_cpu: (_w, t, l) => {
    t.preempt_count--;
    t.retval = l.cpus.length > 0;
    return RETURN;
  },
});
