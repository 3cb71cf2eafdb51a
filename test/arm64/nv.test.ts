// Nested stage-2 MMUs (nested.c, mmu.c, arm.c): where the fault path reads
// hw_mmu, what the reference a scheduled-out vCPU keeps protects, and the
// variants of the kvmarm-fixes-6.12 series on scenarios/nv-s2-recycle.yaml.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/machine/events.js';
import { COND_RESCHED } from '../../src/core/kvm/rwlock.js';
import { PREEMPT } from '../../src/core/kvm/vcpu_load.js';
import { mmu_name } from '../../src/core/arm64/kvm_host.js';
import { kvm_pgtable_leaves } from '../../src/core/arm64/pgtable.js';
import { find_violation, run_seed } from '../helpers/seeds.js';
import { Driver, type Answer } from './nv_driver.js';

const FILE = 'scenarios/nv-s2-recycle.yaml';
const vttbr = (vmid: number) => `0x${vmid.toString(16).padStart(4, '0')}_0000_80${vmid.toString(16).padStart(2, '0')}_0000`;
const big = (s: string) => BigInt(s.replaceAll('_', ''));
const X = vttbr(1);

/** L1 maps nested page 0x1000 of context `vmid` to its own page 0x4000_0000 + vmid pages. */
const l1_map = (vmid: number) => `    - l1_map: {vttbr: ${vttbr(vmid)}, nested_ipa: 0x1000, ipa: ${0x4000_0000 + vmid * 0x1000}}`;
/** Enter L2 on context `vmid`, touch nested page 0x1000, go back to vEL2. */
const visit = (vmid: number) => [`    - eret_l2: {vttbr: ${vttbr(vmid)}}`, '    - access: {ipa: 0x1000, write: true}', '    - exit_l2: {}'].join('\n');

function two_vcpus(vcpu0: string[], vcpu1: string[]): string {
  return `
name: t
summary: t
arch: arm64
vm: {vcpus: 2, ipa_bits: 32, nested_mmus: 4, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads:
  vcpu0:
${vcpu0.join('\n')}
  vcpu1:
${vcpu1.join('\n')}
schedule: {policy: rr}
`;
}

const on_stack = (t: { stack: { fn: string }[] }, fn: string) => t.stack.some((f) => f.fn === fn);

describe('user_mem_abort()', () => {
  // vcpu0 faults in L2 on context 1 and is scheduled out in __kvm_faultin_pfn();
  // meanwhile vcpu1 cycles through four other contexts, one per shadow MMU.
  const yaml = two_vcpus([l1_map(1), `    - eret_l2: {vttbr: ${X}}`, '    - access: {ipa: 0x1000}', '    - exit_l2: {}'], [2, 3, 4, 5].map(l1_map).concat([2, 3, 4, 5].map(visit)));
  const answer: Answer = (_w, t, kind) => (kind === PREEMPT && t.name === 'vcpu0' && on_stack(t, 'user_mem_abort') ? 3 : 0);

  function preempted_fault(variants: string[]) {
    const d = new Driver(yaml, variants, answer);
    d.run_until_event('vcpu0', 'sched.preempt');
    const v0 = d.w.arm64!.vcpus[0]!;
    return { d, v0 };
  }

  it('reads hw_mmu after kvm_fault_lock(): a vCPU that lost its MMU while asleep maps into the one it has now', () => {
    // nv.put_drops_ref makes the MMU the fault started on recyclable while vcpu0 sleeps.
    const { d, v0 } = preempted_fault(['nv.put_drops_ref']);
    const first = d.seen('s2mmu.ref', 'vcpu0')[0]!['index'] as number;
    expect(v0.hw_mmu).toBeNull();
    d.run_until_event('vcpu1', 's2mmu.assign', (e) => e['index'] === first);
    const owner = d.w.arm64!.nested_mmus[first]!.tlb_vttbr;
    expect(owner).not.toBe(big(X));
    d.run_to_end('vcpu1');
    const map = d.run_until_event('vcpu0', 'fault.map');
    // The fault maps where the vCPU's hw_mmu points under the lock: a shadow of context 1 again.
    const now = v0.hw_mmu!;
    expect(now).not.toBe(first);
    expect(map['mmu']).toBe(mmu_name(now));
    expect(d.w.arm64!.nested_mmus[now]!.tlb_vttbr).toBe(big(X));
    // ...and nothing of context 1 lands in the MMU that now belongs to another context.
    expect(d.w.arm64!.nested_mmus[first]!.tlb_vttbr).toBe(owner);
    expect(kvm_pgtable_leaves(d.w, first).filter((l) => l.pa === map['pa'])).toEqual([]);
    d.run_to_end('vcpu0');
    expect(d.violations).toEqual([]);
  });

  it('upstream, a vCPU scheduled out in the fault keeps its reference, so its MMU is not recycled under it', () => {
    const { d, v0 } = preempted_fault([]);
    const first = v0.hw_mmu!;
    expect(d.w.arm64!.nested_mmus[first]!.refcnt).toBe(1);
    d.run_to_end('vcpu1');
    // vcpu1 recycled every other MMU (five contexts, four MMUs), never this one.
    expect(d.seen('s2mmu.recycle', 'vcpu1').map((e) => e['index'])).not.toContain(first);
    expect(d.seen('s2mmu.recycle', 'vcpu1').length).toBeGreaterThan(3);
    const map = d.run_until_event('vcpu0', 'fault.map');
    expect(map['mmu']).toBe(mmu_name(first));
    expect(d.violations).toEqual([]);
  });
});

