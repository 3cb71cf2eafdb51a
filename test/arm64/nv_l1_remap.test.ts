// Finding (README "Findings"): an L2 stage-2 fault walks L1's stage-2
// (kvm_walk_nested_s2(), under kvm->srcu only) before user_mem_abort() takes
// its mmu_invalidate_seq snapshot and kvm_fault_lock(). If, in between, L1 on
// another vCPU unmaps that nested IPA, issues TLBI IPAS2E1IS (emulated by
// handle_ipas2e1is(): it unmaps a shadow range that is still empty and bumps
// nothing the fault checks) and remaps it, the fault installs L1's old
// translation after L1's TLBI retired.
import { describe, expect, it } from 'vitest';
import { compare_expect } from '../../src/scenario/run.js';
import { load_scenario } from '../../src/scenario/load.js';
import { kvm_pgtable_leaves } from '../../src/core/arm64/pgtable.js';
import { find_violation, run_seed } from '../helpers/seeds.js';
import { Driver, op_index } from './nv_driver.js';

const FILE = 'scenarios/nv-l1-remap-vs-shadow-fault.yaml';
const V = '0x0001_0000_8010_0000';
const A = 0x4000_0000;
const B = 0x4000_1000;

const YAML = `
name: remap
summary: t
arch: arm64
vm: {vcpus: 2, ipa_bits: 32, nested_mmus: 4, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads:
  vcpu0:
    - l1_map: {vttbr: ${V}, nested_ipa: 0x1000, ipa: ${A}}
    - l1_unmap: {vttbr: ${V}, nested_ipa: 0x1000}
    - tlbi: {op: ipas2e1is, ipa: 0x1000, vttbr: ${V}}
    - l1_map: {vttbr: ${V}, nested_ipa: 0x1000, ipa: ${B}}
  vcpu1:
    - eret_l2: {vttbr: ${V}}
    - access: {ipa: 0x1000, write: true}
    - access: {ipa: 0x1000}
schedule: {policy: rr}
`;

/** vcpu0 (L1) has mapped nested 0x1000 -> A; vcpu1 (L2) faults on it and has walked L1's stage-2. */
function walked(): Driver {
  const d = new Driver(YAML);
  d.run_to_op('vcpu0', op_index(d, 'vcpu0', 'l1_unmap'));
  const start = d.run_until_event('vcpu1', 'fault.start');
  expect(start['nested']).toBe(true);
  const abort = d.thread('vcpu1').stack.find((f) => f.fn === 'handle_exit_abort')!;
  expect(abort.locals['walked']).toBe(true);
  // Walked, not yet in user_mem_abort(): no mmu_seq snapshot, no lock.
  expect(d.thread('vcpu1').stack.some((f) => f.fn === 'user_mem_abort' && f.pc !== 'topup')).toBe(false);
  return d;
}

describe('kvm_handle_guest_abort()', () => {
  it("installs L1's old translation after L1 unmapped it, invalidated it with a TLBI that retired, and remapped it", () => {
    const d = walked();
    const seq = d.w.kvm.mmu_invalidate_seq;
    // vcpu0: L1 unmaps, TLBI IPAS2E1IS (trap, handle_ipas2e1is(), re-entry retires it), maps B.
    d.run_to_op('vcpu0', op_index(d, 'vcpu0', 'l1_map', 1) + 1);
    const target = d.seen('tlbi.target', 'vcpu0');
    expect(target.length).toBe(1);
    const shadow = target[0]!['index'] as number;
    // The emulated TLBI unmapped the shadow range while it was still empty...
    expect(kvm_pgtable_leaves(d.w, shadow)).toEqual([]);
    // ...and retired: L1 is past it, running its next instruction.
    expect(d.w.arm64!.vcpus[0]!.tlbi_retiring).toBeNull();
    expect(d.w.arm64!.l1_s2_dirty).toEqual([]);
    expect(d.seen('vcpu.enter', 'vcpu0').at(-1)!.step).toBeGreaterThan(target[0]!.step);
    // vcpu1 goes on: snapshot, faultin, kvm_fault_lock(), mmu_invalidate_retry() finds nothing, map.
    d.run_until(
      'vcpu1',
      (w) => w.violations.length > 0 || d.seen('fault.map', 'vcpu1').length > 0,
    );
    const check = d.seen('fault.check', 'vcpu1').at(-1)!;
    expect([check['seq_snap'], check['seq_now'], check['retry']]).toEqual([seq, seq, false]);
    const v = d.violations[0]!;
    expect(v.invariant).toBe('nv.shadow_fill_after_tlbi');
    expect(v.message).toMatch(
      new RegExp(
        `^vcpu1 installed nested IPA 0x1000 -> L1 IPA 0x40000000 \\(PA 0x[0-9a-f]+\\) in nested\\[${shadow}\\] \\(VMID 1\\), from its walk of L1's stage-2 before its mmu_seq snapshot, but L1's stage-2 now gives L1 IPA 0x40001000 and L1's TLBI for it has retired`,
      ),
    );
    expect(d.seen('fault.start', 'vcpu1')[0]!.step).toBeLessThan(target[0]!.step);
    // The L2 access that follows reads L1's old page through the shadow.
    d.run_until('vcpu1', (w) => w.violations.some((x) => x.invariant === 'nv.stale_shadow'));
    const s = d.violations.find((x) => x.invariant === 'nv.stale_shadow')!;
    expect(s.message).toMatch(
      /^vcpu1 \(L2, nested\[\d\]\) accessed nested IPA 0x1000 -> PA 0x[0-9a-f]+ via the (TLB|shadow stage-2), but L1's stage-2 now gives L1 IPA 0x40001000, which the host has not populated yet, and no TLBI for it is outstanding: a stale shadow translation survived$/,
    );
    expect(s.values['pa']).toBe(v.values['pa']);
  });

  it("when the fill lands after the TLBI's unmap but before it retires, the stale entry outlives the retire", () => {
    const d = walked();
    d.run_until_event('vcpu0', 'tlbi.target');
    d.run_until_event('vcpu0', 'lock.release', (e) => e['lock'] === 'mmu_lock');
    // Not retired yet (vcpu0 has not re-entered L1): the fill is still legal.
    expect(d.w.arm64!.vcpus[0]!.tlbi_retiring).not.toBeNull();
    d.run_until_event('vcpu1', 'fault.map');
    expect(d.violations).toEqual([]);
    d.run_to_end('vcpu0');
    d.run_until('vcpu1', (w) => w.violations.length > 0);
    expect(d.violations.map((x) => x.invariant)).toEqual(['nv.stale_shadow']);
  });

  it('without the race (the fault walks after L1 remapped), the fault installs the new translation', () => {
    const d = new Driver(YAML);
    d.run_to_end('vcpu0');
    d.run_to_end('vcpu1');
    expect(d.violations).toEqual([]);
    expect(d.seen('guest.access', 'vcpu1').length).toBe(2);
  });
});

describe('nv-l1-remap-vs-shadow-fault', () => {
  it('random schedules of the bundled scenario reach it, and its own seed shows what its expect says', () => {
    const { r } = find_violation(FILE, [], 'nv.shadow_fill_after_tlbi', 400);
    expect(r.violation!.message).toMatch(/L1's TLBI for it has retired/);
    const loaded = load_scenario(FILE);
    const own = run_seed(FILE, loaded.config.sched.seed);
    expect(compare_expect(loaded, own)).toEqual({ met: true, text: 'as expected, nv.shadow_fill_after_tlbi was violated' });
  });
});
