// arch/arm64/kvm/mmu.c: the stage-2 fault path (kvm_handle_guest_abort,
// user_mem_abort) and the MMU-notifier unmap hook (kvm_unmap_gfn_range).
// Version: the v6.17 shape (mmu.c at fc670ad5966f, Sept 2025).
//
// user_mem_abort() chooses the mapping size as the kernel does: under
// mmap_read_lock from the VMA (a hugetlbfs page size; PAGE_SIZE for
// anything else, or with force_pte), cut to what the memslot can hold
// (fault_supports_stage2_huge_mapping) and, for a nested fault, to the guest
// hypervisor's own mapping size; then, after the retry check under the fault
// lock, transparent_hugepage_adjust() maps a PMD block when the host maps
// the page with a THP (get_user_mapping_size()). Block and page faults go
// through the same locked retry check, and the same mmu.no_retry_check.
// Left out: MTE, device and PFNMAP mappings (s2_force_noncacheable), exec
// faults and permission faults (every mapping is R|W; fault_is_perm is
// never set), the writable-only-on-write-faults rule under dirty logging,
// the dirty log itself (a `force_pte` op argument stands for
// memslot_is_logging()), hwpoison, guest_memfd (gmem_abort), pKVM's write
// lock and memcache.
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn, ret } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot } from '../kvm/kvm_host.js';
import { host_faultin } from '../kvm/host_mm.js';
import { transparent_hugepage_adjust, user_mem_abort_vma_size } from './mmu_stage2.js';
import { emit_fault_check, mmu_invalidate_retry } from '../kvm/mmu_invalidate.js';
import { lock_read, read_unlock } from '../kvm/rwlock.js';
import { might_sleep } from '../machine/machine.js';
import { preempt_point } from '../kvm/vcpu_load.js';
import { vcpu_of_thread } from './arm.js';
import { guest_translate } from './tlb.js';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_W, KVM_PGTABLE_WALK_HANDLE_FAULT, KVM_PGTABLE_WALK_SHARED, kvm_encode_nested_level, kvm_granule_size } from './kvm_pgtable.js';
import { mmu_by_id, mmu_name } from './kvm_host.js';
import { kvm_nested_s2_unmap } from './nested.js';
import { kvm_nested_s2_unmap_range, revmap_add, revmap_enabled } from './nested_revmap.js';
import { kvm_mmu_topup_memory_cache } from './mmu_stage2.js';
import { kvm_walk_nested_s2 } from './nested.js';

export const NO_RETRY_CHECK = define_variant({
  name: 'mmu.no_retry_check',
  description:
    'every fault path maps its pfn, page or block, without the locked retry check: arm64 user_mem_abort() skips ' +
    'mmu_invalidate_retry(); x86 skips is_page_fault_stale() (and the lockless pre-check). A fault that raced with an ' +
    'invalidation installs a mapping of the old pfn',
  source:
    'hypothetical: the check has guarded the fault paths since the MMU notifiers came to KVM (mmu_notifier_seq, 2008; ' +
    'user_mem_abort() has had it since KVM/arm64 was merged); it shows the race mmu_invalidate_seq closes, for 4K pages ' +
    'and for blocks backed by host THP or hugetlbfs',
  breaks: 'mmu.stale_mapping',
});

/** A guest load or store to an IPA: a stage-2 hit completes, a miss traps. */
define_op({
  name: 'access',
  threads: ['vcpu'],
  summary: 'guest load or store to an IPA (faults into user_mem_abort when unmapped)',
  schema: { type: 'object', properties: { ipa: S.addr, write: S.bool }, required: ['ipa'], additionalProperties: false },
  in_guest: (w, t, args) => {
    const ipa = args['ipa'] as number;
    const write = args['write'] === true;
    const hw_mmu = w.arm64!.vcpus[t.vcpu]!.hw_mmu ?? -1;
    // (hw_mmu is never NULL while the guest runs; -1 is the canonical stage-2.)
    const r = guest_translate(w, t, hw_mmu, ipa, write);
    if (r.ok) {
      emit(w, t, 'guest.access', { ipa, write, pa: r.pa, via: r.via });
      return { done: true };
    }
    const vcpu = vcpu_of_thread(w, t);
    vcpu.fault_ipa = ipa;
    vcpu.fault_write = write;
    return { exit: 'abort' };
  },
});

/**
 * kvm_handle_guest_abort(): for an L2 fault, walk the guest hypervisor's
 * stage-2 first (a miss there is the guest hypervisor's own fault and is
 * injected into it); then find the memslot and call user_mem_abort() on the
 * vCPU's hw_mmu at the faulting (nested) IPA.
 */
