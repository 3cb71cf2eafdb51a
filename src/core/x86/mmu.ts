// arch/x86/kvm/mmu/mmu.c (and vmx.c's handle_ept_violation): the x86 TDP
// page-fault path and the MMU-notifier unmap hook.
//
//   handle_ept_violation -> kvm_mmu_page_fault -> kvm_mmu_do_page_fault
//     -> kvm_tdp_page_fault -> kvm_tdp_mmu_page_fault:
//        mmu_topup_memory_caches (may sleep)
//        kvm_mmu_faultin_pfn: fault->mmu_seq = kvm->mmu_invalidate_seq;
//          smp_rmb(); [memslot checks]; mmu_invalidate_retry_gfn_unsafe()
//          -> RET_PF_RETRY; __kvm_mmu_faultin_pfn (may sleep: GUP, and
//          the NUMA hinting fault); mmu_invalidate_retry_gfn_unsafe() again
//          -> RET_PF_RETRY
//        read_lock(mmu_lock); is_page_fault_stale(): mmu_invalidate_retry_gfn()
//          -> RET_PF_RETRY; else kvm_tdp_mmu_map(); read_unlock
//   RET_PF_RETRY re-enters the guest, which faults again.
//
// The two lockless checks came with d02c357e5bfa "KVM: x86/mmu: Retry fault
// before acquiring mmu_lock if mapping is changing" (kvm-x86-fixes-6.8-2,
// v6.8); `mmu.no_retry_precheck` removes them (see its description). Older
// trees name the functions kvm_faultin_pfn / __kvm_faultin_pfn.
// `mmu.no_retry_check` (arm64/mmu.ts) skips every retry check of this
// path: both lockless ones and is_page_fault_stale()'s.
//
// Left out: the memslot flags (KVM_MEMSLOT_INVALID -> RET_PF_RETRY is not
// reachable: memslots never change), private/guest_memfd faults, MMIO
// (a gfn outside every memslot is a model error), async page faults, the
// obsolete-root half of is_page_fault_stale(), write-tracking and
// fast_page_fault(), the shadow MMU. The vCPU is not preempted inside the
// fault (vcpu_load.ts's kvm_preempt runs the arm64 put/load hooks).
import { emit, type Event } from '../machine/events.js';
import type { Failure } from '../machine/invariants.js';
import { define_stale_mapping_check } from '../kvm/stale_mapping.js';
import { might_sleep } from '../machine/machine.js';
import { call, model_fn, ret } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot, vcpu_of } from '../kvm/kvm_host.js';
import { host_faultin, host_pte } from '../kvm/host_mm.js';
import { describe_invalidation, emit_fault_check, mmu_invalidate_retry_gfn, mmu_invalidate_retry_gfn_unsafe, type RetryReason } from '../kvm/mmu_invalidate.js';
import { lock_read, read_unlock } from '../kvm/rwlock.js';
import { kvm_tdp_mmu_map, kvm_tdp_mmu_unmap_gfn_range, tdp_gfns_mapping, tdp_spte } from './tdp_mmu.js';
import { tdp_tlb_fill, tdp_tlb_lookup } from './tlb.js';

// RET_PF_* (mmu_internal.h), as the model returns them.
export const RET_PF_CONTINUE = 0;
export const RET_PF_RETRY = 1;
export const RET_PF_FIXED = 4;
export const RET_PF_SPURIOUS = 5;

/** The exit reason of a guest access to a gfn the TDP MMU does not map (EXIT_REASON_EPT_VIOLATION). */
export const EXIT_EPT_VIOLATION = 'ept_violation';

export const NO_RETRY_PRECHECK = define_variant({
  name: 'mmu.no_retry_precheck',
  description:
    'kvm_mmu_faultin_pfn() without its two mmu_invalidate_retry_gfn_unsafe() pre-checks (before and after __kvm_mmu_faultin_pfn()): ' +
    'a fault on a gfn under invalidation only finds out under mmu_lock, in is_page_fault_stale(), after contending for the lock the ' +
    'invalidation holds (and making tdp_mmu_zap_leafs() yield, flushing first). This is mainline between f00dfa90ceb1 ' +
    '"KVM: Use gfn instead of hva for mmu_notifier_retry" (v6.8-rc1) and d02c357e5bfa (late v6.8-rc): no final release shipped it; ' +
    'v6.7 had no pre-check either but tracked the invalidation by hva, which gives the same retry decisions when, as in every ' +
    'bundled scenario, one memslot maps the range',
  source: 'reverts d02c357e5bfa "KVM: x86/mmu: Retry fault before acquiring mmu_lock if mapping is changing" (v6.8)',
  breaks:
    'nothing; fault_retries.precheck drops to 0, fault_mmu_lock, fault_mmu_lock.during_invalidation and fault_retries.locked go up, ' +
    'and with every NUMA invalidation unmapping the zap yields to contending faults more (tdp_mmu_yields.contended, remote_tlb_flushes)',
  arch: 'x86',
});

