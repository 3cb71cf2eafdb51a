// NUMA balancing as KVM sees it: the primary MMU's protection pass
// (mm/mempolicy.c change_prot_numa -> mm/mprotect.c change_protection with
// MM_CP_PROT_NUMA), the migration of a misplaced page, VFIO's long-term
// pinning, and KVM's MMU-notifier callbacks for them (virt/kvm/kvm_main.c
// kvm_mmu_notifier_invalidate_range_start/_end over kvm_handle_hva_range),
// with Yan Zhao's RFC ".numa_protect" alternative.
//
// The protection pass, per upper-level chunk of the range (PUD: "mm/mprotect:
// push mmu notifier to PUDs", Peter Xu, 2024; PMD before it, since
// a5338093bfb4, 2014): a chunk with nothing populated is skipped; the first
// populated one fires mmu_notifier_invalidate_range_start(
// MMU_NOTIFY_PROTECTION_VMA) for [that address, end of the range) — the
// whole rest of the range, protected or not; then each PTE that
// prot_numa_skip() lets through (present, not already PROT_NONE, not a
// maybe-DMA-pinned page of a COW mapping — guest RAM is anonymous private
// memory) becomes a PROT_NONE hinting entry, one per step; then
// mmu_notifier_invalidate_range_end.
//
// KVM upstream unmaps the whole notifier range at range_start (and flushes
// remote TLBs), so with VFIO-pinned guest memory every NUMA scan zaps SPTEs
// the pass never protects, and the guest faults them all back. The variant
// numa.unmap_only_protected switches on Yan Zhao's RFC v2 ("Reduce NUMA balance caused TLB-shootdowns in a VM", Aug 2023,
// patch 5/5 "KVM: Unmap pages only when it's indeed protected for NUMA
// migration"; not merged) flagged NUMA invalidations with
// MMU_NOTIFIER_RANGE_NUMA, made KVM's range_start only count the
// invalidation, and unmapped each page in a new .numa_protect() callback
// that change_pte_range() calls for a page it is about to protect. Ported
// onto today's gfn-based tracking, the range_start still records the range
// (kvm_mmu_invalidate_range_add) so that faults in it retry, as the RFC's
// hva-based kvm_mmu_invalidate_begin(kvm, start, end) did.
//
// Left out: task_numa_work's scan window and VMA walk, THP (change_huge_pmd),
// the target-node/tier checks of prot_numa_skip, KSM and zone-device pages,
// the host TLB flush, folio refcounts (a pin is a flag per page), the
// gfn_to_pfn_cache invalidation, the memslot-update rcuwait.
import { emit } from '../machine/events.js';
import { RETURN, block, call, model_fn, ret, wait_holds, wait_kind } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { PAGE_SHIFT, PAGE_SIZE, gfn_to_hva, gfn_to_memslot } from './kvm_host.js';
import { host_change_pte, host_faultin, host_pte } from './host_mm.js';
import { UNMAP_ONLY_PROTECTED, kvm_handle_hva_range, kvm_mmu_notifier_invalidate_range_end, kvm_mmu_notifier_invalidate_range_start } from './mmu_notifier.js';

export { UNMAP_ONLY_PROTECTED };

/** Page-table chunk at which change_protection() fires the notifier: PUD (1 GiB with 4K pages) since Peter Xu's 2024 change. */
export const NOTIFIER_CHUNK_SHIFT = 30;

// ---------------------------------------------------------------------------
// Pinned pages (VFIO_IOMMU_MAP_DMA -> pin_user_pages(FOLL_LONGTERM)).

declare module '../machine/world.js' {
  interface World {
    /** Host pages (hva >> PAGE_SHIFT) pinned long-term for DMA: folio_maybe_dma_pinned(). Absent until a pin. */
    mm_pins?: Record<number, true>;
  }
}

export function page_maybe_dma_pinned(w: World, hva: number): boolean {
  return w.mm_pins?.[Math.floor(hva / 2 ** PAGE_SHIFT)] === true;
}

