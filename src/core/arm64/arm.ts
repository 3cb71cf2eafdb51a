// arch/arm64/kvm/arm.c: kvm_arch_init_vm(), kvm_arch_vcpu_ioctl_run() and
// check_vcpu_requests(), in the kernel's order: handle work, requests,
// interrupts off, smp_store_mb(mode, IN_GUEST_MODE), kvm_vcpu_exit_request(),
// run the guest, exit; kvm_vcpu_wfi() for a trapped WFI. Left out: the vgic
// (an interrupt is one pending flag), timers, PMU, pKVM, debug state, WFE and
// WFIT; the guest runs the thread's scenario ops one per step until one traps.
import { emit } from '../machine/events.js';
import { RETURN, call, has_fn, model_fn, ret } from '../machine/model.js';
import { op_named } from '../machine/ops.js';
import { next_op } from '../machine/thread.js';
import { define_variant } from '../machine/variants.js';
import { preempt_point, register_kvm_arch_vcpu_put_load, register_kvm_arch_vcpu_runnable } from '../kvm/vcpu_load.js';
import { define_op } from '../machine/ops.js';
import { kvm_make_request_and_kick } from '../kvm/requests.js';
import { variant_on, type Thread, type World } from '../machine/world.js';
import { KVM_REQ_ARM64, KVM_REQ_GENERIC, vcpu_of, type KvmVcpu } from '../kvm/kvm_host.js';
import { kvm_check_request, kvm_request_pending, kvm_test_request, set_mode } from '../kvm/requests.js';
import { local_irq_disable, local_irq_enable } from '../kvm/smp.js';
import type { WorldConfig } from '../world_init.js';
import { arm64, mmu_name, VTTBR_CNP_BIT, type kvm_s2_mmu } from './kvm_host.js';
import { kvm_pgtable_stage2_init, vcpu_memcache } from './mmu_stage2.js';
import { cpu_tlb } from './tlb.js';
import { rcu_init } from '../rcu/tree.js';
import { tlbi_retire } from './sys_regs.js';

export const EXIT_REQUEST_BEFORE_MODE = define_variant({
  name: 'kvm.exit_request_before_mode',
  description:
    'kvm_arch_vcpu_ioctl_run() tests for pending requests before smp_store_mb(vcpu->mode, IN_GUEST_MODE) and not after it: a request made in between is not seen, and its maker read OUTSIDE_GUEST_MODE so it sent no kick',
  source:
    'hypothetical: the arm64 run loop has re-checked requests after publishing IN_GUEST_MODE since it adopted vCPU requests; the wrong order is the one Documentation/virt/kvm/vcpu-requests.rst ("Ensuring Requests Are Seen") warns about, and it shows the race the smp_store_mb()/kvm_vcpu_exit_request() pair closes',
  breaks: 'kvm.request_unserviced',
  arch: 'arm64',
});

