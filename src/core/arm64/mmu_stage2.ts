// arch/arm64/kvm/mmu.c, the stage-2 plumbing around hyp/pgtable.c: the
// per-vCPU memory cache of table pages, the kvm_s2_mm_ops callbacks
// (stage2_memcache_zalloc_page, stage2_free_unlinked_table and its RCU
// callback), stage2_apply_range() in 1G chunks with cond_resched between
// them, kvm_stage2_unmap_range(), stage2_wp_range(),
// kvm_arch_flush_remote_tlbs() and the stage-2 pgd set-up
// (kvm_init_stage2_mmu -> kvm_pgtable_stage2_init).
//
// Also user_mem_abort()'s mapping size (user_mem_abort_vma_size(),
// transparent_hugepage_adjust(), fault_supports_stage2_huge_mapping()) and
// the `access_hugepage` vCPU op: a guest access to memory the host backs
// with a THP or a hugetlbfs page, whose fault (the same user_mem_abort() as
// any other) maps a block, or a page when force_pte, as under dirty logging:
// the way a table is collapsed into a block in a running VM.
//
// Left out: dirty logging and eager splitting, kvm_stage2_flush_range (no
// caches in the model), the hyp (EL2) stage-1 tables, pKVM, MTE, device
// mappings, and the stage-2 pgd teardown (kvm_free_stage2_pgd).
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn, ret, type Next } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { next_op } from '../machine/thread.js';
import { define_variant } from '../machine/variants.js';
import type { Locals, Thread, World } from '../machine/world.js';
import { metric_add, variant_on } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_memslot, vcpu_of, type Memslot } from '../kvm/kvm_host.js';
import { PMD_SIZE, PUD_SIZE, get_user_mapping_size, host_vma, host_vma_declare, type HostVma, type HugeKind } from '../kvm/host_mm.js';
import { cond_resched_rwlock_write, lockdep_assert_held_write } from '../kvm/rwlock.js';
import { call_rcu, define_rcu_callback } from '../rcu/tree.js';
import { arm64, type kvm_s2_mmu } from './kvm_host.js';
import {
  KVM_PGTABLE_MIN_BLOCK_LEVEL,
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
  kvm_pgtable_stage2_unmap,
  kvm_pgtable_stage2_wrprotect,
  set_s2_mm_ops,
  stage2_unmap_deferred_flush,
  stage2_unmap_walk_args,
  stage2_wrprotect_walk_args,
} from './pgtable.js';
import { kvm_pgtable_walk, type VisitResult } from './pgtable_walk.js';
import { __kvm_tlb_flush_vmid, guest_translate, tlb_state } from './tlb.js';
import { define_history } from '../machine/history.js';

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
  call_rcu(w, t, 'stage2_free_unlinked_table_rcu_cb', { page, level, by: t.name });
}

