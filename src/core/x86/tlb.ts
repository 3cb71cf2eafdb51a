// The guest's TLB of linear translations (GVA pages) on each vCPU, which is
// what a Hyper-V TLB flush hypercall asks to invalidate. Filled by guest
// accesses, emptied by kvm_x86_ops.flush_tlb_gva (one page) and
// flush_tlb_guest / flush_tlb_all / flush_tlb_current (everything: with TDP,
// each of them drops the vCPU's cached linear translations).
//
// Left out: the guest page tables themselves (every GVA translates; what
// matters is only whether a translation cached before a flush hypercall is
// still cached after it), PCIDs and global pages (KVM flushes regardless of
// HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY and the address space argument).
import { emit } from '../machine/events.js';
import { define_op, S } from '../machine/ops.js';
import { metric_add, type Thread, type World } from '../machine/world.js';
import { PAGE_SIZE, gva_page, x86, x86_vcpu, type GuestTlbEntry } from './kvm_host.js';

export function tlb_lookup(w: World, vcpu: number, gva: number): GuestTlbEntry | undefined {
  const page = gva_page(gva);
  return x86_vcpu(w, vcpu).tlb.find((e) => e.gva === page);
}

/** The hardware caches the translation of `gva` (a miss walks the guest page tables). */
export function tlb_fill(w: World, vcpu: number, gva: number): GuestTlbEntry {
  const x = x86(w);
  const tlb = x86_vcpu(w, vcpu).tlb;
  const e: GuestTlbEntry = { gva: gva_page(gva), stamp: x.clock++, step: w.step };
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

/** Drop every cached translation of the vCPU; returns how many went. */
export function flush_tlb_all_entries(w: World, t: Thread, vcpu: number, scope: string, reason: string): number {
  const v = x86_vcpu(w, vcpu);
  const n = v.tlb.length;
  v.tlb = [];
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
  schema: { type: 'object', properties: { gva: S.addr, write: S.bool }, required: ['gva'], additionalProperties: false },
  in_guest: (w, t, args) => {
    const gva = args['gva'] as number;
    const write = args['write'] === true;
    const hit = tlb_lookup(w, t.vcpu, gva) !== undefined;
    if (!hit) tlb_fill(w, t.vcpu, gva);
    emit(w, t, 'guest.gva_access', { gva, write, hit });
    return { done: true };
  },
});
