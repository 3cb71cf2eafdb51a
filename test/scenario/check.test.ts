// Scenario mistakes the schema cannot see are load-time errors with the
// file, line and column (issue 14, item 4): each of these was a run-time
// "internal error" before. And each scenario runs once it is fixed.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';

const ARM = (threads: string, vm = '') => `arch: arm64
vm:
  vcpus: 2
  memslots: [{gpa: 0x8000_0000, size: 2M}]
${vm}threads:
${threads}`;

function error_of(text: string): ScenarioError {
  try {
    parse_scenario(text, 's.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error('the scenario loaded');
}

/** The 1-based line and column of `needle` in `text`. */
function pos(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

describe('load-time checks of thread programs', () => {
  const cases: [string, string, string, RegExp][] = [
    ['an access outside every memslot', ARM('  vcpu0: [{access: {ipa: 0x1000}}]\n'), '0x1000', /access: IPA 0x1000 is outside every memslot; expected an address in a memslot: \[0x80000000, 0x80200000\)/],
    ['an invalidation outside every memslot', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  mm: [{invalidate: {gpa: 0x4000, size: 4K}}]\n'), '0x4000', /invalidate: GPA 0x4000 is outside every memslot/],
    ['a pin across the end of the memslot', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  vmm: [{dma_pin: {gpa: 0x801f_f000, size: 8K}}]\n'), '0x801f_f000', /dma_pin: GPA range \[0x801ff000, 0x80201000\) is not inside one memslot/],
    ['a NUMA change outside the memslots', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  mm: [{numa_protect: {gpa: 0x0, size: 4K}}]\n'), '0x0,', /numa_protect: GPA 0x0 is outside every memslot/],
    ['an unknown request name', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  vmm: [{request: {vcpu: 0, req: TLB_FLUSHH}}]\n'), 'TLB_FLUSHH', /request: unknown request "TLB_FLUSHH" on arm64; expected one of: TLB_FLUSH, /],
    ['a request for a vCPU beyond the VM', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  vmm: [{request: {vcpu: 2, req: RECORD_STEAL}}]\n'), '2, req', /request: vcpu 2 but the VM has 2 vCPUs \(vm.vcpus\); expected a vCPU index from 0 to 1/],
    ['a request for no vCPU', ARM('  vcpu0: [{access: {ipa: 0x8000_0000}}]\n  vmm: [{request: {req: RECORD_STEAL}}]\n'), 'request', /request: which vCPU\?/],
    ['NV ops without nested_mmus', ARM('  vcpu0:\n    - eret_l2: {vttbr: 0x0001_0000_8010_0000}\n'), 'eret_l2', /op "eret_l2" needs a VM with shadow stage-2 MMUs \(NV\), and vm.nested_mmus is not set/],
    ['a guest-hypervisor op inside L2', ARM('  vcpu0:\n    - eret_l2: {vttbr: 0x0001_0000_8010_0000}\n    - tlbi: {op: vmalls12e1is}\n', '  nested_mmus: 4\n'), 'tlbi', /tlbi runs in vEL2 \(the guest hypervisor\), but vcpu0 is in the L2 guest it entered at line 8/],
    ['exit_l2 outside L2', ARM('  vcpu0:\n    - exit_l2: {}\n', '  nested_mmus: 4\n'), 'exit_l2', /exit_l2 in vcpu0, which is not in an L2 guest here/],
    ['an L1 mapping to an IPA outside the memslots', ARM('  vcpu0:\n    - l1_map: {vttbr: 0x0001_0000_8010_0000, nested_ipa: 0x1000, ipa: 0x1000}\n', '  nested_mmus: 4\n'), '0x1000}', /l1_map: IPA 0x1000 is outside every memslot/],
    ['a range TLBI larger than one covers', ARM('  vcpu0:\n    - tlbi: {op: ripas2e1is, ipa: 0x1000, pages: 100000000}\n', '  nested_mmus: 4\n'), '100000000', /ripas2e1is of 100000000 pages is more than one range TLBI covers/],
    ['an x86 access outside the memslots', 'arch: x86\nvm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 2M}]}\nthreads:\n  vcpu0: [{access_gpa: {gpa: 0x1000}}]\n', '0x1000', /access_gpa: GPA 0x1000 is outside every memslot/],
    ['an x86 flush inhibit for a vCPU beyond the VM', 'arch: x86\nvm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 2M}]}\nthreads:\n  vmm: [{set_tlb_flush_inhibit: {vcpu: 1, inhibit: true}}]\n', '1, inhibit', /set_tlb_flush_inhibit: vcpu 1 but the VM has 1 vCPU/],
  ];
  for (const [what, text, needle, msg] of cases) {
    it(what, () => {
      const e = error_of(text);
      expect(e.message).toMatch(msg);
      const p = pos(text, needle);
      expect(e.line).toBe(p.line);
      // The column is the op's key or the offending value's.
      if (!/needs a VM|which vCPU|runs in vEL2|exit_l2 in/.test(e.message)) expect(e.col).toBe(p.col);
      expect(e.message).toMatch(/^s\.yaml:\d+:\d+: /);
    });
  }

  it('an access in an L2 guest is a nested IPA (not checked against the memslots), and the scenario runs', () => {
    const text = ARM(
      '  vcpu0:\n    - l1_map: {vttbr: 0x0001_0000_8010_0000, nested_ipa: 0x1000, ipa: 0x8000_0000}\n    - eret_l2: {vttbr: 0x0001_0000_8010_0000}\n    - access: {ipa: 0x1000}\n    - exit_l2: {}\n    - access: {ipa: 0x8000_1000}\n',
      '  nested_mmus: 4\n',
    );
    const r = run_scenario(parse_scenario(text, 's.yaml'));
    expect(r.status).toBe('end');
  });

  it('a mistake inside a repeat points at the op in the repeat body', () => {
    const text = ARM('  vcpu0:\n    - repeat:\n        times: 3\n        do:\n          - access: {ipa: 0x2000}\n');
    const e = error_of(text);
    expect([e.line, e.col]).toEqual([pos(text, '0x2000').line, pos(text, '0x2000').col]);
  });
});
