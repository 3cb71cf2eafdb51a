// Safety properties of nested stage-2 MMUs (shared/docs/kernel-model.md
// section 1): no entry with pending_unmap, no recycling of an MMU a vCPU
// still uses, and no stale shadow translation once the TLBI or invalidation
// that should have removed it has retired.
import type { Event } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import type { World } from '../machine/world.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot } from '../kvm/kvm_host.js';
import { host_pte } from '../kvm/host_mm.js';
import { arm64, get_vmid, mmu_name } from './kvm_host.js';
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

/** Model functions that capture an MMU in `locals.mmu`, and the label before which they have not yet. */
const MMU_USERS: Record<string, string> = { check_nested_vcpu_requests: 'check', user_mem_abort: 'topup' };

define_invariant({
  name: 'nv.recycled_in_use',
  description: 'a shadow stage-2 is never recycled while a vCPU still uses it (as hw_mmu, or while unmapping it)',
  arch: 'arm64',
  on: ['s2mmu.recycle'],
  check(w, ev) {
    const e = ev as Event & { index: number };
    for (const t of w.threads) {
      if (t.kind !== 'vcpu' || t.name === e.thread) continue;
      const hw = arm64(w).vcpus[t.vcpu]!.hw_mmu;
      // Frames that captured the MMU and still work on it: an unmap pass, or a fault about to map into it.
      const user = t.stack.find((f) => MMU_USERS[f.fn] !== undefined && f.pc !== MMU_USERS[f.fn] && f.locals['mmu'] === e.index);
      const unmapping = user?.fn === 'check_nested_vcpu_requests';
      if (hw !== e.index && !user) continue;
      const scheduled_out = w.kvm.vcpus[t.vcpu]!.scheduled_out;
      return {
        thread: e.thread,
        message:
          `${e.thread} recycled nested_mmus[${e.index}] (refcnt 0) while ${t.name}${scheduled_out ? ' (scheduled out)' : ''} ` +
          `${user ? (unmapping ? 'is still unmapping it in check_nested_vcpu_requests()' : 'is still handling a stage-2 fault for it in user_mem_abort()') : 'still has it as hw_mmu'}: ` +
          `its reference was dropped at vcpu_put`,
        values: { mmu: e.index, user: t.name, scheduled_out, in: user?.fn ?? 'hw_mmu' },
      };
    }
    return null;
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
    return {
      thread: e.thread,
      message:
        `${e.thread} (L2, ${mmu_name(v.hw_mmu)}) accessed nested IPA ${hex(e.ipa)} -> PA ${hex(e.pa)} via the ${e.via === 'tlb' ? 'TLB' : 'shadow stage-2'}, ` +
        `but L1's stage-2 and the canonical side now give ${truth === null ? 'no mapping' : `PA ${hex(truth)}`}: a stale shadow translation survived`,
      values: { nested_ipa: e.ipa, pa: e.pa, expected: truth, mmu: v.hw_mmu, via: e.via },
    };
  },
});
