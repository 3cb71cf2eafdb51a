// The stage-2 TLB maintenance of the v6.17 page-table code: the range flush
// when a table entry is broken, TLBI_TTL_UNKNOWN for table entries, the
// unmap walker's deferred range TLBI, the local TLBI after a permission
// relax, the level free_unlinked_table() receives, and the TLB model
// catching a missing invalidation.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/machine/events.js';
import { model_fn, ret } from '../../src/core/machine/model.js';
import type { World } from '../../src/core/machine/world.js';
import {
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_RW,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_SHARED,
  TLBI_TTL_UNKNOWN,
  pgt_page,
} from '../../src/core/arm64/kvm_pgtable.js';
import { kvm_pgtable_get_leaf, pgtable_check_refcounts, pgtable_map_now } from '../../src/core/arm64/pgtable.js';
import { guest_translate, tlb_entries } from '../../src/core/arm64/tlb.js';
import { driver, pgt_world, ret_of, run_all, type Act } from './world.js';

const F = KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT;
const M2 = 0x20_0000;
const G1 = 0x4000_0000;

model_fn<{ ipa: number }>('tlbi_test_access', {
  go: (w, t, l) => {
    const r = guest_translate(w, t, -1, l.ipa, false);
    return ret(t, r.ok ? r.pa : -14);
  },
});

const access = (ipa: number): Act => ({ fn: 'tlbi_test_access', args: { ipa } });
const map = (addr: number, size: number, phys: number, vcpu: number): Act => ({
  fn: 'kvm_pgtable_stage2_map',
  args: { mmu: -1, addr, size, phys, prot: KVM_PGTABLE_PROT_RW, flags: F, memcache: vcpu },
  lock: 'read',
});
const barrier: Act = { fn: 'rcu_barrier', args: {} };

function tlbis(events: Event[]): string[] {
  return events
    .filter((e) => e.kind === 'tlbi.hyp')
    .map((e) => {
      const ttl = e['level'] === TLBI_TTL_UNKNOWN ? 'TTL_UNKNOWN' : `L${e['level']}`;
      if (e['scope'] === 'range') return `range 0x${(e['ipa'] as number).toString(16)}+0x${(e['size'] as number).toString(16)}`;
      return e['scope'] === 'vmid' ? 'vmid' : `${e['scope']} 0x${(e['ipa'] as number).toString(16)} ${ttl}`;
    });
}

/** A 4K page under a level-3 table at 0x8000_0000 and a 2M block at 0x8040_0000, both cached in CPU 0's TLB. */
function collapse_world(variants: string[] = []): World {
  const w = pgt_world({ variants, policy: 'rr' });
  pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW, { force_pte: true });
  pgtable_map_now(w, -1, 0x8040_0000, 0x4040_0000, M2, KVM_PGTABLE_PROT_RW);
  return w;
}

