// vCPU requests: include/linux/kvm_host.h (kvm_make_request,
// kvm_check_request, kvm_request_pending, kvm_vcpu_exiting_guest_mode) and
// virt/kvm/kvm_main.c (kvm_vcpu_kick, kvm_make_all_cpus_request,
// kvm_request_needs_ipi, kvm_vcpu_wake_up of a vCPU blocked in
// kvm_vcpu_block()). Left out: the dirty-ring and pfncache users.
import { emit } from '../machine/events.js';
import { RETURN, block, model_fn } from '../machine/model.js';
import { metric_add, type Thread, type World } from '../machine/world.js';
import {
  KVM_REQUEST_MASK,
  KVM_REQ_GENERIC,
  KVM_REQUEST_NO_ACTION,
  KVM_REQUEST_NO_WAKEUP,
  KVM_REQUEST_WAIT,
  clear_bit,
  req_name,
  set_bit,
  test_bit,
  vcpu_of,
  type KvmVcpu,
  type VcpuMode,
} from './kvm_host.js';
import { smp_send_ipi } from './smp.js';
import { kvm_vcpu_wake_up } from './vcpu_load.js';

/** kvm_vcpu_wake_up() from a kick or a request: true (and a `vcpu.kick` wakeup event) when it woke the vCPU. */
export function kick_wake_up(w: World, t: Thread, vcpu: KvmVcpu): boolean {
  if (!kvm_vcpu_wake_up(vcpu)) return false;
  emit(w, t, 'vcpu.kick', { target: vcpu.vcpu_id, action: 'wakeup' });
  return true;
}

export function set_mode(w: World, t: Thread, vcpu: KvmVcpu, to: VcpuMode, via: string): void {
  const from = vcpu.mode;
  vcpu.mode = to;
  emit(w, t, 'vcpu.mode', { from, to, via });
}

/** kvm_make_request(): smp_wmb(); set_bit(). No kick. */
export function kvm_make_request(w: World, t: Thread, req: number, vcpu: KvmVcpu): void {
  if (req & KVM_REQUEST_NO_ACTION) throw new Error('kvm_make_request of a NO_ACTION request');
  const bit = req & KVM_REQUEST_MASK;
  vcpu.requests = set_bit(vcpu.requests, bit);
  emit(w, t, 'request.make', { req: req_name(w.arch, req), bit, flags: req & ~KVM_REQUEST_MASK, target: vcpu.vcpu_id });
}

export function kvm_request_pending(vcpu: KvmVcpu): boolean {
  return vcpu.requests !== 0;
}

export function kvm_test_request(req: number, vcpu: KvmVcpu): boolean {
  return test_bit(vcpu.requests, req & KVM_REQUEST_MASK);
}

/** kvm_check_request(): test, clear, smp_mb__after_atomic(). */
export function kvm_check_request(w: World, t: Thread, req: number, vcpu: KvmVcpu): boolean {
  const bit = req & KVM_REQUEST_MASK;
  const result = test_bit(vcpu.requests, bit);
  if (result) vcpu.requests = clear_bit(vcpu.requests, bit);
  emit(w, t, 'request.check', { req: req_name(w.arch, req), result });
  return result;
}

/** kvm_vcpu_exiting_guest_mode(): cmpxchg(mode, IN, EXITING), returns the old mode. */
export function kvm_vcpu_exiting_guest_mode(w: World, t: Thread, vcpu: KvmVcpu, via: string): VcpuMode {
  const old = vcpu.mode;
  if (old === 'IN_GUEST_MODE') set_mode(w, t, vcpu, 'EXITING_GUEST_MODE', via);
  return old;
}

/** kvm_request_needs_ipi(): WAIT requests wait for any mode but OUTSIDE; others only for IN. */
export function kvm_request_needs_ipi(w: World, t: Thread, vcpu: KvmVcpu, req: number): boolean {
  const mode = kvm_vcpu_exiting_guest_mode(w, t, vcpu, 'kvm_request_needs_ipi');
  if (req & KVM_REQUEST_WAIT) return mode !== 'OUTSIDE_GUEST_MODE';
  return mode === 'IN_GUEST_MODE';
}

/**
 * kvm_vcpu_kick(), since v6.15 __kvm_vcpu_kick(vcpu, false): wake the vCPU
 * if it is blocked; from its own thread flip IN to EXITING; otherwise a
 * reschedule IPI when kvm_arch_vcpu_should_kick() saw IN_GUEST_MODE. The
 * IPI is not waited for. One step, where the kernel can be interleaved
 * after the wake-up, the cmpxchg and READ_ONCE(vcpu->cpu): the same
 * outcome for its callers. "Its own thread" stands for
 * __this_cpu_read(kvm_running_vcpu), which differs only for a kick from
 * interrupt context on the vCPU's CPU, which the model has none of.
 */
