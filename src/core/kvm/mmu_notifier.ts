// virt/kvm/kvm_main.c: kvm_mmu_notifier_invalidate_range_start/_end through
// kvm_handle_hva_range() (v6.15 renamed __kvm_handle_hva_range() so; under
// kvm->srcu, mmu_lock taken at the first overlapping memslot), and
// kvm_flush_remote_tlbs(); plus the primary MMU's side (mm/mmu_notifier.c
// callers): start, change the PTEs, end, with the MMU_NOTIFY_* event each
// caller passes (KVM itself does not look at it). v6.18 has no change_pte
// notifier.
// Left out: gfn_to_pfn_cache invalidation, the memslot-update rcuwait,
// guest_memfd ranges, kvm_arch_guest_memory_reclaimed(), SMM's second
// address space, the WARN_ON_ONCE()s of the walk (none is reachable: begin
// and the first range_add share one hold of mmu_lock), release, and the
// aging notifiers (clear_flush_young / clear_young / test_young): on x86
// (KVM_MMU_LOCKLESS_AGING, KVM_ELIDE_TLB_FLUSH_IF_YOUNG) they take no
// mmu_lock and never flush; on arm64 they take mmu_lock for write and may
// flush, an mmu_lock writer this model does not have. Neither touches
// mmu_invalidate_seq or the in-progress range.
import { emit } from '../machine/events.js';
import { RETURN, call, kvm_arch_fn, model_fn, ret } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type World } from '../machine/world.js';
import { KVM_REQ_GENERIC, PAGE_SIZE, type Memslot } from './kvm_host.js';
import { host_change_pte, host_notifier_range } from './host_mm.js';
import { kvm_mmu_invalidate_begin, kvm_mmu_invalidate_end, kvm_mmu_invalidate_range_add } from './mmu_invalidate.js';
import { kvm_make_all_cpus_request } from './requests.js';
import { lock_write, write_unlock } from './rwlock.js';
import { KVM_SRCU, srcu_read_lock, srcu_read_unlock } from '../rcu/srcu.js';

/**
 * Memslots overlapping [hva_start, hva_end), with the gfn range they cover,
 * in the order kvm_for_each_memslot_in_hva_range() walks them (the hva
 * interval tree: by userspace_addr).
 */
export function hva_range_slots(w: World, hva_start: number, hva_end: number): { slot: Memslot; start: number; end: number }[] {
  const out: { slot: Memslot; start: number; end: number }[] = [];
  const by_hva = w.kvm.memslots.length > 1 ? [...w.kvm.memslots].sort((a, b) => a.userspace_addr - b.userspace_addr || a.id - b.id) : w.kvm.memslots;
  for (const slot of by_hva) {
    const s_end = slot.userspace_addr + slot.npages * PAGE_SIZE;
    const lo = Math.max(hva_start, slot.userspace_addr);
    const hi = Math.min(hva_end, s_end);
    if (lo >= hi) continue;
    out.push({
      slot,
      start: slot.base_gfn + Math.floor((lo - slot.userspace_addr) / PAGE_SIZE),
      end: slot.base_gfn + Math.ceil((hi - slot.userspace_addr) / PAGE_SIZE),
    });
  }
  return out;
}

export const UNMAP_ONLY_PROTECTED = define_variant({
  name: 'numa.unmap_only_protected',
  description:
    'Yan Zhao\'s RFC: change_protection() flags its notifier range MMU_NOTIFIER_RANGE_NUMA; for such a range KVM\'s ' +
    'invalidate_range_start only begins the invalidation and records the range (no unmap, no remote flush), and the new ' +
    '.numa_protect() callback, called by change_pte_range() for each page it is about to make PROT_NONE, unmaps just that page ' +
    'and flushes. Upstream instead unmaps the whole notifier range at invalidate_range_start, pages the pass leaves alone ' +
    '(VFIO-pinned, already PROT_NONE) included. Sean Christopherson was "strongly opposed to adding MMU_NOTIFIER_RANGE_NUMA" (a ' +
    'one-off; invalidations lose their batching; the callback runs under the PMD/PTE lock); the series was not merged',
  source:
    'posting: Yan Zhao, "[RFC PATCH v2 5/5] KVM: Unmap pages only when it\'s indeed protected for NUMA migration", kvm/linux-mm list, 10 Aug 2023; ' +
    'Sean Christopherson, "Re: [RFC PATCH v2 0/5] Reduce NUMA balance caused TLB-shootdowns in a VM", kvm list, 14 Aug 2023; not merged',
  breaks:
    'nothing; sptes_zapped, kvm_unmaps, remote_tlb_flushes (and their IPIs) and faults_mapped (refaults) go down: pinned pages are no longer zapped',
});