export function kvm_arch_init_vm(w: World, cfg: WorldConfig, cpu: number): void {
  const ipa_bits = cfg.ipa_bits ?? 40;
  const mmu = (index: number, vmid: number): kvm_s2_mmu => ({
    index,
    vmid,
    pgt: kvm_pgtable_stage2_init(w, ipa_bits),
    // kvm_init_nested_s2_mmu(): a shadow starts invalid (VTTBR_CNP_BIT alone); the canonical MMU's stays 0 (valid).
    tlb_vttbr: index < 0 ? 0n : VTTBR_CNP_BIT,
    tlb_vtcr: 0n,
    nested_stage2_enabled: false,
    pending_unmap: false,
    refcnt: 0,
    revmap: null,
  });
  w.arm64 = {
    mmu: mmu(-1, 1),
    nested_mmus: [],
    nested_mmus_size: 0,
    nested_mmus_next: 0,
    nested_recycles: [],
    ipa_bits,
    vcpus: w.kvm.vcpus.map(() => ({
      hw_mmu: null,
      ctxt: 'vel2' as const,
      vttbr: 0n,
      vtcr: 0n,
      hcr_vm: false,
      tlbi_retiring: null,
      sysreg_trap: null,
      in_wfi: false,
      irq_pending: false,
    })),
    l1_s2: {},
    l1_s2_dirty: [],
  };
  // kvm_vcpu_init_nested(): S2_MMU_PER_VCPU (2) shadow MMUs per vCPU (the scenario loader enforces it).
  if (cfg.nested_mmus && cfg.nested_mmus !== 2 * w.kvm.vcpus.length) {
    throw new Error(`nested_mmus = ${cfg.nested_mmus}: kvm_vcpu_init_nested() sizes it to 2 per vCPU (${2 * w.kvm.vcpus.length})`);
  }
  for (let i = 0; i < (cfg.nested_mmus ?? 0); i++) {
    w.arm64.nested_mmus.push(mmu(i, 2 + i));
    w.arm64.nested_recycles.push(0);
  }
  w.arm64.nested_mmus_size = w.arm64.nested_mmus.length;
  // Per-vCPU and per-CPU state exists from the start (kvm_arch_vcpu_create(), the CPUs' TLBs), not from
  // first use: a lazily grown array would be written by whichever thread came first, and the explorer
  // would take every vCPU's memory cache for shared (explore/facts.ts).
  for (const v of w.kvm.vcpus) vcpu_memcache(w, v.vcpu_id);
  const last_cpu = Math.max(-1, ...w.threads.map((t) => t.cpu));
  if (last_cpu >= 0) cpu_tlb(w, last_cpu);
  rcu_init(w, cpu);
}

/** The vCPU a thread runs. */
export function vcpu_of_thread(w: World, t: Thread): KvmVcpu {
  return vcpu_of(w, t.vcpu);
}

/** kvm_vcpu_exit_request(): requests pending (or work pending, not modelled). */
function kvm_vcpu_exit_request(vcpu: KvmVcpu): boolean {
  return kvm_request_pending(vcpu);
}

/** Undo the entry preparation: mode OUTSIDE, interrupts and preemption back on. */
function abort_entry(w: World, t: Thread, vcpu: KvmVcpu, reason: string): void {
  set_mode(w, t, vcpu, 'OUTSIDE_GUEST_MODE', 'entry_abort');
  local_irq_enable(w, t);
  t.preempt_count--;
  emit(w, t, 'vcpu.entry_abort', { reason });
}

