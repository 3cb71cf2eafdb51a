// The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT proposal (NOT merged): Nikolas
// Wipper, "[PATCH 0/7] KVM: x86: Introduce new ioctl
// KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", 4 Oct 2024, with the review by Vitaly
// Kuznetsov and Sean Christopherson.
//
// TLFS TlbFlushInhibit: while a vCPU's inhibit is set, a vCPU that asks for
// a TLB flush of it with a Hyper-V hypercall is suspended until the inhibit
// is cleared, and then re-runs the hypercall. The VMM sets the inhibit while
// it emulates an instruction of that vCPU (HvTranslateVirtualAddress for
// VSM), so that the translation it used stays in the vCPU's TLB.
//
//  - 2/7: kvm_vcpu_hv.suspended and .waiting_on; kvm_vcpu_running() is false
//    while suspended; unsuspend clears both for the vCPUs waiting on a vCPU
//    and makes a request that wakes them (KVM_REQ_EVENT in v1).
//  - 5/7: kvm_hv_flush_tlb() reads every target's tlb_flush_inhibit and, at
//    the first one set, suspends the caller (-EBUSY; the instruction is not
//    skipped). The ioctl writes the flag, then synchronize_srcu(&kvm->srcu):
//    on inhibit, every flush that read the old value has finished queueing;
//    on uninhibit, every flusher that read the old value has finished
//    suspending, so the unsuspend that follows sees it. The flusher is a
//    reader because a vCPU holds kvm->srcu whenever it is in KVM_RUN outside
//    the guest (x86.ts); the patch asserts it in the suspend path.
//
// Review: Vitaly asked what happens if the flag changes after the flusher
// read it and before kvm_make_vcpus_request_mask(), and suggested making
// the request first, then checking the mask and suspending. Nikolas answered
// that the ioctl's synchronize_srcu() waits for such a flusher. Vitaly also
// asked to merge `suspended` into `waiting_on` and to make the flag a bool;
// Sean called the SRCU use imprecise and slow (writers wait for every vCPU
// outside the guest) and suggested KVM_REQ_UNBLOCK instead of KVM_REQ_EVENT.
//
// The model's current code (no variant) is the proposal as corrected by
// that review, with the check-first order of v1: flushers read every
// target's flag before queueing anything, the ioctl synchronizes kvm->srcu,
// suspended is one store (waiting_on set means suspended), the wake-up is
// KVM_REQ_UNBLOCK. Why check-first: a flush that is queued on a vCPU is
// performed by that vCPU the next time it enters the guest, whatever its
// inhibit says (kvm_hv_vcpu_flush_tlb() does not look at it), so the
// guarantee the ioctl gives ("no TLB flushes happen once the ioctl exits",
// 5/7) must be that nothing is queued on an inhibited vCPU after it
// returned; the request-first order queues first and suspends afterwards,
// which breaks exactly that (hv.inhibit_request_first shows it). With the
// request first, the flusher does not return to its guest while the target
// is inhibited either way; that weaker promise holds in both orders (the
// tests check it too).
import { emit } from '../machine/events.js';
import { RETURN, block, call, model_fn, wait_kind } from '../machine/model.js';
import { define_op } from '../machine/ops.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type World } from '../machine/world.js';
import { KVM_SRCU, srcu_read_lock_held, synchronize_srcu } from '../rcu/srcu.js';
import { KVM_REQ, x86, x86_vcpu } from './kvm_host.js';

export const INHIBIT_V1 = define_variant({
  name: 'hv.inhibit_v1',
  description:
    "the v1 patches as posted: suspended and waiting_on written in two stores, each target's tlb_flush_inhibit read before anything is queued, waiters woken with KVM_REQ_EVENT",
  source:
    '[PATCH 2/7] and [PATCH 5/7] of "KVM: x86: Introduce new ioctl KVM_HYPERV_SET_TLB_FLUSH_INHIBIT" (Nikolas Wipper, 4 Oct 2024); the window between the read and kvm_make_vcpus_request_mask() that Vitaly Kuznetsov asked about (10 Oct 2024)',
  breaks:
    "nothing: the flusher holds kvm->srcu from its read to its request, and the ioctl's synchronize_srcu() waits for it (Nikolas Wipper's answer); with hv.no_srcu_sync as well the window opens: hv.flush_while_inhibited",
  arch: 'x86',
});

