// The TLB behind the TDP SPTEs (src/core/x86/tlb.ts): a zapped SPTE keeps
// working from the TLB until kvm_flush_remote_tlbs() reaches the vCPU, so a
// missing remote flush is visible (x86.stale_tlb_entry); and the generic
// notifier path around it (kvm_handle_hva_range() under kvm->srcu, the
// MMU_NOTIFY_* event each host change passes).
import { describe, expect, it } from 'vitest';
import { variant_named } from '../../src/core/machine/variants.js';
import { tdp_spte } from '../../src/core/x86/tdp_mmu.js';
import { x86_vcpu } from '../../src/core/x86/kvm_host.js';
import { flush_tlb_all_entries } from '../../src/core/x86/tlb.js';
import { find_violation, clean_seeds } from '../helpers/seeds.js';
import { X86_FILE } from '../numa/helpers.js';
import { drive, finish, machine_for, of_kind, saw } from '../numa/helpers.js';

/** vcpu0 writes page 1, exits to userspace, and writes it again; the mm migrates the page in between. */
const MIGRATE = `arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  vcpu0:
    - access_gpa: {gpa: 0x8000_1000, write: true}
    - userspace_exit: {}
    - access_gpa: {gpa: 0x8000_1000, write: true}
  mm:
    - invalidate: {gpa: 0x8000_1000, size: 4K, change: migrate}
`;

/** vcpu0 maps page 1, then the mm migrates it while vcpu0 is in userspace; vcpu0 re-enters. */
function migrate_while_out(variants: string[]) {
  const d = machine_for(MIGRATE, variants);
  drive(d, 'vcpu0', saw('lock.release', (e) => e['lock'] === 'vcpu0->mutex'));
  drive(d, 'mm', saw('thread.exit'));
  drive(d, 'vcpu0', saw('thread.exit'));
  return d;
}

