// The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT proposal (NOT merged), switched on by
// the variant hv.tlb_flush_inhibit: Nikolas Wipper, "[PATCH 0/7] KVM: x86:
// Introduce new ioctl KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 4 Oct
// 2024, with the review by Vitaly Kuznetsov and Sean Christopherson.
// Upstream has no such ioctl: without the variant it fails with -EINVAL
// (kvm_arch_vcpu_ioctl()'s default) and flushes never look at a flag.
//
// The TLFS (HvCallFlushVirtualAddressSpace/List, "Restrictions on TLB
// Flushes"): while a VP's TLB is "locked" (TlbFlushInhibit), a flush
// hypercall that needs to flush it suspends its caller without advancing the
// instruction pointer; clearing the inhibit resumes the suspended callers,
// which issue the hypercall again; and a flush hypercall returns only once
// its flushes have taken effect on every target. What a VMM can observe, and
// what hv.flush_while_inhibited checks: once the ioctl that sets X's inhibit
// has returned, and until the VMM starts the ioctl that clears it, no flush
// hypercall that targets X completes; hv.suspended_forever checks that every
// caller suspended on X is released when the inhibit is cleared.
//
//  - 2/7: kvm_vcpu_hv.suspended and .waiting_on; kvm_vcpu_running() is false
//    while suspended; unsuspend clears both for the vCPUs waiting on a vCPU
//    and makes a request that wakes them (KVM_REQ_EVENT in v1).
//  - 5/7: kvm_hv_flush_tlb() reads every target's tlb_flush_inhibit and, at
//    the first one set, suspends the caller (-EBUSY; the instruction is not
//    skipped). The ioctl writes the flag, then synchronize_srcu(&kvm->srcu):
//    on inhibit, every flush that read the old value has finished; on
//    uninhibit, every flusher that read the old value has finished
//    suspending, so the unsuspend that follows sees it. The flusher is a
//    reader because a vCPU holds kvm->srcu whenever it is in KVM_RUN outside
//    the guest (x86.ts); the patch asserts it in the suspend path. Being a
//    vCPU ioctl, it runs under the target's vcpu->mutex (vcpu_ioctl.ts): the
//    target is in userspace, not in KVM_RUN, while its flag changes.
//
// Review: Vitaly asked what happens if the flag changes after the flusher
// read it and before kvm_make_vcpus_request_mask(), and suggested making
// the request first, then checking the mask and suspending. Nikolas answered
// that the ioctl's synchronize_srcu() waits for such a flusher. Vitaly also
// asked to merge `suspended` into `waiting_on` and to make the flag a bool;
// Sean called the SRCU use imprecise (no data is tagged __rcu; what makes a
// vCPU see inhibit=false or a wake-up is the smp_wmb() in
// __kvm_make_request()) and slow (writers wait for every vCPU outside the
// guest), suggested KVM_REQ_UNBLOCK instead of KVM_REQ_EVENT, and asked to
// settle first whether HvTranslateVirtualAddress belongs in userspace at all.
//
// hv.tlb_flush_inhibit is the series with those two review points folded in
// (one store suspends, KVM_REQ_UNBLOCK wakes) and v1's check-first order;
// hv.inhibit_v1 restores v1's two stores and KVM_REQ_EVENT; the other two
// variants change the order or drop the SRCU wait. Each of those implies
// hv.tlb_flush_inhibit.
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn, ret } from '../machine/model.js';
import { define_op } from '../machine/ops.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type World } from '../machine/world.js';
import { KVM_SRCU, srcu_read_lock_held, synchronize_srcu } from '../rcu/srcu.js';
import { KVM_REQ, x86, x86_vcpu } from './kvm_host.js';
import { vcpu_mutex_lock, vcpu_mutex_unlock } from './vcpu_ioctl.js';

