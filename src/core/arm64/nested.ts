// arch/arm64/kvm/nested.c: shadow stage-2 MMUs for a guest hypervisor (NV).
// lookup_s2_mmu, get_s2_mmu_nested (round-robin recycling that only marks
// pending_unmap), kvm_vcpu_load_hw_mmu / kvm_vcpu_put_hw_mmu (a vCPU
// scheduled out keeps its reference), check_nested_vcpu_requests,
// kvm_s2_mmu_iterate_by_vmid, kvm_nested_s2_unmap, and the walk of the guest
// hypervisor's own stage-2. Left out: VNCR_EL2 pages and their fixmap,
// 16K/64K guest granules, S2 permission faults forwarded to L1, 52-bit IPAs.
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn, ret } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import { define_history } from '../machine/history.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { kvm_pgtable_get_leaf, kvm_pgtable_leaves } from './pgtable.js';
import { kvm_decode_nested_level } from './kvm_pgtable.js';
import { KVM_REQ_ARM64 } from '../kvm/kvm_host.js';
import { kvm_check_request, kvm_make_request } from '../kvm/requests.js';
import { lock_write, lockdep_assert_held_write, write_unlock } from '../kvm/rwlock.js';
import { vcpu_of_thread } from './arm.js';
import { revmap_reset } from './nested_revmap.js';
import { arm64, get_vmid, kvm_s2_mmu_valid, mmu_by_id, vttbr_baddr, VTTBR_CNP_BIT, type kvm_s2_mmu } from './kvm_host.js';

export const UNMAP_ON_RECYCLE = define_variant({
  name: 'nv.unmap_on_recycle',
  description:
    'get_s2_mmu_nested() unmaps a valid victim in full on the spot, as v6.11 did (kvm_stage2_unmap_range() always allowed to reschedule; c268f204f7c5 later moved the unmap to KVM_REQ_NESTED_S2_UNMAP): it runs from kvm_vcpu_load_hw_mmu() with the write lock held and preemption off (vcpu_load, kvm_sched_in, the nested ERET), so cond_resched_rwlock_write() sleeps in atomic context',
  source: 'reverts 3c164eb9464d "KVM: arm64: nv: Do not block when unmapping stage-2 if disallowed" (v6.12)',
  breaks: 'sched.sleep_in_atomic',
  arch: 'arm64',
});

export const PUT_DROPS_REF = define_variant({
  name: 'nv.put_drops_ref',
  description:
    'kvm_vcpu_put_hw_mmu() drops the reference and hw_mmu on every put, also when the vCPU is only scheduled out: a vCPU preempted in its KVM_REQ_NESTED_S2_UNMAP pass (at cond_resched_rwlock_write()) no longer pins the MMU, another vCPU recycles it again and marks it pending_unmap, and the resumed pass finishes and clears that flag although what was mapped behind its cursor meanwhile is still there',
  source:
    'hypothetical: dropping the reference on every put is the code before 6ded46b5a4fd "KVM: arm64: nv: Keep reference on stage-2 MMU when scheduled out" (v6.12), but that code unmapped recycled MMUs inline and had no pending_unmap; on the request-based recycling of c268f204f7c5 it never existed. It shows why the reference must outlive a preempted unmap pass',
  breaks: 'nv.pending_unmap_cleared_early',
  arch: 'arm64',
});

export const NO_UNMAP_REQUEST = define_variant({
  name: 'nv.no_unmap_request',
  description:
    'get_s2_mmu_nested() marks a valid victim pending_unmap but makes no KVM_REQ_NESTED_S2_UNMAP request (neither for the recycler nor for a vCPU that later finds the MMU), so nobody unmaps it before entering the guest on it',
  source:
    'hypothetical: c268f204f7c5 "KVM: arm64: nv: Punt stage-2 recycling to a vCPU request" (v6.12) without its request; never posted. It shows what the request, made by every vCPU that takes the MMU ("lend a hand"), guarantees',
  breaks: 'nv.entry_with_pending_unmap',
  arch: 'arm64',
});

