// arch/arm64/include/asm/kvm_host.h: struct kvm_s2_mmu, struct kvm_arch and
// the per-vCPU hw_mmu. Left out: VNCR pages, the vgic, PMU, last_vcpu_ran
// (the model flushes by VMID on every CPU).
import type { World } from '../machine/world.js';
import type { kvm_pgtable } from './kvm_pgtable.js';

export interface kvm_s2_mmu {
  /** -1 for the canonical kvm->arch.mmu, else the index in nested_mmus. */
  index: number;
  /** struct kvm_vmid: the VMID this stage-2 runs under. */
  vmid: number;
  pgt: kvm_pgtable;
  /** Guest VTTBR_EL2 with CnP cleared; only CnP set = invalid (unused). */
  tlb_vttbr: bigint;
  tlb_vtcr: bigint;
  nested_stage2_enabled: boolean;
  pending_unmap: boolean;
  /** vCPUs using it as hw_mmu. */
  refcnt: number;
}

export interface KvmVcpuArm64 {
  /** -1: canonical; i: nested_mmus[i]; null: none loaded (NV, vcpu_put). */
  hw_mmu: number | null;
  /** NV: running the guest hypervisor (vEL2, is_hyp_ctxt) or its L2 guest. */
  ctxt: 'vel2' | 'l2';
  /** The guest hypervisor's VTTBR_EL2, VTCR_EL2 and HCR_EL2.VM. */
  vttbr: bigint;
  vtcr: bigint;
  hcr_vm: boolean;
  /** A guest TLBI whose emulation is done but which retires only on the next guest entry. */
  tlbi_retiring: { vmid: number; start: number; size: number } | null;
  /** The trapped system instruction being emulated (op name, operand as hex). */
  sysreg_trap: { op: string; val: string } | null;
  /** vcpu_get_flag(vcpu, IN_WFI): set by kvm_vcpu_wfi() around kvm_vcpu_halt(). */
  in_wfi: boolean;
  /** An interrupt is pending for the vCPU (vgic or HCR_EL2.VI): kvm_arch_vcpu_runnable(). Taken at the next entry. */
  irq_pending: boolean;
}

export interface KvmArm64 {
  mmu: kvm_s2_mmu;
  nested_mmus: kvm_s2_mmu[];
  nested_mmus_size: number;
  nested_mmus_next: number;
  /** Model bookkeeping, not a kernel field: how many times nested_mmus[i] has been recycled. */
  nested_recycles: number[];
  /** IPA size in bits (VTCR_EL2.T0SZ), 40 by default. */
  ipa_bits: number;
  vcpus: KvmVcpuArm64[];
  /**
   * NV: the guest hypervisor's own stage-2 tables, which live in guest
   * memory, keyed by VTTBR_EL2.BADDR (hex): nested IPA page -> L1 IPA.
   */
  l1_s2: Record<string, Record<number, L1S2Entry>>;
  /**
   * NV: nested IPA ranges the guest hypervisor changed in its stage-2 and
   * has not yet invalidated with a retired TLBI: shadow entries for them may
   * legitimately be stale until then.
   */
  l1_s2_dirty: { vmid: number; start: number; size: number }[];
}

export interface L1S2Entry {
  /** L1 IPA (the canonical IPA) of the page. */
  ipa: number;
  /** Level of the guest's mapping (2: 2M block, 3: page): KVM_NV_GUEST_MAP_SZ. */
  level: number;
  writable: boolean;
}

export const VTTBR_CNP_BIT = 1n;
export const VTTBR_VMID_SHIFT = 48n;

export function get_vmid(vttbr: bigint): number {
  return Number((vttbr >> VTTBR_VMID_SHIFT) & 0xffffn);
}

export function vttbr_baddr(vttbr: bigint): string {
  return (vttbr & 0x0000_ffff_ffff_fffen).toString(16);
}

/** kvm_s2_mmu_valid(): an MMU whose tlb_vttbr is only the CnP bit is free. */
export function kvm_s2_mmu_valid(mmu: kvm_s2_mmu): boolean {
  return (mmu.tlb_vttbr & VTTBR_CNP_BIT) === 0n;
}

declare module '../machine/world.js' {
  interface World {
    arm64?: KvmArm64;
  }
}

export function arm64(w: World): KvmArm64 {
  if (!w.arm64) throw new Error('not an arm64 world');
  return w.arm64;
}

/** mmu by id: -1 is kvm->arch.mmu, i is kvm->arch.nested_mmus[i]. */
export function mmu_by_id(w: World, id: number): kvm_s2_mmu {
  const a = arm64(w);
  if (id === -1) return a.mmu;
  const m = a.nested_mmus[id];
  if (!m) throw new Error(`no nested_mmus[${id}]`);
  return m;
}

export function mmu_name(id: number | null): string {
  return id === null ? 'none' : id === -1 ? 's2' : `nested[${id}]`;
}
