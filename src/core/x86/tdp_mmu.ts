// arch/x86/kvm/mmu/tdp_mmu.c: the TDP MMU's mapping of guest physical
// memory (EPT on Intel, NPT on AMD), kvm_tdp_mmu_map() for the fault path,
// and the zap MMU-notifier invalidations use: kvm_tdp_mmu_unmap_gfn_range()
// -> tdp_mmu_zap_leafs(), with tdp_mmu_iter_cond_resched() between SPTEs.
//
// Kept simple on purpose: one root, and the SPTEs are a map from gfn to a
// leaf {pfn, writable, level}. There are no paging-structure pages, no real
// EPT/NPT descriptor bits (no RWX, memtype, A/D, host-/MMU-writable bits,
// no SHADOW_NONPRESENT_VALUE and no FROZEN_SPTE), and every leaf is a 4K
// page (PG_LEVEL_4K), so the walk down to the goal level is one step and a
// zap visits only leaves. The SPTE is installed with one atomic step, as
// tdp_mmu_set_spte_atomic()'s cmpxchg would; a losing racer would see
// RET_PF_RETRY, which the model does not produce.
//
// Left out: obsolete/invalid roots and their zapping, the shadow MMU and
// rmaps, TDX/private SPTEs, huge pages and NX huge page recovery, access
// tracking and aging, dirty logging, fast_page_fault(), the remote flush by
// range (kvm_flush_remote_tlbs_range). The vCPUs' TLB behind the SPTEs is
// in tlb.ts: a zapped SPTE stays usable until the remote flush reaches the
// vCPU, which is why tdp_mmu_iter_cond_resched() flushes before yielding.
import { emit } from '../machine/events.js';
import { might_sleep } from '../machine/machine.js';
import { call, model_fn, ret } from '../machine/model.js';
import { choose } from '../machine/scheduler.js';
import { metric_add, type Thread, type World } from '../machine/world.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { COND_RESCHED, lock_write, lockdep_assert_held_write, rwlock_is_contended, write_unlock } from '../kvm/rwlock.js';

/** enum pg_level: only 4K leaves are modelled. */
export const PG_LEVEL_4K = 1;

/** A present leaf SPTE, reduced to what the races need. */
export interface Spte {
  pfn: number;
  writable: boolean;
  level: number;
  /** Step at which it was installed. */
  step: number;
  /** The vCPU whose fault installed it. */
  vcpu: number;
}

/** kvm->arch's TDP MMU root, as a gfn -> leaf map (a missing key is a non-present SPTE). */
export interface TdpMmu {
  sptes: Record<number, Spte>;
}

declare module '../machine/world.js' {
  interface World {
    /** x86 only; created by the first map (an empty root is the same as none). */
    tdp_mmu?: TdpMmu;
  }
}

export function tdp_mmu(w: World): TdpMmu {
  return (w.tdp_mmu ??= { sptes: {} });
}

export function tdp_spte(w: World, gfn: number): Spte | undefined {
  return w.tdp_mmu?.sptes[gfn];
}

/** Present SPTEs in [start, end), ascending gfn. */
export function tdp_present_gfns(w: World, start = 0, end = Number.MAX_SAFE_INTEGER): number[] {
  const s = w.tdp_mmu?.sptes;
  if (!s) return [];
  return Object.keys(s)
    .map(Number)
    .filter((g) => g >= start && g < end)
    .sort((a, b) => a - b);
}

/** The SPTEs that map host pfn `pfn` (as gfns). */
export function tdp_gfns_mapping(w: World, pfn: number): number[] {
  const s = w.tdp_mmu?.sptes;
  if (!s) return [];
  return Object.keys(s)
    .map(Number)
    .filter((g) => s[g]!.pfn === pfn)
    .sort((a, b) => a - b);
}

/**
 * kvm_tdp_mmu_map() with the fault's pfn at PG_LEVEL_4K, as one step (the
 * caller holds mmu_lock for read). Returns 'spurious' when an identical leaf
 * is already there (another vCPU fixed the same fault first).
 */
