// change_prot_numa (the primary MMU's NUMA protection pass), the migration
// of a page, and KVM's notifier handling of them: upstream (the whole range
// unmapped at invalidate_range_start) and Yan Zhao's RFC (.numa_protect).
import { describe, expect, it } from 'vitest';
import { PFN_WINDOW, host_faultin, host_pte } from '../../src/core/kvm/host_mm.js';
import { kvm_arch_fn } from '../../src/core/machine/model.js';
import { DEFAULT_HVA_BASE } from '../../src/core/world_init.js';
import { create_world } from '../../src/core/world_init.js';
import { tdp_spte } from '../../src/core/x86/tdp_mmu.js';
import { Machine } from '../../src/core/machine/machine.js';
import { drive, finish, machine_for, of_kind, parse_with, saw, type Driven } from './helpers.js';

const HVA = DEFAULT_HVA_BASE;
const GB = 2 ** 30;

/**
 * Page 0: populated by the guest; 1: pinned; 2: populated, then protected by
 * a first scan (already PROT_NONE for the second); 3: never populated.
 */
const PASS = `arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  vcpu0:
    - access_gpa: {gpa: 0x8000_0000}
    - access_gpa: {gpa: 0x8000_2000}
  mm:
    - dma_pin: {gpa: 0x8000_1000, size: 4K}
    - numa_protect: {gpa: 0x8000_2000, size: 4K}
    - numa_protect: {gpa: 0x8000_0000, size: 16K}
`;

function run_pass(variants: string[]) {
  const d = machine_for(PASS, variants);
  drive(d, 'vcpu0', saw('thread.exit'));
  drive(d, 'mm', saw('thread.exit'));
  finish(d);
  return d;
}

describe('change_prot_numa', () => {
  it('protects only present PTEs that are neither pinned nor already PROT_NONE, inside one MMU_NOTIFY_PROTECTION_VMA invalidation', () => {
    for (const variants of [[], ['numa.unmap_only_protected']]) {
      const d = run_pass(variants);
      expect(d.violation).toBeNull();
      const second = d.events.slice(d.events.findIndex((e) => e.kind === 'numa.protect' && e['start'] === HVA));
      expect(of_kind(second, 'mm.change_pte').map((e) => e['hva'])).toEqual([HVA]);
      expect(of_kind(second, 'numa.skip').map((e) => [e['hva'], e['reason']])).toEqual([
        [HVA + 0x1000, 'dma_pinned'],
        [HVA + 0x2000, 'protnone'],
      ]);
      expect(of_kind(second, 'invalidate.start')).toMatchObject([{ hva_start: HVA, hva_end: HVA + 0x4000, event: 'MMU_NOTIFY_PROTECTION_VMA' }]);
      expect(host_pte(d.m.w, HVA)!.prot_none).toBe(true);
      expect(host_pte(d.m.w, HVA + 0x1000)!.prot_none).toBe(false);
      expect(host_pte(d.m.w, HVA + 0x3000)).toBeUndefined();
      expect(d.m.w.kvm.mn_active_invalidate_count).toBe(0);
      expect(d.m.w.kvm.mmu_invalidate_in_progress).toBe(0);
    }
  });

  it('fires the notifier lazily from the first populated PUD chunk to the end of the range', () => {
    const s = parse_with(`arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x1_0000_0000, size: 0x8000_0000}]}
threads:
  mm:
    - numa_protect: {gpa: 0x1_0000_0000, size: 0x8000_0000}
`);
    const w = create_world(s.config);
    // Only the second GiB of the slot is populated.
    host_faultin(w, HVA + GB + 0x5000);
    const d: Driven = { m: new Machine(w), events: [], violation: null };
    finish(d);
    expect(of_kind(d.events, 'invalidate.start')).toMatchObject([{ hva_start: HVA + GB, hva_end: HVA + 2 * GB }]);
    expect(of_kind(d.events, 'mm.change_pte').map((e) => e['hva'])).toEqual([HVA + GB + 0x5000]);
    // The recorded gfn range is the memslot's part of the notifier range: its second GiB.
    expect(of_kind(d.events, 'invalidate.range_add')[0]).toMatchObject({ start: 0x140000, end: 0x180000, union: false });
  });

  it('a range with nothing populated sends no notification at all', () => {
    const d = machine_for(`arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  mm:
    - numa_protect: {gpa: 0x8000_0000, size: 16K}
`);
    finish(d);
    expect(of_kind(d.events, 'numa.protect')).toHaveLength(1);
    expect(of_kind(d.events, 'invalidate.start')).toEqual([]);
    expect(d.m.w.kvm.mmu_invalidate_seq).toBe(0);
  });
});