describe('stage2_try_break_pte()', () => {
  it('invalidates a broken table entry with kvm_tlb_flush_vmid_range() over the table\'s span: other translations of the VMID stay cached', () => {
    const w = collapse_world();
    driver(w, 0, [access(0x8000_0000), access(0x8040_0000), map(0x8000_0000, M2, 0x4020_0000, 0), access(0x8000_0000), barrier]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual(['range 0x80000000+0x200000']);
    // The 2M block at 0x8040_0000 is still cached; the 4K entry went, and the new access fills the 2M block.
    expect(tlb_entries(w, 0).map((e) => [e.ipa, e.level, e.pa])).toEqual([
      [0x8040_0000, 2, 0x4040_0000],
      [0x8000_0000, 2, 0x4020_0000],
    ]);
    expect(ret_of(w, 'vcpu0', 3)).toBe(0x4020_0000);
    expect(w.violations).toEqual([]);
  });

  it('without FEAT_TLBIRANGE (system_supports_tlb_range() false) it falls back to the whole VMID', () => {
    const w = collapse_world();
    w.arm64!.mmu.pgt.tlb_range_cap = false;
    driver(w, 0, [access(0x8000_0000), access(0x8040_0000), map(0x8000_0000, M2, 0x4020_0000, 0), barrier]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual(['vmid']);
    expect(tlb_entries(w, 0)).toEqual([]);
  });

  it('a split of a valid block invalidates the IPA with the block\'s level as TTL hint', () => {
    const w = pgt_world({ policy: 'rr' });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, M2, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [access(0x8000_0000), { ...map(0x8000_1000, 0x1000, 0x5000_1000, 0) }, access(0x8000_0000)]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual(['ipa 0x80001000 L2']);
    expect(w.violations).toEqual([]);
  });

  it('pgtable.no_table_tlbi: the 4K translation cached under the collapsed table survives stage2_make_pte(); the next access through it is tlb.stale_entry', () => {
    const w = collapse_world(['pgtable.no_table_tlbi']);
    // vcpu1 caches the 4K page; vcpu0 collapses the table; vcpu1 accesses again.
    driver(w, 1, [access(0x8000_0000)]);
    run_all(w);
    driver(w, 0, [map(0x8000_0000, M2, 0x4020_0000, 0), barrier]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual([]);
    driver(w, 1, [access(0x8000_0000)]);
    run_all(w);
    const v = w.violations.filter((x) => x.invariant === 'tlb.stale_entry');
    expect(v.length).toBe(1);
    expect(v[0]!.thread).toBe('vcpu1');
    expect(v[0]!.message).toMatch(
      /^vcpu1 on CPU 1 accessed IPA 0x80000000 through a stale TLB entry \(vmid 1, level 3, PA 0x40000000\): stage2_make_pte\(\) on pt2\[0\] \(level 2\) completed break-before-make with no TLBI covering this entry \(step \d+\)$/,
    );
    // The stage-2 tables themselves map the new block.
    expect(kvm_pgtable_get_leaf(w, -1, 0x8000_0000).level).toBe(2);
  });

  it('pgtable.no_table_tlbi: a fill overlapping the stale entry is reported as tlb.stale_entry, not as a plain TLB conflict', () => {
    const w = collapse_world(['pgtable.no_table_tlbi']);
    driver(w, 0, [access(0x8000_0000), map(0x8000_0000, M2, 0x4020_0000, 0), access(0x8010_0000), barrier]);
    run_all(w);
    expect(w.violations.map((v) => v.invariant)).toEqual(['tlb.stale_entry']);
    expect(w.violations[0]!.message).toMatch(/^vcpu0 on CPU 0 filled a level-2 entry for IPA 0x80000000 \(vmid 1\) while the TLB still holds a stale entry for IPA 0x80000000 \(level 3, PA 0x40000000\): stage2_make_pte\(\)/);
  });
});

describe('stage2_unmap_put_pte()', () => {
  it('with FEAT_TLBIRANGE and FWB the leaves are invalidated by one range TLBI after the walk (stage2_unmap_defer_tlb_flush); tables at once, with TLBI_TTL_UNKNOWN', () => {
    const w = pgt_world({ policy: 'rr' });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x3000, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [access(0x8000_1000), { fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: 0x8000_0000, size: 0x3000, may_block: false }, lock: 'write' }, access(0x8000_1000)]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual(['ipa 0x80000000 TTL_UNKNOWN', 'ipa 0x80000000 TTL_UNKNOWN', 'range 0x80000000+0x3000']);
    expect(ret_of(w, 'vcpu0', 2)).toBe(-14);
    expect(w.violations).toEqual([]);
  });

  it('without FWB each leaf is invalidated at its level as it is cleared', () => {
    const w = pgt_world({ policy: 'rr', fwb: false });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x2000, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [{ fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: 0x8000_0000, size: 0x2000, may_block: false }, lock: 'write' }]);
    const { events } = run_all(w, { events: true });
    expect(tlbis(events)).toEqual(['ipa 0x80000000 L3', 'ipa 0x80001000 L3', 'ipa 0x80000000 TTL_UNKNOWN', 'ipa 0x80000000 TTL_UNKNOWN']);
  });
});

describe('stage2_free_unlinked_table()', () => {
  it('receives the level of the entry that pointed to the table (page_private), and frees the subtree below it', () => {
    const w = pgt_world({ policy: 'rr' });
    // A 1G region holding a level-2 table (page 2) with a level-3 table (page 3) under it.
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW, { force_pte: true });
    expect([pgt_page(w, 2).level, pgt_page(w, 3).level]).toEqual([2, 3]);
    driver(w, 0, [map(0x8000_0000, G1, 0xc000_0000, 0), barrier]);
    const { events } = run_all(w, { events: true });
    const call = events.find((e) => e.kind === 'rcu.call')!;
    expect([call['page'], call['level']]).toEqual([2, 1]);
    expect(events.filter((e) => e.kind === 'table.free').map((e) => e['page'])).toEqual([3, 2]);
    expect(w.metrics['warn_free_unlinked_level']).toBeUndefined();
    expect(w.metrics['warn_free_unlinked_refcount']).toBeUndefined();
    expect(kvm_pgtable_get_leaf(w, -1, 0x8000_0000).level).toBe(1);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });
});

describe('kvm_pgtable_stage2_relax_perms()', () => {
  it('on -EAGAIN too it invalidates the IPA on this CPU only (__kvm_tlb_flush_vmid_ipa_nsh), with no level hint', () => {
    const w = pgt_world({ policy: 'rr' });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_R);
    driver(w, 1, [access(0x8000_0000)]);
    run_all(w);
    expect(tlb_entries(w, 1).length).toBe(1);
    // No valid leaf at 0x8000_1000: the attribute walker returns -EAGAIN.
    driver(w, 0, [access(0x8000_0000), { fn: 'kvm_pgtable_stage2_relax_perms', args: { mmu: -1, addr: 0x8000_1000, prot: KVM_PGTABLE_PROT_W }, lock: 'read' }]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 1)).toBe(-11);
    expect(tlbis(events)).toEqual(['ipa_nsh 0x80001000 TTL_UNKNOWN']);
    // Another CPU's entries are not touched by a non-shareable TLBI.
    expect(tlb_entries(w, 1).length).toBe(1);
  });
});