export function arch_vcpu(w: World, t: Thread) {
  return arm64(w).vcpus[t.vcpu]!;
}

/** kvm_phys_size(mmu): the IPA space its stage-2 covers. */
export function kvm_phys_size(w: World, _mmu: kvm_s2_mmu): number {
  return 2 ** arm64(w).ipa_bits;
}

/** lookup_s2_mmu() (W-lock): the shadow matching the guest's VTTBR/VTCR/HCR.VM, else null. */
export function lookup_s2_mmu(w: World, t: Thread): kvm_s2_mmu | null {
  lockdep_assert_held_write(w, t, 'mmu_lock');
  const v = arch_vcpu(w, t);
  const vttbr = v.vttbr & ~VTTBR_CNP_BIT;
  for (const mmu of arm64(w).nested_mmus) {
    if (!kvm_s2_mmu_valid(mmu)) continue;
    if (v.hcr_vm && mmu.nested_stage2_enabled && vttbr === mmu.tlb_vttbr && v.vtcr === mmu.tlb_vtcr) return mmu;
    if (!v.hcr_vm && !mmu.nested_stage2_enabled && get_vmid(vttbr) === get_vmid(mmu.tlb_vttbr)) return mmu;
  }
  return null;
}

/**
 * get_s2_mmu_nested() (W-lock held by the caller): reuse a matching shadow,
 * else recycle the next one with refcnt 0 round-robin. A valid victim is
 * only marked pending_unmap; the unmap happens from the vCPU request.
 */
export const get_s2_mmu_nested = model_fn<{ mmu: number }>('get_s2_mmu_nested', {
  lookup: (w, t, l) => {
    const a = arm64(w);
    const v = arch_vcpu(w, t);
    const hit = lookup_s2_mmu(w, t);
    emit(w, t, 's2mmu.lookup', { vttbr: v.vttbr, vtcr: v.vtcr, s2_enabled: v.hcr_vm, hit: hit ? hit.index : -1 });
    if (hit) {
      l.mmu = hit.index;
      return 'out';
    }
    let victim: kvm_s2_mmu | null = null;
    let i = a.nested_mmus_next;
    for (; i < a.nested_mmus_size + a.nested_mmus_next; i++) {
      victim = a.nested_mmus[i % a.nested_mmus_size]!;
      if (victim.refcnt === 0) break;
    }
    if (!victim || victim.refcnt !== 0) throw new Error('BUG_ON: get_s2_mmu_nested() found no shadow stage-2 with refcnt 0');
    a.nested_mmus_next = (i + 1) % a.nested_mmus_size;
    const was_valid = kvm_s2_mmu_valid(victim);
    a.nested_recycles[victim.index]!++;
    metric_add(w, 'nv_recycles');
    emit(w, t, 's2mmu.recycle', { index: victim.index, victim_valid: was_valid, next_cursor: a.nested_mmus_next });
    l.mmu = victim.index;
    if (was_valid && variant_on(w, UNMAP_ON_RECYCLE.name)) {
      // The old code: unmap right here, under the write lock, on vcpu_load.
      return call('kvm_stage2_unmap_range', { mmu: victim.index, start: 0, size: kvm_phys_size(w, victim), may_block: true }, 'assign');
    }
    if (was_valid) {
      victim.pending_unmap = true;
      metric_add(w, 'nv_pending_unmaps');
      emit(w, t, 'pending_unmap.set', { index: victim.index });
    }
    return 'assign';
  },
  assign: (w, t, l) => {
    const v = arch_vcpu(w, t);
    const mmu = mmu_by_id(w, l.mmu);
    mmu.tlb_vttbr = v.vttbr & ~VTTBR_CNP_BIT;
    mmu.tlb_vtcr = v.vtcr;
    mmu.nested_stage2_enabled = v.hcr_vm;
    emit(w, t, 's2mmu.assign', { index: mmu.index, tlb_vttbr: mmu.tlb_vttbr, tlb_vtcr: mmu.tlb_vtcr, s2_enabled: mmu.nested_stage2_enabled });
    return 'out';
  },
  // refcnt++; whoever set pending_unmap, this vCPU lends a hand before using it.
  out: (w, t, l) => {
    const mmu = mmu_by_id(w, l.mmu);
    mmu.refcnt++;
    emit(w, t, 's2mmu.ref', { index: mmu.index, refcnt: mmu.refcnt });
    if (mmu.pending_unmap && !variant_on(w, NO_UNMAP_REQUEST.name)) kvm_make_request(w, t, KVM_REQ_ARM64.NESTED_S2_UNMAP, vcpu_of_thread(w, t));
    return ret(t, mmu.index);
  },
});