export const INHIBIT_REQUEST_FIRST = define_variant({
  name: 'hv.inhibit_request_first',
  description:
    'the order Vitaly Kuznetsov suggested: queue the flush and make KVM_REQ_HV_TLB_FLUSH on every target first, then look through the mask for an inhibited vCPU and suspend',
  source: 'Vitaly Kuznetsov, "Re: [PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT" (10 Oct 2024)',
  breaks:
    'hv.flush_while_inhibited: a flusher that comes after the inhibit ioctl returned queues its flush on the inhibited vCPU before it finds the flag and suspends (the flusher itself does not return early)',
  arch: 'x86',
});

export const NO_SRCU_SYNC = define_variant({
  name: 'hv.no_srcu_sync',
  description: 'KVM_HYPERV_SET_TLB_FLUSH_INHIBIT returns without synchronize_srcu(&kvm->srcu): it does not wait for flushes in flight',
  source: '[PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT (what its synchronize_srcu() is for)',
  breaks:
    'hv.flush_while_inhibited (a flusher that read the flag before it was set queues its flush after the ioctl returned) and hv.suspended_forever (a flusher that read the flag before it was cleared suspends after the unsuspend scan)',
  arch: 'x86',
});

/** READ_ONCE(v->arch.hyperv->tlb_flush_inhibit). */
export function tlb_flush_inhibited(w: World, vcpu: number): boolean {
  return x86_vcpu(w, vcpu).hyperv.tlb_flush_inhibit;
}

/** kvm_hv_vcpu_suspended(): kvm_vcpu_running() is false while it holds. */
export function kvm_hv_vcpu_suspended(w: World, vcpu: number): boolean {
  return x86_vcpu(w, vcpu).hyperv.suspended;
}

/**
 * kvm_hv_vcpu_suspend_tlb_flush(vcpu, waiting_on): the caller of a flush
 * suspends itself. It must be in a kvm->srcu reader section (the patch's
 * RCU_LOCKDEP_WARN), which is what the ioctl's synchronize_srcu() waits for.
 * v1: waiting_on, then suspended, two stores; merged (review): one.
 */
export const kvm_hv_vcpu_suspend_tlb_flush = model_fn<{ waiting_on: number }>('kvm_hv_vcpu_suspend_tlb_flush', {
  waiting_on: (w, t, l) => {
    if (!srcu_read_lock_held(w, t, KVM_SRCU)) throw new Error(`${t.name}: Suspicious Hyper-V TLB flush inhibit usage (kvm->srcu not held)`);
    const hv = x86_vcpu(w, t.vcpu).hyperv;
    hv.waiting_on = l.waiting_on;
    if (variant_on(w, INHIBIT_V1.name)) return 'suspended';
    hv.suspended = true;
    return 'suspended_done';
  },
  suspended: (w, t) => {
    x86_vcpu(w, t.vcpu).hyperv.suspended = true;
    return 'suspended_done';
  },
  suspended_done: (w, t, l) => {
    x86_vcpu(w, t.vcpu).suspend_step = w.step;
    emit(w, t, 'hv.suspend', { target: t.vcpu, waiting_on: l.waiting_on });
    metric_add(w, 'hv_suspends');
    return RETURN;
  },
});

/**
 * kvm_hv_unsuspend_vcpus(waiting_on_vcpu) (v1: kvm_hv_vcpu_unsuspend_tlb_flush;
 * the name is Vitaly's): clear the vCPUs suspended on this one, one vCPU a
 * step, then make the wake-up request of them.
 */