export const TLB_FLUSH_INHIBIT = define_variant({
  name: 'hv.tlb_flush_inhibit',
  description:
    'adds KVM_HYPERV_SET_TLB_FLUSH_INHIBIT (a vCPU ioctl: write kvm_vcpu_hv.tlb_flush_inhibit, synchronize_srcu(&kvm->srcu), ' +
    'on clear unsuspend the vCPUs waiting on this one with KVM_REQ_UNBLOCK); kvm_hv_flush_tlb() reads each target\'s flag before ' +
    'queueing anything and, at an inhibited one, suspends its caller (not runnable, hypercall not skipped) instead; the review\'s ' +
    'merged suspended/waiting_on state (one store) and KVM_REQ_UNBLOCK are folded in',
  source:
    'posting: Nikolas Wipper, "[PATCH 0/7] KVM: x86: Introduce new ioctl KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 4 Oct 2024; ' +
    'Vitaly Kuznetsov, "Re: [PATCH 2/7] KVM: x86: Implement Hyper-V\'s vCPU suspended state", kvm list, 10 Oct 2024; ' +
    'Sean Christopherson, "Re: [PATCH 2/7] KVM: x86: Implement Hyper-V\'s vCPU suspended state", kvm list, Oct 2024; not merged',
  breaks: 'nothing; flush hypercalls that target an inhibited vCPU suspend their caller (hv_suspends, hv_unsuspends) and re-run once it is cleared',
  arch: 'x86',
});

export const INHIBIT_V1 = define_variant({
  name: 'hv.inhibit_v1',
  description:
    'on top of hv.tlb_flush_inhibit, the v1 patches as posted: the caller suspends with two stores (waiting_on, then suspended) ' +
    'and the unsuspend wakes waiters with KVM_REQ_EVENT; the check-first order and the synchronize_srcu() are v1\'s too',
  source:
    'posting: Nikolas Wipper, "[PATCH 2/7] KVM: x86: Implement Hyper-V\'s vCPU suspended state", kvm list, 4 Oct 2024; ' +
    'Nikolas Wipper, "[PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 4 Oct 2024; not merged',
  breaks:
    'nothing; the wake-up request is KVM_REQ_EVENT (hv_unsuspend_requests.EVENT instead of .UNBLOCK). The window Vitaly Kuznetsov ' +
    'asked about (flag read, then set, before the request) is closed by synchronize_srcu(): the flusher holds kvm->srcu from its read ' +
    'to its return (Nikolas Wipper\'s answer); with hv.no_srcu_sync it opens',
  arch: 'x86',
});

export const INHIBIT_REQUEST_FIRST = define_variant({
  name: 'hv.inhibit_request_first',
  description:
    'on top of hv.tlb_flush_inhibit, the order Vitaly Kuznetsov suggested: queue the flush and make KVM_REQ_HV_TLB_FLUSH on every ' +
    'target first, then look through the mask for an inhibited vCPU and suspend',
  source: 'posting: Vitaly Kuznetsov, "Re: [PATCH 5/7] KVM: x86: Implement KVM_HYPERV_SET_TLB_FLUSH_INHIBIT", kvm list, 10 Oct 2024; not merged',
  breaks:
    'nothing; a flusher that comes after the inhibit was set still suspends before completing, but its flush is already queued on the ' +
    'inhibited vCPU, which performs it on its next entry (hv_fifo_push_while_inhibited up from 0)',
  arch: 'x86',
});

export const NO_SRCU_SYNC = define_variant({
  name: 'hv.no_srcu_sync',
  description: 'on top of hv.tlb_flush_inhibit, KVM_HYPERV_SET_TLB_FLUSH_INHIBIT returns without synchronize_srcu(&kvm->srcu): it does not wait for flushes in flight',
  source:
    'hypothetical: no posting drops the synchronize_srcu() (Sean Christopherson only called it imprecise and slow); shows what it is ' +
    'for: the window between a flusher reading the flag and queueing or suspending, in both directions',
  breaks:
    'hv.flush_while_inhibited (a flusher that read the flag as 0 before it was set completes after the ioctl returned) and ' +
    'hv.suspended_forever (a flusher that read the flag as 1 before it was cleared suspends after the unsuspend scan)',
  arch: 'x86',
});

const PROPOSAL = [TLB_FLUSH_INHIBIT, INHIBIT_V1, INHIBIT_REQUEST_FIRST, NO_SRCU_SYNC].map((v) => v.name);