/**
 * kvm_vcpu_load_hw_mmu(): vEL2 runs on the canonical stage-2; an L2 context
 * keeps the MMU it still holds, else takes one under the write lock.
 */
export const kvm_vcpu_load_hw_mmu = model_fn<Record<string, never>>('kvm_vcpu_load_hw_mmu', {
  start: (w, t) => {
    const v = arch_vcpu(w, t);
    if (v.ctxt === 'vel2') {
      if (v.hw_mmu === null) v.hw_mmu = -1;
      return RETURN;
    }
    return v.hw_mmu === null ? 'lock' : RETURN;
  },
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'get'),
  get: () => call(get_s2_mmu_nested, {}, 'unlock'),
  unlock: (w, t) => {
    arch_vcpu(w, t).hw_mmu = t.retval as number;
    write_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});

/**
 * kvm_vcpu_put_hw_mmu(): a vCPU that is only scheduled out (not in WFI)
 * keeps its reference, likely to reuse the MMU soon; otherwise (a context
 * switch, vcpu_put, or sleeping in WFI) drop it.
 */
export const kvm_vcpu_put_hw_mmu = model_fn<Record<string, never>>('kvm_vcpu_put_hw_mmu', {
  put: (w, t) => {
    const v = arch_vcpu(w, t);
    if (vcpu_of_thread(w, t).scheduled_out && !v.in_wfi && !variant_on(w, PUT_DROPS_REF.name)) return RETURN;
    if (v.hw_mmu !== null && v.hw_mmu >= 0) {
      const mmu = mmu_by_id(w, v.hw_mmu);
      mmu.refcnt--;
      emit(w, t, 's2mmu.unref', { index: mmu.index, refcnt: mmu.refcnt });
    }
    v.hw_mmu = null;
    return RETURN;
  },
});

/**
 * check_nested_vcpu_requests(): KVM_REQ_NESTED_S2_UNMAP unmaps the whole of
 * hw_mmu under the write lock, which the unmap may drop at cond_resched
 * points; the flag clears only after a full pass.
 */
export const check_nested_vcpu_requests = model_fn<{ mmu: number; pass_gen: number }>('check_nested_vcpu_requests', {
  check: (w, t, l) => {
    if (!kvm_check_request(w, t, KVM_REQ_ARM64.NESTED_S2_UNMAP, vcpu_of_thread(w, t))) return RETURN;
    const hw = arch_vcpu(w, t).hw_mmu;
    if (hw === null || hw < 0) throw new Error(`${t.name}: NESTED_S2_UNMAP with hw_mmu = ${hw === null ? 'NULL' : 'the canonical MMU'}`);
    l.mmu = hw;
    return 'lock';
  },
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'test'),
  test: (w, _t, l) => {
    const mmu = mmu_by_id(w, l.mmu);
    if (!mmu.pending_unmap) return 'unlock';
    l.pass_gen = arm64(w).nested_recycles[l.mmu]!;
    return call('kvm_stage2_unmap_range', { mmu: l.mmu, start: 0, size: kvm_phys_size(w, mmu), may_block: true }, 'clear');
  },
  clear: (w, t, l) => {
    const mmu = mmu_by_id(w, l.mmu);
    // Someone else's full pass may have cleared it while this one had dropped the lock.
    const was_set = mmu.pending_unmap;
    mmu.pending_unmap = false;
    revmap_reset(mmu);
    emit(w, t, 'pending_unmap.clear', { index: l.mmu, was_set });
    return 'unlock';
  },
  unlock: (w, t) => {
    write_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});

