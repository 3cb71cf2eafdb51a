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
}

export interface KvmArm64 {
  mmu: kvm_s2_mmu;
  nested_mmus: kvm_s2_mmu[];
  nested_mmus_size: number;
  nested_mmus_next: number;
  /** IPA size in bits (VTCR_EL2.T0SZ), 40 by default. */
  ipa_bits: number;
  vcpus: KvmVcpuArm64[];
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