/** The proposal is in (hv.tlb_flush_inhibit, or a variant of it). */
export function tlb_flush_inhibit_on(w: World): boolean {
  return PROPOSAL.some((v) => variant_on(w, v));
}

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
    const v1 = variant_on(w, INHIBIT_V1.name);
    const req = v1 ? KVM_REQ.EVENT : KVM_REQ.UNBLOCK;
    metric_add(w, v1 ? 'hv_unsuspend_requests.EVENT' : 'hv_unsuspend_requests.UNBLOCK');
    return call('kvm_make_vcpus_request_mask', { req, mask: l.mask.slice() }, 'done');
  },
  done: () => RETURN,
});

/** -EINVAL: kvm_arch_vcpu_ioctl()'s answer to an ioctl it does not know (upstream, without the proposal). */
const EINVAL = -22;

/**
 * kvm_vcpu_ioctl(vcpu, KVM_HYPERV_SET_TLB_FLUSH_INHIBIT, {inhibit}) under
 * vcpu->mutex: nothing if the flag already says so; else write it,
 * synchronize_srcu(&kvm->srcu), and on clear unsuspend the vCPUs waiting
 * on this one.
 */
export const kvm_vcpu_ioctl_set_tlb_flush_inhibit = model_fn<{ vcpu: number; inhibit: boolean; r: number }>('kvm_vcpu_ioctl_set_tlb_flush_inhibit', {
  mutex: (w, t, l) => vcpu_mutex_lock(w, t, l.vcpu, 'dispatch'),
  dispatch: (w, t, l) => {
    const xv = x86_vcpu(w, l.vcpu);
    l.r = 0;
    if (!tlb_flush_inhibit_on(w)) {
      l.r = EINVAL;
      emit(w, t, 'hv.inhibit', { target: l.vcpu, inhibit: l.inhibit, phase: 'einval' });
      return 'unlock';
    }
    // From here the VMM is taking the inhibit away: flushes may complete again.
    if (!l.inhibit) xv.inhibited = false;
    return xv.hyperv.tlb_flush_inhibit === l.inhibit ? 'unlock' : 'write';
  },
  write: (w, t, l) => {
    const xv = x86_vcpu(w, l.vcpu);
    xv.hyperv.tlb_flush_inhibit = l.inhibit;
    xv.inhibit_write_step = w.step;
    emit(w, t, 'hv.inhibit', { target: l.vcpu, inhibit: l.inhibit, phase: 'write' });
    return variant_on(w, NO_SRCU_SYNC.name) ? 'after_sync' : 'sync';
  },
  sync: () => call(synchronize_srcu, { srcu: KVM_SRCU }, 'after_sync'),
  after_sync: (_w, _t, l) => (l.inhibit ? 'unlock' : call(kvm_hv_unsuspend_vcpus, { vcpu: l.vcpu }, 'unlock')),
  // mutex_unlock(&vcpu->mutex); the ioctl returns.
  unlock: (w, t, l) => {
    vcpu_mutex_unlock(w, t, l.vcpu);
    if (l.r < 0) return ret(t, l.r);
    const xv = x86_vcpu(w, l.vcpu);
    if (l.inhibit) {
      xv.inhibited = true;
      xv.inhibit_return_step = w.step;
    } else {
      xv.clear_return_step = w.step;
    }
    emit(w, t, 'hv.inhibit', { target: l.vcpu, inhibit: l.inhibit, phase: 'return' });
    return ret(t, 0);
  },
});

define_op({
  name: 'set_tlb_flush_inhibit',
  threads: ['vmm'],
  arch: 'x86',
  summary:
    'KVM_HYPERV_SET_TLB_FLUSH_INHIBIT on a vCPU under its vcpu->mutex (the proposal, variant hv.tlb_flush_inhibit; -EINVAL without it): ' +
    'set or clear its tlb_flush_inhibit, synchronize kvm->srcu, on clear wake the vCPUs suspended on it',
  schema: {
    type: 'object',
    properties: { vcpu: { type: 'integer', minimum: 0 }, inhibit: { type: 'boolean' } },
    required: ['vcpu', 'inhibit'],
    additionalProperties: false,
  },
  fn: kvm_vcpu_ioctl_set_tlb_flush_inhibit.name,
});
