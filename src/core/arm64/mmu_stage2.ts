// arch/arm64/kvm/mmu.c, the stage-2 plumbing around hyp/pgtable.c: the
// per-vCPU memory cache of table pages, the kvm_s2_mm_ops callbacks
// (stage2_memcache_zalloc_page, stage2_free_unlinked_table and its RCU
// callback), stage2_apply_range() in 1G chunks with cond_resched between
// them, kvm_stage2_unmap_range(), stage2_wp_range(),
// kvm_arch_flush_remote_tlbs() and the stage-2 pgd set-up
// (kvm_init_stage2_mmu -> kvm_pgtable_stage2_init).
//
// Also the `access_hugepage` vCPU op: a guest access to memory the host
// backs with a THP/hugetlbfs page, whose fault maps a block (or a page when
// force_pte, as under dirty logging): the way a table is collapsed into a
// block in a running VM.
//
// Left out: dirty logging and eager splitting, kvm_stage2_flush_range (no
// caches in the model), the hyp (EL2) stage-1 tables, pKVM, MTE, device
// mappings, and the stage-2 pgd teardown (kvm_free_stage2_pgd).
import { emit } from '../machine/events.js';
import { might_sleep } from '../machine/machine.js';
import { RETURN, call, model_fn, ret, type Next } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { next_op } from '../machine/thread.js';
import { define_variant } from '../machine/variants.js';
import type { Locals, Thread, World } from '../machine/world.js';
import { metric_add, variant_on } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot, vcpu_of } from '../kvm/kvm_host.js';
import { mmu_invalidate_retry } from '../kvm/mmu_invalidate.js';
import { cond_resched_rwlock_write, lock_read, lockdep_assert_held_write, read_unlock } from '../kvm/rwlock.js';
import { call_rcu, define_rcu_callback } from '../rcu/tree.js';
import { arm64, type kvm_s2_mmu } from './kvm_host.js';
import {
  KVM_PGTABLE_MIN_BLOCK_LEVEL,
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_SHARED,
  align_down,
  kvm_granule_size,
  kvm_mmu_cache_min_pages,
  kvm_pgd_pages,
  pgt_alloc_page,
  stage2_start_level,
  type kvm_pgtable,
} from './kvm_pgtable.js';
import {
  MEMCACHE_DIRECT,
  MEMCACHE_NONE,
  alloc_table_page,
  kvm_pgtable_stage2_free_unlinked,
  kvm_pgtable_stage2_map,
  kvm_pgtable_stage2_unmap,
  kvm_pgtable_stage2_wrprotect,
  set_s2_mm_ops,
  stage2_unmap_deferred_flush,
  stage2_unmap_walk_args,
  stage2_wrprotect_walk_args,
} from './pgtable.js';
import { kvm_pgtable_walk, type VisitResult } from './pgtable_walk.js';
import { __kvm_tlb_flush_vmid, guest_translate, tlb_state } from './tlb.js';

export const FREE_UNLINKED_SYNC = define_variant({
  name: 'pgtable.free_unlinked_sync',
  description:
    'stage2_free_unlinked_table() calls kvm_pgtable_stage2_free_unlinked() at once instead of through call_rcu(): a table a ' +
    'shared (read-lock) fault walk unlinks is freed while other walkers may still be inside it',
  source:
    'hypothetical: this never shipped; before "KVM: arm64: Free removed stage-2 tables in RCU callback" (the v6.2 parallel-fault ' +
    'series ending in 1577cb5823ce) every stage-2 walk held mmu_lock for write, so freeing at once was safe. It shows why a ' +
    'shared walk needs the grace period: the walker still inside the unlinked table reads freed memory',
  breaks: 'pgtable.use_after_free',
  arch: 'arm64',
});

// ---------------------------------------------------------------------------
// struct kvm_mmu_memory_cache per vCPU (vcpu->arch.mmu_page_cache). Pages in
// the cache are not materialised until taken: only the count is kept.

/** KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE (arm64) */
export const KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE = 40;

export interface KvmMmuMemoryCache {
  nobjs: number;
  capacity: number;
}

declare module '../machine/world.js' {
  interface World {
    /** vcpu->arch.mmu_page_cache, by vcpu id. */
    s2_memcache?: KvmMmuMemoryCache[];
    /** Host hugepages backing guest memory: aligned hva (hex) -> first pfn. */
    host_hugepages?: Record<string, number>;
  }
}

export function vcpu_memcache(w: World, vcpu: number): KvmMmuMemoryCache {
  const all = (w.s2_memcache ??= []);
  while (all.length <= vcpu) all.push({ nobjs: 0, capacity: KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE });
  return all[vcpu]!;
}

/**
 * kvm_mmu_topup_memory_cache(mc, min): fill to capacity when fewer than
 * `min` (default kvm_mmu_cache_min_pages(): levels - 1). GFP_KERNEL: the
 * caller must be allowed to sleep (it calls might_sleep). Returns 0.
 */
export function kvm_mmu_topup_memory_cache(w: World, vcpu: number, min?: number): number {
  const mc = vcpu_memcache(w, vcpu);
  const need = min ?? kvm_mmu_cache_min_pages(arm64(w).mmu.pgt);
  if (mc.nobjs >= need) return 0;
  metric_add(w, 'memcache_topup_pages', mc.capacity - mc.nobjs);
  mc.nobjs = mc.capacity;
  return 0;
}

/** stage2_memcache_zalloc_page(): kvm_mmu_memory_cache_alloc(), which WARNs and falls back to GFP_ATOMIC when empty. */
export function stage2_memcache_zalloc_page(w: World, t: Thread, memcache: number, level: number): number {
  if (memcache === MEMCACHE_NONE) return -1;
  if (memcache !== MEMCACHE_DIRECT) {
    const mc = vcpu_memcache(w, memcache);
    if (mc.nobjs > 0) mc.nobjs--;
    else metric_add(w, 'warn_memcache_empty');
  }
  return alloc_table_page(w, t, level);
}

/**
 * stage2_free_unlinked_table(addr, level): set_page_private(page, level)
 * (the level of the entry that pointed to the table) and
 * call_rcu(stage2_free_unlinked_table_rcu_cb). The kernel does this for
 * every unlinked table, exclusive walk or not; under
 * pgtable.free_unlinked_sync it is freed at once. Worlds without RCU (bare
 * unit tests) free at once too.
 */
export function stage2_free_unlinked_table(w: World, t: Thread, page: number, level: number): void {
  if (variant_on(w, FREE_UNLINKED_SYNC.name) || !w.rcu) {
    kvm_pgtable_stage2_free_unlinked(w, t, page, level, variant_on(w, FREE_UNLINKED_SYNC.name) ? 'at once in stage2_free_unlinked_table, no RCU grace period: pgtable.free_unlinked_sync' : 'at once in stage2_free_unlinked_table: no RCU in this World');
    return;
  }
  call_rcu(w, t, 'stage2_free_unlinked_table_rcu_cb', { page, level, by: t.name, step: w.step });
}

// stage2_free_unlinked_table_rcu_cb(): level = page_private(page).
define_rcu_callback('stage2_free_unlinked_table_rcu_cb', (w, t, arg) => {
  const page = arg['page'] as number;
  emit(w, t, 'rcu.free', { page });
  kvm_pgtable_stage2_free_unlinked(w, t, page, arg['level'] as number, `RCU callback after a grace period (queued by ${String(arg['by'])} at step ${String(arg['step'])})`);
});

set_s2_mm_ops({ zalloc_page: stage2_memcache_zalloc_page, free_unlinked_table: stage2_free_unlinked_table });

// ---------------------------------------------------------------------------
// The stage-2 pgd.