export const kvm_arch_vcpu_ioctl_run = model_fn<{ ret: number }>('kvm_arch_vcpu_ioctl_run', {
  load: () => call('vcpu_load', {}, 'loop'),
  loop: (w, t) => (next_op(t) && !w.kvm.vm_dead ? 'work' : 'put'),
  // xfer_to_guest_mode_handle_work(): signals and need_resched (preemption
  // points belong to the layers that model them).
  work: (w, t) => preempt_point(w, t, 'requests'),
  requests: () => call(check_vcpu_requests, {}, 'requests_done'),
  requests_done: (_w, t) => (t.retval === -5 ? 'put' : 'irq_off'),
  // preempt_disable(); local_irq_disable();
  irq_off: (w, t) => {
    t.preempt_count++;
    local_irq_disable(t);
    const vcpu = vcpu_of_thread(w, t);
    if (variant_on(w, EXIT_REQUEST_BEFORE_MODE.name) && kvm_vcpu_exit_request(vcpu)) {
      abort_entry(w, t, vcpu, 'request');
      return 'loop';
    }
    return 'mode_in';
  },
  // smp_store_mb(vcpu->mode, IN_GUEST_MODE): from here a requester sees IN and kicks.
  mode_in: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    set_mode(w, t, vcpu, 'IN_GUEST_MODE', 'smp_store_mb');
    vcpu.requests_at_mode_in = vcpu.requests;
    return variant_on(w, EXIT_REQUEST_BEFORE_MODE.name) ? 'enter' : 'exit_check';
  },
  exit_check: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_vcpu_exit_request(vcpu)) {
      abort_entry(w, t, vcpu, 'request');
      return 'loop';
    }
    return 'enter';
  },
  enter: (w, t) => {
    tlbi_retire(w, t);
    // The guest takes the pending interrupt (the model's whole vgic).
    const av = arm64(w).vcpus[t.vcpu]!;
    if (av.irq_pending) {
      av.irq_pending = false;
      emit(w, t, 'guest.irq', {});
    }
    emit(w, t, 'vcpu.enter', { hw_mmu: mmu_name(arm64(w).vcpus[t.vcpu]!.hw_mmu) });
    return 'guest';
  },
  // The guest runs one op per step until an op traps, an IPI arrives, or
  // the program ends (return to userspace).
  guest: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (w.cpus[t.cpu]!.ipi_pending) return guest_exit(w, t, vcpu, 'irq');
    if (vcpu.mode === 'EXITING_GUEST_MODE') return guest_exit(w, t, vcpu, 'kick');
    const op = next_op(t);
    if (!op) return guest_exit(w, t, vcpu, 'done');
    const def = op_named(op.op);
    if (!def?.in_guest) throw new Error(`${t.name}: op ${op.op} cannot run in the guest`);
    const r = def.in_guest(w, t, op.args);
    if ('done' in r) {
      t.ip++;
      return 'guest';
    }
    return guest_exit(w, t, vcpu, r.exit);
  },
  // Back from the guest: mode OUTSIDE, interrupts on (a pending IPI is taken), preemption on.
  exit: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    set_mode(w, t, vcpu, 'OUTSIDE_GUEST_MODE', 'guest_exit');
    emit(w, t, 'vcpu.exit', { reason: vcpu.exit_reason });
    local_irq_enable(w, t);
    t.preempt_count--;
    return 'handle_exit';
  },
  // handle_exit(): dispatch on the exit reason.
  handle_exit: (w, t) => {
    const reason = vcpu_of_thread(w, t).exit_reason;
    const handler = `handle_exit_${reason}`;
    return has_fn(handler) ? call(handler, {}, 'loop') : 'loop';
  },
  put: () => call('vcpu_put', {}, 'done'),
  done: () => RETURN,
});

/** kvm_arch_vcpu_load(): the vCPU runs on this CPU; pick its stage-2 (hw_mmu). */
export const kvm_arch_vcpu_load = model_fn<Record<string, never>>('kvm_arch_vcpu_load', {
  load: (w, t) => {
    vcpu_of_thread(w, t).cpu = t.cpu;
    emit(w, t, 'vcpu.load', { pcpu: t.cpu });
    if (arm64(w).nested_mmus_size > 0) return call('kvm_vcpu_load_hw_mmu', {}, 'done');
    arm64(w).vcpus[t.vcpu]!.hw_mmu = -1;
    return RETURN;
  },
  done: () => RETURN,
});

/** kvm_arch_vcpu_put(): drop (or, scheduled out, keep) the stage-2; vcpu->cpu = -1. */
export const kvm_arch_vcpu_put = model_fn<Record<string, never>>('kvm_arch_vcpu_put', {
  put: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    emit(w, t, 'vcpu.put', { scheduled_out: vcpu.scheduled_out, in_wfi: arm64(w).vcpus[t.vcpu]!.in_wfi });
    if (arm64(w).nested_mmus_size > 0) return call('kvm_vcpu_put_hw_mmu', {}, 'unload');
    return 'unload';
  },
  unload: (w, t) => {
    vcpu_of_thread(w, t).cpu = -1;
    return RETURN;
  },
});

function guest_exit(w: World, t: Thread, vcpu: KvmVcpu, reason: string): string {
  vcpu.exit_reason = reason;
  return 'exit';
}

const NOOP_REQUESTS = ['SLEEP', 'VCPU_RESET', 'IRQ_PENDING', 'RECORD_STEAL', 'RELOAD_GICv4', 'RELOAD_PMU', 'RESYNC_PMU_EL0', 'SUSPEND'] as const;

/**
 * check_vcpu_requests(): VM_DEAD first (-EIO), then the requests the model
 * only consumes, then check_nested_vcpu_requests() last.
 */