export const handle_exit_abort = model_fn<{ walked: boolean; nested_ipa?: number; l1_ipa?: number }>('handle_exit_abort', {
  abort: (w, t, l) => {
    const vcpu = vcpu_of_thread(w, t);
    // kvm_is_nested_s2_mmu(kvm, hw_mmu) && hw_mmu->nested_stage2_enabled: with L1's
    // stage-2 off there is nothing to walk and the fault is handled 1:1.
    const hw = w.arm64!.vcpus[t.vcpu]!.hw_mmu ?? -1;
    const nested = hw >= 0 && mmu_by_id(w, hw).nested_stage2_enabled;
    emit(w, t, 'fault.start', { gpa: vcpu.fault_ipa, write: vcpu.fault_write, nested });
    let ipa = vcpu.fault_ipa;
    let guest_level = 0;
    if (nested) {
      // Under kvm->srcu only: nothing ties this walk to the mmu_lock section that installs its result.
      l.walked = true;
      const tr = kvm_walk_nested_s2(w, t, vcpu.fault_ipa);
      if (!tr) {
        // kvm_inject_s2_fault(): L1 handles its own translation fault; the model drops the access.
        emit(w, t, 'nested.s2_fault', { nested_ipa: vcpu.fault_ipa });
        t.ip++;
        return RETURN;
      }
      ipa = tr.ipa;
      guest_level = tr.level;
      // What the walk read, page-aligned: the fault may later widen to a block around it.
      l.nested_ipa = Math.floor(vcpu.fault_ipa / PAGE_SIZE) * PAGE_SIZE;
      l.l1_ipa = Math.floor(tr.ipa / PAGE_SIZE) * PAGE_SIZE;
    }
    const gfn = Math.floor(ipa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, gfn);
    if (!slot) throw new Error(`${t.name}: guest access to IPA 0x${ipa.toString(16)} outside every memslot`);
    return call(user_mem_abort, { fault_ipa: vcpu.fault_ipa, canonical_ipa: ipa, write: vcpu.fault_write, hva: gfn_to_hva(slot, gfn), guest_level }, 'done');
  },
  done: () => RETURN,
});

export interface Uma {
  /**
   * vcpu->arch.hw_mmu (-1 canonical, else a shadow), read only once
   * kvm_fault_lock() is held: before it the vCPU may sleep, be put and
   * reloaded with another MMU of the same context.
   */
  mmu?: number;
  /** Level of the guest hypervisor's mapping (nested faults), recorded in the shadow leaf's SW bits. */
  guest_level: number;
  /** The L1 (canonical) IPA behind fault_ipa (the kernel's `ipa`): the same for non-nested faults. */
  canonical_ipa: number;
  fault_ipa: number;
  write: boolean;
  hva: number;
  mmu_seq: number;
  pfn: number;
  /** vma_pagesize: the size of the mapping to install. */
  vma_pagesize: number;
  force_pte: boolean;
}

/** The stage-2 level whose granule is `size` (3 for 4K, 2 for 2M, 1 for 1G). */
export function kvm_mapping_level(size: number): number {
  for (let level = 3; level >= 1; level--) if (kvm_granule_size(level) === size) return level;
  throw new Error(`no stage-2 level maps ${size} bytes`);
}