export function kvm_vcpu_kick(w: World, t: Thread, vcpu: KvmVcpu): void {
  if (kick_wake_up(w, t, vcpu)) return;
  if (t.id === vcpu.thread) {
    const action = vcpu.mode === 'IN_GUEST_MODE' ? 'self' : 'none';
    if (action === 'self') set_mode(w, t, vcpu, 'EXITING_GUEST_MODE', 'kvm_vcpu_kick');
    emit(w, t, 'vcpu.kick', { target: vcpu.vcpu_id, action });
    return;
  }
  const cpu = vcpu.cpu;
  const should_kick = kvm_vcpu_exiting_guest_mode(w, t, vcpu, 'kvm_vcpu_kick') === 'IN_GUEST_MODE';
  const action = should_kick && cpu >= 0 && cpu !== t.cpu ? 'ipi' : 'none';
  emit(w, t, 'vcpu.kick', { target: vcpu.vcpu_id, action });
  if (action === 'ipi') smp_send_ipi(w, t, cpu, false);
}

/**
 * kvm_make_all_cpus_request(kvm, req) as steps: get_cpu(); per vCPU set the
 * bit; unless NO_WAKEUP (a step of its own), a vCPU woken from
 * kvm_vcpu_block() needs no IPI;
 * else (a separate atomic) kvm_request_needs_ipi() collects its CPU;
 * smp_call_function_many(mask, wait = req & WAIT); put_cpu(). Returns true
 * if any IPI was sent.
 */
export const kvm_make_all_cpus_request = model_fn<{ req: number; i: number; mask: number[]; targets: number[] }>(
  'kvm_make_all_cpus_request',
  {
    get_cpu: (_w, t, l) => {
      t.preempt_count++;
      l.i = 0;
      l.mask = [];
      l.targets = [];
      return 'make';
    },
    make: (w, t, l) => {
      const vcpu = w.kvm.vcpus[l.i];
      if (!vcpu) return 'kick';
      if (!(l.req & KVM_REQUEST_NO_ACTION)) kvm_make_request(w, t, l.req, vcpu);
      l.targets.push(vcpu.vcpu_id);
      return l.req & KVM_REQUEST_NO_WAKEUP ? 'needs_ipi' : 'wake_up';
    },
    // kvm_vcpu_wake_up(): smp_mb(), then the task in vcpu->wait, after the set_bit (an atomic of its own).
    wake_up: (w, t, l) => {
      if (!kick_wake_up(w, t, vcpu_of(w, l.i))) return 'needs_ipi';
      l.i++;
      return 'make';
    },
    needs_ipi: (w, t, l) => {
      const vcpu = vcpu_of(w, l.i);
      if (kvm_request_needs_ipi(w, t, vcpu, l.req)) {
        const cpu = vcpu.cpu;
        if (cpu !== -1 && cpu !== t.cpu) l.mask.push(cpu);
      }
      l.i++;
      return 'make';
    },
    kick: (w, t, l) => {
      const wait = (l.req & KVM_REQUEST_WAIT) !== 0;
      emit(w, t, 'request.make_all', { req: req_name(w.arch, l.req), targets: l.targets.slice(), ipi_mask: l.mask.slice(), wait });
      if ((l.req & KVM_REQUEST_MASK) === (KVM_REQ_GENERIC.TLB_FLUSH & KVM_REQUEST_MASK)) metric_add(w, 'remote_flush_ipis', l.mask.length);
      for (const cpu of l.mask) smp_send_ipi(w, t, cpu, wait);
      return wait && l.mask.length ? 'wait' : 'put_cpu';
    },
    // csd_lock_wait(): spin until every target CPU ran the handler.
    wait: (w, t, l) => (l.mask.every((c) => !w.cpus[c]!.ipi_pending) ? 'put_cpu' : block(t, { kind: 'ipi_ack', cpus: l.mask })),
    put_cpu: (_w, t, l) => {
      t.preempt_count--;
      t.retval = l.mask.length > 0;
      return RETURN;
    },
  },
);

/** kvm_make_request() + kvm_vcpu_kick() as one model call (the common pairing). */
export const kvm_make_request_and_kick = model_fn<{ req: number; vcpu: number }>('kvm_make_request_and_kick', {
  make: (w, t, l) => {
    kvm_make_request(w, t, l.req, vcpu_of(w, l.vcpu));
    return 'kick';
  },
  kick: (w, t, l) => {
    kvm_vcpu_kick(w, t, vcpu_of(w, l.vcpu));
    return RETURN;
  },
});