describe('kvm_flush_remote_tlbs() and the TLB behind the SPTEs', () => {
  it('a guest access fills the TLB from the SPTE, and a later one is served from the TLB without looking at the SPTE', () => {
    const d = machine_for(MIGRATE.replace(/  mm:\n.*\n/, ''));
    finish(d);
    expect(d.violation).toBeNull();
    expect(of_kind(d.events, 'guest.access').map((e) => e['via'])).toEqual(['tdp', 'tlb']);
    expect(x86_vcpu(d.m.w, 0).tdp_tlb).toMatchObject([{ gfn: 0x80001, writable: true }]);
  });

  it('upstream: the zapped SPTE\'s entry goes when vcpu0 services KVM_REQ_TLB_FLUSH before its next entry, so it refaults to the new page', () => {
    const d = migrate_while_out([]);
    expect(d.violation).toBeNull();
    const mm = d.events.filter((e) => e.thread === 'mm').map((e) => e.kind);
    // The remote flush comes before invalidate_range_start() returns, i.e. before the PTE changes.
    expect(mm.indexOf('spte.zap')).toBeLessThan(mm.indexOf('flush.remote'));
    expect(mm.indexOf('flush.remote')).toBeLessThan(mm.indexOf('mm.change_pte'));
    expect(of_kind(d.events, 'guest.tlb_flush', 'vcpu0')).toMatchObject([{ scope: 'all', reason: 'KVM_REQ_TLB_FLUSH', entries: 1 }]);
    expect(of_kind(d.events, 'guest.access').map((e) => e['via'])).toEqual(['tdp', 'tdp']);
    const pte = of_kind(d.events, 'mm.change_pte')[0]!;
    expect(tdp_spte(d.m.w, 0x80001)!.pfn).toBe(pte['new_pfn']);
  });

  it('mmu.no_notifier_flush: vcpu0 re-enters with the entry for the page the host moved (x86.stale_tlb_entry)', () => {
    const d = migrate_while_out(['mmu.no_notifier_flush']);
    expect(d.violation?.invariant).toBe('x86.stale_tlb_entry');
    const change = of_kind(d.events, 'mm.change_pte')[0]!;
    expect(d.violation!.message).toBe(
      `vcpu0 entered the guest with a TLB entry for GPA 0x80001000 -> PA 0x${(change['old_pfn'] as number * 4096).toString(16)} ` +
        `(filled at step ${x86_vcpu(d.m.w, 0).tdp_tlb[0]!.step}), but the host moved it to pfn 0x${(change['new_pfn'] as number).toString(16)} ` +
        `at step ${change.step}: its SPTE was zapped, and no remote TLB flush reached vcpu0 before invalidate_range_start() returned ` +
        '(kvm_flush_remote_tlbs(): KVM_REQ_TLB_FLUSH with WAIT, serviced before the next entry)',
    );
    expect(of_kind(d.events, 'flush.remote')).toEqual([]);
  });

  it('mmu.no_notifier_flush with vcpu0 still in the guest: the invariant fires when the host changes the page', () => {
    const text = MIGRATE.replace('    - userspace_exit: {}\n', '    - access_gpa: {gpa: 0x8000_0000}\n');
    const d = machine_for(text, ['mmu.no_notifier_flush']);
    drive(d, 'vcpu0', saw('guest.access', (e) => e['ipa'] === 0x8000_1000 && e['via'] === 'tdp'));
    drive(d, 'mm', saw('mm.change_pte'));
    expect(d.violation?.invariant).toBe('x86.stale_tlb_entry');
    expect(d.violation!.message).toMatch(/^vcpu0 is running the guest with a TLB entry for GPA 0x80001000 .* but the host moved it to pfn 0x[0-9a-f]+ at step \d+: its SPTE was zapped/);
    // Upstream, the flush's IPI takes vcpu0 out of the guest first, and it flushes before re-entering.
    const up = machine_for(text);
    drive(up, 'vcpu0', saw('guest.access', (e) => e['ipa'] === 0x8000_1000 && e['via'] === 'tdp'));
    drive(up, 'mm', saw('ipi.send'));
    drive(up, 'vcpu0', saw('ipi.ack'));
    drive(up, 'mm', saw('mm.change_pte'));
    expect(up.violation).toBeNull();
    finish(up);
    expect(up.violation).toBeNull();
  });

  it('a Hyper-V full flush (kvm_vcpu_flush_tlb_guest: INVVPID) leaves the guest-physical entries alone; KVM_REQ_TLB_FLUSH (INVEPT) drops them', () => {
    const d = machine_for(MIGRATE.replace(/  mm:\n.*\n/, ''));
    drive(d, 'vcpu0', saw('guest.access'));
    expect(x86_vcpu(d.m.w, 0).tdp_tlb).toHaveLength(1);
    const t = d.m.w.threads[0]!;
    // Both scopes through the function every flush request uses.
    flush_tlb_all_entries(d.m.w, t, 0, 'guest', 'test');
    expect(x86_vcpu(d.m.w, 0).tdp_tlb).toHaveLength(1);
    flush_tlb_all_entries(d.m.w, t, 0, 'all', 'test');
    expect(x86_vcpu(d.m.w, 0).tdp_tlb).toHaveLength(0);
  });

  it('on the bundled NUMA scenario: clean upstream over 300 seeds, broken by mmu.no_notifier_flush', () => {
    expect(clean_seeds(X86_FILE, 300)).toEqual([]);
    const { r } = find_violation(X86_FILE, ['mmu.no_notifier_flush'], 'x86.stale_tlb_entry', 50);
    expect(r.violation!.message).toMatch(/no remote TLB flush reached vcpu\d before invalidate_range_start\(\) returned/);
    expect(variant_named('mmu.no_notifier_flush')!.source).toMatch(/^hypothetical: /);
  });
});

describe('kvm_handle_hva_range()', () => {
  it('holds kvm->srcu around the memslot walk, mmu_lock and the flush', () => {
    const d = migrate_while_out([]);
    const mm = d.events.filter((e) => e.thread === 'mm' && ['srcu.read_lock', 'srcu.read_unlock', 'lock.acquire', 'lock.release', 'flush.remote'].includes(e.kind));
    // range_start, then range_end: each one SRCU section around one mmu_lock hold.
    expect(mm.map((e) => (e['lock'] ? `${e.kind}:${e['lock']}` : e.kind))).toEqual([
      'srcu.read_lock',
      'lock.acquire:mmu_lock',
      'flush.remote',
      'lock.release:mmu_lock',
      'srcu.read_unlock',
      'srcu.read_lock',
      'lock.acquire:mmu_lock',
      'lock.release:mmu_lock',
      'srcu.read_unlock',
    ]);
  });
});

describe('mmu_notifier_invalidate_range(): the MMU_NOTIFY_* event of each host change', () => {
  it('migrate passes MMU_NOTIFY_CLEAR (try_to_migrate_one), zap MMU_NOTIFY_UNMAP (unmap_vmas), numa MMU_NOTIFY_PROTECTION_VMA', () => {
    for (const [change, event] of [
      ['migrate', 'MMU_NOTIFY_CLEAR'],
      ['zap', 'MMU_NOTIFY_UNMAP'],
      ['numa', 'MMU_NOTIFY_PROTECTION_VMA'],
    ] as const) {
      const d = machine_for(MIGRATE.replace('change: migrate', `change: ${change}`));
      finish(d);
      expect(of_kind(d.events, 'invalidate.start').map((e) => e['event']), change).toEqual([event]);
    }
  });
});
