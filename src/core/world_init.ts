// Building a World from a validated configuration (the scenario loader's
// output): kvm_create_vm(), the vCPUs, memslots, host threads, the arch
// state and RCU. Importing this module registers every layer's model
// functions, invariants, variants and ops.
import './layers.js';
import { sched_init } from './machine/scheduler.js';
import { spawn_thread } from './machine/thread.js';
import { variant_named } from './machine/variants.js';
import type { Op, ThreadKind, World } from './machine/world.js';
import { INVALID_GPA, PAGE_SIZE } from './kvm/kvm_host.js';
import { rwlock_init } from './kvm/rwlock.js';
import { host_vpn0 } from './kvm/host_mm.js';
import { arch_init_vm, arch_vcpu_root } from './arch.js';
import { KVM_SRCU, srcu_init } from './rcu/srcu.js';

export interface WorldConfig {
  arch: 'arm64' | 'x86';
  vcpus: number;
  memslots: { gpa: number; size: number; hva?: number }[];
  /** arm64 NV: number of shadow stage-2 MMUs (kvm->arch.nested_mmus_size). */
  nested_mmus?: number;
  ipa_bits?: number;
  /** Host threads and vCPU programs. vCPU names are vcpu0..vcpuN-1. */
  threads: { name: string; kind: ThreadKind; prog: Op[] }[];
  sched: { policy: 'rr' | 'random' | 'script'; seed: number; script?: string[] };
  variants: string[];
}

/** Where guest memory sits in the VMM's address space unless a memslot says. */
export const DEFAULT_HVA_BASE = 0x7f00_0000_0000;

/** The generic machine and KVM parts of a World: no threads, memslots or arch state yet. */
export function world_base(arch: World['arch'], sched: World['sched'], cpus: number): World {
  return {
    arch,
    step: 0,
    seq: 0,
    threads: [],
    sched,
    variants: {},
    events: [],
    metrics: {},
    violations: [],
    kvm: {
      vcpus: [],
      memslots: [],
      mmu_invalidate_seq: 0,
      mmu_invalidate_in_progress: 0,
      mmu_invalidate_range_start: INVALID_GPA,
      mmu_invalidate_range_end: INVALID_GPA,
      mn_active_invalidate_count: 0,
      vm_dead: false,
    },
    cpus: Array.from({ length: cpus }, (_, id) => ({ id, ipi_pending: false })),
    locks: { mmu_lock: rwlock_init('mmu_lock') },
    mm: { ptes: {}, vpn0: DEFAULT_HVA_BASE / PAGE_SIZE },
  };
}

export function create_world(cfg: WorldConfig): World {
  for (const v of cfg.variants) if (!variant_named(v)) throw new Error(`unknown variant ${v}`);
  const w = world_base(cfg.arch, sched_init(cfg.sched.policy, cfg.sched.seed, cfg.sched.script ?? []), 0);
  w.variants = Object.fromEntries([...cfg.variants].sort().map((v) => [v, true as const]));
  let hva = DEFAULT_HVA_BASE;
  cfg.memslots.forEach((m, id) => {
    const userspace_addr = m.hva ?? hva;
    w.kvm.memslots.push({ id, base_gfn: m.gpa / PAGE_SIZE, npages: Math.ceil(m.size / PAGE_SIZE), userspace_addr });
    hva = Math.max(hva, userspace_addr + m.size);
  });
  if (cfg.memslots.length) w.mm.vpn0 = host_vpn0(w.kvm.memslots);
  const by_name = new Map(cfg.threads.map((t) => [t.name, t]));
  for (let i = 0; i < cfg.vcpus; i++) {
    const name = `vcpu${i}`;
    const t = spawn_thread(w, name, 'vcpu', { cpu: i, vcpu: i, root: arch_vcpu_root(cfg.arch), prog: by_name.get(name)?.prog ?? [] });
    w.kvm.vcpus.push({
      vcpu_id: i,
      thread: t.id,
      requests: 0,
      mode: 'OUTSIDE_GUEST_MODE',
      cpu: -1,
      scheduled_out: false,
      requests_at_mode_in: 0,
      exit_reason: '',
      fault_ipa: 0,
      fault_write: false,
    });
  }
  let cpu = cfg.vcpus;
  for (const t of cfg.threads) {
    if (t.kind === 'vcpu') {
      if (!/^vcpu\d+$/.test(t.name) || Number(t.name.slice(4)) >= cfg.vcpus) throw new Error(`thread ${t.name}: the VM has ${cfg.vcpus} vCPUs (vcpu0..vcpu${cfg.vcpus - 1})`);
      continue;
    }
    spawn_thread(w, t.name, t.kind, { cpu: cpu++, root: 'host_thread_fn', prog: t.prog });
  }
  // kvm_create_vm(): init_srcu_struct(&kvm->srcu), for every arch.
  srcu_init(w, KVM_SRCU);
  arch_init_vm(w, cfg, cpu);
  for (let c = 0; c < w.threads.reduce((m, t) => Math.max(m, t.cpu + 1), 0); c++) w.cpus.push({ id: c, ipi_pending: false });
  return w;
}