/**
 * kvm_init_stage2_mmu() -> kvm_pgtable_stage2_init(): allocate the
 * (concatenated) entry-level table pages for an IPA space of `ia_bits`.
 * Called as (w, ia_bits) or (w, mmu_or_id, ia_bits); the MMU is not
 * recorded (walkers take its id).
 */
export function kvm_pgtable_stage2_init(w: World, a: number | kvm_s2_mmu, b?: number): kvm_pgtable {
  const ia_bits = b ?? (typeof a === 'number' ? a : 40);
  const start_level = stage2_start_level(ia_bits);
  const pgd: number[] = [];
  for (let i = 0; i < kvm_pgd_pages(ia_bits, start_level); i++) pgd.push(pgt_alloc_page(w, start_level).id);
  tlb_state(w);
  return { ia_bits, start_level, pgd, flags: 0, fwb_cap: true, tlb_range_cap: true };
}

// ---------------------------------------------------------------------------
// Range operations under the write lock.

/** stage2_range_addr_end(): the next 1G (KVM_PGTABLE_MIN_BLOCK_LEVEL granule) boundary, or end. */
export function stage2_range_addr_end(addr: number, end: number): number {
  const size = kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL);
  const boundary = align_down(addr + size, size);
  return boundary - 1 < end - 1 ? boundary : end;
}

interface ApplyRange {
  mmu: number;
  addr: number;
  end: number;
  /** Model function called as fn({mmu, addr, size}). */
  fn: string;
  resched: boolean;
  next: number;
}

/**
 * fn(pgt, addr, size) for the two fns KVM passes is a plain call of
 * kvm_pgtable_walk(): the walk is called directly so the wrapper costs no
 * steps. Any other model function is called as fn({mmu, addr, size}).
 */
const APPLY_WALKS: Record<string, (mmu: number, addr: number, size: number) => Locals> = {
  [kvm_pgtable_stage2_unmap.name]: stage2_unmap_walk_args,
  [kvm_pgtable_stage2_wrprotect.name]: (mmu, addr, size) => stage2_wrprotect_walk_args(mmu, addr, size),
};

function apply_chunk(l: ApplyRange): Next {
  l.next = stage2_range_addr_end(l.addr, l.end);
  const walk = APPLY_WALKS[l.fn];
  if (walk) return call(kvm_pgtable_walk, walk(l.mmu, l.addr, l.next - l.addr), 'chunk_done');
  return call(l.fn, { mmu: l.mmu, addr: l.addr, size: l.next - l.addr }, 'chunk_done');
}

/**
 * stage2_apply_range(mmu, addr, end, fn, resched): fn over 1G chunks; with
 * resched, cond_resched_rwlock_write(&kvm->mmu_lock) between chunks, where
 * the write lock may be dropped and retaken.
 */
export const stage2_apply_range = model_fn<ApplyRange>('stage2_apply_range', {
  chunk: (_w, _t, l) => apply_chunk(l),
  chunk_done: (w, t, l) => {
    // kvm_pgtable_stage2_unmap()'s deferred TLBI, in the step its walk returns to.
    if (l.fn === kvm_pgtable_stage2_unmap.name) stage2_unmap_deferred_flush(w, t, l.mmu, l.addr, l.next - l.addr);
    const r = typeof t.retval === 'number' ? t.retval : (t.retval as VisitResult).r;
    if (r) return ret(t, r);
    if (l.resched && l.next !== l.end) return call(cond_resched_rwlock_write, { lock: 'mmu_lock' }, 'advance');
    l.addr = l.next;
    return l.addr !== l.end ? apply_chunk(l) : ret(t, 0);
  },
  advance: (_w, t, l) => {
    l.addr = l.next;
    return l.addr !== l.end ? apply_chunk(l) : ret(t, 0);
  },
});

/**
 * kvm_stage2_unmap_range(mmu, start, size, may_block) (__unmap_stage2_range):
 * mmu_lock held for write; with may_block the lock can be dropped between
 * 1G chunks.
 */
