// arch/x86/include/asm/kvm_host.h: the parts of struct kvm_vcpu_arch and
// struct kvm_vcpu_hv the Hyper-V TLB flush model needs, the x86 request
// numbers it uses, and the per-vCPU guest TLB.
//
// Left out: nested guests (is_guest_mode() is always false, so the L2 FIFO
// exists but is never filled), APIC, timers, MSRs, and the vCPU's hypercall
// registers beyond what the flush hypercalls read. The guest TLB of GVA
// pages (Hyper-V's flushes) and the TLB of guest-physical translations
// behind the SPTEs (tlb.ts) are kept apart: no combined GVA->HPA entries.
import type { World } from '../machine/world.js';
import { KVM_REQUEST_NO_WAKEUP, KVM_REQUEST_WAIT, KVM_REQUEST_ARCH_BASE, KVM_REQ_GENERIC, KVM_REQ_X86 } from '../kvm/kvm_host.js';
import { define_history } from '../machine/history.js';

const ARCH_REQ = (nr: number, flags = 0) => (nr + KVM_REQUEST_ARCH_BASE) | flags;

/**
 * x86 requests (arch/x86/include/asm/kvm_host.h, newest copy). EVENT and
 * HV_TLB_FLUSH also sit in kvm/kvm_host.ts KVM_REQ_X86; the flush requests
 * below are only here until that table has them.
 */
export const KVM_REQ = {
  TLB_FLUSH: KVM_REQ_GENERIC.TLB_FLUSH,
  UNBLOCK: KVM_REQ_GENERIC.UNBLOCK,
  VM_DEAD: KVM_REQ_GENERIC.VM_DEAD,
  EVENT: KVM_REQ_X86.EVENT,
  TLB_FLUSH_CURRENT: ARCH_REQ(26),
  TLB_FLUSH_GUEST: ARCH_REQ(27, KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP),
  HV_TLB_FLUSH: KVM_REQ_X86.HV_TLB_FLUSH,
} as const;

// arch/x86/kvm/hyperv.h / asm/kvm_host.h
export const KVM_HV_TLB_FLUSH_FIFO_SIZE = 16;
/** KVM_HV_TLB_FLUSHALL_ENTRY is (u64)-1; the model stores FIFO entries as numbers, so -1. */
export const KVM_HV_TLB_FLUSHALL_ENTRY = -1;
export const HV_L1_TLB_FLUSH_FIFO = 0;
export const HV_L2_TLB_FLUSH_FIFO = 1;
export const HV_NR_TLB_FLUSH_FIFOS = 2;

export const PAGE_SIZE = 4096;

/** entry & PAGE_MASK and entry & ~PAGE_MASK, without 32-bit bitwise operators (GVAs go up to 2^52). */
export function gva_page(e: number): number {
  return e - (e % PAGE_SIZE);
}
export function gva_extra_pages(e: number): number {
  return e % PAGE_SIZE;
}

/** struct kvm_vcpu_hv_tlb_flush_fifo: a kfifo of u64 filled under write_lock, drained lock-free by its vCPU. */
export interface kvm_vcpu_hv_tlb_flush_fifo {
  /** spinlock_t write_lock: thread id of the holder, -1 when free. */
  write_lock: number;
  /** Entries, oldest first: GVA page | extra pages in the low 12 bits, or KVM_HV_TLB_FLUSHALL_ENTRY. */
  entries: number[];
}

/** struct kvm_vcpu_hv (the fields the model uses). */
export interface kvm_vcpu_hv {
  vp_index: number;
  tlb_flush_fifo: kvm_vcpu_hv_tlb_flush_fifo[];
  // The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT proposal (not merged):
  /** Set by the VMM's ioctl: flush hypercalls that target this vCPU suspend their caller. */
  tlb_flush_inhibit: boolean;
  /** This vCPU is suspended (not runnable) until the vCPU it waits on clears its inhibit. */
  suspended: boolean;
  /** vcpu_id of the inhibited vCPU this one waits on, -1 for none. */
  waiting_on: number;
}

/** One cached translation in the guest TLB: a GVA page and when it was filled. */
export interface GuestTlbEntry {
  gva: number;
  /** x86.clock when it was filled: the flush hypercalls issued before the fill (filled_before() compares). */
  stamp: number;
  step: number;
}

/** The flush hypercall a vCPU exited with: its registers and the input block at ingpa (or in XMM). */
export interface HvHcallInput {
  code: number;
  fast: boolean;
  rep_cnt: number;
  var_cnt: number;
  rep_idx: number;
  address_space: bigint;
  flags: bigint;
  /** Non-EX: the 64-bit processor mask. */
  processor_mask: bigint;
  /** EX: hv_vp_set.format and valid_bank_mask, then the bank contents. */
  format: number;
  valid_bank_mask: bigint;
  banks: bigint[];
  /** The GVA list after the header (u64 each: page | extra pages in the low 12 bits). */
  gvas: number[];
  /** x86.clock when the guest issued it: its index among the flush hypercalls issued. */
  stamp: number;
  step: number;
}

/** One guest-physical translation cached from a TDP SPTE (EPT/NPT): gfn -> host pfn. */
export interface TdpTlbEntry {
  gfn: number;
  pfn: number;
  writable: boolean;
  /** Step at which the hardware walk filled it. */
  step: number;
}

