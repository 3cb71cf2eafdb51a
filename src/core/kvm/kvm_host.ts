// include/linux/kvm_host.h: struct kvm, struct kvm_vcpu, vCPU requests.
// Left out: the vCPU mutex, kvm_run, dirty rings, halt polling, and
// requests that no modelled path makes.
import type { World } from '../machine/world.js';

export type VcpuMode = 'OUTSIDE_GUEST_MODE' | 'IN_GUEST_MODE' | 'EXITING_GUEST_MODE' | 'READING_SHADOW_PAGE_TABLES';

export interface KvmVcpu {
  vcpu_id: number;
  /** Thread id of the vCPU thread. */
  thread: number;
  /** vcpu->requests: a bitmap of request numbers (bits up to 52 kept exactly). */
  requests: number;
  mode: VcpuMode;
  /** Physical CPU it is loaded on, -1 when not loaded (vcpu->cpu). */
  cpu: number;
  /** Set by kvm_sched_out() while the vCPU thread is off its CPU. */
  scheduled_out: boolean;
  /** Requests already pending when the vCPU last stored IN_GUEST_MODE. */
  requests_at_mode_in: number;
  /** Guest operation in progress (the access being retried after a fault). */
  exit_reason: string;
  fault_ipa: number;
  fault_write: boolean;
}

export interface Memslot {
  id: number;
  base_gfn: number;
  npages: number;
  userspace_addr: number;
}

export interface Kvm {
  vcpus: KvmVcpu[];
  // kvm->mmu_lock lives in World.locks.mmu_lock with the other locks.
  memslots: Memslot[];
  mmu_invalidate_seq: number;
  mmu_invalidate_in_progress: number;
  /** gfn range of the invalidations in progress; INVALID_GPA when unset. */
  mmu_invalidate_range_start: number;
  mmu_invalidate_range_end: number;
  mn_active_invalidate_count: number;
  vm_dead: boolean;
}

/** Per physical CPU: a pending IPI (smp_call_function or reschedule). */
export interface Cpu {
  id: number;
  ipi_pending: boolean;
}

declare module '../machine/world.js' {
  interface World {
    kvm: Kvm;
    cpus: Cpu[];
  }
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const INVALID_GPA = -1;

// Request encoding: the number in bits 7:0, flags above.
export const KVM_REQUEST_MASK = 0xff;
export const KVM_REQUEST_NO_WAKEUP = 1 << 8;
export const KVM_REQUEST_WAIT = 1 << 9;
export const KVM_REQUEST_NO_ACTION = 1 << 10;
export const KVM_REQUEST_ARCH_BASE = 8;

const REQ = (nr: number, flags = 0) => nr | flags;
const ARCH_REQ = (nr: number, flags = 0) => REQ(nr + KVM_REQUEST_ARCH_BASE, flags);

/** Request values by name (without KVM_REQ_): generic first, then per arch. */
export const KVM_REQ_GENERIC = {
  TLB_FLUSH: REQ(0, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  VM_DEAD: REQ(1, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  UNBLOCK: REQ(2),
  DIRTY_RING_SOFT_FULL: REQ(3),
  OUTSIDE_GUEST_MODE: REQ(0, KVM_REQUEST_NO_ACTION | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
} as const;

// arch/arm64/include/asm/kvm_host.h
export const KVM_REQ_ARM64 = {
  SLEEP: ARCH_REQ(0, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  IRQ_PENDING: ARCH_REQ(1),
  VCPU_RESET: ARCH_REQ(2),
  RECORD_STEAL: ARCH_REQ(3),
  RELOAD_GICv4: ARCH_REQ(4),
  RELOAD_PMU: ARCH_REQ(5),
  SUSPEND: ARCH_REQ(6),
  RESYNC_PMU_EL0: ARCH_REQ(7),
  NESTED_S2_UNMAP: ARCH_REQ(8),
  GUEST_HYP_IRQ_PENDING: ARCH_REQ(9),
  MAP_L1_VNCR_EL2: ARCH_REQ(10),
} as const;

// arch/x86/include/asm/kvm_host.h (newest copy: 32 with WAIT|NO_WAKEUP)
export const KVM_REQ_X86 = {
  EVENT: ARCH_REQ(6),
  TLB_FLUSH_CURRENT: ARCH_REQ(26),
  TLB_FLUSH_GUEST: ARCH_REQ(27, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  HV_TLB_FLUSH: ARCH_REQ(32, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
} as const;

const REQUESTS: Record<World['arch'], Record<string, number>> = {
  arm64: { ...KVM_REQ_GENERIC, ...KVM_REQ_ARM64 },
  x86: { ...KVM_REQ_GENERIC, ...KVM_REQ_X86 },
};

/** Request values by name for an arch. */
export function kvm_requests(arch: World['arch']): Readonly<Record<string, number>> {
  return REQUESTS[arch];
}

/** Names by bit number (NO_ACTION requests have none), per arch. */
const NAMES: Record<World['arch'], string[]> = { arm64: [], x86: [] };
for (const arch of ['arm64', 'x86'] as const) {
  for (const [name, v] of Object.entries(REQUESTS[arch])) {
    const bit = v & KVM_REQUEST_MASK;
    if (!(v & KVM_REQUEST_NO_ACTION) && NAMES[arch][bit] === undefined) NAMES[arch][bit] = name;
  }
}

/** Name of a request bit for printing (`NESTED_S2_UNMAP`). */
export function req_name(arch: World['arch'], req: number): string {
  const bit = req & KVM_REQUEST_MASK;
  return NAMES[arch][bit] ?? `REQ_${bit}`;
}

/** Names of the requests pending in a bitmap, lowest bit first. */
export function pending_req_names(arch: World['arch'], requests: number): string[] {
  const out: string[] = [];
  for (let bit = 0; requests > 0 && bit < 53; bit++) if (test_bit(requests, bit)) out.push(req_name(arch, bit));
  return out;
}

// Bit operations on bitmaps wider than 32 bits, exact below 2^53.
export function test_bit(map: number, bit: number): boolean {
  if (map < 2 ** 31 && bit < 31) return ((map >> bit) & 1) === 1;
  return Math.floor(map / 2 ** bit) % 2 === 1;
}
export function set_bit(map: number, bit: number): number {
  return test_bit(map, bit) ? map : map + 2 ** bit;
}
export function clear_bit(map: number, bit: number): number {
  return test_bit(map, bit) ? map - 2 ** bit : map;
}

export function vcpu_of(w: World, vcpu_id: number): KvmVcpu {
  const v = w.kvm.vcpus[vcpu_id];
  if (!v) throw new Error(`no vcpu${vcpu_id}`);
  return v;
}

export function gfn_to_memslot(w: World, gfn: number): Memslot | undefined {
  return w.kvm.memslots.find((s) => gfn >= s.base_gfn && gfn < s.base_gfn + s.npages);
}

export function gfn_to_hva(slot: Memslot, gfn: number): number {
  return slot.userspace_addr + (gfn - slot.base_gfn) * PAGE_SIZE;
}