export const kvm_stage2_unmap_range = model_fn<{ mmu: number; start: number; size: number; may_block: boolean }>('kvm_stage2_unmap_range', {
  start: (w, t, l) => {
    lockdep_assert_held_write(w, t, 'mmu_lock');
    return call(stage2_apply_range, { mmu: l.mmu, addr: l.start, end: l.start + l.size, fn: kvm_pgtable_stage2_unmap.name, resched: l.may_block }, 'done');
  },
  done: (w, t) => {
    if (t.retval) metric_add(w, 'warn_unmap_range');
    return RETURN;
  },
});

/** stage2_wp_range(mmu, addr, end): write-protect, rescheduling between chunks (the caller flushes TLBs). */
export const stage2_wp_range = model_fn<{ mmu: number; addr: number; end: number }>('stage2_wp_range', {
  start: (w, t, l) => {
    lockdep_assert_held_write(w, t, 'mmu_lock');
    return call(stage2_apply_range, { mmu: l.mmu, addr: l.addr, end: l.end, fn: kvm_pgtable_stage2_wrprotect.name, resched: true }, 'done');
  },
  done: (_w, t) => ret(t, t.retval),
});

/** kvm_arch_flush_remote_tlbs(): a broadcast TLBI of the VM's (canonical) VMID. */
export const kvm_arch_flush_remote_tlbs = model_fn<Record<string, never>>('kvm_arch_flush_remote_tlbs', {
  flush: (w, t) => {
    __kvm_tlb_flush_vmid(w, t, -1);
    return ret(t, 0);
  },
});

// ---------------------------------------------------------------------------
// The access_hugepage op: a guest access backed by a host hugepage.

/**
 * The host page backing the hugepage at aligned hva `base`: one aligned,
 * contiguous run of pfns, allocated on first touch (a THP/hugetlbfs fault).
 * Kept apart from the 4K host PTEs of w.mm.
 */
export function host_hugepage_pfn(w: World, base: number, size: number): number {
  const all = (w.host_hugepages ??= {});
  const key = `0x${base.toString(16)}`;
  let pfn = all[key];
  if (pfn === undefined) {
    const n = size / PAGE_SIZE;
    pfn = Math.ceil(w.mm.next_pfn / n) * n;
    w.mm.next_pfn = pfn + n;
    all[key] = pfn;
  }
  return pfn;
}

define_op({
  name: 'access_hugepage',
  threads: ['vcpu'],
  arch: 'arm64',
  summary:
    'guest load or store to an IPA the host backs with a SIZE hugepage (THP or hugetlbfs): the fault maps a SIZE block, or a 4K page with force_pte (as under dirty logging)',
  schema: {
    type: 'object',
    properties: { ipa: S.addr, write: S.bool, size: { enum: [2 ** 21, 2 ** 30] }, force_pte: S.bool },
    required: ['ipa', 'size'],
    additionalProperties: false,
  },
  in_guest: (w, t, args) => {
    const ipa = args['ipa'] as number;
    const write = args['write'] === true;
    const r = guest_translate(w, t, arm64(w).vcpus[t.vcpu]?.hw_mmu ?? -1, ipa, write);
    if (r.ok) {
      emit(w, t, 'guest.access', { ipa, write, pa: r.pa, via: r.via });
      return { done: true };
    }
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.fault_ipa = ipa;
    vcpu.fault_write = write;
    return { exit: 'hugepage_abort' };
  },
});

interface HugeFault {
  mmu_seq: number;
  addr: number;
  size: number;
  phys: number;
}

/**
 * user_mem_abort() for an access_hugepage fault: topup, snapshot
 * mmu_invalidate_seq, fault the hugepage in, take mmu_lock for read, check
 * for a racing invalidation, map a block (vma_pagesize; 4K when force_pte or
 * when the memslot cannot hold the aligned block:
 * fault_supports_stage2_huge_mapping) with a SHARED|HANDLE_FAULT walk.
 */
