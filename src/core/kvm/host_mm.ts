// The host side of guest memory: the VMM's address space as KVM can observe
// it, i.e. which pfn backs an hva, whether the mapping is a PROT_NONE NUMA
// hinting entry, and whether it is a huge mapping (a PMD-mapped THP, or a
// hugetlbfs page) or a 4K PTE.
//
// Huge mappings (mm/huge_memory.c, mm/hugetlb.c, mm/rmap.c, mm/migrate.c):
// - A VMA region is huge-eligible when a scenario op says so (THP: 2M only,
//   PMD-sized; hugetlbfs: 2M or 1G). The first touch of an eligible region
//   with nothing mapped in it allocates one naturally aligned huge page
//   (do_huge_pmd_anonymous_page / hugetlb_fault); a THP region already
//   holding 4K PTEs stays 4K (khugepaged is not modelled).
// - Migration moves the whole folio: try_to_migrate_one() inits its
//   MMU_NOTIFY_CLEAR range over [address, address + folio_size), replaces
//   the PMD by a migration entry, and remove_migration_pmd() maps the new
//   folio: new pfns for every subpage, one notifier range over the huge page.
// - A zap or NUMA protection covering the whole huge page changes the PMD
//   (zap_huge_pmd, change_huge_pmd). One covering part of a THP splits it
//   first (__split_huge_pmd(), whose own notifier covers the whole PMD; the
//   subpages keep their pfns as 4K PTEs) and then changes the PTEs in range.
//   The model folds the split's nested notifier into the caller's by
//   widening the caller's range to the PMD (host_notifier_range()). A
//   hugetlbfs page is never split.
// - A zapped mapping is modelled as refaulted at once: new pfns.
// - Which pfn a page gets is arbitrary in the kernel. The model numbers them
//   by the page and its generation (pfn_of()), not by the order in which
//   pages were touched: schedules that fault the same pages in another
//   order end with the same pfns, where an allocation counter made them
//   different states for the explorer.
//
// Left out: the VMA tree and the mmap lock, swap, KSM, khugepaged collapse,
// mTHP sizes, PUD-mapped THP, hugetlb PMD sharing, folio refcounts (GUP
// pins live in numa.ts), the host TLB.
import { emit } from '../machine/events.js';
import type { Thread, World } from '../machine/world.js';
import { PAGE_SHIFT, PAGE_SIZE, type Memslot } from './kvm_host.js';
import { define_history } from '../machine/history.js';

export interface HostPte {
  pfn: number;
  prot_none: boolean;
  /** Step at which the primary MMU last changed this PTE (-1: never). */
  changed_step: number;
}

export type HugeKind = 'thp' | 'hugetlb';

/** A huge host mapping: `size` bytes at hva `base`, pfns [pfn, pfn + size/4K). */
export interface HostHuge extends HostPte {
  kind: HugeKind;
  base: number;
  size: number;
}

/** A huge-eligible VMA region (THP-enabled anonymous memory, a hugetlbfs mapping). */
export interface HostVma {
  kind: HugeKind;
  base: number;
  size: number;
}

export interface HostMm {
  ptes: Record<number, HostPte>;
  /** The hva page numbered first by pfn_of(): the memslots' lowest, rounded down to PFN_WINDOW pages. */
  vpn0: number;
  /** Huge mappings by base hva. */
  huge?: Record<number, HostHuge>;
  /** Huge-eligible regions by base hva. */
  vmas?: Record<number, HostVma>;
}

declare module '../machine/world.js' {
  interface World {
    mm: HostMm;
  }
}

export const PMD_SIZE = 2 ** 21;
export const PUD_SIZE = 2 ** 30;
const HUGE_SIZES = [PUD_SIZE, PMD_SIZE];

function vpn_of(hva: number): number {
  return Math.floor(hva / 2 ** PAGE_SHIFT);
}

function align_down(x: number, a: number): number {
  return x - (x % a);
}

/** The entry of `all` (keyed by base hva) whose naturally aligned region of its own size covers hva. */
function covering<T extends { size: number }>(all: Record<number, T> | undefined, hva: number): T | undefined {
  if (!all) return undefined;
  for (const size of HUGE_SIZES) {
    const x = all[align_down(hva, size)];
    if (x && x.size === size) return x;
  }
  return undefined;
}

/** The huge mapping covering hva, if any. */
export function host_huge(w: World, hva: number): HostHuge | undefined {
  return covering(w.mm.huge, hva);
}

/** The huge-eligible VMA region covering hva, if any. */
export function host_vma(w: World, hva: number): HostVma | undefined {
  return covering(w.mm.vmas, hva);
}

/**
 * The VMM made the region around hva huge-eligible (MADV_HUGEPAGE, a
 * hugetlbfs mmap). Declaring a region again the same way is a no-op; any
 * other overlap is a scenario error.
 */