// stage2_free_unlinked_table_rcu_cb(): level = page_private(page).
define_rcu_callback('stage2_free_unlinked_table_rcu_cb', (w, t, arg) => {
  const page = arg['page'] as number;
  emit(w, t, 'rcu.free', { page });
  kvm_pgtable_stage2_free_unlinked(w, t, page, arg['level'] as number, `RCU callback after a grace period (queued by ${String(arg['by'])})`);
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
// user_mem_abort()'s mapping size, and the access_hugepage op.

/** fault_supports_stage2_huge_mapping(memslot, hva, map_size) */
export function fault_supports_stage2_huge_mapping(slot: Memslot, hva: number, map_size: number): boolean {
  if (map_size === PAGE_SIZE) return true;
  const size = slot.npages * PAGE_SIZE;
  const gpa_start = slot.base_gfn * PAGE_SIZE;
  const uaddr_start = slot.userspace_addr;
  const uaddr_end = uaddr_start + size;
  // Same offset within the block in IPA space and in the host's address space.
  if (gpa_start % map_size !== uaddr_start % map_size) return false;
  // The block lies inside the memslot.
  const base = align_down(hva, map_size);
  return base >= uaddr_start && base + map_size <= uaddr_end;
}

/** What the faulting op says about the host's backing: the `access_hugepage` arguments, or nothing. */
function fault_backing(t: Thread): { kind: HugeKind; size: number; logging: boolean } | null {
  const op = next_op(t);
  if (op?.op !== 'access_hugepage') return null;
  const size = op.args['size'] as number;
  const kind = (op.args['backing'] as string | undefined) === 'hugetlbfs' || size === PUD_SIZE ? 'hugetlb' : 'thp';
  return { kind, size, logging: op.args['force_pte'] === true };
}

/** get_vma_page_shift(): a hugetlbfs VMA's page size; PAGE_SIZE otherwise (a THP VMA too). */
function get_vma_page_size(vma: HostVma | undefined): number {
  return vma?.kind === 'hugetlb' ? vma.size : PAGE_SIZE;
}

export interface UmaSize {
  canonical_ipa: number;
  fault_ipa: number;
  hva: number;
  guest_level: number;
  vma_pagesize: number;
  force_pte: boolean;
}

/**
 * user_mem_abort() under mmap_read_lock: vma_lookup(), the size the VMA
 * allows (logging_active: force_pte, PAGE_SIZE), cut to what the memslot
 * can map at once; for a nested fault, cut to the guest hypervisor's mapping
 * size (max_map_size, the two host sizes around it rounded down, force_pte
 * when it is PAGE_SIZE); both IPAs aligned to a block.
 */
export function user_mem_abort_vma_size(w: World, t: Thread, l: UmaSize): void {
  l.fault_ipa = align_down(l.fault_ipa, PAGE_SIZE);
  l.canonical_ipa = align_down(l.canonical_ipa, PAGE_SIZE);
  const slot = gfn_to_memslot(w, Math.floor(l.canonical_ipa / PAGE_SIZE))!;
  const backing = fault_backing(t);
  // The VMM's VMA (MADV_HUGEPAGE or a hugetlbfs mmap) as the op describes it.
  if (backing) host_vma_declare(w, l.hva, backing.kind, backing.size);
  let size: number;
  l.force_pte = false;
  if (backing?.logging) {
    l.force_pte = true;
    size = PAGE_SIZE;
  } else {
    size = get_vma_page_size(host_vma(w, l.hva));
  }
  // PUD -> PMD -> PAGE (force_pte) while the memslot cannot hold the block.
  if (size === PUD_SIZE && !fault_supports_stage2_huge_mapping(slot, l.hva, PUD_SIZE)) size = PMD_SIZE;
  if (size === PMD_SIZE && !fault_supports_stage2_huge_mapping(slot, l.hva, PMD_SIZE)) {
    size = PAGE_SIZE;
    l.force_pte = true;
  }
  if (l.guest_level) {
    // kvm_s2_trans_size(): the guest's mapping size, rounded down to a host size.
    let max_map_size = Math.min(kvm_granule_size(l.guest_level), l.force_pte ? PAGE_SIZE : PUD_SIZE);
    if (max_map_size >= PMD_SIZE && max_map_size < PUD_SIZE) max_map_size = PMD_SIZE;
    else if (max_map_size >= PAGE_SIZE && max_map_size < PMD_SIZE) max_map_size = PAGE_SIZE;
    l.force_pte = max_map_size === PAGE_SIZE;
    size = Math.min(size, max_map_size);
  }
  l.vma_pagesize = size;
  if (size === PMD_SIZE || size === PUD_SIZE) {
    l.fault_ipa = align_down(l.fault_ipa, size);
    l.canonical_ipa = align_down(l.canonical_ipa, size);
  }
}

/**
 * transparent_hugepage_adjust() under the fault lock: when the memslot can
 * hold a PMD block here and the host maps hva with a PMD-sized (or larger)
 * mapping (get_user_mapping_size(), a walk of the userspace page tables),
 * map a PMD block: the IPA and pfn aligned down. Returns the mapping size,
 * or -EAGAIN when the host mapping is gone.
 */
export function transparent_hugepage_adjust(w: World, l: UmaSize & { pfn: number }): number {
  const slot = gfn_to_memslot(w, Math.floor(l.canonical_ipa / PAGE_SIZE))!;
  if (fault_supports_stage2_huge_mapping(slot, l.hva, PMD_SIZE)) {
    const sz = get_user_mapping_size(w, l.hva);
    if (sz < 0) return sz;
    if (sz >= PMD_SIZE) {
      l.fault_ipa = align_down(l.fault_ipa, PMD_SIZE);
      l.pfn = align_down(l.pfn, PMD_SIZE / PAGE_SIZE);
      l.vma_pagesize = PMD_SIZE;
      return PMD_SIZE;
    }
  }
  return PAGE_SIZE;
}

define_op({
  name: 'access_hugepage',
  threads: ['vcpu'],
  arch: 'arm64',
  summary:
    'guest load or store to an IPA the host backs with a SIZE huge page (backing: thp, 2M only, the default for 2M; or hugetlbfs, ' +
    'the default for 1G); the fault maps a block, or a 4K page with force_pte (as under dirty logging). From L2, the guest ' +
    "hypervisor's own mapping size caps the block",
  schema: {
    type: 'object',
    properties: {
      ipa: S.addr,
      write: S.bool,
      size: { enum: [PMD_SIZE, PUD_SIZE] },
      backing: { enum: ['thp', 'hugetlbfs'] },
      force_pte: S.bool,
    },
    required: ['ipa', 'size'],
    additionalProperties: false,
    // A THP is PMD-sized: a 1G host page is hugetlbfs.
    if: { properties: { size: { const: PUD_SIZE } }, required: ['size'] },
    then: { properties: { backing: { const: 'hugetlbfs' } } },
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
    // kvm_handle_guest_abort() -> user_mem_abort(), as for any access.
    return { exit: 'abort' };
  },
});

// The memory cache's fill level decides only when kvm_mmu_topup_memory_cache() refills it (no event, no sleep in the
// model) and the metric of an empty cache.
define_history('nobjs', 'count');
