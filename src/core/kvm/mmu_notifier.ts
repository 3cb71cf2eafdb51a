// virt/kvm/kvm_main.c: kvm_mmu_notifier_invalidate_range_start/_end through
// __kvm_handle_hva_range(), and kvm_flush_remote_tlbs(); plus the primary
// MMU's side (mm/mmu_notifier.c callers): start, change the PTEs, end.
// Left out: gfn_to_pfn_cache invalidation, the memslot-update rcuwait,
// guest_memfd ranges, the young/test-young notifiers.
import { emit } from '../machine/events.js';
import { RETURN, call, kvm_arch_fn, model_fn, ret } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type World } from '../machine/world.js';
import { KVM_REQ_GENERIC, PAGE_SIZE, type Memslot } from './kvm_host.js';
import { host_change_pte, host_notifier_range } from './host_mm.js';
import { kvm_mmu_invalidate_begin, kvm_mmu_invalidate_end, kvm_mmu_invalidate_range_add } from './mmu_invalidate.js';
import { kvm_make_all_cpus_request } from './requests.js';
import { lock_write, write_unlock } from './rwlock.js';

/** Memslots overlapping [hva_start, hva_end), with the gfn range they cover. */
export function hva_range_slots(w: World, hva_start: number, hva_end: number): { slot: Memslot; start: number; end: number }[] {
  const out: { slot: Memslot; start: number; end: number }[] = [];
  for (const slot of w.kvm.memslots) {
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

export const UNMAP_UNPROTECTED = define_variant({
  name: 'numa.unmap_unprotected',
  description:
    'a NUMA-protection invalidation makes KVM unmap the whole notifier range at invalidate_range_start, including pages the pass ' +
    'leaves alone (VFIO-pinned, already PROT_NONE, not populated); without it KVM only records the range there and unmaps each ' +
    'page in the .numa_protect() callback as it is actually protected (Yan Zhao\'s RFC, not merged). ' +
    'Upstream unmaps the whole range: switch the variant ON for current kernels; the default models the RFC.',
  source:
    '"[RFC PATCH v2 0/5] Reduce NUMA balance caused TLB-shootdowns in a VM" (Yan Zhao, Aug 2023), patch 5/5 ' +
    '"KVM: Unmap pages only when it\'s indeed protected for NUMA migration"; upstream virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start()',
  breaks: 'nothing (a cost): more SPTEs zapped (sptes_zapped, kvm_unmaps), more remote TLB flushes and their IPIs, more refaults (faults_mapped)',
});


interface HandleHvaRange {
  start: number;
  end: number;
  /** kvm_mmu_invalidate_begin / _end, or nothing, when the lock is taken. */
  on_lock: 'begin' | 'end' | 'none';
  /**
   * Per overlapping memslot: 'unmap' is kvm_mmu_unmap_gfn_range (record the
   * gfn range, then the arch's kvm_unmap_gfn_range); 'range_add' only
   * records it (the RFC's range_start); 'none' is KVM_MMU_NOTIFIER_NULL.
   */
  handler: 'unmap' | 'range_add' | 'none';
  flush_on_ret: boolean;
  may_block: boolean;
  slots: { start: number; end: number }[];
  i: number;
  flush: boolean;
}

/**
 * __kvm_handle_hva_range(kvm, range): for each memslot overlapping the hva
 * range, the first takes mmu_lock for write and runs on_lock; then the
 * handler per slot; flush_on_ret and any handler asking for it -> a remote
 * TLB flush before unlocking. No overlapping memslot: nothing at all.
 *  */
export const __kvm_handle_hva_range = model_fn<HandleHvaRange>('__kvm_handle_hva_range', {
  slots: (w, t, l) => {
    l.slots = hva_range_slots(w, l.start, l.end).map(({ start, end }) => ({ start, end }));
    l.i = 0;
    l.flush = false;
    return l.slots.length ? 'lock' : ret(t, false);
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
  flush: () => call('kvm_flush_remote_tlbs', { reason: 'mmu_notifier' }, 'unlock'),
  unlock: (w, t, l) => {
    write_unlock(w, t, 'mmu_lock');
    return ret(t, l.flush);
  },
});

/** The mmu_notifier_range event names the model passes (include/linux/mmu_notifier.h). */
export type MmuNotifyEvent = 'MMU_NOTIFY_PROTECTION_VMA' | 'MMU_NOTIFY_CLEAR';

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
 * protection without numa.unmap_unprotected (the RFC), begin it and only
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
    const rfc = l.numa && !variant_on(w, UNMAP_UNPROTECTED.name);
    return call(
      __kvm_handle_hva_range,
      { start: l.start, end: l.end, on_lock: 'begin', handler: rfc ? 'range_add' : 'unmap', flush_on_ret: !rfc, may_block: l.may_block },
      'done',
    );
  },
  done: () => RETURN,
});

/** kvm_mmu_notifier_invalidate_range_end(): end the invalidation on the overlapping memslots, then uncount it. */
export const kvm_mmu_notifier_invalidate_range_end = model_fn<{ start: number; end: number }>('kvm_mmu_notifier_invalidate_range_end', {
  end: (_w, _t, l) => call(__kvm_handle_hva_range, { start: l.start, end: l.end, on_lock: 'end', handler: 'none', flush_on_ret: false, may_block: false }, 'count'),
  count: (w) => {
    w.kvm.mn_active_invalidate_count--;
    return RETURN;
  },
});


/**
 * kvm_flush_remote_tlbs(): the arch hook if it has one (arm64: a broadcast
 * TLBI by VMID), else KVM_REQ_TLB_FLUSH on every vCPU with WAIT.
 */
export const kvm_flush_remote_tlbs = model_fn<{ reason: string }>('kvm_flush_remote_tlbs', {
  flush: (w, t, l) => {
    metric_add(w, 'remote_tlb_flushes');
    // Only arm64 has the arch hook (a broadcast TLBI by VMID) in this model.
    if (w.arch === 'arm64') {
      emit(w, t, 'flush.remote', { scope: 'vmid', reason: l.reason });
      return call('kvm_arch_flush_remote_tlbs', {}, 'done');
    }
    emit(w, t, 'flush.remote', { scope: 'all_vcpus', reason: l.reason });
    return call(kvm_make_all_cpus_request, { req: KVM_REQ_GENERIC.TLB_FLUSH }, 'done');
  },
  done: () => RETURN,
});

const NOTIFY_EVENT = { migrate: 'MMU_NOTIFY_MIGRATE', zap: 'MMU_NOTIFY_UNMAP', numa: 'MMU_NOTIFY_PROTECTION_VMA', none: 'MMU_NOTIFY_CLEAR' } as const;
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
