// arch/x86/kvm/x86.c: kvm_arch_init_vm(), kvm_arch_vcpu_ioctl_run(),
// vcpu_run(), vcpu_enter_guest() and vcpu_block(), in the kernel's order
// (KVM_RUN itself is called under vcpu->mutex: vcpu_ioctl.ts):
//
//   KVM_RUN: vcpu_load, kvm_vcpu_srcu_read_lock (kvm->srcu is held whenever
//   the vCPU is in KVM_RUN outside the guest and not blocked)
//   vcpu_run: loop { kvm_vcpu_running() ? vcpu_enter_guest() : vcpu_block();
//                    r <= 0: break; kvm_clear_request(KVM_REQ_UNBLOCK) }
//   vcpu_enter_guest: requests (VM_DEAD, TLB_FLUSH, TLB_FLUSH_CURRENT,
//     TLB_FLUSH_GUEST, HV_TLB_FLUSH, ..., EVENT), preempt_disable,
//     local_irq_disable, smp_store_release(mode, IN_GUEST_MODE),
//     kvm_vcpu_srcu_read_unlock + smp_mb__after_srcu_read_unlock,
//     kvm_vcpu_exit_request() -> cancel; run the guest; mode OUTSIDE,
//     local_irq_enable, preempt_enable, kvm_vcpu_srcu_read_lock; handle_exit
//
// The guest runs the thread's scenario ops, one per step, until one exits
// (a hypercall), an IPI arrives, or the program ends (exit to userspace).
// Left out: interrupt/event injection, the MMU (kvm_mmu_reload), FPU, PMU,
// Xen, signal/resched work (xfer_to_guest_mode_handle_work), steal time,
// the instruction emulator; requests the model does not act on are
// consumed where the kernel would handle them.
import { emit } from '../machine/events.js';
import { RETURN, call, has_fn, model_fn, observed_frames, ret } from '../machine/model.js';
import { op_named } from '../machine/ops.js';
import { next_op } from '../machine/thread.js';
import { metric_add, type Thread, type World } from '../machine/world.js';
import { KVM_REQ_GENERIC, vcpu_of, type KvmVcpu } from '../kvm/kvm_host.js';
import { kvm_check_request, kvm_request_pending, kvm_test_request, set_mode } from '../kvm/requests.js';
import { local_irq_disable, local_irq_enable } from '../kvm/smp.js';
import { KVM_SRCU, srcu_held_idx, srcu_read_lock, srcu_read_unlock } from '../rcu/srcu.js';
import type { WorldConfig } from '../world_init.js';
import { KVM_REQ, new_vcpu_x86 } from './kvm_host.js';
import { flush_tlb_all_entries } from './tlb.js';
import { hv_purge_kfifo_reset_out, kvm_hv_vcpu_flush_tlb, kvm_hv_vcpu_purge_flush_tlb } from './hyperv.js';
import { kvm_hv_vcpu_suspended } from './flush_inhibit.js';
import { kvm_vcpu_block, register_kvm_arch_vcpu_runnable } from '../kvm/vcpu_load.js';
import './requests_mask.js';
import './vcpu_ioctl.js';

/** Name of the x86 vCPU thread's root function: the VMM's KVM_RUN loop under vcpu->mutex (vcpu_ioctl.ts). */
export const X86_VCPU_ROOT = 'kvm_vcpu_ioctl_run';

/** kvm_arch_init_vm() + kvm_hv_init_vm(), and each vCPU's kvm_hv_vcpu_init() (kvm->srcu is kvm_create_vm()'s: world_init.ts). */
export function kvm_arch_init_vm_x86(w: World, _cfg: WorldConfig, _cpu: number): void {
  w.x86 = { vcpus: w.kvm.vcpus.map((v) => new_vcpu_x86(v.vcpu_id)), clock: 0, flushes: [] };
}

function vcpu_of_thread(w: World, t: Thread): KvmVcpu {
  return vcpu_of(w, t.vcpu);
}

