// Guest stage-2 TLBIs (sys_regs.c handle_ipas2e1is(), nested.c
// compute_tlb_inval_range(), get_guest_mapping_ttl()): the range of an
// IPAS2E1IS is computed per shadow MMU, under the write lock, inside
// kvm_s2_mmu_iterate_by_vmid(), from the TTL hint or else from the level the
// shadow recorded for the guest's own mapping.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/machine/events.js';
import { Driver, op_index } from './nv_driver.js';

const A = '0x0001_0000_8010_0000'; // VMID 1, one L1 stage-2
const B = '0x0001_0000_8020_0000'; // VMID 1, another L1 stage-2 (another shadow MMU)
const M2 = 2 ** 21;

/**
 * vcpu0 runs L2 on A, where L1 maps nested [2M, 4M) as one 2M block; vcpu1
 * runs L2 on B, where L1 maps nested page 0x201000 alone. Each touches
 * 0x201000 once (one fault, one 4K shadow leaf tagged with the guest's
 * level), then vcpu0, back at vEL2, issues the TLBI.
 */
function scenario(tlbi: string, a_size = '2M', a_nested = '0x20_0000'): string {
  return `
name: tlbi
summary: t
arch: arm64
vm: {vcpus: 2, ipa_bits: 32, nested_mmus: 4, memslots: [{gpa: 0x4000_0000, size: 4M}]}
threads:
  vcpu0:
    - l1_map: {vttbr: ${A}, nested_ipa: ${a_nested}, ipa: 0x4020_0000, size: ${a_size}}
    - eret_l2: {vttbr: ${A}}
    - access: {ipa: 0x20_1000}
    - exit_l2: {}
    - tlbi: ${tlbi}
  vcpu1:
    - l1_map: {vttbr: ${B}, nested_ipa: 0x20_1000, ipa: 0x4000_1000}
    - eret_l2: {vttbr: ${B}}
    - access: {ipa: 0x20_1000}
    - exit_l2: {}
schedule: {policy: rr}
`;
}

/** Both shadows filled, then the TLBI; returns the shadow of each context and the per-MMU ranges the TLBI unmapped. */
function run(tlbi: string, a_size?: string, a_nested?: string) {
  const d = new Driver(scenario(tlbi, a_size, a_nested));
  d.run_to_op('vcpu0', op_index(d, 'vcpu0', 'tlbi'));
  d.run_to_end('vcpu1');
  d.run_to_end('vcpu0');
  const shadow_of = (vttbr: string) => {
    const want = BigInt(vttbr.replaceAll('_', ''));
    const m = d.w.arm64!.nested_mmus.find((x) => x.tlb_vttbr === want);
    if (!m) throw new Error(`no shadow for ${vttbr}`);
    return m.index;
  };
  const targets = d.seen('tlbi.target', 'vcpu0') as (Event & { index: number; start: number; size: number })[];
  const range = (index: number) => targets.filter((e) => e.index === index).map((e) => ({ start: e.start, size: e.size }));
  return { d, a: shadow_of(A), b: shadow_of(B), range };
}

describe('compute_tlb_inval_range()', () => {
  it('without a TTL hint, each shadow sharing the VMID gets the extent of its own guest mapping (get_guest_mapping_ttl())', () => {
    const { d, a, b, range } = run('{op: ipas2e1is, ipa: 0x20_1000}');
    expect(a).not.toBe(b);
    // Shadow A's leaf carries guest level 2: the 2M block around the address.
    expect(range(a)).toEqual([{ start: M2, size: M2 }]);
    // Shadow B's leaf carries guest level 3: that page only.
    expect(range(b)).toEqual([{ start: 0x20_1000, size: 4096 }]);
    expect(d.violations).toEqual([]);
  });

  it('a TTL hint wins over what the shadows recorded (NV advertises FEAT_TTL)', () => {
    // TTL 0b0111: 4K granule, level 3.
    const { a, b, range } = run('{op: ipas2e1is, ipa: 0x20_1000, ttl: 7}');
    expect(range(a)).toEqual([{ start: 0x20_1000, size: 4096 }]);
    expect(range(b)).toEqual([{ start: 0x20_1000, size: 4096 }]);
  });

  it('a level found by a coarser probe counts only if that guest block contains the address; otherwise the 1G extent', () => {
    // L1 maps nested page 0x200000 alone (level 3) on A and vcpu0 touches 0x201000's
    // neighbour 0x200000; the TLBI is for 0x201000, where shadow A has nothing:
    // the 2M-aligned probe finds the 0x200000 leaf, whose guest page ends before 0x201000.
    const d = new Driver(
      scenario('{op: ipas2e1is, ipa: 0x20_1000}', '4K', '0x20_0000').replace('- access: {ipa: 0x20_1000}', '- access: {ipa: 0x20_0000}'),
    );
    d.run_to_op('vcpu0', op_index(d, 'vcpu0', 'tlbi'));
    d.run_to_end('vcpu1');
    d.run_to_end('vcpu0');
    const a = d.w.arm64!.nested_mmus.find((x) => x.tlb_vttbr === BigInt(A.replaceAll('_', '')))!.index;
    const t = d.seen('tlbi.target', 'vcpu0').filter((e) => e['index'] === a);
    expect(t.map((e) => [e['start'], e['size']])).toEqual([[0, 2 ** 30]]);
  });

  it('is computed under the write lock, inside kvm_s2_mmu_iterate_by_vmid(), and never from an invalid MMU', () => {
    const { d } = run('{op: ipas2e1is, ipa: 0x20_1000}');
    const ev = d.events;
    for (const t of d.seen('tlbi.target', 'vcpu0')) {
      const i = ev.indexOf(t);
      const acq = ev.slice(0, i).reverse().find((e) => e.thread === 'vcpu0' && (e.kind === 'lock.acquire' || e.kind === 'lock.release') && e['lock'] === 'mmu_lock');
      expect(acq?.kind).toBe('lock.acquire');
      expect(acq?.['mode']).toBe('write');
      expect(d.w.arm64!.nested_mmus[t['index'] as number]!.tlb_vttbr & 1n).toBe(0n);
    }
    // A VMID no valid shadow carries (the free MMUs' tlb_vttbr is the CnP bit alone: VMID 0) is a no-op.
    const { d: d0 } = run(`{op: ipas2e1is, ipa: 0x20_1000, vttbr: 0x0000_0000_8090_0000}`);
    expect(d0.w.arm64!.nested_mmus.some((m) => (m.tlb_vttbr & 1n) === 1n)).toBe(true);
    expect(d0.seen('tlbi.target', 'vcpu0')).toEqual([]);
  });
});
