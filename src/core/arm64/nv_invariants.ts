// Safety properties of nested stage-2 MMUs (shared/docs/kernel-model.md
// section 1): no entry with pending_unmap, no recycling of an MMU a vCPU
// still uses, and no stale shadow translation once the TLBI or invalidation
// that should have removed it has retired.
import type { Event } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import { observed_frames } from '../machine/model.js';
import type { Thread, World } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot } from '../kvm/kvm_host.js';
import { host_pte } from '../kvm/host_mm.js';
import { arm64, get_vmid, mmu_name, vttbr_baddr } from './kvm_host.js';
import { kvm_pgtable_leaves } from './pgtable.js';
import { kvm_walk_nested_s2 } from './nested.js';

const hex = (n: number) => `0x${n.toString(16)}`;

define_invariant({
  name: 'nv.entry_with_pending_unmap',
  description: 'no vCPU enters the guest with hw_mmu->pending_unmap set',
  arch: 'arm64',
  on: ['vcpu.enter'],
  check(w, ev) {
    const e = ev as Event;
    const a = w.arm64;
    if (!a || a.nested_mmus_size === 0 || e.vcpu === null) return null;
    const hw = a.vcpus[e.vcpu]!.hw_mmu;
    if (hw === null || hw < 0 || !a.nested_mmus[hw]!.pending_unmap) return null;
    const req_pending = w.kvm.vcpus[e.vcpu]!.requests !== 0;
    return {
      thread: e.thread,
      message:
        `vcpu${e.vcpu} entered the guest with nested_mmus[${hw}].pending_unmap = true: the recycled MMU still holds the previous ` +
        `context's mappings (request NESTED_S2_UNMAP was ${req_pending ? 'pending but not serviced' : 'not pending'})`,
      values: { vcpu: e.vcpu, mmu: hw, pending_unmap: true },
    };
  },
});

/**
 * A vCPU that will still run on, or map into, a shadow for the context it had
 * when it took its reference: it has the MMU as hw_mmu, or it is in a fault
 * that captured hw_mmu before kvm_fault_lock(). (user_mem_abort() reads
 * hw_mmu under the lock, where no recycler can run, so the second never
 * holds upstream.) A vCPU still in check_nested_vcpu_requests() on an MMU
 * that gets recycled is not counted here: finishing the pass is harmless
 * unless it then clears the new recycling's pending_unmap, which
 * nv.pending_unmap_cleared_early checks where it happens.
 */
function still_using(w: World, t: Thread, index: number): 'hw_mmu' | 'user_mem_abort' | null {
  if (arm64(w).vcpus[t.vcpu]!.hw_mmu === index) return 'hw_mmu';
  const f = t.stack.find((x) => x.fn === 'user_mem_abort');
  return f && f.locals['mmu'] === index ? 'user_mem_abort' : null;
}
observed_frames('user_mem_abort'); // still_using() looks into every vCPU's fault

define_invariant({
  name: 'nv.recycled_in_use',
  description: 'a shadow stage-2 is never recycled while a vCPU still has it as hw_mmu or is in a stage-2 fault that will map into it',
  arch: 'arm64',
  on: ['s2mmu.recycle'],
  check(w, ev) {
    const e = ev as Event & { index: number };
    for (const t of w.threads) {
      if (t.kind !== 'vcpu' || t.name === e.thread) continue;
      const use = still_using(w, t, e.index);
      if (!use) continue;
      const scheduled_out = w.kvm.vcpus[t.vcpu]!.scheduled_out;
      return {
        thread: e.thread,
        message:
          `${e.thread} recycled nested_mmus[${e.index}] (refcnt 0) while ${t.name}${scheduled_out ? ' (scheduled out)' : ''} ` +
          `${use === 'user_mem_abort' ? 'is still handling a stage-2 fault that will map into it' : 'still has it as hw_mmu'}: its reference was dropped`,
        values: { mmu: e.index, user: t.name, scheduled_out, in: use },
      };
    }
    return null;
  },
});

define_invariant({
  name: 'nv.pending_unmap_cleared_early',
  description:
    "pending_unmap is never cleared while the MMU still maps pages left from before its latest recycle (an unmap pass that began before that recycle must not clear it)",
  arch: 'arm64',
  on: ['pending_unmap.clear'],
  check(w, ev) {
    const e = ev as Event & { index: number; was_set: boolean };
    // Clearing a flag another pass already cleared changes nothing.
    if (!e.was_set) return null;
    const t = w.threads.find((x) => x.name === e.thread)!;
    const f = t.stack.find((x) => x.fn === 'check_nested_vcpu_requests');
    if (!f) return null;
    const gen = f.locals['pass_gen'] as number;
    const now = arm64(w).nested_recycles[e.index]!;
    if (gen === now) return null;
    // The flag was set since that recycle and nothing maps into an MMU while it is set: what is left predates the recycle.
    const left = kvm_pgtable_leaves(w, e.index);
    if (left.length === 0) return null;
    const mmu = arm64(w).nested_mmus[e.index]!;
    return {
      thread: e.thread,
      message:
        `${e.thread} cleared nested_mmus[${e.index}].pending_unmap, but the MMU, recycled again for VTTBR 0x${mmu.tlb_vttbr.toString(16)} since the unmap pass ` +
        `that cleared it began, still maps ${left.length} page${left.length === 1 ? '' : 's'} from before that recycle (IPA ${hex(left[0]!.ipa)} -> PA ${hex(left[0]!.pa)}): ` +
        `the pass had already gone past them; whoever enters the guest on it next runs the new context on the old one's translations`,
      values: { mmu: e.index, recycles_since_pass: now - gen, leaves: left.length, ipa: left[0]!.ipa, pa: left[0]!.pa },
    };
  },
});