/** kvm_vcpu_srcu_read_lock(): the vCPU's kvm->srcu section (vcpu->srcu_idx). */
function kvm_vcpu_srcu_read_lock(w: World, t: Thread): void {
  srcu_read_lock(w, t, KVM_SRCU);
}

function kvm_vcpu_srcu_read_unlock(w: World, t: Thread): void {
  srcu_read_unlock(w, t, KVM_SRCU, srcu_held_idx(w, t, KVM_SRCU));
}

/** kvm_vcpu_running(): RUNNABLE and (proposal) not suspended. */
export function kvm_vcpu_running(w: World, vcpu: number): boolean {
  return !kvm_hv_vcpu_suspended(w, vcpu);
}

/** kvm_vcpu_exit_request(): kicked, or requests pending. */
function kvm_vcpu_exit_request(vcpu: KvmVcpu): boolean {
  return vcpu.mode === 'EXITING_GUEST_MODE' || kvm_request_pending(vcpu);
}

/** kvm_arch_vcpu_ioctl_run(): load, take kvm->srcu, vcpu_run(), drop it, put. */
export const kvm_arch_vcpu_ioctl_run_x86 = model_fn<Record<string, never>>('kvm_arch_vcpu_ioctl_run_x86', {
  load: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    vcpu.cpu = t.cpu;
    emit(w, t, 'vcpu.load', { pcpu: t.cpu });
    kvm_vcpu_srcu_read_lock(w, t);
    return 'run';
  },
  run: () => call(vcpu_run, {}, 'put'),
  put: (w, t) => {
    const r = t.retval as number;
    kvm_vcpu_srcu_read_unlock(w, t);
    emit(w, t, 'vcpu.put', { scheduled_out: false, in_wfi: false });
    vcpu_of_thread(w, t).cpu = -1;
    t.retval = r;
    return RETURN;
  },
});

/** vcpu_run(): enter the guest or block until the vCPU can run; stop at r <= 0. */
export const vcpu_run = model_fn<{ r: number }>('vcpu_run', {
  loop: (w, t) => {
    if (w.kvm.vm_dead) return ret(t, -5);
    return kvm_vcpu_running(w, t.vcpu) ? call(vcpu_enter_guest, {}, 'after') : call(vcpu_block, {}, 'after');
  },
  after: (w, t, l) => {
    l.r = t.retval as number;
    if (l.r <= 0) return ret(t, l.r);
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ.UNBLOCK, vcpu)) kvm_check_request(w, t, KVM_REQ.UNBLOCK, vcpu); // kvm_clear_request()
    return 'loop';
  },
});

// kvm_vcpu_check_block() asks kvm_arch_vcpu_runnable(): here, kvm_vcpu_running().
register_kvm_arch_vcpu_runnable('x86', kvm_vcpu_running);

/**
 * vcpu_block(): not runnable (here: suspended by the proposal), so drop
 * kvm->srcu and halt in kvm_vcpu_block() (kvm/vcpu_load.ts) until a
 * wake-up finds a reason to run (kvm_vcpu_check_block()); then retake
 * kvm->srcu. Returns 1: vcpu_run() looks again.
 */
export const vcpu_block = model_fn<Record<string, never>>('vcpu_block', {
  srcu_unlock: (w, t) => {
    kvm_vcpu_srcu_read_unlock(w, t);
    return call(kvm_vcpu_block, {}, 'srcu_lock');
  },
  srcu_lock: (w, t) => {
    kvm_vcpu_srcu_read_lock(w, t);
    return ret(t, 1);
  },
});

/**
 * kvm_vcpu_flush_tlb_guest(): flush the guest's TLB, then purge Hyper-V's
 * request and FIFO (a full flush is a superset of the fine-grained one):
 * two steps, as the request is consumed before the FIFO is reset. VMX's
 * rule; on SVM the current and full flushes purge as well.
 */
