// The host side of guest memory: the VMM's address space as a map from
// userspace page (hva >> PAGE_SHIFT) to a host PTE. Models only what KVM
// can observe: which pfn backs an hva and whether the PTE is a PROT_NONE
// NUMA-hinting entry. Left out: VMAs, THP, swap, the mmap lock's contention.
import { emit } from '../machine/events.js';
import type { Thread, World } from '../machine/world.js';
import { PAGE_SHIFT } from './kvm_host.js';

export interface HostPte {
  pfn: number;
  prot_none: boolean;
  /** Step at which the primary MMU last changed this PTE (-1: never). */
  changed_step: number;
}

export interface HostMm {
  ptes: Record<number, HostPte>;
  /** Next free host pfn for migrations and first touches. */
  next_pfn: number;
}

declare module '../machine/world.js' {
  interface World {
    mm: HostMm;
  }
}

export function host_pte(w: World, hva: number): HostPte | undefined {
  return w.mm.ptes[Math.floor(hva / 2 ** PAGE_SHIFT)];
}

/** Populate or look up the pfn behind hva, the way get_user_pages would. */
export function host_faultin(w: World, hva: number): number {
  const vpn = Math.floor(hva / 2 ** PAGE_SHIFT);
  let pte = w.mm.ptes[vpn];
  if (!pte) w.mm.ptes[vpn] = pte = { pfn: w.mm.next_pfn++, prot_none: false, changed_step: -1 };
  // A NUMA hinting fault on a PROT_NONE entry restores access in place.
  if (pte.prot_none) pte.prot_none = false;
  return pte.pfn;
}

/** The primary MMU changes a PTE (between invalidate_range_start and _end). */
export function host_change_pte(w: World, t: Thread, hva: number, change: { migrate?: boolean; prot_none?: boolean }): void {
  const vpn = Math.floor(hva / 2 ** PAGE_SHIFT);
  const pte = w.mm.ptes[vpn];
  if (!pte) return;
  const old_pfn = pte.pfn;
  if (change.migrate) pte.pfn = w.mm.next_pfn++;
  if (change.prot_none !== undefined) pte.prot_none = change.prot_none;
  pte.changed_step = w.step;
  emit(w, t, 'mm.change_pte', { hva: vpn * 2 ** PAGE_SHIFT, old_pfn, new_pfn: pte.pfn, prot_none: pte.prot_none, pages: 1 });
}