export function host_vma_declare(w: World, hva: number, kind: HugeKind, size: number): HostVma {
  const base = align_down(hva, size);
  const old = host_vma(w, hva);
  if (old) {
    if (old.kind === kind && old.size === size) return old;
    throw new Error(`hva 0x${hva.toString(16)} is already in a ${old.kind} region of ${old.size / 2 ** 20}M at 0x${old.base.toString(16)}; it cannot also be ${kind} of ${size / 2 ** 20}M`);
  }
  const v: HostVma = { kind, base, size };
  (w.mm.vmas ??= {})[base] = v;
  return v;
}

/** The host mapping of hva as a PTE: a huge mapping's subpage, or the 4K PTE. The result is a copy for huge mappings. */
export function host_pte(w: World, hva: number): HostPte | undefined {
  const h = host_huge(w, hva);
  if (h) return { pfn: h.pfn + (hva - h.base) / PAGE_SIZE, prot_none: h.prot_none, changed_step: h.changed_step };
  return w.mm.ptes[vpn_of(hva)];
}

/** The pfn of the page at vpn0 in its first generation (PA 256 MiB). */
export const PFN_FIRST = 0x10000;
/** Pages of hva numbered (64 GiB), and how far apart a page's generations are. */
export const PFN_WINDOW = 2 ** 24;
/** Generations a page may have: pfns stay below 2^36, what a descriptor's output address holds. */
const PFN_GENERATIONS = 2 ** 12 - 1;

/**
 * The pfn of the hva page `vpn` in its first generation. A THP's subpages
 * get consecutive pfns, naturally aligned (vpn0 and PFN_FIRST are 2M
 * aligned), the same ones they keep as 4K PTEs after a split.
 */
function pfn_of(w: World, vpn: number): number {
  const off = vpn - w.mm.vpn0;
  if (off < 0 || off >= PFN_WINDOW) throw new Error(`host page at hva 0x${(vpn * PAGE_SIZE).toString(16)} is outside the 64 GiB from 0x${(w.mm.vpn0 * PAGE_SIZE).toString(16)} that the model numbers pfns in`);
  const pfn = PFN_FIRST + off;
  for (const h of Object.values(w.mm.huge ?? {})) if (pfn >= h.pfn && pfn < h.pfn + h.size / PAGE_SIZE) throw pfn_clash(vpn, h);
  return pfn;
}

/** The first pfn of a huge page at hva page `vpn` of `pages` pages: pfn_of(), rounded up to its size (a 1G page's). */
function huge_pfn_of(w: World, vpn: number, pages: number): number {
  const pfn = Math.ceil(pfn_of(w, vpn) / pages) * pages;
  // Rounding up may reach pfns that the pages above it have (a 1G page moves 768M up): none may be taken.
  for (const [k, p] of Object.entries(w.mm.ptes)) if (p.pfn >= pfn && p.pfn < pfn + pages) throw pfn_clash(Number(k), { base: vpn * PAGE_SIZE, size: pages * PAGE_SIZE });
  return pfn;
}

function pfn_clash(vpn: number, h: { base: number; size: number }): Error {
  return new Error(`host page at hva 0x${(vpn * PAGE_SIZE).toString(16)} would share a pfn with the huge page at hva 0x${h.base.toString(16)} (${h.size / 2 ** 20}M): the model's pfn numbering cannot hold both`);
}

/** The pfn a page moves to (migrated, or zapped and refaulted): its next generation's. */
function next_generation(pfn: number): number {
  if (pfn >= PFN_FIRST + PFN_GENERATIONS * PFN_WINDOW) throw new Error(`host pfn 0x${pfn.toString(16)} has moved ${PFN_GENERATIONS} times: out of generations`);
  return pfn + PFN_WINDOW;
}

/** mm.vpn0 for these memslots (at least one): the window must hold all their hvas. */
export function host_vpn0(slots: readonly Memslot[]): number {
  const lo = Math.min(...slots.map((s) => s.userspace_addr)) / PAGE_SIZE;
  const vpn0 = Math.floor(lo / PFN_WINDOW) * PFN_WINDOW;
  const hi = Math.max(...slots.map((s) => s.userspace_addr / PAGE_SIZE + s.npages));
  if (hi - vpn0 > PFN_WINDOW) throw new Error(`the memslots' hvas span 0x${(vpn0 * PAGE_SIZE).toString(16)}..0x${(hi * PAGE_SIZE).toString(16)}: the model numbers host pfns within one aligned 64 GiB window`);
  return vpn0;
}

function region_has_ptes(w: World, base: number, size: number): boolean {
  const first = vpn_of(base);
  for (let i = 0; i < size / PAGE_SIZE; i++) if (w.mm.ptes[first + i]) return true;
  return false;
}