export const kvm_vcpu_flush_tlb_guest = model_fn<{ reason: string }>('kvm_vcpu_flush_tlb_guest', {
  flush: (w, t, l) => {
    flush_tlb_all_entries(w, t, t.vcpu, 'guest', l.reason);
    if (l.reason === 'hv_flushall') emit(w, t, 'hv.flush', { target: t.vcpu, scope: 'all', gva: 0, pages: 0 });
    return 'purge';
  },
  purge: (w, t) => (kvm_hv_vcpu_purge_flush_tlb(w, t, t.vcpu) ? 'kfifo_reset_out' : RETURN),
  kfifo_reset_out: (w, t) => {
    hv_purge_kfifo_reset_out(w, t, t.vcpu);
    return RETURN;
  },
});

/** Undo the entry preparation: mode OUTSIDE, interrupts and preemption on, kvm->srcu again. */
function cancel_entry(w: World, t: Thread, vcpu: KvmVcpu, reason: string): void {
  set_mode(w, t, vcpu, 'OUTSIDE_GUEST_MODE', 'entry_abort');
  local_irq_enable(w, t);
  t.preempt_count--;
  emit(w, t, 'vcpu.entry_abort', { reason });
  kvm_vcpu_srcu_read_lock(w, t);
}

/** Requests consumed without a modelled effect (event injection, the dirty ring's soft-full exit). */
const CONSUMED = [KVM_REQ.EVENT, KVM_REQ_GENERIC.DIRTY_RING_SOFT_FULL] as const;