/**
 * kvm_nested_s2_unmap(kvm, may_block) (W-lock held): every valid shadow, in
 * full. Called after each canonical unmap: without a reverse map, any
 * canonical invalidation wipes all shadows.
 */
export const kvm_nested_s2_unmap = model_fn<{ may_block: boolean; i: number; steps0: number }>('kvm_nested_s2_unmap', {
  start: (w, t, l) => {
    lockdep_assert_held_write(w, t, 'mmu_lock');
    l.i = 0;
    l.steps0 = entries_read(w);
    return 'next';
  },
  next: (w, t, l) => {
    const a = arm64(w);
    while (l.i < a.nested_mmus_size && !kvm_s2_mmu_valid(a.nested_mmus[l.i]!)) l.i++;
    if (l.i >= a.nested_mmus_size) return nested_unmap_done(w, t, l.steps0);
    const mmu = a.nested_mmus[l.i++]!;
    revmap_reset(mmu);
    count_shadow_leaves(w, mmu.index, 0, kvm_phys_size(w, mmu));
    emit(w, t, 'nested.unmap', { index: mmu.index, start: 0, size: kvm_phys_size(w, mmu), may_block: l.may_block });
    return call('kvm_stage2_unmap_range', { mmu: mmu.index, start: 0, size: kvm_phys_size(w, mmu), may_block: l.may_block }, 'next');
  },
});

/** Metrics of a nested unmap after a canonical invalidation: shadow leaves removed and the steps it took. */
export function count_shadow_leaves(w: World, mmu: number, start: number, size: number): void {
  metric_add(w, 'nested_unmap_leaves', kvm_pgtable_leaves(w, mmu, start, size).length);
}

/** Entries the page-table walker has read so far (the kernel's walk cost, one per entry). */
export function entries_read(w: World): number {
  return w.metrics['pgtable_entries_read'] ?? 0;
}

// The snapshot a pass keeps to measure its walk (nested_unmap_walk_steps)
// is a metric, not state: keyed by value it split every state during a
// pass by how many entries all walks had read before it, and which of two
// such states a search met first decided the states it counted.
define_history('steps0', 'count');

export function nested_unmap_done(w: World, _t: Thread, entries0: number): typeof RETURN {
  metric_add(w, 'nested_unmap_walk_steps', entries_read(w) - entries0);
  return RETURN;
}

/** ttl_to_size() for the 4K granule (TTL 3:0: granule 3:2, level 1:0); 0 = no size information. */
export function ttl_to_size(ttl: number): number {
  if (((ttl >> 2) & 3) !== TLBI_TTL_TG_4K) return 0;
  return [0, 2 ** 30, 2 ** 21, 2 ** 12][ttl & 3]!;
}

const TLBI_TTL_TG_4K = 1;
const SZ_4K = 2 ** 12;
const SZ_2M = 2 ** 21;
const SZ_1G = 2 ** 30;

/**
 * get_guest_mapping_ttl() (W-lock): probe the shadow at addr aligned down to
 * 4K, then 2M, then 1G, for a valid leaf whose SW bits carry the guest's
 * mapping level (KVM_NV_GUEST_MAP_SZ); the TTL it gives only counts if that
 * guest block still contains addr. 0 when nothing says.
 */