/** L1's stage-2 for `vttbr` (its BADDR): the L1 IPA of nested_ipa's page, or null. */
export function l1_translate(w: World, vttbr: bigint, nested_ipa: number): number | null {
  const e = arm64(w).l1_s2[vttbr_baddr(vttbr)]?.[Math.floor(nested_ipa / PAGE_SIZE)];
  return e ? e.ipa : null;
}

/** Whether L1 changed the entry for this nested page and no TLBI covering it has retired yet. */
function l1_change_outstanding(w: World, vmid: number, nested_ipa: number): boolean {
  const page = Math.floor(nested_ipa / PAGE_SIZE) * PAGE_SIZE;
  return arm64(w).l1_s2_dirty.some((d) => d.vmid === vmid && page >= d.start && page < d.start + d.size);
}

define_invariant({
  name: 'nv.shadow_fill_after_tlbi',
  description:
    "a shadow stage-2 fault never installs a translation of L1's stage-2 that L1 has since changed and invalidated with a TLBI that retired (the property L1 relies on when it reuses the old target page)",
  arch: 'arm64',
  on: ['fault.map'],
  check(w, ev) {
    const e = ev as Event & { ipa: number; pa: number };
    const t = w.threads.find((x) => x.name === e.thread)!;
    const uma = t.stack.find((f) => f.fn === 'user_mem_abort');
    const abort = t.stack.find((f) => f.fn === 'handle_exit_abort');
    if (!uma || !abort || abort.locals['walked'] !== true) return null;
    const id = uma.locals['mmu'] as number;
    if (id < 0) return null;
    const mmu = arm64(w).nested_mmus[id]!;
    // The page the walk translated (a block fault aligns fault_ipa, and transparent_hugepage_adjust() not the L1 IPA).
    const nested = abort.locals['nested_ipa'] as number;
    const used = abort.locals['l1_ipa'] as number;
    const now = l1_translate(w, mmu.tlb_vttbr, nested);
    if (now === used) return null;
    const vmid = get_vmid(mmu.tlb_vttbr);
    if (l1_change_outstanding(w, vmid, nested)) return null;
    return {
      thread: e.thread,
      message:
        `${e.thread} installed nested IPA ${hex(e.ipa)} -> L1 IPA ${hex(used)} (PA ${hex(e.pa)}) in ${mmu_name(id)} (VMID ${vmid}), from its walk ` +
        `of L1's stage-2 before its mmu_seq snapshot, but L1's stage-2 now gives ${now === null ? 'no mapping' : `L1 IPA ${hex(now)}`} and L1's TLBI for it has ` +
        `retired: L1 changed the entry and invalidated it while the fault was between kvm_walk_nested_s2() and kvm_fault_lock(); ` +
        `the TLBI found nothing to unmap and mmu_invalidate_retry() sees only MMU-notifier invalidations, so L2 keeps a translation L1 took away`,
      values: { nested_ipa: e.ipa, used_ipa: used, now_ipa: now, pa: e.pa, mmu: id, vmid },
    };
  },
});

/** What the guest hypervisor's stage-2 and the canonical side say a nested IPA maps to now. */
export function nested_truth(w: World, t: { name: string; vcpu: number }, nested_ipa: number): number | null {
  const thread = w.threads.find((x) => x.name === t.name)!;
  const l1 = kvm_walk_nested_s2(w, thread, nested_ipa);
  if (!l1) return null;
  const gfn = Math.floor(l1.ipa / PAGE_SIZE);
  const slot = gfn_to_memslot(w, gfn);
  if (!slot) return null;
  const pte = host_pte(w, gfn_to_hva(slot, gfn));
  return pte ? pte.pfn * PAGE_SIZE + (nested_ipa % PAGE_SIZE) : null;
}

define_invariant({
  name: 'nv.stale_shadow',
  description:
    "no L2 access is served by a shadow translation that the guest hypervisor's stage-2 and the canonical side no longer give, once the TLBI or invalidation that should have removed it has retired",
  arch: 'arm64',
  on: ['guest.access'],
  check(w, ev) {
    const e = ev as Event & { ipa: number; pa: number; via: string };
    const a = w.arm64;
    if (!a || a.nested_mmus_size === 0 || e.vcpu === null) return null;
    const v = a.vcpus[e.vcpu]!;
    if (v.ctxt !== 'l2' || v.hw_mmu === null || v.hw_mmu < 0) return null;
    const truth = nested_truth(w, { name: e.thread, vcpu: e.vcpu }, e.ipa);
    if (truth === e.pa) return null;
    const vmid = get_vmid(v.vttbr);
    const page = Math.floor(e.ipa / PAGE_SIZE) * PAGE_SIZE;
    // L1 changed its stage-2 here and has not yet had a TLBI retire for it: still allowed.
    if (a.l1_s2_dirty.some((d) => d.vmid === vmid && page >= d.start && page < d.start + d.size)) return null;
    const l1 = l1_translate(w, v.vttbr, e.ipa);
    const now =
      l1 === null
        ? "L1's stage-2 now maps nothing there"
        : `L1's stage-2 now gives L1 IPA ${hex(l1)}, ${truth === null ? 'which the host has not populated yet' : `PA ${hex(truth)}`}`;
    return {
      thread: e.thread,
      message:
        `${e.thread} (L2, ${mmu_name(v.hw_mmu)}) accessed nested IPA ${hex(e.ipa)} -> PA ${hex(e.pa)} via the ${e.via === 'tlb' ? 'TLB' : 'shadow stage-2'}, ` +
        `but ${now}, and no TLBI for it is outstanding: a stale shadow translation survived`,
      values: { nested_ipa: e.ipa, pa: e.pa, expected: truth, mmu: v.hw_mmu, via: e.via },
    };
  },
});