describe('kvm_mmu_notifier_invalidate_range_start()', () => {
  it('upstream unmaps the whole notifier range at range_start; the RFC unmaps each page in .numa_protect just before protecting it', () => {
    const up = run_pass([]);
    const rfc = run_pass(['numa.unmap_only_protected']);
    // Both scans saw the guest's two SPTEs (pages 0 and 2) mapped.
    expect(of_kind(up.events, 'spte.zap').map((e) => e['gpa'])).toEqual([0x8000_2000, 0x8000_0000]);
    expect(of_kind(up.events, 'invalidate.numa_protect')).toEqual([]);
    expect(of_kind(rfc.events, 'invalidate.numa_protect').map((e) => e['hva_start'])).toEqual([HVA + 0x2000, HVA]);
    expect(of_kind(rfc.events, 'spte.zap').map((e) => e['gpa'])).toEqual([0x8000_2000, 0x8000_0000]);
    // The RFC's .numa_protect comes before the PTE change, and its unmap flushes by itself.
    const kinds = rfc.events.filter((e) => e.thread === 'mm').map((e) => e.kind);
    const cb = kinds.lastIndexOf('invalidate.numa_protect');
    expect(kinds.indexOf('spte.zap', cb)).toBeLessThan(kinds.indexOf('mm.change_pte', cb));
    expect(kinds.indexOf('flush.remote', cb)).toBeLessThan(kinds.indexOf('mm.change_pte', cb));
  });

  it('with a pinned SPTE in the range, upstream zaps it (the cost Yan Zhao measured) and the RFC keeps it', () => {
    const text = PASS.replace('    - access_gpa: {gpa: 0x8000_2000}\n', '    - access_gpa: {gpa: 0x8000_1000}\n');
    const go = (variants: string[]) => {
      const d = machine_for(text, variants);
      drive(d, 'mm', saw('mm.pin'));
      drive(d, 'vcpu0', saw('thread.exit'));
      drive(d, 'mm', saw('thread.exit'));
      return d;
    };
    const up = go([]);
    const rfc = go(['numa.unmap_only_protected']);
    expect(tdp_spte(up.m.w, 0x80001)).toBeUndefined();
    expect(tdp_spte(rfc.m.w, 0x80001)).toBeDefined();
    expect(up.m.w.metrics['sptes_zapped']).toBe(2);
    expect(rfc.m.w.metrics['sptes_zapped']).toBe(1);
  });

});

describe('numa_migrate and the arch dispatch', () => {
  it('moves populated unpinned pages, each inside its own invalidation that unmaps it, on both arches', () => {
    for (const arch of ['x86', 'arm64'] as const) {
      const access = arch === 'x86' ? 'access_gpa: {gpa' : 'access: {ipa';
      const d = machine_for(`arch: ${arch}
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  vcpu0:
    - ${access}: 0x8000_0000}
    - ${access}: 0x8000_1000}
  mm:
    - dma_pin: {gpa: 0x8000_1000, size: 4K}
    - numa_migrate: {gpa: 0x8000_0000, size: 16K}
`);
      drive(d, 'mm', saw('mm.pin'));
      drive(d, 'vcpu0', saw('thread.exit'));
      const old = host_pte(d.m.w, HVA)!.pfn;
      drive(d, 'mm', saw('thread.exit'));
      expect(d.violation).toBeNull();
      expect(of_kind(d.events, 'invalidate.start')).toMatchObject([{ hva_start: HVA, hva_end: HVA + 0x1000, event: 'MMU_NOTIFY_CLEAR' }]);
      expect(of_kind(d.events, 'mm.change_pte')).toMatchObject([{ hva: HVA, old_pfn: old, new_pfn: old + PFN_WINDOW }]);
      expect(host_pte(d.m.w, HVA)!.pfn).not.toBe(old);
      expect(d.m.w.metrics['kvm_unmaps']).toBe(1);
      expect(kvm_arch_fn(d.m.w, 'kvm_unmap_gfn_range')).toBe(arch === 'x86' ? 'kvm_unmap_gfn_range_x86' : 'kvm_unmap_gfn_range');
    }
  });
});