export function kvm_tdp_mmu_map(w: World, t: Thread, gfn: number, pfn: number, writable: boolean): 'fixed' | 'spurious' {
  const m = tdp_mmu(w);
  const old = m.sptes[gfn];
  if (old && old.pfn === pfn && (old.writable || !writable)) return 'spurious';
  m.sptes[gfn] = { pfn, writable: writable || (old?.writable ?? false), level: PG_LEVEL_4K, step: w.step, vcpu: t.vcpu };
  return 'fixed';
}

interface ZapLeafs {
  start: number;
  end: number;
  can_yield: boolean;
  flush: boolean;
  /** The iterator's position (tdp_iter.next_last_level_gfn). */
  gfn: number;
  /** tdp_iter.yielded_gfn: no second yield before making progress. */
  yielded_gfn: number;
}

/**
 * tdp_mmu_zap_leafs(kvm, root, start, end, can_yield, flush): mmu_lock held
 * for write; zap every present leaf in [start, end). Before each SPTE,
 * tdp_mmu_iter_cond_resched(): when need_resched() (a scheduler choice) or
 * the lock is contended (rwlock_needbreak() on a preemptible kernel: a
 * vCPU fault spinning for mmu_lock), flush the TLBs if anything was zapped
 * since the last flush, drop mmu_lock, reschedule, take it again and
 * restart the walk at the same gfn. Returns whether a flush is still owed.
 */
export const tdp_mmu_zap_leafs = model_fn<ZapLeafs>('tdp_mmu_zap_leafs', {
  start: (w, t, l) => {
    lockdep_assert_held_write(w, t, 'mmu_lock');
    l.gfn = l.start;
    l.yielded_gfn = -1;
    return 'next';
  },
  next: (w, t, l) => {
    const g = tdp_present_gfns(w, l.gfn, l.end)[0];
    if (g === undefined) return ret(t, l.flush);
    l.gfn = g;
    if (!l.can_yield || l.yielded_gfn === g) return 'zap';
    // need_resched() || rwlock_needbreak(&kvm->mmu_lock)
    const contended = rwlock_is_contended(w.locks['mmu_lock']!);
    const resched = choose(w, t, COND_RESCHED) === 1;
    if (!contended && !resched) return 'zap';
    l.yielded_gfn = g;
    emit(w, t, 'tdp_mmu.yield', { gfn: g, flush: l.flush, contended });
    metric_add(w, 'tdp_mmu_yields');
    if (contended) metric_add(w, 'tdp_mmu_yields.contended');
    if (!l.flush) return 'drop';
    l.flush = false;
    return call('kvm_flush_remote_tlbs', { reason: 'tdp_mmu_iter_cond_resched' }, 'drop');
  },
  // cond_resched_rwlock_write(): the lock is dropped for good here (the
  // decision was made above), so the write side cannot keep it.
  drop: (w, t) => {
    emit(w, t, 'lock.cond_resched', { lock: 'mmu_lock', dropped: true });
    write_unlock(w, t, 'mmu_lock');
    might_sleep(w, t, 'tdp_mmu_iter_cond_resched');
    return 'relock';
  },
  // tdp_iter_restart(): walk again from the root, at the same gfn.
  relock: (w, t) => lock_write(w, t, 'mmu_lock', 'next'),
  // tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE)
  zap: (w, t, l) => {
    const m = tdp_mmu(w);
    const s = m.sptes[l.gfn];
    if (s) {
      delete m.sptes[l.gfn];
      emit(w, t, 'spte.zap', { gpa: l.gfn * PAGE_SIZE, pfn: s.pfn, level: s.level });
      metric_add(w, 'sptes_zapped');
      l.flush = true;
    }
    l.gfn++;
    return 'next';
  },
});

/**
 * kvm_tdp_mmu_unmap_gfn_range(kvm, range, flush): for each root (one here),
 * tdp_mmu_zap_leafs(range->start, range->end, range->may_block, flush).
 */
export const kvm_tdp_mmu_unmap_gfn_range = model_fn<{ start: number; end: number; may_block: boolean; flush: boolean }>('kvm_tdp_mmu_unmap_gfn_range', {
  zap: (_w, _t, l) => call(tdp_mmu_zap_leafs, { start: l.start, end: l.end, can_yield: l.may_block, flush: l.flush }, 'done'),
  done: (_w, t) => ret(t, t.retval === true),
});