/** mmu.no_retry_check (defined in arm64/mmu.ts, for every fault path): skip every mmu_invalidate_retry*() check. */
function no_retry_check(w: World): boolean {
  return variant_on(w, 'mmu.no_retry_check');
}

/** The lockless pre-checks run: upstream since d02c357e5bfa, unless a variant removes them. */
function prechecks_on(w: World): boolean {
  return !variant_on(w, NO_RETRY_PRECHECK.name) && !no_retry_check(w);
}

/**
 * A guest load or store to a guest-physical address, as the hardware does
 * it: a TLB entry for the gfn (tlb.ts) serves it without looking at the
 * SPTE; else a walk of a present (and, for a store, writable) SPTE fills
 * the TLB and completes it; otherwise an EPT violation exits to the host.
 * With TDP the guest's own paging is not modelled: the access names the
 * GPA (`access_gva` is the Hyper-V TLB model's GVA access).
 */
define_op({
  name: 'access_gpa',
  threads: ['vcpu'],
  arch: 'x86',
  summary: 'guest load or store to a guest-physical address: the TLB, else a walk of the SPTE (EPT violation into kvm_tdp_mmu_page_fault when the TDP MMU does not map it)',
  schema: { type: 'object', properties: { gpa: S.addr, write: S.bool }, required: ['gpa'], additionalProperties: false },
  in_guest: (w, t, args) => {
    const gpa = args['gpa'] as number;
    const write = args['write'] === true;
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const hit = tdp_tlb_lookup(w, t.vcpu, gfn);
    if (hit && (!write || hit.writable)) {
      emit(w, t, 'guest.access', { ipa: gpa, write, pa: hit.pfn * PAGE_SIZE + (gpa % PAGE_SIZE), via: 'tlb' });
      return { done: true };
    }
    const spte = tdp_spte(w, gfn);
    if (spte && (!write || spte.writable)) {
      tdp_tlb_fill(w, t.vcpu, gfn, spte.pfn, spte.writable);
      emit(w, t, 'guest.access', { ipa: gpa, write, pa: spte.pfn * PAGE_SIZE + (gpa % PAGE_SIZE), via: 'tdp' });
      return { done: true };
    }
    const vcpu = vcpu_of(w, t.vcpu);
    vcpu.fault_ipa = gpa;
    vcpu.fault_write = write;
    return { exit: EXIT_EPT_VIOLATION };
  },
});

/**
 * handle_ept_violation() (vmx.c) -> kvm_mmu_page_fault(): the TDP fault.
 * Every RET_PF_* the model produces re-enters the guest (returns 1): a
 * retry faults again, a fix lets the access complete.
 */
export const handle_ept_violation = model_fn<Record<string, never>>('handle_ept_violation', {
  fault: (w, t) => {
    const vcpu = vcpu_of(w, t.vcpu);
    emit(w, t, 'fault.start', { gpa: vcpu.fault_ipa, write: vcpu.fault_write, nested: false });
    metric_add(w, 'faults');
    return call(kvm_tdp_mmu_page_fault, { gpa: vcpu.fault_ipa, write: vcpu.fault_write }, 'done');
  },
  done: (_w, t) => ret(t, 1),
});

/** struct kvm_page_fault, the parts the model keeps. */
export interface KvmPageFault {
  gpa: number;
  write: boolean;
  gfn: number;
  /** The host address behind gfn (fault->hva). */
  hva: number;
  mmu_seq: number;
  pfn: number;
  r: number;
}

/** Record a retry: the event and the metrics, by site and by reason. */
function fault_retry(w: World, t: Thread, reason: NonNullable<RetryReason>, site: 'precheck' | 'locked'): void {
  emit(w, t, 'fault.retry', { reason });
  metric_add(w, 'fault_retries');
  metric_add(w, `fault_retries.${site}`);
  metric_add(w, `fault_retries.${reason}`);
}