/** The hva range behind guest range [gpa, gpa+size), which must lie in one memslot. */
function gpa_range_to_hva(w: World, t: Thread, gpa: number, size: number): [number, number] {
  const gfn = Math.floor(gpa / PAGE_SIZE);
  const slot = gfn_to_memslot(w, gfn);
  const last = gfn_to_memslot(w, Math.floor((gpa + size - 1) / PAGE_SIZE));
  if (!slot || last !== slot) throw new Error(`${t.name}: guest range [0x${gpa.toString(16)}, 0x${(gpa + size).toString(16)}) is not inside one memslot`);
  const hva = gfn_to_hva(slot, gfn);
  return [hva, hva + size];
}

/** VFIO maps guest memory for a device: fault each page in and pin it. */
export const vfio_pin_pages = model_fn<{ gpa: number; size: number; hva: number; end: number }>('vfio_pin_pages', {
  start: (w, t, l) => {
    [l.hva, l.end] = gpa_range_to_hva(w, t, l.gpa, l.size);
    return 'pin';
  },
  pin: (w, t, l) => {
    if (l.hva >= l.end) return RETURN;
    const pfn = host_faultin(w, l.hva);
    (w.mm_pins ??= {})[Math.floor(l.hva / 2 ** PAGE_SHIFT)] = true;
    emit(w, t, 'mm.pin', { hva: l.hva, pfn });
    metric_add(w, 'pages_pinned');
    l.hva += PAGE_SIZE;
    return 'pin';
  },
});

define_op({
  name: 'dma_pin',
  threads: ['vmm', 'mm'],
  summary: 'VFIO pins guest memory for device DMA (pin_user_pages with FOLL_LONGTERM): the pages are faulted in and NUMA balancing leaves them alone',
  schema: { type: 'object', properties: { gpa: S.addr, size: S.size }, required: ['gpa', 'size'], additionalProperties: false },
  fn: vfio_pin_pages.name,
});

// ---------------------------------------------------------------------------
// KVM's MMU-notifier side.


/**
 * The RFC's kvm_mmu_notifier_numa_protect(mn, mm, start, end): called by
 * change_pte_range() for a page it is about to make PROT_NONE; unmaps just
 * that range (and flushes) if an invalidation is in progress.
 */
export const kvm_mmu_notifier_numa_protect = model_fn<{ start: number; end: number }>('kvm_mmu_notifier_numa_protect', {
  check: (w, t, l) => {
    emit(w, t, 'invalidate.numa_protect', { hva_start: l.start, hva_end: l.end, in_progress: w.kvm.mmu_invalidate_in_progress });
    metric_add(w, 'numa_protect_callbacks');
    // WARN_ON_ONCE(!READ_ONCE(kvm->mn_active_invalidate_count))
    if (!w.kvm.mn_active_invalidate_count) metric_add(w, 'warn_numa_protect_outside_invalidation');
    if (!w.kvm.mmu_invalidate_in_progress) return RETURN;
    return call(kvm_handle_hva_range, { start: l.start, end: l.end, on_lock: 'none', handler: 'unmap', flush_on_ret: true, may_block: false }, 'done');
  },
  done: () => RETURN,
});

// ---------------------------------------------------------------------------
// The primary MMU: the NUMA protection pass and the migration of a page.

/** Why prot_numa_skip() leaves a present PTE alone, or null to protect it. */
export function prot_numa_skip(w: World, hva: number): 'protnone' | 'dma_pinned' | null {
  const pte = host_pte(w, hva);
  if (pte?.prot_none) return 'protnone';
  if (page_maybe_dma_pinned(w, hva)) return 'dma_pinned';
  return null;
}

