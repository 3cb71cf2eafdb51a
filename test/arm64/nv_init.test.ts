// kvm_vcpu_init_nested() sizes kvm->arch.nested_mmus to S2_MMU_PER_VCPU (2)
// per vCPU, so get_s2_mmu_nested() always finds a shadow with refcnt 0 (each
// vCPU holds at most one) and its BUG_ON cannot fire. The scenario's
// `nested_mmus` must say the same.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';

const vm = (vcpus: number, mmus: number) => `name: t
summary: t
arch: arm64
vm:
  vcpus: ${vcpus}
  nested_mmus: ${mmus}
  ipa_bits: 32
  memslots: [{gpa: 0x4000_0000, size: 2M}]
threads: {}
`;

describe('kvm_vcpu_init_nested()', () => {
  it('a scenario must give an NV VM 2 shadow MMUs per vCPU: any other count is an error at vm.nested_mmus', () => {
    let e: unknown;
    try {
      parse_scenario(vm(3, 3), 'three.yaml');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ScenarioError);
    const se = e as ScenarioError;
    expect([se.line, se.col]).toEqual([6, 16]);
    expect(se.message).toBe(
      'three.yaml:6:16: vm.nested_mmus is 3, but kvm_vcpu_init_nested() gives an NV VM 2 shadow stage-2 MMUs per vCPU (S2_MMU_PER_VCPU); expected 6 for 3 vCPUs (NV), or 0 (no NV)',
    );
    expect(parse_scenario(vm(3, 6), 'ok.yaml').config.nested_mmus).toBe(6);
    expect(parse_scenario(vm(3, 0), 'ok.yaml').config.nested_mmus).toBe(0);
  });
});

describe('get_s2_mmu_nested()', () => {
  it('never reaches its BUG_ON: three vCPUs in L2 at once, on nine contexts, with six MMUs', () => {
    const ctx = (v: number) => `0x000${v}_0000_80${v}0_0000`;
    const vcpu = (...vs: number[]) =>
      vs.map((v) => `    - l1_map: {vttbr: ${ctx(v)}, nested_ipa: 0x1000, ipa: 0x4000_${v}000}`).join('\n') +
      `\n    - repeat:\n        times: 3\n        do:\n` +
      vs.map((v) => `          - eret_l2: {vttbr: ${ctx(v)}}\n          - access: {ipa: 0x1000}\n          - exit_l2: {}`).join('\n');
    const text = vm(3, 6).replace('threads: {}', `threads:\n  vcpu0:\n${vcpu(1, 4, 7)}\n  vcpu1:\n${vcpu(2, 5, 8)}\n  vcpu2:\n${vcpu(3, 6, 9)}\nschedule: {policy: random, seed: 1}`);
    let recycled_valid = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = run_scenario(parse_scenario(text, 'six.yaml', { seed }), { keep_events: false });
      expect(r.violation, `seed ${seed}`).toBeNull();
      expect(r.status, `seed ${seed}`).toBe('end');
      recycled_valid += r.metrics['nv_pending_unmaps'] ?? 0;
    }
    // Nine contexts on six MMUs: valid ones are recycled all the time, so the scan ran under pressure.
    expect(recycled_valid).toBeGreaterThan(0);
  });
});