export const handle_exit_hugepage_abort = model_fn<HugeFault>('handle_exit_hugepage_abort', {
  topup: (w, t) => {
    might_sleep(w, t, 'kvm_mmu_topup_memory_cache');
    kvm_mmu_topup_memory_cache(w, t.vcpu);
    return 'snapshot';
  },
  snapshot: (w, t, l) => {
    const vcpu = vcpu_of(w, t.vcpu);
    emit(w, t, 'fault.start', { gpa: vcpu.fault_ipa, write: vcpu.fault_write, nested: false });
    l.mmu_seq = w.kvm.mmu_invalidate_seq;
    emit(w, t, 'fault.seq_snapshot', { mmu_seq: l.mmu_seq });
    return 'faultin';
  },
  faultin: (w, t, l) => {
    might_sleep(w, t, '__kvm_faultin_pfn');
    const vcpu = vcpu_of(w, t.vcpu);
    const args = next_op(t)?.args ?? {};
    const huge = args['size'] as number;
    const ipa = vcpu.fault_ipa;
    const gfn = Math.floor(ipa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, gfn);
    if (!slot) throw new Error(`${t.name}: guest access to IPA 0x${ipa.toString(16)} outside every memslot`);
    const hva = gfn_to_hva(slot, gfn);
    const pfn = host_hugepage_pfn(w, align_down(hva, huge), huge);
    const pa = pfn * PAGE_SIZE + (hva % huge);
    // fault_supports_stage2_huge_mapping(): same offset in IPA and hva, block inside the slot.
    const base = align_down(ipa, huge);
    const slot_start = slot.base_gfn * PAGE_SIZE;
    const fits = hva % huge === ipa % huge && base >= slot_start && base + huge <= slot_start + slot.npages * PAGE_SIZE;
    l.size = args['force_pte'] === true || !fits ? PAGE_SIZE : huge;
    l.addr = align_down(ipa, l.size);
    l.phys = align_down(pa, l.size);
    emit(w, t, 'fault.faultin', { pfn: Math.floor(l.phys / PAGE_SIZE), slept: false });
    return 'lock';
  },
  lock: (w, t) => lock_read(w, t, 'mmu_lock', 'check'),
  check: (w, t, l) => {
    const k = w.kvm;
    const reason = mmu_invalidate_retry(w, l.mmu_seq);
    emit(w, t, 'fault.check', {
      in_progress: k.mmu_invalidate_in_progress,
      seq_now: k.mmu_invalidate_seq,
      seq_snap: l.mmu_seq,
      range: [k.mmu_invalidate_range_start, k.mmu_invalidate_range_end],
      retry: reason !== null,
    });
    if (reason === null) return 'map';
    emit(w, t, 'fault.retry', { reason });
    metric_add(w, 'fault_retries');
    return 'unlock';
  },
  map: (w, t, l) =>
    call(
      kvm_pgtable_stage2_map,
      {
        mmu: arm64(w).vcpus[t.vcpu]?.hw_mmu ?? -1,
        addr: l.addr,
        size: l.size,
        phys: l.phys,
        prot: KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W,
        flags: KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT,
        memcache: t.vcpu,
      },
      'mapped',
    ),
  mapped: (w, t, l) => {
    const r = t.retval as number;
    if (r === 0) {
      const level = l.size === PAGE_SIZE ? 3 : l.size === 2 ** 21 ? 2 : 1;
      emit(w, t, 'fault.map', { mmu: 's2', ipa: l.addr, pa: l.phys, level, prot: 'RW' });
      metric_add(w, 'faults_mapped');
    } else {
      emit(w, t, 'fault.retry', { reason: 'eagain' });
      metric_add(w, 'fault_retries');
    }
    return 'unlock';
  },
  unlock: (w, t) => {
    read_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});