/** The lowest hva in [start, end) with a host PTE, or -1: a populated chunk is one that is not pud_none. */
function next_present(w: World, start: number, end: number): number {
  let best = -1;
  for (const k of Object.keys(w.mm.ptes)) {
    const hva = Number(k) * 2 ** PAGE_SHIFT;
    if (hva >= start && hva < end && (best < 0 || hva < best)) best = hva;
  }
  return best;
}

interface ChangeProtNuma {
  gpa: number;
  size: number;
  /** The hva range being scanned. */
  start: number;
  end: number;
  /** Walk position: the current chunk and PTE. */
  addr: number;
  chunk_end: number;
  pte: number;
  /** The notifier range's start once fired (range.start), else -1. */
  range_start: number;
  pages: number;
}

/**
 * change_prot_numa(vma, addr, end) -> change_protection(MM_CP_PROT_NUMA):
 * the walk described at the top of this file. Returns the number of PTEs
 * it made PROT_NONE (what NUMA_PTE_UPDATES counts).
 */
export const change_prot_numa = model_fn<ChangeProtNuma>('change_prot_numa', {
  start: (w, t, l) => {
    [l.start, l.end] = gpa_range_to_hva(w, t, l.gpa, l.size);
    emit(w, t, 'numa.protect', { start: l.start, end: l.end });
    metric_add(w, 'numa_passes');
    l.addr = l.start;
    l.range_start = -1;
    l.pages = 0;
    return 'chunk';
  },
  // change_pud_range(): per PUD; the notifier fires at the first populated one.
  chunk: (w, _t, l) => {
    if (l.addr >= l.end) return 'finish';
    const size = 2 ** NOTIFIER_CHUNK_SHIFT;
    l.chunk_end = Math.min((Math.floor(l.addr / size) + 1) * size, l.end);
    const first = next_present(w, l.addr, l.chunk_end);
    if (first < 0) {
      l.addr = l.chunk_end;
      return 'chunk';
    }
    l.pte = l.addr;
    if (l.range_start >= 0) return 'pte';
    l.range_start = l.addr;
    return call(kvm_mmu_notifier_invalidate_range_start, { start: l.range_start, end: l.end, event: 'MMU_NOTIFY_PROTECTION_VMA', numa: true, may_block: true }, 'pte');
  },
  // change_pte_range(), one present PTE per step (empty slots are passed over at once).
  pte: (w, t, l) => {
    const next = next_present(w, l.pte, l.chunk_end);
    if (next < 0) {
      l.addr = l.chunk_end;
      return 'chunk';
    }
    l.pte = next;
    const skip = prot_numa_skip(w, l.pte);
    if (skip) {
      emit(w, t, 'numa.skip', { hva: l.pte, reason: skip });
      metric_add(w, 'numa_ptes_skipped');
      l.pte += PAGE_SIZE;
      return 'pte';
    }
    // The RFC: mmu_notifier_numa_protect(mm, addr, addr + PAGE_SIZE) before ptep_modify_prot_start().
    if (variant_on(w, UNMAP_ONLY_PROTECTED.name)) return call(kvm_mmu_notifier_numa_protect, { start: l.pte, end: l.pte + PAGE_SIZE }, 'protect');
    return 'protect';
  },
  protect: (w, t, l) => {
    host_change_pte(w, t, l.pte, { prot_none: true });
    metric_add(w, 'numa_ptes_protected');
    l.pages++;
    l.pte += PAGE_SIZE;
    return 'pte';
  },
  finish: (_w, _t, l) => (l.range_start >= 0 ? call(kvm_mmu_notifier_invalidate_range_end, { start: l.range_start, end: l.end }, 'done') : 'done'),
  done: (_w, t, l) => ret(t, l.pages),
});

define_op({
  name: 'numa_protect',
  threads: ['mm'],
  summary:
    'a NUMA-balancing scan (change_prot_numa) over a guest range: one MMU_NOTIFY_PROTECTION_VMA invalidation from the first populated chunk, ' +
    'present PTEs that are not pinned or already PROT_NONE become PROT_NONE hinting entries',
  schema: { type: 'object', properties: { gpa: S.addr, size: S.size }, required: ['gpa', 'size'], additionalProperties: false },
  fn: change_prot_numa.name,
});