/** kvm_tdp_mmu_page_fault(vcpu, fault). */
export const kvm_tdp_mmu_page_fault = model_fn<KvmPageFault>('kvm_tdp_mmu_page_fault', {
  start: (w, t, l) => {
    l.gfn = Math.floor(l.gpa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, l.gfn);
    if (!slot) throw new Error(`${t.name}: guest access to GPA 0x${l.gpa.toString(16)} outside every memslot (MMIO is not modelled)`);
    l.hva = gfn_to_hva(slot, l.gfn);
    l.r = RET_PF_RETRY;
    return 'topup';
  },
  // mmu_topup_memory_caches(): may sleep, so before any lock.
  topup: (w, t, l) => {
    might_sleep(w, t, 'mmu_topup_memory_caches');
    return call(kvm_mmu_faultin_pfn, { gfn: l.gfn, hva: l.hva, write: l.write }, 'faulted_in');
  },
  faulted_in: (_w, t, l) => {
    const r = t.retval as { r: number; mmu_seq: number; pfn: number };
    l.mmu_seq = r.mmu_seq;
    l.pfn = r.pfn;
    if (r.r !== RET_PF_CONTINUE) return ret(t, r.r);
    return 'lock';
  },
  lock: (w, t) => lock_read(w, t, 'mmu_lock', 'stale'),
  // is_page_fault_stale(): (obsolete roots are not modelled) then
  // fault->slot && mmu_invalidate_retry_gfn(kvm, fault->mmu_seq, fault->gfn).
  stale: (w, t, l) => {
    metric_add(w, 'fault_mmu_lock');
    if (w.kvm.mmu_invalidate_in_progress) metric_add(w, 'fault_mmu_lock.during_invalidation');
    if (no_retry_check(w)) return 'map';
    const reason = mmu_invalidate_retry_gfn(w, l.mmu_seq, l.gfn);
    emit_fault_check(w, t, l.mmu_seq, reason);
    if (reason === null) return 'map';
    fault_retry(w, t, reason, 'locked');
    return 'unlock';
  },
  map: (w, t, l) => {
    const r = kvm_tdp_mmu_map(w, t, l.gfn, l.pfn, l.write);
    l.r = r === 'fixed' ? RET_PF_FIXED : RET_PF_SPURIOUS;
    if (r === 'fixed') {
      emit(w, t, 'fault.map', { mmu: 'tdp', ipa: l.gfn * PAGE_SIZE, pa: l.pfn * PAGE_SIZE, level: 1, prot: 'RW' });
      metric_add(w, 'faults_mapped');
    }
    return 'unlock';
  },
  // kvm_mmu_finish_page_fault() (the pfn's reference is not modelled); read_unlock(&kvm->mmu_lock).
  unlock: (w, t, l) => {
    read_unlock(w, t, 'mmu_lock');
    return ret(t, l.r);
  },
});

interface Faultin {
  gfn: number;
  hva: number;
  write: boolean;
  mmu_seq: number;
  pfn: number;
}

/** The lockless pre-check; returns the retry reason (after recording it) or null. */
function precheck(w: World, t: Thread, l: Faultin, where: 'before_faultin' | 'after_faultin'): RetryReason {
  const k = w.kvm;
  const reason = mmu_invalidate_retry_gfn_unsafe(w, l.mmu_seq, l.gfn);
  emit(w, t, 'fault.precheck', { where, gfn: l.gfn, in_progress: k.mmu_invalidate_in_progress, seq_now: k.mmu_invalidate_seq, seq_snap: l.mmu_seq, retry: reason !== null });
  if (reason !== null) fault_retry(w, t, reason, 'precheck');
  return reason;
}

/**
 * kvm_mmu_faultin_pfn(): snapshot the invalidation sequence, look at the
 * invalidation without mmu_lock, get the pfn, and look again. Returns
 * {r, mmu_seq, pfn}.
 */
export const kvm_mmu_faultin_pfn = model_fn<Faultin>('kvm_mmu_faultin_pfn', {
  // fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq; smp_rmb();
  snapshot: (w, t, l) => {
    l.mmu_seq = w.kvm.mmu_invalidate_seq;
    l.pfn = -1;
    emit(w, t, 'fault.seq_snapshot', { mmu_seq: l.mmu_seq });
    return 'precheck';
  },
  precheck: (w, t, l) => {
    if (prechecks_on(w) && precheck(w, t, l, 'before_faultin')) return ret(t, { r: RET_PF_RETRY, mmu_seq: l.mmu_seq, pfn: -1 });
    return 'faultin';
  },
  // __kvm_mmu_faultin_pfn() -> __gfn_to_pfn_memslot() -> GUP: may sleep;
  // a PROT_NONE NUMA-hinting PTE is made accessible again on the way.
  faultin: (w, t, l) => {
    might_sleep(w, t, '__kvm_mmu_faultin_pfn');
    l.pfn = host_faultin(w, l.hva);
    emit(w, t, 'fault.faultin', { pfn: l.pfn, slept: false });
    return 'postcheck';
  },
  // "Check again ... purely to avoid contending mmu_lock."
  postcheck: (w, t, l) => {
    if (prechecks_on(w) && precheck(w, t, l, 'after_faultin')) return ret(t, { r: RET_PF_RETRY, mmu_seq: l.mmu_seq, pfn: l.pfn });
    return ret(t, { r: RET_PF_CONTINUE, mmu_seq: l.mmu_seq, pfn: l.pfn });
  },
});