export const vcpu_enter_guest = model_fn<{ r: number }>('vcpu_enter_guest', {
  requests: (w, t) => (kvm_request_pending(vcpu_of_thread(w, t)) ? 'vm_dead' : 'event'),
  vm_dead: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ.VM_DEAD, vcpu) && kvm_check_request(w, t, KVM_REQ.VM_DEAD, vcpu)) return ret(t, -5);
    return 'tlb_flush';
  },
  // Flushing "all" also flushes "current": servicing it clears TLB_FLUSH_CURRENT.
  tlb_flush: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ.TLB_FLUSH, vcpu) && kvm_check_request(w, t, KVM_REQ.TLB_FLUSH, vcpu)) {
      flush_tlb_all_entries(w, t, t.vcpu, 'all', 'KVM_REQ_TLB_FLUSH');
      if (kvm_test_request(KVM_REQ.TLB_FLUSH_CURRENT, vcpu)) kvm_check_request(w, t, KVM_REQ.TLB_FLUSH_CURRENT, vcpu);
    }
    return 'local_flush';
  },
  // kvm_service_local_tlb_flush_requests()
  local_flush: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ.TLB_FLUSH_CURRENT, vcpu) && kvm_check_request(w, t, KVM_REQ.TLB_FLUSH_CURRENT, vcpu)) {
      flush_tlb_all_entries(w, t, t.vcpu, 'current', 'KVM_REQ_TLB_FLUSH_CURRENT');
    }
    if (kvm_test_request(KVM_REQ.TLB_FLUSH_GUEST, vcpu) && kvm_check_request(w, t, KVM_REQ.TLB_FLUSH_GUEST, vcpu)) {
      return call(kvm_vcpu_flush_tlb_guest, { reason: 'KVM_REQ_TLB_FLUSH_GUEST' }, 'hv_flush');
    }
    return 'hv_flush';
  },
  // Fall back to a full guest flush if Hyper-V's precise flushing fails.
  hv_flush: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ.HV_TLB_FLUSH, vcpu) && kvm_check_request(w, t, KVM_REQ.HV_TLB_FLUSH, vcpu)) {
      return call(kvm_hv_vcpu_flush_tlb, {}, 'hv_flushed');
    }
    return 'event';
  },
  hv_flushed: (_w, t) => {
    if (t.retval !== 0) return call(kvm_vcpu_flush_tlb_guest, { reason: 'hv_flushall' }, 'event');
    return 'event';
  },
  // if (kvm_check_request(KVM_REQ_EVENT, vcpu) || req_int_win) ... inject
  event: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    for (const req of CONSUMED) if (kvm_test_request(req, vcpu)) kvm_check_request(w, t, req, vcpu);
    return 'irq_off';
  },
  // preempt_disable(); ... local_irq_disable();
  irq_off: (w, t) => {
    t.preempt_count++;
    local_irq_disable(t);
    return 'mode_in';
  },
  // smp_store_release(&vcpu->mode, IN_GUEST_MODE): from here a requester sees IN and kicks.
  mode_in: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    set_mode(w, t, vcpu, 'IN_GUEST_MODE', 'smp_store_release');
    vcpu.requests_at_mode_in = vcpu.requests;
    return 'srcu_unlock';
  },
  // kvm_vcpu_srcu_read_unlock(vcpu); smp_mb__after_srcu_read_unlock();
  srcu_unlock: (w, t) => {
    kvm_vcpu_srcu_read_unlock(w, t);
    return 'exit_check';
  },
  exit_check: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_vcpu_exit_request(vcpu)) {
      cancel_entry(w, t, vcpu, vcpu.mode === 'EXITING_GUEST_MODE' ? 'kick' : 'request');
      return ret(t, 1);
    }
    return 'enter';
  },
  enter: (w, t) => {
    emit(w, t, 'vcpu.enter', { hw_mmu: 'tdp' });
    metric_add(w, 'vcpu_entries');
    return 'guest';
  },
  // The guest runs one op per step until an op exits, an IPI arrives, or
  // the program ends (back to userspace).
  guest: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (w.cpus[t.cpu]!.ipi_pending) return guest_exit(vcpu, 'irq');
    if (vcpu.mode === 'EXITING_GUEST_MODE') return guest_exit(vcpu, 'kick');
    const op = next_op(t);
    if (!op) return guest_exit(vcpu, 'done');
    const def = op_named(op.op);
    if (!def?.in_guest) throw new Error(`${t.name}: op ${op.op} cannot run in the guest`);
    const r = def.in_guest(w, t, op.args);
    if ('done' in r) {
      t.ip++;
      return 'guest';
    }
    return guest_exit(vcpu, r.exit);
  },
  // vcpu->mode = OUTSIDE_GUEST_MODE; smp_wmb(); local_irq_enable() (a
  // pending IPI is taken here); preempt_enable().
  exit: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    set_mode(w, t, vcpu, 'OUTSIDE_GUEST_MODE', 'guest_exit');
    emit(w, t, 'vcpu.exit', { reason: vcpu.exit_reason });
    local_irq_enable(w, t);
    t.preempt_count--;
    return 'srcu_lock';
  },
  srcu_lock: (w, t) => {
    kvm_vcpu_srcu_read_lock(w, t);
    return 'handle_exit';
  },
  // kvm_x86_ops.handle_exit(): a hypercall goes to kvm_emulate_hypercall()
  // -> kvm_hv_hypercall(); an interrupt or kick just re-enters; a
  // userspace_exit op, or the end of the program, is an exit to userspace
  // (r = 0; the VMM completes the op).
  handle_exit: (w, t) => {
    const reason = vcpu_of_thread(w, t).exit_reason;
    if (reason === 'hypercall') return call('kvm_hv_hypercall', {}, 'handled');
    if (reason === 'done') return ret(t, 0);
    if (reason === 'userspace') {
      t.ip++;
      return ret(t, 0);
    }
    // kvm_vmx_exit_handlers[]: a reason with a `handle_<reason>` model function (handle_ept_violation) runs it.
    if (has_fn(`handle_${reason}`)) return call(`handle_${reason}`, {}, 'handled');
    return ret(t, 1);
  },
  handled: (_w, t) => ret(t, t.retval as number),
});

/**
 * The vCPU has passed kvm_vcpu_exit_request() and runs (or is about to run)
 * the guest: between that check and the exit, a pending request is not
 * looked at until the next entry.
 */
export function vcpu_in_guest(w: World, vcpu: number): boolean {
  const t = w.threads[vcpu_of(w, vcpu).thread];
  const top = t?.stack[t.stack.length - 1];
  return top?.fn === vcpu_enter_guest.name && (top.pc === 'enter' || top.pc === 'guest' || top.pc === 'exit');
}
observed_frames('vcpu_enter_guest'); // vcpu_in_guest() looks at where another thread's vCPU is

function guest_exit(vcpu: KvmVcpu, reason: string): string {
  vcpu.exit_reason = reason;
  return 'exit';
}