export const user_mem_abort = model_fn<Uma>('user_mem_abort', {
  // kvm_mmu_topup_memory_cache(): may sleep, so before any lock.
  topup: (w, t) => {
    might_sleep(w, t, 'kvm_mmu_topup_memory_cache');
    kvm_mmu_topup_memory_cache(w, t.vcpu);
    return 'snapshot';
  },
  // mmap_read_lock(); vma_lookup() and the mapping size; mmu_seq =
  // kvm->mmu_invalidate_seq; mmap_read_unlock() (the kernel relies on it for
  // an implicit smp_rmb(), pairing with the smp_wmb() in
  // kvm_mmu_invalidate_end()).
  snapshot: (w, t, l) => {
    user_mem_abort_vma_size(w, t, l);
    l.mmu_seq = w.kvm.mmu_invalidate_seq;
    emit(w, t, 'fault.seq_snapshot', { mmu_seq: l.mmu_seq });
    return 'faultin';
  },
  // __kvm_faultin_pfn(): get_user_pages; may sleep, so the vCPU thread may be scheduled out here.
  faultin: (w, t) => preempt_point(w, t, 'faultin_pfn'),
  faultin_pfn: (w, t, l) => {
    might_sleep(w, t, '__kvm_faultin_pfn');
    // __kvm_faultin_pfn(memslot, gfn): gfn = ipa >> PAGE_SHIFT, the IPA aligned to a hugetlbfs block.
    const gfn = Math.floor(l.canonical_ipa / PAGE_SIZE);
    l.pfn = host_faultin(w, gfn_to_hva(gfn_to_memslot(w, gfn)!, gfn));
    emit(w, t, 'fault.faultin', { pfn: l.pfn, slept: false });
    return 'lock';
  },
  // kvm_fault_lock(): read_lock(&kvm->mmu_lock).
  lock: (w, t) => lock_read(w, t, 'mmu_lock', 'check'),
  check: (w, t, l) => {
    const hw = w.arm64!.vcpus[t.vcpu]!.hw_mmu; // pgt = vcpu->arch.hw_mmu->pgt;
    if (hw === null) throw new Error(`${t.name}: user_mem_abort() with hw_mmu NULL under kvm_fault_lock()`);
    l.mmu = hw;
    if (variant_on(w, NO_RETRY_CHECK.name)) return 'map';
    const reason = mmu_invalidate_retry(w, l.mmu_seq);
    emit_fault_check(w, t, l.mmu_seq, reason);
    if (reason === null) return 'map';
    emit(w, t, 'fault.retry', { reason });
    metric_add(w, 'fault_retries');
    return 'unlock';
  },
  map: (w, t, l) => {
    // Still under the fault lock: a THP found now maps a PMD block.
    if (l.vma_pagesize === PAGE_SIZE && !l.force_pte) {
      const sz = transparent_hugepage_adjust(w, l);
      if (sz < 0) {
        // get_user_mapping_size(): the host mapping is gone; the guest refaults.
        emit(w, t, 'fault.retry', { reason: 'user_mapping' });
        metric_add(w, 'fault_retries');
        return 'unlock';
      }
    }
    return call(
      'kvm_pgtable_stage2_map',
      {
        mmu: l.mmu!,
        addr: l.fault_ipa,
        size: l.vma_pagesize,
        phys: l.pfn * PAGE_SIZE,
        // kvm_encode_nested_level(): a shadow leaf remembers the guest hypervisor's mapping level.
        prot: l.guest_level ? BigInt(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W) | kvm_encode_nested_level(l.guest_level) : KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W,
        flags: KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT,
        memcache: t.vcpu,
      },
      'mapped',
    );
  },
  mapped: (w, t, l) => {
    const r = t.retval as number;
    if (r === 0) {
      if (l.mmu! >= 0 && revmap_enabled(w)) revmap_add(w, t, mmu_by_id(w, l.mmu!), l.canonical_ipa - (l.canonical_ipa % l.vma_pagesize), l.fault_ipa, l.vma_pagesize);
      emit(w, t, 'fault.map', { mmu: mmu_name(l.mmu!), ipa: l.fault_ipa, pa: l.pfn * PAGE_SIZE, level: kvm_mapping_level(l.vma_pagesize), prot: 'RW' });
      metric_add(w, 'faults_mapped');
    } else {
      // -EAGAIN from the walker: another vCPU is changing the entry; the guest refaults.
      emit(w, t, 'fault.retry', { reason: 'eagain' });
      metric_add(w, 'fault_retries');
    }
    return 'unlock';
  },
  unlock: (w, t) => {
    read_unlock(w, t, 'mmu_lock');
    return ret(t, 0);
  },
});

/**
 * kvm_unmap_gfn_range(): unmap the canonical stage-2 range, then every
 * shadow stage-2 in full (nested). Returns false: the unmap walker did its
 * own TLBIs, so the generic code need not flush.
 */
export const kvm_unmap_gfn_range = model_fn<{ start: number; end: number; may_block: boolean }>('kvm_unmap_gfn_range', {
  unmap: (w, _t, l) => {
    metric_add(w, 'canonical_unmaps');
    return call('kvm_stage2_unmap_range', { mmu: -1, start: l.start * PAGE_SIZE, size: (l.end - l.start) * PAGE_SIZE, may_block: l.may_block }, 'nested');
  },
  // With the reverse map only the shadow ranges it names; without it, every shadow in full.
  nested: (w, _t, l) =>
    revmap_enabled(w)
      ? call(kvm_nested_s2_unmap_range, { start: l.start, end: l.end, may_block: l.may_block }, 'done')
      : call(kvm_nested_s2_unmap, { may_block: l.may_block }, 'done'),
  done: (_w, t) => ret(t, false),
});