describe('kvm_vcpu_put_hw_mmu()', () => {
  /**
   * vcpu1 first fills the four shadows with contexts 2-5. vcpu0 takes
   * context 1 (recycling the oldest shadow, M) and starts its
   * KVM_REQ_NESTED_S2_UNMAP pass; cond_resched_rwlock_write() schedules it
   * out after the first chunk. vcpu1 then runs context 1 on M too (its own
   * full pass, a fault at nested 0x1000), moves on through contexts 6-9 and
   * recycles M again for context 9.
   */
  const vcpu1 = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(l1_map).concat([2, 3, 4, 5, 1, 6, 7, 8, 9].map(visit));
  const yaml = two_vcpus([`    - eret_l2: {vttbr: ${X}}`, '    - access: {ipa: 0x1000}', '    - exit_l2: {}'], vcpu1);
  let asked = false;
  const answer: Answer = (_w, t, kind) => {
    if (kind !== COND_RESCHED || t.name !== 'vcpu0' || asked || !on_stack(t, 'check_nested_vcpu_requests')) return 0;
    asked = true;
    return 1;
  };

  function setup(variants: string[]) {
    asked = false;
    const d = new Driver(yaml, variants, answer);
    // Contexts 2-5 fill the four MMUs; vcpu1 stops before it enters context 1.
    d.run_to_op('vcpu1', d.thread('vcpu1').prog.findIndex((o) => o.op === 'eret_l2' && BigInt(o.args['vttbr'] as number) === big(X)));
    d.run_until('vcpu0', (w, t) => t.wait?.kind === 'preempted' && on_stack(t, 'check_nested_vcpu_requests'));
    const m = d.seen('s2mmu.recycle', 'vcpu0')[0]!['index'] as number;
    return { d, m };
  }

  it('nv.put_drops_ref: the preempted pass clears the pending_unmap of a later recycle, and the next context runs on the old translations', () => {
    const { d, m } = setup(['nv.put_drops_ref']);
    expect(d.w.arm64!.nested_mmus[m]!.refcnt).toBe(0);
    // vcpu1 runs context 1 on M (a full pass of its own, then a fault), moves on and recycles M for context 9.
    const fill = d.run_until_event('vcpu1', 'fault.map', (e) => e['mmu'] === mmu_name(m));
    d.run_until_event('vcpu1', 's2mmu.recycle', (e) => e['index'] === m);
    d.run_until_event('vcpu1', 'lock.release', (e) => e['lock'] === 'mmu_lock');
    expect(d.w.arm64!.nested_mmus[m]!.tlb_vttbr).toBe(big(vttbr(9)));
    expect(d.w.arm64!.nested_mmus[m]!.pending_unmap).toBe(true);
    // vcpu0 comes back and finishes the pass it began before that recycle.
    d.run_until('vcpu0', () => d.violations.length > 0);
    const v = d.violations[0]!;
    expect(v.invariant).toBe('nv.pending_unmap_cleared_early');
    expect(v.message).toMatch(
      new RegExp(
        `^vcpu0 cleared nested_mmus\\[${m}\\]\\.pending_unmap, but the MMU, recycled again for VTTBR 0x${big(vttbr(9)).toString(16)} since the unmap pass that cleared it began, still maps 1 page from before that recycle \\(IPA 0x1000 -> PA 0x[0-9a-f]+\\)`,
      ),
    );
    // The frames: vcpu0 is still in the pass it began before the recycle, on the MMU it no longer holds.
    const t0 = d.thread('vcpu0');
    const f = t0.stack.find((x) => x.fn === 'check_nested_vcpu_requests')!;
    expect(f.locals['mmu']).toBe(m);
    expect(f.locals['pass_gen'] as number).toBeLessThan(d.w.arm64!.nested_recycles[m]!);
    expect(d.w.arm64!.vcpus[0]!.hw_mmu).not.toBe(m);
    expect(v.values['pa']).toBe(fill['pa']);
    // vcpu0 drops the lock; vcpu1 finds the flag clear, skips its unmap and runs context 9 on context 1's page.
    d.run_until_event('vcpu0', 'lock.release', (e) => e['lock'] === 'mmu_lock');
    d.run_until('vcpu1', (w) => w.violations.some((x) => x.invariant === 'nv.stale_shadow'));
    const s = d.violations.find((x) => x.invariant === 'nv.stale_shadow')!;
    expect(d.w.arm64!.vcpus[1]!.hw_mmu).toBe(m);
    expect(s.message).toMatch(new RegExp(`^vcpu1 \\(L2, nested\\[${m}\\]\\) accessed nested IPA 0x1000 -> PA 0x${(fill['pa'] as number).toString(16)} via the (TLB|shadow stage-2)`));
    expect(d.seen('request.check', 'vcpu1').some((e: Event) => e['req'] === 'NESTED_S2_UNMAP' && e['result'] === true)).toBe(true);
  });

  it('upstream, the vCPU keeps its reference through the pass, so the MMU is not recycled under it', () => {
    const { d, m } = setup([]);
    expect(d.w.arm64!.nested_mmus[m]!.refcnt).toBe(1);
    const from = d.events.length;
    d.run_to_end('vcpu1');
    const later = d.events.slice(from).filter((e) => e.kind === 's2mmu.recycle' && e.thread === 'vcpu1');
    expect(later.length).toBeGreaterThan(3);
    expect(later.filter((e) => e['index'] === m)).toEqual([]);
    d.run_to_end('vcpu0');
    expect(d.violations).toEqual([]);
  });
});