export const kvm_hv_unsuspend_vcpus = model_fn<{ vcpu: number; i: number; mask: number[] }>('kvm_hv_unsuspend_vcpus', {
  start: (_w, _t, l) => {
    l.i = 0;
    l.mask = [];
    return 'scan';
  },
  scan: (w, t, l) => {
    const all = x86(w).vcpus;
    if (l.i >= all.length) return 'wake';
    const hv = all[l.i]!.hyperv;
    if (hv.suspended && hv.waiting_on === l.vcpu) {
      hv.waiting_on = -1;
      hv.suspended = false;
      l.mask.push(l.i);
      emit(w, t, 'hv.unsuspend', { target: l.i, waiting_on: l.vcpu });
      metric_add(w, 'hv_unsuspends');
    }
    l.i++;
    return 'scan';
  },
  wake: (w, _t, l) => {
    if (!l.mask.length) return RETURN;
    const req = variant_on(w, INHIBIT_V1.name) ? KVM_REQ.EVENT : KVM_REQ.UNBLOCK;
    return call('kvm_make_vcpus_request_mask', { req, mask: l.mask.slice() }, 'done');
  },
  done: () => RETURN,
});

// vCPU ioctls are serialized by vcpu->mutex. The model serializes the
// inhibit ioctls of one vCPU with each other, but not with the vCPU's own
// KVM_RUN (so the inhibited vCPU may keep running; see kvm_host.ts).
wait_kind('vcpu_ioctl', true, (w, _t, wait) => x86_vcpu(w, wait['vcpu'] as number).inhibit_ioctl === 'none');

/**
 * kvm_vcpu_ioctl_set_tlb_flush_inhibit(vcpu, {inhibit}): nothing if the flag
 * already says so; else write it, synchronize_srcu(&kvm->srcu), and on clear
 * unsuspend the vCPUs waiting on this one.
 */
export const kvm_vcpu_ioctl_set_tlb_flush_inhibit = model_fn<{ vcpu: number; inhibit: boolean }>('kvm_vcpu_ioctl_set_tlb_flush_inhibit', {
  mutex: (w, t, l) => {
    const xv = x86_vcpu(w, l.vcpu);
    if (xv.inhibit_ioctl !== 'none') return block(t, { kind: 'vcpu_ioctl', vcpu: l.vcpu });
    xv.inhibit_ioctl = l.inhibit ? 'set' : 'clear';
    // From here the VMM is taking the inhibit away: flushes may reach the vCPU again.
    if (!l.inhibit) xv.inhibited = false;
    return xv.hyperv.tlb_flush_inhibit === l.inhibit ? 'done' : 'write';
  },
  write: (w, t, l) => {
    const xv = x86_vcpu(w, l.vcpu);
    xv.hyperv.tlb_flush_inhibit = l.inhibit;
    xv.inhibit_write_step = w.step;
    emit(w, t, 'hv.inhibit', { target: l.vcpu, inhibit: l.inhibit, phase: 'write' });
    return variant_on(w, NO_SRCU_SYNC.name) ? 'after_sync' : 'sync';
  },
  sync: () => call(synchronize_srcu, { srcu: KVM_SRCU }, 'after_sync'),
  after_sync: (_w, _t, l) => (l.inhibit ? 'done' : call(kvm_hv_unsuspend_vcpus, { vcpu: l.vcpu }, 'done')),
  done: (w, t, l) => {
    const xv = x86_vcpu(w, l.vcpu);
    xv.inhibit_ioctl = 'none';
    if (l.inhibit) {
      xv.inhibited = true;
      xv.inhibit_return_step = w.step;
    } else {
      xv.clear_return_step = w.step;
    }
    emit(w, t, 'hv.inhibit', { target: l.vcpu, inhibit: l.inhibit, phase: 'return' });
    t.retval = 0;
    return RETURN;
  },
});

define_op({
  name: 'set_tlb_flush_inhibit',
  threads: ['vmm'],
  arch: 'x86',
  summary: 'KVM_HYPERV_SET_TLB_FLUSH_INHIBIT on a vCPU (proposal): set or clear its tlb_flush_inhibit, synchronize kvm->srcu, on clear wake the vCPUs suspended on it',
  schema: {
    type: 'object',
    properties: { vcpu: { type: 'integer', minimum: 0 }, inhibit: { type: 'boolean' } },
    required: ['vcpu', 'inhibit'],
    additionalProperties: false,
  },
  fn: kvm_vcpu_ioctl_set_tlb_flush_inhibit.name,
});