interface MigrateNuma {
  gpa: number;
  size: number;
  hva: number;
  end: number;
}

/**
 * migrate_misplaced_folio() for each page of a range: a populated page that
 * is not pinned (migration of a maybe-DMA-pinned folio fails) moves to a
 * new pfn inside its own invalidation (try_to_migrate_one: MMU_NOTIFY_CLEAR
 * for the page), the new PTE accessible again.
 */
export const numa_migrate_pages = model_fn<MigrateNuma>('numa_migrate_pages', {
  start: (w, t, l) => {
    [l.hva, l.end] = gpa_range_to_hva(w, t, l.gpa, l.size);
    return 'page';
  },
  page: (w, t, l) => {
    if (l.hva >= l.end) return RETURN;
    if (!host_pte(w, l.hva) || page_maybe_dma_pinned(w, l.hva)) {
      if (host_pte(w, l.hva)) emit(w, t, 'numa.skip', { hva: l.hva, reason: 'dma_pinned' });
      l.hva += PAGE_SIZE;
      return 'page';
    }
    return call(kvm_mmu_notifier_invalidate_range_start, { start: l.hva, end: l.hva + PAGE_SIZE, event: 'MMU_NOTIFY_CLEAR', numa: false, may_block: true }, 'move');
  },
  move: (w, t, l) => {
    host_change_pte(w, t, l.hva, { migrate: true, prot_none: false });
    metric_add(w, 'numa_pages_migrated');
    return call(kvm_mmu_notifier_invalidate_range_end, { start: l.hva, end: l.hva + PAGE_SIZE }, 'next');
  },
  next: (_w, _t, l) => {
    l.hva += PAGE_SIZE;
    return 'page';
  },
});

define_op({
  name: 'numa_migrate',
  threads: ['mm'],
  summary: 'NUMA balancing migrates the populated, unpinned pages of a guest range to new pfns, each inside its own invalidation',
  schema: { type: 'object', properties: { gpa: S.addr, size: S.size }, required: ['gpa', 'size'], additionalProperties: false },
  fn: numa_migrate_pages.name,
});

// ---------------------------------------------------------------------------
// The scan period: task_numa_work runs again only after numa_scan_period.

// Asleep until the deadline, or until nothing else can run (then time jumps).
wait_kind('numa_scan_delay', true, (w, t, wait) => {
  if (w.step >= (wait['until'] as number)) return true;
  return w.threads.every((o) => o === t || o.done || o.daemon || (o.wait !== null && !other_can_run(w, o)));
});

function other_can_run(w: World, o: Thread): boolean {
  const wait = o.wait!;
  // Another sleeper or a preempted thread: judge by its own deadline only (no mutual recursion).
  return wait.kind === 'numa_scan_delay' || wait.kind === 'preempted' ? w.step >= (wait['until'] as number) : wait_holds(w, o);
}

/** The mm sleeps for `steps` scheduler steps of the other threads (the NUMA scan period). */
export const numa_scan_delay = model_fn<{ steps: number; until: number }>('numa_scan_delay', {
  start: (w, _t, l) => {
    l.until = w.step + l.steps;
    return 'sleep';
  },
  sleep: (w, t, l) => (w.step >= l.until ? RETURN : block(t, { kind: 'numa_scan_delay', until: l.until })),
});

define_op({
  name: 'numa_scan_delay',
  threads: ['mm'],
  summary: 'the mm waits a scan period (that many scheduler steps of the other threads, or until nothing else can run) before its next NUMA op',
  schema: { type: 'object', properties: { steps: { type: 'integer', minimum: 1, maximum: 1_000_000 } }, required: ['steps'], additionalProperties: false },
  fn: numa_scan_delay.name,
});