/**
 * kvm_unmap_gfn_range() (mmu.c) for x86: the TDP MMU's zap of [start, end)
 * (no shadow-MMU rmaps in the model). Returns whether the caller must flush
 * remote TLBs (it zapped something since its last flush), which the generic
 * code does with kvm_flush_remote_tlbs() -> KVM_REQ_TLB_FLUSH on every vCPU.
 *
 * Named with an _x86 suffix because model function names are global and
 * arch/arm64/kvm/mmu.c's kvm_unmap_gfn_range is registered under the plain
 * name; callers pick the arch's with kvm_arch_fn() (src/core/machine/model.ts).
 */
export const kvm_unmap_gfn_range_x86 = model_fn<{ start: number; end: number; may_block: boolean }>('kvm_unmap_gfn_range_x86', {
  unmap: (_w, _t, l) => call(kvm_tdp_mmu_unmap_gfn_range, { start: l.start, end: l.end, may_block: l.may_block, flush: false }, 'done'),
  done: (_w, t) => ret(t, t.retval === true),
});

const hex = (n: number) => `0x${n.toString(16)}`;

/** The name of the x86 stale-mapping invariant (see the report to the lead: mmu.stale_mapping could take it over). */

/**
 * The x86 half of the stale-mapping property: when a TDP fault installs a
 * SPTE, the primary MMU still maps the hva to that pfn, accessibly (not a
 * PROT_NONE NUMA-hinting entry); and when the primary MMU moves a page or
 * makes it PROT_NONE, no SPTE still maps the old pfn.
 */
export function x86_stale_mapping_check(w: World, e: Event): Failure | null {
  if (e.kind === 'fault.map') {
    if (e['mmu'] !== 'tdp') return null;
    const t = w.threads.find((x) => x.name === e.thread);
    const frame = t?.stack.find((f) => f.fn === kvm_tdp_mmu_page_fault.name);
    if (!frame) return null;
    const { hva, mmu_seq, pfn, gpa } = frame.locals as unknown as KvmPageFault;
    const pte = host_pte(w, hva);
    if (pte && pte.pfn === pfn && !pte.prot_none) return null;
    const now = !pte
      ? 'nothing'
      : pte.pfn !== pfn
        ? `pfn ${hex(pte.pfn)} (changed at step ${pte.changed_step})`
        : `the same pfn but PROT_NONE (a NUMA-hinting entry made at step ${pte.changed_step})`;
    return {
      thread: e.thread,
      message:
        `${e.thread} installed a SPTE for GPA ${hex(e['ipa'] as number)} -> PA ${hex(pfn * PAGE_SIZE)}, but the host now maps hva ${hex(hva)} to ${now}: ` +
        `the fault looked up its pfn before an invalidation of this gfn and mapped it after ` +
        `(mmu_seq snapshot ${mmu_seq}, now ${describe_invalidation(w)}); is_page_fault_stale() would have returned RET_PF_RETRY`,
      values: { gpa, pa: pfn * PAGE_SIZE, hva, host_pfn: pte?.pfn ?? null, prot_none: pte?.prot_none ?? null, mmu_seq, seq_now: w.kvm.mmu_invalidate_seq },
    };
  }
  if (e.kind === 'mm.change_pte') {
    const old = e['old_pfn'] as number;
    if (old === e['new_pfn'] && !e['prot_none']) return null;
    const gfn = tdp_gfns_mapping(w, old)[0];
    if (gfn === undefined) return null;
    const s = tdp_spte(w, gfn)!;
    const what = old === e['new_pfn'] ? 'made it PROT_NONE' : `moved it to pfn ${hex(e['new_pfn'] as number)}`;
    const k = w.kvm;
    const covered = k.mmu_invalidate_in_progress > 0 && gfn >= k.mmu_invalidate_range_start && gfn < k.mmu_invalidate_range_end;
    const why = covered
      ? `the invalidation of this gfn was in progress when the SPTE was installed or survived its unmap: ` +
        `a fault that installs a SPTE while mmu_invalidate_in_progress covers the gfn must see mmu_invalidate_retry_gfn() and retry`
      : `no invalidation covering this gfn is in progress: the primary MMU changed the PTE without invalidate_range_start() having zapped the SPTE`;
    return {
      thread: e.thread,
      message:
        `the TDP MMU still maps GPA ${hex(gfn * PAGE_SIZE)} -> PA ${hex(old * PAGE_SIZE)} (installed by vcpu${s.vcpu} at step ${s.step}) after the host ` +
        `${what} (hva ${hex(e['hva'] as number)}): ${why} (${describe_invalidation(w)})`,
      values: { gpa: gfn * PAGE_SIZE, pa: old * PAGE_SIZE, old_pfn: old, new_pfn: e['new_pfn'], spte_step: s.step },
    };
  }
  return null;
}

define_stale_mapping_check('x86', x86_stale_mapping_check);