export const check_vcpu_requests = model_fn<Record<string, never>>('check_vcpu_requests', {
  // No request pending: 1, enter the guest (what requests_done reads).
  pending: (w, t) => (kvm_request_pending(vcpu_of_thread(w, t)) ? 'vm_dead' : ret(t, 1)),
  vm_dead: (w, t) => {
    const vcpu = vcpu_of_thread(w, t);
    if (kvm_test_request(KVM_REQ_GENERIC.VM_DEAD, vcpu) && kvm_check_request(w, t, KVM_REQ_GENERIC.VM_DEAD, vcpu)) {
      t.retval = -5; // -EIO
      return RETURN;
    }
    for (const name of NOOP_REQUESTS) {
      const req = KVM_REQ_ARM64[name];
      if (kvm_test_request(req, vcpu)) kvm_check_request(w, t, req, vcpu);
    }
    return has_fn('check_nested_vcpu_requests') ? call('check_nested_vcpu_requests', {}, 'done') : 'done';
  },
  done: (_w, t) => {
    t.retval = 1;
    return RETURN;
  },
});

/** kvm_arch_vcpu_runnable(): an interrupt is pending for the vCPU (the model has no power states or pause). */
register_kvm_arch_vcpu_runnable('arm64', (w, vcpu) => arm64(w).vcpus[vcpu]!.irq_pending);
register_kvm_arch_vcpu_put_load('arm64');

/**
 * kvm_vcpu_wfi(): set IN_WFI (with the vgic put, preemption off), halt in
 * kvm_vcpu_block() until a wake-up finds the vCPU runnable, clear IN_WFI.
 * Each time it sleeps it is put with IN_WFI set, so kvm_vcpu_put_hw_mmu()
 * drops its stage-2 reference; each wake-up loads it again. Then the WFI
 * retires (PC advanced).
 */
export const kvm_vcpu_wfi = model_fn<Record<string, never>>('kvm_vcpu_wfi', {
  set_flag: (w, t) => {
    arm64(w).vcpus[t.vcpu]!.in_wfi = true;
    return call('kvm_vcpu_block', {}, 'clear_flag');
  },
  clear_flag: (w, t) => {
    arm64(w).vcpus[t.vcpu]!.in_wfi = false;
    t.ip++;
    return RETURN;
  },
});

/** kvm_handle_wfx() for a WFI (the guest hypervisor did not trap it, or this is vEL2). */
export const handle_exit_wfi = model_fn<Record<string, never>>('handle_exit_wfi', {
  wfi: () => call(kvm_vcpu_wfi, {}, 'done'),
  done: () => RETURN,
});

define_op({
  name: 'wfi',
  threads: ['vcpu'],
  summary: 'the guest (vEL2 or L2) executes WFI: trapped, kvm_vcpu_wfi() halts the vCPU until an interrupt is pending (the `irq` op)',
  arch: 'arm64',
  schema: { type: 'object', additionalProperties: false },
  in_guest: () => ({ exit: 'wfi' }),
});

/** kvm_vgic_inject_irq() for the model: the interrupt becomes pending, KVM_REQ_IRQ_PENDING, kvm_vcpu_kick(). */
export const vmm_irq = model_fn<{ vcpu: number }>('vmm_irq', {
  inject: (w, t, l) => {
    if (!w.arm64?.vcpus[l.vcpu]) throw new Error(`${t.name}: irq for vcpu${l.vcpu}, which does not exist`);
    arm64(w).vcpus[l.vcpu]!.irq_pending = true;
    return call(kvm_make_request_and_kick, { req: KVM_REQ_ARM64.IRQ_PENDING, vcpu: l.vcpu }, 'done');
  },
  done: () => RETURN,
});

define_op({
  name: 'irq',
  threads: ['vmm', 'mm'],
  summary: 'an interrupt for a vCPU (KVM_IRQ_LINE): pending, KVM_REQ_IRQ_PENDING, kvm_vcpu_kick() (wakes it from WFI)',
  arch: 'arm64',
  schema: { type: 'object', properties: { vcpu: { type: 'integer', minimum: 0 } }, required: ['vcpu'], additionalProperties: false },
  fn: vmm_irq.name,
});