export const NO_REMOTE_FLUSH = define_variant({
  name: 'mmu.no_notifier_flush',
  description:
    'kvm_handle_hva_range() ignores flush_on_ret: after kvm_unmap_gfn_range() zapped SPTEs, invalidate_range_start returns without ' +
    'kvm_flush_remote_tlbs(), so vCPUs keep the zapped translations in their TLBs (only a zap that yielded mmu_lock flushed what it had ' +
    'zapped before the yield)',
  source:
    'hypothetical: no kernel dropped this flush; it shows why the TLB model sits behind the SPTEs: zapping a SPTE alone does not stop ' +
    'a vCPU from using the page, the remote flush (KVM_REQ_TLB_FLUSH with WAIT) must reach every vCPU before the primary MMU changes the PTE',
  breaks: 'x86.stale_tlb_entry',
  arch: 'x86',
});

interface HandleHvaRange {
  start: number;
  end: number;
  /** kvm_mmu_invalidate_begin / _end, or nothing, when the lock is taken. */
  on_lock: 'begin' | 'end' | 'none';
  /**
   * Per overlapping memslot: 'unmap' is kvm_mmu_unmap_gfn_range (record the
   * gfn range, then the arch's kvm_unmap_gfn_range); 'range_add' only
   * records it (the RFC's range_start); 'none' is (void *)kvm_null_fn
   * (IS_KVM_NULL_FN).
   */
  handler: 'unmap' | 'range_add' | 'none';
  flush_on_ret: boolean;
  may_block: boolean;
  slots: { start: number; end: number }[];
  i: number;
  flush: boolean;
  srcu_idx: number;
}

/**
 * kvm_handle_hva_range(kvm, range): for each memslot overlapping the hva
 * range, the first takes mmu_lock for write and runs on_lock; then the
 * handler per slot; flush_on_ret and any handler asking for it -> a remote
 * TLB flush before unlocking. No overlapping memslot: no lock, no on_lock.
 * The walk's `lockless` (v6.15: aging only) is false for invalidations.
 */
export const kvm_handle_hva_range = model_fn<HandleHvaRange>('kvm_handle_hva_range', {
  // idx = srcu_read_lock(&kvm->srcu), then the memslots read under it: one
  // step, as neither blocks and nothing in the model changes the memslots.
  slots: (w, t, l) => {
    l.srcu_idx = srcu_read_lock(w, t, KVM_SRCU);
    l.slots = hva_range_slots(w, l.start, l.end).map(({ start, end }) => ({ start, end }));
    l.i = 0;
    l.flush = false;
    if (l.slots.length) return 'lock';
    srcu_read_unlock(w, t, KVM_SRCU, l.srcu_idx);
    return ret(t, false);
  },
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'on_lock'),
  on_lock: (w, t, l) => {
    if (l.on_lock === 'begin') kvm_mmu_invalidate_begin(w, t);
    else if (l.on_lock === 'end') kvm_mmu_invalidate_end(w, t);
    return l.handler === 'none' ? 'unlock' : 'handler';
  },
  handler: (w, t, l) => {
    const r = l.slots[l.i]!;
    kvm_mmu_invalidate_range_add(w, t, r.start, r.end);
    if (l.handler === 'range_add') {
      t.retval = false;
      return 'handled';
    }
    metric_add(w, 'kvm_unmaps');
    return call(kvm_arch_fn(w, 'kvm_unmap_gfn_range'), { start: r.start, end: r.end, may_block: l.may_block }, 'handled');
  },
  handled: (_w, t, l) => {
    if (t.retval === true) l.flush = true;
    l.i++;
    if (l.i < l.slots.length) return 'handler';
    return l.flush && l.flush_on_ret ? 'flush' : 'unlock';
  },
  flush: (w, t) => {
    if (variant_on(w, NO_REMOTE_FLUSH.name)) return 'unlock';
    return call('kvm_flush_remote_tlbs', { reason: 'mmu_notifier' }, 'unlock');
  },
  // KVM_MMU_UNLOCK(kvm); srcu_read_unlock(&kvm->srcu, idx): two releases,
  // one step. Between them only a synchronize_srcu(&kvm->srcu) could start,
  // and it would wait for this reader, which leaves at once: the same as
  // starting after both.
  unlock: (w, t, l) => {
    write_unlock(w, t, 'mmu_lock');
    srcu_read_unlock(w, t, KVM_SRCU, l.srcu_idx);
    return ret(t, l.flush);
  },
});

/** The mmu_notifier_range event names the model's callers pass (include/linux/mmu_notifier.h enum mmu_notifier_event). */
export type MmuNotifyEvent = 'MMU_NOTIFY_PROTECTION_VMA' | 'MMU_NOTIFY_CLEAR' | 'MMU_NOTIFY_UNMAP';

interface RangeStart {
  start: number;
  end: number;
  event: MmuNotifyEvent;
  /** MMU_NOTIFIER_RANGE_NUMA (the RFC's flag): a protection pass of NUMA balancing. */
  numa: boolean;
  may_block: boolean;
}

/**
 * kvm_mmu_notifier_invalidate_range_start(): count the invalidation
 * (mn_active_invalidate_count under mn_invalidate_lock), then on the
 * overlapping memslots begin it and unmap the range — or, for a NUMA
 * protection with numa.unmap_only_protected (the RFC), begin it and only
 * record the range.
 */