describe('nv-s2-recycle variants', () => {
  it('nv.no_unmap_request: a vCPU enters the guest on a recycled MMU that still has pending_unmap', () => {
    const { r } = find_violation(FILE, ['nv.no_unmap_request'], 'nv.entry_with_pending_unmap');
    expect(r.violation!.message).toMatch(/^vcpu\d entered the guest with nested_mmus\[\d\]\.pending_unmap = true: the recycled MMU still holds the previous context's mappings \(request NESTED_S2_UNMAP was not pending\)$/);
  });

  it('nv.unmap_on_recycle: the inline unmap reschedules on the vcpu_load path (sleeping in atomic context)', () => {
    const { r } = find_violation(FILE, ['nv.unmap_on_recycle'], 'sched.sleep_in_atomic');
    const m = r.violation!.message;
    expect(m).toMatch(/^BUG: sleeping function called from invalid context: vcpu\d may sleep \(cond_resched_rwlock_write\)/);
    expect(m).toMatch(/get_s2_mmu_nested <- kvm_vcpu_load_hw_mmu <- kvm_arch_vcpu_load/);
    expect(r.violation!.values['preempt_count']).toBeGreaterThan(0);
  });

  it('the same seeds are clean without the variants, and recycling of valid MMUs really happens', () => {
    for (const [variant, inv] of [
      ['nv.no_unmap_request', 'nv.entry_with_pending_unmap'],
      ['nv.unmap_on_recycle', 'sched.sleep_in_atomic'],
    ] as const) {
      const { seed } = find_violation(FILE, [variant], inv);
      const clean = run_seed(FILE, seed);
      expect(clean.violation).toBeNull();
      expect(clean.status).toBe('end');
      expect(clean.metrics['nv_pending_unmaps']).toBeGreaterThan(0);
    }
  });
});