export interface KvmVcpuX86 {
  hyperv: kvm_vcpu_hv;
  /** The guest TLB (linear translations), sorted by GVA. */
  tlb: GuestTlbEntry[];
  /** The TLB behind the SPTEs (guest-physical translations, tagged by the EPTP), sorted by gfn. */
  tdp_tlb: TdpTlbEntry[];
  /** The hypercall being handled, from the exit until it completes. */
  hcall: HvHcallInput | null;
  /** vcpu->mutex: thread id of the holder (KVM_RUN or another vCPU ioctl, kvm_vcpu_ioctl()), -1 when free. */
  mutex: number;
  // Bookkeeping of the inhibit ioctl on this vCPU, for the invariants and messages:
  /** An inhibit ioctl returned with inhibit=1 and no clearing ioctl has started since. */
  inhibited: boolean;
  /** Steps of the last write of tlb_flush_inhibit, of the last return of a setting and of a clearing ioctl (-1: none). */
  inhibit_write_step: number;
  inhibit_return_step: number;
  clear_return_step: number;
  /** As a flusher: the step at which it last read a target's inhibit as set, and the step it suspended (-1: none). */
  inhibit_read_step: number;
  suspend_step: number;
}

/** A flush hypercall that returned success: its targets must not run the guest with an older entry for a flushed GVA. */
export interface HvFlushDone {
  flusher: number;
  code: number;
  targets: number[];
  /** Flushed GVA ranges [start, end), or null: the whole address space. */
  ranges: [number, number][] | null;
  /** The hypercall's index among those issued (HvHcallInput.stamp). */
  stamp: number;
  issued_step: number;
  done_step: number;
  /** The proposal: step at which the flusher read each target's tlb_flush_inhibit as 0. */
  read_steps: Record<number, number>;
}

export interface KvmX86 {
  vcpus: KvmVcpuX86[];
  /**
   * Flush hypercalls issued so far: orders guest TLB fills against hypercall
   * issues. Only an issue moves it; a fill takes its value. Fills between two
   * issues compare alike with every hypercall, so they get one stamp: a clock
   * that every fill moved too kept apart states that behave the same.
   */
  clock: number;
  /** Completed flush hypercalls whose promise may still be checked. */
  flushes: HvFlushDone[];
}

declare module '../machine/world.js' {
  interface World {
    x86?: KvmX86;
  }
}

export function x86(w: World): KvmX86 {
  if (!w.x86) throw new Error('not an x86 world');
  return w.x86;
}

export function x86_vcpu(w: World, id: number): KvmVcpuX86 {
  const v = x86(w).vcpus[id];
  if (!v) throw new Error(`no vcpu${id}`);
  return v;
}

export function new_vcpu_x86(vcpu_id: number): KvmVcpuX86 {
  return {
    hyperv: {
      vp_index: vcpu_id,
      tlb_flush_fifo: Array.from({ length: HV_NR_TLB_FLUSH_FIFOS }, () => ({ write_lock: -1, entries: [] })),
      tlb_flush_inhibit: false,
      suspended: false,
      waiting_on: -1,
    },
    tlb: [],
    tdp_tlb: [],
    hcall: null,
    mutex: -1,
    inhibited: false,
    inhibit_write_step: -1,
    inhibit_return_step: -1,
    clear_return_step: -1,
    inhibit_read_step: -1,
    suspend_step: -1,
  };
}

/** is_guest_mode(): the model runs no L2 guests. */
export function is_guest_mode(_w: World, _vcpu: number): boolean {
  return false;
}

/** kvm_hv_get_tlb_flush_fifo(vcpu, is_guest_mode). */
export function kvm_hv_get_tlb_flush_fifo(w: World, vcpu: number, guest_mode: boolean): kvm_vcpu_hv_tlb_flush_fifo {
  return x86_vcpu(w, vcpu).hyperv.tlb_flush_fifo[guest_mode ? HV_L2_TLB_FLUSH_FIFO : HV_L1_TLB_FLUSH_FIFO]!;
}

/** Print a FIFO entry the way a developer reads it. */
export function fifo_entry_str(e: number): string {
  if (e === KVM_HV_TLB_FLUSHALL_ENTRY) return 'FLUSHALL';
  const extra = gva_extra_pages(e);
  return extra ? `0x${gva_page(e).toString(16)}+${extra}` : `0x${e.toString(16)}`;
}

/** The guest-TLB entry of `vcpu` that a completed flush hypercall promised to remove, if one is still cached. */
export function stale_entry(w: World, vcpu: number, f: HvFlushDone): GuestTlbEntry | undefined {
  if (!f.targets.includes(vcpu)) return undefined;
  return x86_vcpu(w, vcpu).tlb.find((e) => filled_before(e, f) && (f.ranges === null || f.ranges.some(([s, end]) => e.gva >= s && e.gva < end)));
}

/** Whether guest-TLB entry `e` was filled before flush hypercall `f` was issued (so `f` promised to remove it). */
export function filled_before(e: GuestTlbEntry, f: { stamp: number }): boolean {
  return e.stamp <= f.stamp;
}

/** Forget completed flushes none of whose targets still caches an entry they covered (none can come back: new fills are younger). */
export function prune_flushes(w: World): void {
  const x = x86(w);
  x.flushes = x.flushes.filter((f) => f.targets.some((v) => stale_entry(w, v, f) !== undefined));
}

// Steps kept for the invariants' messages: `done_step` is compared with the present only ("completed in this step"),
// the others, `read_steps` and a TLB entry's or SPTE's `step` only to word a message. The guest TLB's `stamp` orders
// fills and flushes and is state (x86.clock counts hypercalls only, so it stays small).
for (const f of ['step', 'issued_step', 'done_step', 'read_steps', 'inhibit_write_step', 'inhibit_return_step', 'clear_return_step', 'inhibit_read_step', 'suspend_step']) define_history(f, 'stamp');