export const kvm_mmu_notifier_invalidate_range_start = model_fn<RangeStart>('kvm_mmu_notifier_invalidate_range_start', {
  trace: (w, t, l) => {
    emit(w, t, 'invalidate.start', { hva_start: l.start, hva_end: l.end, event: l.event, blockable: l.may_block });
    metric_add(w, 'invalidations');
    return 'count';
  },
  count: (w, _t, l) => {
    w.kvm.mn_active_invalidate_count++;
    const rfc = l.numa && variant_on(w, UNMAP_ONLY_PROTECTED.name);
    return call(
      kvm_handle_hva_range,
      { start: l.start, end: l.end, on_lock: 'begin', handler: rfc ? 'range_add' : 'unmap', flush_on_ret: !rfc, may_block: l.may_block },
      'done',
    );
  },
  done: () => RETURN,
});

/** kvm_mmu_notifier_invalidate_range_end(): end the invalidation on the overlapping memslots, then uncount it. */
export const kvm_mmu_notifier_invalidate_range_end = model_fn<{ start: number; end: number }>('kvm_mmu_notifier_invalidate_range_end', {
  end: (_w, _t, l) => call(kvm_handle_hva_range, { start: l.start, end: l.end, on_lock: 'end', handler: 'none', flush_on_ret: false, may_block: false }, 'count'),
  count: (w) => {
    w.kvm.mn_active_invalidate_count--;
    return RETURN;
  },
});


/**
 * kvm_flush_remote_tlbs(): the arch hook if it has one (arm64: a broadcast
 * TLBI by VMID), else KVM_REQ_TLB_FLUSH on every vCPU with WAIT. x86's hook
 * works only when KVM runs as a Hyper-V guest; on bare metal it fails and
 * the requests are made. `remote_tlb_flushes` counts what the kernel's
 * stat.generic.remote_tlb_flush_requests does: every call.
 */
export const kvm_flush_remote_tlbs = model_fn<{ reason: string }>('kvm_flush_remote_tlbs', {
  flush: (w, t, l) => {
    metric_add(w, 'remote_tlb_flushes');
    // The arch hook: arm64's broadcast TLBI by VMID (x86's, bare metal, fails).
    if (w.arch === 'arm64') {
      emit(w, t, 'flush.remote', { scope: 'vmid', reason: l.reason });
      return call('kvm_arch_flush_remote_tlbs', {}, 'done');
    }
    emit(w, t, 'flush.remote', { scope: 'all_vcpus', reason: l.reason });
    return call(kvm_make_all_cpus_request, { req: KVM_REQ_GENERIC.TLB_FLUSH }, 'done');
  },
  done: () => RETURN,
});

/**
 * The event each kind of host change passes: a page migration is
 * try_to_migrate_one()'s MMU_NOTIFY_CLEAR (MMU_NOTIFY_MIGRATE is
 * migrate_vma's, for device memory); a zap is munmap's unmap_vmas(),
 * MMU_NOTIFY_UNMAP; PROT_NONE hinting is change_protection()'s
 * MMU_NOTIFY_PROTECTION_VMA.
 */
const NOTIFY_EVENT: Record<'migrate' | 'zap' | 'numa' | 'none', MmuNotifyEvent> = {
  migrate: 'MMU_NOTIFY_CLEAR',
  zap: 'MMU_NOTIFY_UNMAP',
  numa: 'MMU_NOTIFY_PROTECTION_VMA',
  none: 'MMU_NOTIFY_CLEAR',
};
export type NotifyEvent = keyof typeof NOTIFY_EVENT;

/**
 * The primary MMU changing [hva, hva+size): mmu_notifier_invalidate_range_start,
 * the PTE changes (one per step; a huge mapping changes as a whole or is
 * split, host_mm.ts), mmu_notifier_invalidate_range_end. `change` says what
 * the PTEs become: migrated to a new pfn, PROT_NONE hinting entries, zapped.
 * The notifier range covers every huge mapping the change touches.
 */
export const mmu_notifier_invalidate_range = model_fn<{ hva: number; size: number; change: NotifyEvent; may_block: boolean; i: number; range: [number, number] }>(
  'mmu_notifier_invalidate_range',
  {
    start: (w, _t, l) => {
      l.range = host_notifier_range(w, l.hva, l.size);
      return call(kvm_mmu_notifier_invalidate_range_start, { start: l.range[0], end: l.range[1], event: NOTIFY_EVENT[l.change], numa: false, may_block: l.may_block }, 'change');
    },
    change: (w, t, l) => {
      const hva = l.hva + (l.i ?? 0) * PAGE_SIZE;
      const end = l.hva + l.size;
      let done = PAGE_SIZE;
      if (l.change !== 'none') done = host_change_pte(w, t, hva, l.change === 'numa' ? { prot_none: true } : l.change === 'zap' ? { zap: true } : { migrate: true }, end, l.range);
      l.i = (l.i ?? 0) + done / PAGE_SIZE;
      return l.i * PAGE_SIZE < l.size ? 'change' : 'end';
    },
    end: (_w, _t, l) => call(kvm_mmu_notifier_invalidate_range_end, { start: l.range[0], end: l.range[1] }, 'done'),
    done: () => RETURN,
  },
);
