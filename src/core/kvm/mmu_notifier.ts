// virt/kvm/kvm_main.c: kvm_mmu_notifier_invalidate_range_start/_end through
// kvm_handle_hva_range(), and kvm_flush_remote_tlbs(); plus the primary MMU's
// side (mm/mmu_notifier.c callers): start, change the PTEs, end.
// Left out: gfn_to_pfn_cache invalidation, the memslot-update rcuwait,
// guest_memfd ranges, the young/test-young notifiers.
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn } from '../machine/model.js';
import { metric_add, type World } from '../machine/world.js';
import { KVM_REQ_GENERIC, PAGE_SIZE, type Memslot } from './kvm_host.js';
import { host_change_pte } from './host_mm.js';
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

interface HvaRange {
  hva_start: number;
  hva_end: number;
  /** 'start' runs begin + range_add + unmap per slot; 'end' runs kvm_mmu_invalidate_end. */
  phase: 'start' | 'end';
  may_block: boolean;
  i: number;
  locked: boolean;
  flush: boolean;
  slots: { start: number; end: number }[];
}

/**
 * kvm_handle_hva_range(): for each overlapping memslot, the first takes
 * mmu_lock for write and runs on_lock; then the handler. No overlapping
 * memslot: nothing is counted at all.
 */
export const kvm_handle_hva_range = model_fn<HvaRange>('kvm_handle_hva_range', {
  slots: (w, _t, l) => {
    l.slots = hva_range_slots(w, l.hva_start, l.hva_end).map(({ start, end }) => ({ start, end }));
    l.i = 0;
    l.locked = false;
    l.flush = false;
    return l.slots.length ? 'lock' : RETURN;
  },
  lock: (w, t, l) => lock_write(w, t, 'mmu_lock', 'on_lock'),
  on_lock: (w, t, l) => {
    l.locked = true;
    if (l.phase === 'start') kvm_mmu_invalidate_begin(w, t);
    else kvm_mmu_invalidate_end(w, t);
    return l.phase === 'start' ? 'handler' : 'unlock';
  },
  // kvm_mmu_unmap_gfn_range(): record the range, then the arch unmap.
  handler: (w, t, l) => {
    const r = l.slots[l.i]!;
    kvm_mmu_invalidate_range_add(w, t, r.start, r.end);
    return call('kvm_unmap_gfn_range', { start: r.start, end: r.end, may_block: l.may_block }, 'handled');
  },
  handled: (_w, t, l) => {
    if (t.retval === true) l.flush = true;
    l.i++;
    return l.i < l.slots.length ? 'handler' : l.flush ? 'flush' : 'unlock';
  },
  flush: (_w, _t, _l) => call('kvm_flush_remote_tlbs', { reason: 'mmu_notifier' }, 'unlock'),
  unlock: (w, t, _l) => {
    write_unlock(w, t, 'mmu_lock');
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
 * the PTE changes, mmu_notifier_invalidate_range_end. `change` says what the
 * PTEs become: migrated to a new pfn, PROT_NONE hinting entries, zapped.
 */
export const mmu_notifier_invalidate_range = model_fn<{ hva: number; size: number; change: NotifyEvent; may_block: boolean; i: number }>(
  'mmu_notifier_invalidate_range',
  {
    start: (w, t, l) => {
      emit(w, t, 'invalidate.start', { hva_start: l.hva, hva_end: l.hva + l.size, event: NOTIFY_EVENT[l.change], blockable: l.may_block });
      metric_add(w, 'invalidations');
      return 'count_inc';
    },
    // spin_lock(mn_invalidate_lock); mn_active_invalidate_count++; spin_unlock
    count_inc: (w, _t, l) => {
      w.kvm.mn_active_invalidate_count++;
      return call(kvm_handle_hva_range, { hva_start: l.hva, hva_end: l.hva + l.size, phase: 'start', may_block: l.may_block }, 'change');
    },
    change: (w, t, l) => {
      // One PTE per step: the fault path can observe a half-changed range.
      const hva = l.hva + (l.i ?? 0) * PAGE_SIZE;
      if (l.change === 'migrate') host_change_pte(w, t, hva, { migrate: true });
      else if (l.change === 'numa') host_change_pte(w, t, hva, { prot_none: true });
      else if (l.change === 'zap') host_change_pte(w, t, hva, { migrate: true });
      l.i = (l.i ?? 0) + 1;
      return l.i * PAGE_SIZE < l.size ? 'change' : 'end';
    },
    end: (_w, _t, l) => call(kvm_handle_hva_range, { hva_start: l.hva, hva_end: l.hva + l.size, phase: 'end', may_block: l.may_block }, 'count_dec'),
    count_dec: (w, _t, _l) => {
      w.kvm.mn_active_invalidate_count--;
      return RETURN;
    },
  },
);
