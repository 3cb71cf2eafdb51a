// The vCPU's TLBs. Two kinds of entry are kept apart:
//  - linear translations of GVA pages, which is what a Hyper-V TLB flush
//    hypercall asks to invalidate: filled by guest accesses through a GVA,
//    emptied by kvm_x86_ops.flush_tlb_gva (one page) and every full flush;
//  - guest-physical translations behind the TDP SPTEs (gfn -> host pfn,
//    tagged by the EPTP/nCR3): filled by a hardware walk of a present SPTE,
//    used by later accesses without looking at the SPTE again, and emptied
//    only by flush_tlb_all / flush_tlb_current (INVEPT / the ASID flush),
//    which KVM_REQ_TLB_FLUSH(_CURRENT) runs before the next entry. So a
//    zapped SPTE keeps working until kvm_flush_remote_tlbs() reaches the
//    vCPU: x86.stale_tlb_entry checks that none is used, or kept by a vCPU
//    in the guest, once the primary MMU changed the page behind it.
//    flush_tlb_guest (INVVPID) leaves them alone.
//
// Left out: the guest page tables themselves (every GVA translates), PCIDs
// and global pages (KVM flushes regardless of HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY
// and the address space argument), combined GVA->HPA entries, paging-
// structure caches, capacity evictions, the per-pCPU (not per-vCPU) tagging.
import { emit } from '../machine/events.js';
import { define_op, S } from '../machine/ops.js';
import { metric_add, type Thread, type World } from '../machine/world.js';
import { PAGE_SIZE, gva_page, x86, x86_vcpu, type GuestTlbEntry, type TdpTlbEntry } from './kvm_host.js';

export function tlb_lookup(w: World, vcpu: number, gva: number): GuestTlbEntry | undefined {
  const page = gva_page(gva);
  return x86_vcpu(w, vcpu).tlb.find((e) => e.gva === page);
}

/** The hardware caches the translation of `gva` (a miss walks the guest page tables). */
export function tlb_fill(w: World, vcpu: number, gva: number): GuestTlbEntry {
  const x = x86(w);
  const tlb = x86_vcpu(w, vcpu).tlb;
  const e: GuestTlbEntry = { gva: gva_page(gva), stamp: x.clock, step: w.step };
  let i = 0;
  while (i < tlb.length && tlb[i]!.gva < e.gva) i++;
  tlb.splice(i, 0, e);
  return e;
}

/** kvm_x86_ops.flush_tlb_gva(vcpu, gva) (INVVPID single-address / INVLPGA). Returns whether an entry went. */
export function flush_tlb_gva(w: World, vcpu: number, gva: number): boolean {
  const tlb = x86_vcpu(w, vcpu).tlb;
  const i = tlb.findIndex((e) => e.gva === gva_page(gva));
  if (i < 0) return false;
  tlb.splice(i, 1);
  return true;
}

/**
 * Drop the vCPU's cached linear translations, and for a flush of 'all' or
 * 'current' (INVEPT) its guest-physical ones too; returns how many went.
 */
export function flush_tlb_all_entries(w: World, t: Thread, vcpu: number, scope: string, reason: string): number {
  const v = x86_vcpu(w, vcpu);
  let n = v.tlb.length;
  v.tlb = [];
  if (scope === 'all' || scope === 'current') {
    n += v.tdp_tlb.length;
    v.tdp_tlb = [];
  }
  emit(w, t, 'guest.tlb_flush', { scope, reason, entries: n });
  metric_add(w, 'guest_tlb_full_flushes');
  return n;
}

/** Entries of a FIFO item: the page and how many pages (1 + the low 12 bits). */
export function gva_range(entry: number): [number, number] {
  const page = gva_page(entry);
  return [page, page + ((entry % PAGE_SIZE) + 1) * PAGE_SIZE];
}

/** A guest load or store through a GVA: a TLB hit, or a walk that fills the TLB. Never traps. */
define_op({
  name: 'access_gva',
  threads: ['vcpu'],
  arch: 'x86',
  summary: 'guest load or store through a GVA: hits the guest TLB or walks and fills it (never exits)',
  // A guest access to a non-canonical GVA raises #GP and caches nothing: the model's guest uses the lower
  // canonical half of a 4-level host.
  schema: { type: 'object', properties: { gva: { type: 'integer', minimum: 0, maximum: 2 ** 47 - 1 }, write: S.bool }, required: ['gva'], additionalProperties: false },
  in_guest: (w, t, args) => {
    const gva = args['gva'] as number;
    const write = args['write'] === true;
    const hit = tlb_lookup(w, t.vcpu, gva) !== undefined;
    if (!hit) tlb_fill(w, t.vcpu, gva);
    emit(w, t, 'guest.gva_access', { gva, write, hit });
    return { done: true };
  },
});

/** The guest-physical TLB entry of `vcpu` for `gfn`, if cached. */
export function tdp_tlb_lookup(w: World, vcpu: number, gfn: number): TdpTlbEntry | undefined {
  return x86_vcpu(w, vcpu).tdp_tlb.find((e) => e.gfn === gfn);
}

/** The hardware walked a present SPTE for `gfn` and caches it (replacing an older entry for the gfn). */
export function tdp_tlb_fill(w: World, vcpu: number, gfn: number, pfn: number, writable: boolean): TdpTlbEntry {
  const tlb = x86_vcpu(w, vcpu).tdp_tlb;
  const old = tlb.findIndex((e) => e.gfn === gfn);
  if (old >= 0) tlb.splice(old, 1);
  const e: TdpTlbEntry = { gfn, pfn, writable, step: w.step };
  let i = 0;
  while (i < tlb.length && tlb[i]!.gfn < gfn) i++;
  tlb.splice(i, 0, e);
  return e;
}
