// virt/kvm/kvm_main.c kvm_vcpu_ioctl(): every vCPU ioctl but the few
// "async" ones runs under mutex_lock_killable(&vcpu->mutex), KVM_RUN
// included, so an ioctl on a vCPU (the proposed
// KVM_HYPERV_SET_TLB_FLUSH_INHIBIT) waits until that vCPU's KVM_RUN has
// returned to userspace, and its next KVM_RUN waits for the ioctl.
//
// The vCPU thread is the VMM's vCPU thread: it calls KVM_RUN in a loop, and
// KVM_RUN returns to userspace when the guest does something only the VMM
// handles (the `userspace_exit` op) or its program ends.
//
// Left out: signals (mutex_lock_killable never fails), the async ioctls,
// the pid check, the vCPU's run struct and the exit reasons it carries, and
// any fairness between mutex waiters: whoever the scheduler runs first when
// the holder unlocks takes it.
import { emit } from '../machine/events.js';
import { RETURN, block, call, model_fn, wait_kind } from '../machine/model.js';
import { define_op } from '../machine/ops.js';
import { next_op } from '../machine/thread.js';
import type { Thread, World } from '../machine/world.js';
import { x86_vcpu } from './kvm_host.js';

const VCPU_MUTEX_WAIT = 'vcpu_mutex';

wait_kind(VCPU_MUTEX_WAIT, true, (w, _t, wait) => x86_vcpu(w, wait['vcpu'] as number).mutex < 0);

function mutex_name(vcpu: number): string {
  return `vcpu${vcpu}->mutex`;
}

/** mutex_lock_killable(&vcpu->mutex): `next` when taken, else the thread sleeps until it is free. */
export function vcpu_mutex_lock(w: World, t: Thread, vcpu: number, next: string): string {
  const xv = x86_vcpu(w, vcpu);
  if (xv.mutex >= 0 && xv.mutex !== t.id) {
    emit(w, t, 'lock.contend', { lock: mutex_name(vcpu), mode: 'mutex' });
    return block(t, { kind: VCPU_MUTEX_WAIT, vcpu });
  }
  if (xv.mutex === t.id) throw new Error(`${t.name}: ${mutex_name(vcpu)} taken twice`);
  xv.mutex = t.id;
  emit(w, t, 'lock.acquire', { lock: mutex_name(vcpu), mode: 'mutex' });
  return next;
}

export function vcpu_mutex_unlock(w: World, t: Thread, vcpu: number): void {
  const xv = x86_vcpu(w, vcpu);
  if (xv.mutex !== t.id) throw new Error(`${t.name}: mutex_unlock(${mutex_name(vcpu)}) without holding it`);
  xv.mutex = -1;
  emit(w, t, 'lock.release', { lock: mutex_name(vcpu), mode: 'mutex' });
}

/** Whether `t` holds vcpu->mutex of `vcpu`. */
export function vcpu_mutex_held(w: World, t: Thread, vcpu: number): boolean {
  return x86_vcpu(w, vcpu).mutex === t.id;
}

/**
 * The VMM's vCPU thread: ioctl(KVM_RUN) = kvm_vcpu_ioctl(): take
 * vcpu->mutex, kvm_arch_vcpu_ioctl_run(), drop it; back in userspace, run
 * again while the program has ops left (and KVM_RUN did not fail).
 */
export const kvm_vcpu_ioctl_run = model_fn<{ r: number }>('kvm_vcpu_ioctl_run', {
  lock: (w, t) => vcpu_mutex_lock(w, t, t.vcpu, 'run'),
  run: () => call('kvm_arch_vcpu_ioctl_run_x86', {}, 'unlock'),
  unlock: (w, t, l) => {
    l.r = t.retval as number;
    vcpu_mutex_unlock(w, t, t.vcpu);
    if (l.r < 0 || !next_op(t)) return RETURN;
    return 'lock';
  },
});

/** A guest operation only the VMM handles (a port I/O or MMIO exit): KVM_RUN returns 0 to userspace, which calls it again. */
define_op({
  name: 'userspace_exit',
  threads: ['vcpu'],
  arch: 'x86',
  summary: 'the guest exits to the VMM (a port I/O or MMIO exit): KVM_RUN returns to userspace, dropping vcpu->mutex, and is called again',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  in_guest: () => ({ exit: 'userspace' }),
});