export function get_guest_mapping_ttl(w: World, t: Thread, mmu: kvm_s2_mmu, addr: number): number {
  lockdep_assert_held_write(w, t, 'mmu_lock');
  let tmp = addr;
  for (const sz of [SZ_4K, SZ_2M, SZ_1G]) {
    tmp = Math.floor(tmp / sz) * sz;
    const { pte } = kvm_pgtable_get_leaf(w, mmu.index, tmp);
    if (!(pte & 1n)) continue;
    const level = kvm_decode_nested_level(pte);
    if (!level) continue;
    const ttl = (TLBI_TTL_TG_4K << 2) | level;
    return addr < tmp + ttl_to_size(ttl) ? ttl : 0;
  }
  return 0;
}

/**
 * compute_tlb_inval_range(mmu, val): the extent of an IPAS2E1IS for this
 * shadow. The TTL hint if the guest gave one (NV always advertises
 * FEAT_TTL), else the level the shadow recorded for the guest's mapping,
 * else the largest block of the granule (1G for 4K; the model has no 16K/64K
 * guest granules).
 */
export function compute_tlb_inval_range(w: World, t: Thread, mmu: kvm_s2_mmu, val: bigint): number {
  let ttl = Number((val >> 44n) & 0xfn);
  if (!ttl) ttl = get_guest_mapping_ttl(w, t, mmu, Number(val & 0xf_ffff_ffffn) * SZ_4K);
  return ttl_to_size(ttl) || SZ_1G;
}

/** union tlbi_info: a range (VMALLS12E1IS, RIPAS2E1IS) or the raw IPAS2E1IS operand, resolved per MMU. */
export type TlbiInfo = { kind: 'range'; start: number; size: number } | { kind: 'ipa'; val: string };

/**
 * kvm_s2_mmu_iterate_by_vmid(): under the write lock, apply the TLBI to every
 * valid shadow whose tlb_vttbr carries `vmid` (several contexts can share a
 * VMID). s2_mmu_unmap_range() unmaps the range (size 0: the MMU's whole IPA
 * space); s2_mmu_unmap_ipa() computes its range for each MMU, here, under the
 * lock. The unmap may drop the lock at cond_resched points; validity is
 * re-read for each MMU once it is back.
 */
export const kvm_s2_mmu_iterate_by_vmid = model_fn<{ vmid: number; info: TlbiInfo; i: number }>('kvm_s2_mmu_iterate_by_vmid', {
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'first'),
  first: (_w, _t, l) => {
    l.i = 0;
    return 'next';
  },
  next: (w, t, l) => {
    const a = arm64(w);
    while (l.i < a.nested_mmus_size) {
      const mmu = a.nested_mmus[l.i++]!;
      if (!kvm_s2_mmu_valid(mmu) || get_vmid(mmu.tlb_vttbr) !== l.vmid) continue;
      let start: number;
      let size: number;
      if (l.info.kind === 'ipa') {
        // s2_mmu_unmap_ipa(): base = Xt[35:0] << 12, aligned down to this MMU's extent.
        const val = BigInt(l.info.val);
        size = compute_tlb_inval_range(w, t, mmu, val);
        start = Math.floor((Number(val & 0xf_ffff_ffffn) * SZ_4K) / size) * size;
      } else {
        start = l.info.start;
        size = l.info.size || kvm_phys_size(w, mmu);
      }
      emit(w, t, 'tlbi.target', { index: mmu.index, start, size });
      return call('kvm_stage2_unmap_range', { mmu: mmu.index, start, size, may_block: true }, 'next');
    }
    write_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});

/** kvm_walk_nested_s2(): the guest hypervisor's stage-2, read from guest memory. */
export function kvm_walk_nested_s2(w: World, t: Thread, nested_ipa: number): { ipa: number; level: number; writable: boolean } | null {
  const v = arch_vcpu(w, t);
  if (!v.hcr_vm) return { ipa: nested_ipa, level: 3, writable: true };
  const table = arm64(w).l1_s2[vttbr_baddr(v.vttbr)];
  const e = table?.[Math.floor(nested_ipa / 4096)];
  if (!e) return null;
  return { ipa: e.ipa + (nested_ipa % 4096), level: e.level, writable: e.writable };
}