/** Populate or look up the pfn behind hva, the way get_user_pages would. */
export function host_faultin(w: World, hva: number): number {
  const h = host_huge(w, hva);
  if (h) {
    // A NUMA hinting fault on a PROT_NONE PMD restores access in place.
    if (h.prot_none) h.prot_none = false;
    return h.pfn + (hva - h.base) / PAGE_SIZE;
  }
  const vma = host_vma(w, hva);
  if (vma && (vma.kind === 'hugetlb' || !region_has_ptes(w, vma.base, vma.size))) {
    const nh: HostHuge = { kind: vma.kind, base: vma.base, size: vma.size, pfn: huge_pfn_of(w, vpn_of(vma.base), vma.size / PAGE_SIZE), prot_none: false, changed_step: -1 };
    (w.mm.huge ??= {})[vma.base] = nh;
    return nh.pfn + (hva - vma.base) / PAGE_SIZE;
  }
  const vpn = vpn_of(hva);
  let pte = w.mm.ptes[vpn];
  if (!pte) w.mm.ptes[vpn] = pte = { pfn: pfn_of(w, vpn), prot_none: false, changed_step: -1 };
  // A NUMA hinting fault on a PROT_NONE entry restores access in place.
  if (pte.prot_none) pte.prot_none = false;
  return pte.pfn;
}

/**
 * get_user_mapping_size() (arm64 mmu.c): the size of the host leaf mapping
 * hva, from a walk of the userspace page tables; -EAGAIN ("the userspace PTs
 * are gone... replay the fault") when it is not a valid entry, as a PROT_NONE
 * one is not on arm64.
 */
export function get_user_mapping_size(w: World, hva: number): number {
  const h = host_huge(w, hva);
  if (h) return h.prot_none ? -11 : h.size;
  const pte = w.mm.ptes[vpn_of(hva)];
  return !pte || pte.prot_none ? -11 : PAGE_SIZE;
}

/**
 * The range mm passes to mmu_notifier_invalidate_range_start() for a change
 * of [hva, hva+size): widened to every huge mapping it touches (a folio
 * migration's range, or the PMD a split invalidates).
 */
export function host_notifier_range(w: World, hva: number, size: number): [number, number] {
  let start = hva;
  let end = hva + size;
  for (let a = align_down(hva, PAGE_SIZE); a < hva + size; ) {
    const h = host_huge(w, a);
    if (!h) {
      a += PAGE_SIZE;
      continue;
    }
    start = Math.min(start, h.base);
    end = Math.max(end, h.base + h.size);
    a = h.base + h.size;
  }
  return [start, end];
}

function emit_change(w: World, t: Thread, hva: number, old_pfn: number, p: HostPte, pages: number): void {
  p.changed_step = w.step;
  emit(w, t, 'mm.change_pte', { hva, old_pfn, new_pfn: p.pfn, prot_none: p.prot_none, pages });
}

/** __split_huge_pmd(): the THP becomes 512 4K PTEs mapping the same pfns. */
function split_huge_pmd(w: World, h: HostHuge): void {
  delete w.mm.huge![h.base];
  const first = vpn_of(h.base);
  for (let i = 0; i < h.size / PAGE_SIZE; i++) w.mm.ptes[first + i] = { pfn: h.pfn + i, prot_none: h.prot_none, changed_step: h.changed_step };
}

export interface HostChange {
  /** The folio migrates to new pfns (try_to_migrate_one): a huge page always as a whole. */
  migrate?: boolean;
  /** The mapping is zapped; the model refaults it at once (new pfns). */
  zap?: boolean;
  prot_none?: boolean;
}

/**
 * The primary MMU changes the mapping of hva (between invalidate_range_start
 * and _end), as part of a change of [hva, end) (default: the whole huge page
 * hva is in) whose notifier covered `notified` (default: anything). A huge
 * page the notifier range does not cover was mapped after the change began:
 * mm isolated nothing of it, and it stays. Returns how many bytes from hva
 * the change covered: the rest of the huge page when it changed (or stayed)
 * as a whole, else PAGE_SIZE.
 */
export function host_change_pte(w: World, t: Thread, hva: number, change: HostChange, end?: number, notified?: [number, number]): number {
  const h = host_huge(w, hva);
  if (h && notified && (h.base < notified[0] || h.base + h.size > notified[1])) return h.base + h.size - hva;
  if (h) {
    const whole = end === undefined || (hva <= h.base && end >= h.base + h.size);
    if (whole || change.migrate || h.kind === 'hugetlb') {
      const old_pfn = h.pfn;
      const was = h.prot_none;
      if (change.migrate || change.zap) h.pfn = next_generation(h.pfn);
      if (change.prot_none !== undefined) h.prot_none = change.prot_none;
      if (h.pfn !== old_pfn || h.prot_none !== was) emit_change(w, t, h.base, old_pfn, h, h.size / PAGE_SIZE);
      return h.base + h.size - hva;
    }
    // Part of a THP: split it, then change the PTE.
    split_huge_pmd(w, h);
  }
  const vpn = vpn_of(hva);
  const pte = w.mm.ptes[vpn];
  if (!pte) return PAGE_SIZE;
  const old_pfn = pte.pfn;
  if (change.migrate || change.zap) pte.pfn = next_generation(pte.pfn);
  if (change.prot_none !== undefined) pte.prot_none = change.prot_none;
  emit_change(w, t, vpn * 2 ** PAGE_SHIFT, old_pfn, pte, 1);
  return PAGE_SIZE;
}

// When a host PTE last changed (messages).
define_history('changed_step', 'stamp');
