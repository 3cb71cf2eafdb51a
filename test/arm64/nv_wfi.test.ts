// WFI (arm.c kvm_vcpu_wfi(), kvm_main.c kvm_vcpu_block(), nested.c
// kvm_vcpu_put_hw_mmu()): a vCPU halted in WFI is put with IN_WFI set, so it
// gives its shadow stage-2 back (scheduled_out && !IN_WFI is the only case
// that keeps it); an interrupt wakes it and the load takes an MMU again.
import { describe, expect, it } from 'vitest';
import { Driver } from './nv_driver.js';

const X = '0x0001_0000_8010_0000';
const vttbr = (vmid: number) => `0x000${vmid}_0000_80${vmid}0_0000`;

/** vcpu0 runs L2 on X and halts in WFI; vcpu1 goes through four other contexts; then the VMM interrupts vcpu0. */
const YAML = `
name: wfi
summary: t
arch: arm64
vm: {vcpus: 2, ipa_bits: 32, nested_mmus: 4, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads:
  vcpu0:
    - l1_map: {vttbr: ${X}, nested_ipa: 0x1000, ipa: 0x4000_0000}
    - eret_l2: {vttbr: ${X}}
    - access: {ipa: 0x1000}
    - wfi: {}
    - access: {ipa: 0x1000, write: true}
    - exit_l2: {}
  vcpu1:
${[2, 3, 4, 5].map((v) => `    - l1_map: {vttbr: ${vttbr(v)}, nested_ipa: 0x1000, ipa: 0x4000_${v}000}`).join('\n')}
${[2, 3, 4, 5].map((v) => `    - eret_l2: {vttbr: ${vttbr(v)}}\n    - access: {ipa: 0x1000}\n    - exit_l2: {}`).join('\n')}
  vmm:
    - irq: {vcpu: 0}
schedule: {policy: rr}
`;

describe('kvm_vcpu_wfi()', () => {
  it('puts the vCPU with IN_WFI, so kvm_vcpu_put_hw_mmu() drops the reference and the MMU becomes recyclable', () => {
    const d = new Driver(YAML);
    d.run_until_blocked('vcpu0');
    const v0 = d.thread('vcpu0');
    expect(v0.wait?.kind).toBe('kvm_vcpu_halt');
    expect(v0.stack.map((f) => f.fn)).toEqual(expect.arrayContaining(['kvm_vcpu_wfi', 'kvm_vcpu_block']));
    const put = d.seen('vcpu.put', 'vcpu0').at(-1)!;
    expect(put['scheduled_out']).toBe(true);
    expect(put['in_wfi']).toBe(true);
    const m = d.seen('s2mmu.ref', 'vcpu0').at(-1)!['index'] as number;
    expect(d.w.arm64!.nested_mmus[m]!.refcnt).toBe(0);
    expect(d.w.arm64!.vcpus[0]!.hw_mmu).toBeNull();
    // vcpu1's four contexts cycle through all four MMUs, this one included.
    d.run_to_end('vcpu1');
    expect(d.seen('s2mmu.recycle', 'vcpu1').map((e) => e['index'])).toContain(m);
    expect(d.w.arm64!.nested_mmus[m]!.tlb_vttbr).not.toBe(BigInt(X.replaceAll('_', '')));
  });

  it('the interrupt wakes it (kvm_vcpu_kick() -> kvm_vcpu_wake_up()), and the load after the wakeup takes an MMU for its context', () => {
    const d = new Driver(YAML);
    d.run_until_blocked('vcpu0');
    d.run_to_end('vcpu1');
    d.run_to_end('vmm');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => e['action'])).toEqual(['wakeup']);
    // Woken: kvm_sched_in() -> kvm_arch_vcpu_load() -> get_s2_mmu_nested() under the write lock.
    d.run_until_event('vcpu0', 'vcpu.enter');
    const v = d.w.arm64!.vcpus[0]!;
    expect(v.in_wfi).toBe(false);
    const mmu = d.w.arm64!.nested_mmus[v.hw_mmu!]!;
    expect(mmu.tlb_vttbr).toBe(BigInt(X.replaceAll('_', '')));
    expect(mmu.refcnt).toBe(1);
    expect(mmu.pending_unmap).toBe(false);
    // The MMU it got was recycled from another context (valid), so it was unmapped first.
    expect(d.seen('pending_unmap.clear', 'vcpu0').length).toBeGreaterThan(0);
    expect(d.seen('guest.irq', 'vcpu0').length).toBe(1);
    d.run_to_end('vcpu0');
    expect(d.seen('guest.access', 'vcpu0').at(-1)!['write']).toBe(true);
    expect(d.violations).toEqual([]);
  });

  it('an interrupt that arrives between the trap and kvm_vcpu_check_block() makes WFI return at once, without a put', () => {
    const d = new Driver(YAML);
    d.run_until_event('vcpu0', 'vcpu.exit', (e) => e['reason'] === 'wfi');
    d.run_to_end('vmm');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => e['action'])).not.toContain('wakeup');
    d.run_to_end('vcpu0');
    expect(d.seen('vcpu.put', 'vcpu0').some((e) => e['in_wfi'] === true)).toBe(false);
    expect(d.seen('guest.access', 'vcpu0').length).toBe(2);
    expect(d.violations).toEqual([]);
  });

  it('a vCPU only scheduled out (not in WFI) keeps its reference', () => {
    // The same vCPU preempted at the same point of the run loop keeps the MMU: the contrast with WFI.
    const d = new Driver(YAML, [], (_w, t, kind) => (kind.name === 'preempt' && t.name === 'vcpu0' && d0_in_l2(t) ? 3 : 0));
    d.run_until_event('vcpu0', 'sched.preempt');
    const m = d.w.arm64!.vcpus[0]!.hw_mmu!;
    expect(m).toBeGreaterThanOrEqual(0);
    expect(d.w.arm64!.nested_mmus[m]!.refcnt).toBe(1);
    expect(d.seen('vcpu.put', 'vcpu0').at(-1)!['in_wfi']).toBe(false);
  });
});

/** vcpu0 is past its ERET into L2 (so a put concerns a shadow MMU). */
function d0_in_l2(t: { ip: number }): boolean {
  return t.ip >= 2;
}
