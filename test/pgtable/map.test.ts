// The stage-2 walkers: refcounts, block mappings, break-before-make, LOCKED
// entries, unmap, permission changes, range operations.
import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/machine/events.js';
import { RETURN, model_fn, ret } from '../../src/core/machine/model.js';
import type { World } from '../../src/core/machine/world.js';
import {
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_RW,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_SHARED,
  TLBI_TTL_UNKNOWN,
  kvm_pte_decode,
  pgt_page,
} from '../../src/core/arm64/kvm_pgtable.js';
import {
  kvm_pgtable_get_leaf,
  kvm_pgtable_leaves,
  kvm_pgtable_walk_levels,
  pgtable_check_refcounts,
  pgtable_map_now,
  pgtable_set_raw,
  pgtable_unmap_now,
} from '../../src/core/arm64/pgtable.js';
import { guest_translate, tlb_entries } from '../../src/core/arm64/tlb.js';
import { driver, pgt_world, ret_of, run_all, type Act } from './world.js';

const SHARED_FAULT = KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT;
const M2 = 0x20_0000;
const G1 = 0x4000_0000;

function map_act(addr: number, size: number, phys: number, vcpu: number, flags = SHARED_FAULT, prot: number = KVM_PGTABLE_PROT_RW): Act {
  return { fn: 'kvm_pgtable_stage2_map', args: { mmu: -1, addr, size, phys, prot, flags, memcache: vcpu }, lock: 'read' };
}

/** A guest access as one step (what the run loop's access op does). */
model_fn<{ ipa: number; write: boolean }>('pgt_test_access', {
  go: (w, t, l) => {
    const r = guest_translate(w, t, -1, l.ipa, l.write);
    if (r.ok) w.metrics[`pa.${t.name}`] = r.pa;
    return ret(t, r.ok ? 0 : r.kind === 'permission' ? -13 : -14);
  },
});
model_fn<Record<string, never>>('pgt_test_nop', { go: () => RETURN });

const access = (ipa: number, write = false): Act => ({ fn: 'pgt_test_access', args: { ipa, write } });
const barrier: Act = { fn: 'rcu_barrier', args: {} };

function kinds(events: Event[], thread: string, keep: string[]): string[] {
  return events
    .filter((e) => e.thread === thread && keep.includes(e.kind))
    .map((e) => {
      if (e.kind === 'pte.visit') return `visit:${e['visit']}:L${e['level']}`;
      if (e.kind === 'pte.cmpxchg') return `cmpxchg:${e['ok']}`;
      if (e.kind === 'pte.store') return `store:${e['release'] ? 'release' : 'once'}`;
      if (e.kind === 'tlbi.hyp') {
        const ttl = e['level'] === TLBI_TTL_UNKNOWN ? 'TTL_UNKNOWN' : `L${e['level']}`;
        if (e['scope'] === 'range') return `tlbi:range:0x${(e['ipa'] as number).toString(16)}+0x${(e['size'] as number).toString(16)}`;
        return `tlbi:${e['scope']}${e['scope'] === 'vmid' ? '' : `:${ttl}`}`;
      }
      if (e.kind === 'walk.end') return `end:${e['ret']}`;
      return e.kind;
    });
}

function leaf_level(w: World, ipa: number): number {
  const { pte, level } = kvm_pgtable_get_leaf(w, -1, ipa);
  return kvm_pte_decode(pte, level).valid ? level : -1;
}

describe('refcounts: a table page holds 1 + its counted entries', () => {
  it('after map and unmap sequences', () => {
    const w = pgt_world({ rcu: false });
    const rc = (id: number) => pgt_page(w, id).refcount;
    expect(pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW)).toBe(0);
    // pgd pages 0 and 1 (40-bit IPA), then the level-2 table (2) and level-3 table (3).
    expect([rc(0), rc(1), rc(2), rc(3)]).toEqual([2, 1, 2, 2]);
    for (const off of [0x1000, 0x2000, 0x5000]) pgtable_map_now(w, -1, 0x8000_0000 + off, 0x4000_0000 + off, 0x1000, KVM_PGTABLE_PROT_RW);
    expect(rc(3)).toBe(5);
    // Mapping the same page again changes nothing (-EAGAIN, ignored by an exclusive walk).
    pgtable_map_now(w, -1, 0x8000_1000, 0x4000_1000, 0x1000, KVM_PGTABLE_PROT_RW);
    expect(rc(3)).toBe(5);
    expect(pgtable_unmap_now(w, -1, 0x8000_1000, 0x1000)).toBe(0);
    expect(rc(3)).toBe(4);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
    // Unmapping the rest empties the level-3 table, then the level-2 table: both freed at once.
    pgtable_unmap_now(w, -1, 0x8000_0000, M2);
    expect(pgt_page(w, 3)).toMatchObject({ refcount: 0, freed: true });
    expect(pgt_page(w, 2)).toMatchObject({ refcount: 0, freed: true });
    expect(rc(0)).toBe(1);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });

  it('a block replacing a table keeps the parent count; splitting a block adds a table with one entry', () => {
    const w = pgt_world({ rcu: false });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    pgtable_map_now(w, -1, 0x8000_3000, 0x4000_3000, 0x1000, KVM_PGTABLE_PROT_RW);
    expect(pgt_page(w, 2).refcount).toBe(2);
    pgtable_map_now(w, -1, 0x8000_0000, 0x4020_0000, M2, KVM_PGTABLE_PROT_RW);
    expect(leaf_level(w, 0x8000_3000)).toBe(2);
    expect(pgt_page(w, 3)).toMatchObject({ freed: true, refcount: 0 });
    expect(pgt_page(w, 2).refcount).toBe(2);
    // A 4K mapping inside the block: the block is replaced by an empty table; the rest refaults lazily.
    pgtable_map_now(w, -1, 0x8000_5000, 0x5000_5000, 0x1000, KVM_PGTABLE_PROT_RW);
    expect(leaf_level(w, 0x8000_5000)).toBe(3);
    expect(leaf_level(w, 0x8000_3000)).toBe(-1);
    const l3 = kvm_pgtable_walk_levels(w, -1, 0x8000_5000).levels[2]!.page;
    expect(pgt_page(w, l3).refcount).toBe(2);
    expect(pgt_page(w, 2).refcount).toBe(2);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });
});

describe('block mappings only where the level allows and the range is aligned', () => {
  it('2M and 1G blocks when IPA, PA and size line up', () => {
    const w = pgt_world({ rcu: false });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4020_0000, M2, KVM_PGTABLE_PROT_RW);
    pgtable_map_now(w, -1, 0x1_0000_0000, 0xc000_0000, G1, KVM_PGTABLE_PROT_RW);
    expect(leaf_level(w, 0x8000_0000)).toBe(2);
    expect(leaf_level(w, 0x1_0000_0000 + 0x1234_5000)).toBe(1);
    expect(kvm_pgtable_walk_levels(w, -1, 0x1_1234_5678).pa).toBe(0xd234_5678);
  });

  it('pages when the PA is not aligned, the IPA is not aligned, the size is smaller, or force_pte', () => {
    const w = pgt_world({ rcu: false });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_1000, M2, KVM_PGTABLE_PROT_RW); // PA off by 4K
    expect(kvm_pgtable_leaves(w, -1, 0x8000_0000, M2).map((l) => l.level)).toEqual(Array(512).fill(3));
    pgtable_map_now(w, -1, 0x8040_1000, 0x4040_1000, M2, KVM_PGTABLE_PROT_RW); // IPA off by 4K
    expect(new Set(kvm_pgtable_leaves(w, -1, 0x8040_0000, 2 * M2).map((l) => l.level))).toEqual(new Set([3]));
    pgtable_map_now(w, -1, 0x8080_0000, 0x4080_0000, 0x1000, KVM_PGTABLE_PROT_RW); // aligned, 4K
    expect(leaf_level(w, 0x8080_0000)).toBe(3);
    pgtable_map_now(w, -1, 0x80a0_0000, 0x40a0_0000, M2, KVM_PGTABLE_PROT_RW, { force_pte: true });
    expect(leaf_level(w, 0x80a0_0000)).toBe(3);
  });

  it('never a level-0 block: 512G with a 48-bit IPA becomes 512 1G blocks under a level-0 table', () => {
    const w = pgt_world({ rcu: false, ipa_bits: 48 });
    expect(pgtable_map_now(w, -1, 0, 0, 2 ** 39, KVM_PGTABLE_PROT_RW)).toBe(0);
    const levels = kvm_pgtable_walk_levels(w, -1, 0x7f_c000_0000).levels;
    expect(levels.map((l) => l.type)).toEqual(['table', 'block']);
    expect(kvm_pgtable_leaves(w, -1).length).toBe(512);
  });
});

describe('break-before-make', () => {
  it('stage2_try_break_pte(): a shared walk collapsing a table into a block: cmpxchg to LOCKED, kvm_tlb_flush_vmid_range() over the table\'s 2M, release store, then call_rcu', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW, { force_pte: true });
    driver(w, 0, [map_act(0x8000_0000, M2, 0x4020_0000, 0), barrier]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(0);
    const order = kinds(events, 'vcpu0', ['pte.visit', 'pte.cmpxchg', 'pte.break', 'table.unlink', 'tlbi.hyp', 'pte.store', 'pte.make', 'rcu.call', 'walk.end']);
    expect(order).toEqual([
      'visit:pre:L1',
      'visit:reload:L1',
      'visit:pre:L2',
      'cmpxchg:true',
      'pte.break',
      'table.unlink',
      'tlbi:range:0x80000000+0x200000',
      'store:release',
      'pte.make',
      'rcu.call',
      'visit:reload:L2',
      'end:0',
    ]);
    // The old table is freed by the RCU callback, after vcpu0 left its read-side section.
    const unlock = events.findIndex((e) => e.thread === 'vcpu0' && e.kind === 'rcu.read_unlock');
    const free = events.findIndex((e) => e.kind === 'rcu.free');
    expect(free).toBeGreaterThan(unlock);
    expect(events[free]!.thread).toBe('rcu_gp');
    expect(pgt_page(w, 3).freed).toBe(true);
    expect(leaf_level(w, 0x8000_0000)).toBe(2);
    expect(w.violations).toEqual([]);
  });

  it('a shared walk splitting a block: a table from the memcache, break, TLBI of the IPA at level 2, make, descend', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4020_0000, M2, KVM_PGTABLE_PROT_RW);
    const before = w.s2_memcache![0]!.nobjs;
    driver(w, 0, [map_act(0x8000_1000, 0x1000, 0x5000_1000, 0)]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(0);
    expect(w.s2_memcache![0]!.nobjs).toBe(before - 1);
    expect(kinds(events, 'vcpu0', ['pte.visit', 'table.alloc', 'pte.cmpxchg', 'pte.break', 'tlbi.hyp', 'pte.store', 'pte.make', 'walk.end'])).toEqual([
      'visit:pre:L1',
      'visit:reload:L1',
      'visit:leaf:L2',
      'table.alloc',
      'cmpxchg:true',
      'pte.break',
      'tlbi:ipa:L2',
      'store:release',
      'pte.make',
      'visit:reload:L2',
      'visit:leaf:L3',
      'cmpxchg:true',
      'pte.break',
      'store:release',
      'pte.make',
      'visit:reload:L3',
      'end:0',
    ]);
    expect(leaf_level(w, 0x8000_1000)).toBe(3);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });

  it('a shared fault walk that meets a LOCKED entry backs off with -EAGAIN; a walk outside a fault handler carries on', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    pgtable_set_raw(w, -1, 0x8000_1000, 3, 0x400n);
    driver(w, 0, [map_act(0x8000_1000, 0x1000, 0x4000_1000, 0), map_act(0x8000_1000, 0x1000, 0x4000_1000, 0, KVM_PGTABLE_WALK_SHARED)]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(-11);
    expect(ret_of(w, 'vcpu0', 1)).toBe(0);
    const eagain = events.filter((e) => e.kind === 'walk.eagain');
    expect(eagain.map((e) => e['reason'])).toEqual(['entry is LOCKED by another walker', 'entry is LOCKED by another walker']);
    expect(kvm_pgtable_get_leaf(w, -1, 0x8000_1000).pte).toBe(0x400n);
  });

  it('a split that loses the race gives its fresh table back: the pool hands the same page out next', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    // The level-2 entry for 0x8020_0000 is LOCKED by another walker: a 4K map there needs a new table.
    pgtable_set_raw(w, -1, 0x8020_0000, 2, 0x400n);
    const pages = w.pgt_pages!.length;
    driver(w, 0, [map_act(0x8020_0000, 0x1000, 0x4020_0000, 0)]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(-11);
    const alloc = events.find((e) => e.kind === 'table.alloc');
    const free = events.find((e) => e.kind === 'table.free');
    expect(alloc?.['page']).toBe(pages);
    expect(free).toMatchObject({ page: pages, how: 'put_page' });
    expect(w.pgt_pages!.length).toBe(pages);
    // Unlocked, the same fault takes the same page.
    pgtable_set_raw(w, -1, 0x8020_0000, 2, 0n);
    expect(pgtable_map_now(w, -1, 0x8020_0000, 0x4020_0000, 0x1000, KVM_PGTABLE_PROT_RW)).toBe(0);
    expect(leaf_level(w, 0x8020_0000)).toBe(3);
    expect(pgt_page(w, pages)).toMatchObject({ level: 3, freed: false, refcount: 2 });
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });

  it('two shared walkers racing for one entry: one wins the cmpxchg, the other gets -EAGAIN', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [map_act(0x8000_1000, 0x1000, 0x4000_1000, 0)]);
    driver(w, 1, [map_act(0x8000_1000, 0x1000, 0x4000_1000, 1)]);
    const { events } = run_all(w, { events: true });
    expect([ret_of(w, 'vcpu0', 0), ret_of(w, 'vcpu1', 0)].sort()).toEqual([-11, 0]);
    expect(events.filter((e) => e.kind === 'pte.cmpxchg').map((e) => [e.thread, e['ok']])).toEqual([
      ['vcpu0', true],
      ['vcpu1', false],
    ]);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
    expect(w.violations).toEqual([]);
  });

  it('pgtable.no_bbm: a block written straight over a live table is a break-before-make violation and a TLB conflict', () => {
    const w = pgt_world({ variants: ['pgtable.no_bbm'] });
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW, { force_pte: true });
    driver(w, 0, [access(0x8000_0000), map_act(0x8000_0000, M2, 0x4020_0000, 0), access(0x8000_1000), barrier]);
    run_all(w);
    const names = w.violations.map((v) => v.invariant);
    expect(names).toContain('pgtable.break_before_make');
    expect(names).toContain('tlb.conflict');
    expect(w.violations.find((v) => v.invariant === 'pgtable.break_before_make')!.message).toMatch(/without break-before-make: 0x0000008000003003 \(table -> 0x8000003000\) -> 0x0040000040200[0-9a-f]+ \(2M block/);
  });
});

describe('unmap, permissions and range operations', () => {
  it('unmap clears, invalidates the IPA, frees emptied tables at once; the TLB entry is gone', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [access(0x8000_0000), { fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: 0x8000_0000, size: 0x1000, may_block: false }, lock: 'write' }, access(0x8000_0000)]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(0);
    expect(ret_of(w, 'vcpu0', 2)).toBe(-14);
    // stage2_unmap_put_pte(): the leaf's TLBI is deferred to one range TLBI after the walk (FEAT_TLBIRANGE and FWB);
    // a table entry is invalidated at once, with no level hint (36e008323926, f62d4c3eb687).
    expect(kinds(events, 'vcpu0', ['pte.store', 'tlbi.hyp', 'table.unlink'])).toEqual([
      'store:once',
      'store:once',
      'table.unlink',
      'tlbi:ipa:TTL_UNKNOWN',
      'store:once',
      'table.unlink',
      'tlbi:ipa:TTL_UNKNOWN',
      'tlbi:range:0x80000000+0x1000',
    ]);
    expect(events.filter((e) => e.kind === 'table.free').map((e) => [e['page'], e['how']])).toEqual([
      [3, 'put_page'],
      [2, 'put_page'],
    ]);
    expect(tlb_entries(w, 0)).toEqual([]);
  });

  it('relax_perms adds write permission in place and invalidates the IPA; wrprotect takes it away', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_R);
    driver(w, 0, [
      access(0x8000_0000, true),
      { fn: 'kvm_pgtable_stage2_relax_perms', args: { mmu: -1, addr: 0x8000_0000, prot: KVM_PGTABLE_PROT_W }, lock: 'read' },
      access(0x8000_0000, true),
      { fn: 'stage2_wp_range', args: { mmu: -1, addr: 0x8000_0000, end: 0x8000_1000 }, lock: 'write' },
    ]);
    const { events } = run_all(w, { events: true });
    expect(ret_of(w, 'vcpu0', 0)).toBe(-13);
    expect(ret_of(w, 'vcpu0', 1)).toBe(0);
    expect(ret_of(w, 'vcpu0', 2)).toBe(0);
    // The permission fault was this CPU's: a non-shareable TLBI at the leaf's level.
    expect(kinds(events, 'vcpu0', ['pte.cmpxchg', 'pte.store', 'tlbi.hyp'])).toEqual(['cmpxchg:true', 'tlbi:ipa_nsh:L3', 'store:once']);
    expect(events.filter((e) => e.kind === 'pte.replace').map((e) => [e['old'], e['new']])).toEqual([
      [0x0040_0000_4000_075bn, 0x0040_0000_4000_07dbn],
      [0x0040_0000_4000_07dbn, 0x0040_0000_4000_075bn],
    ]);
    expect(w.violations).toEqual([]);
  });

  it('kvm_stage2_unmap_range works in 1G chunks and may drop the write lock between them', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x4000_0000, 0x4000_0000, 3 * G1, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [{ fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: 0x4000_0000, size: 3 * G1, may_block: true }, lock: 'write' }]);
    const { events } = run_all(w, { events: true });
    expect(events.filter((e) => e.kind === 'walk.begin').map((e) => [e['start'], e['end']])).toEqual([
      [0x4000_0000, 0x8000_0000],
      [0x8000_0000, 0xc000_0000],
      [0xc000_0000, 0x1_0000_0000],
    ]);
    expect(events.filter((e) => e.kind === 'lock.cond_resched').length).toBe(2);
    expect(kvm_pgtable_leaves(w, -1)).toEqual([]);
  });

  it('an exclusive unmap of a sparse 1G reads every entry, but visits and steps only through the ones in use', () => {
    const w = pgt_world();
    // Two 4K leaves at the two ends of one 1G: level-2 entries 0 and 511, each over a level-3 table.
    pgtable_map_now(w, -1, 0x4000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    pgtable_map_now(w, -1, 0x7fff_f000, 0x5000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
    // kvm_pgtable_leaves() over ranges that cut entries, at both ends and between.
    const at = (start: number, size: number) => kvm_pgtable_leaves(w, -1, start, size).map((x) => x.ipa);
    expect(at(0x3fff_f000, 0x2000)).toEqual([0x4000_0000]);
    expect(at(0x4000_0800, 0x7fff_f800 - 0x4000_0800)).toEqual([0x4000_0000, 0x7fff_f000]);
    expect(at(0x4000_1000, 0x7fff_f000 - 0x4000_1000)).toEqual([]);
    expect(at(0x7fff_ffff, 1)).toEqual([0x7fff_f000]);
    driver(w, 0, [{ fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: 0x4000_0000, size: G1, may_block: false }, lock: 'write' }]);
    const mapped = w.metrics['pgtable_entries_read'] ?? 0;
    const { events, m } = run_all(w, { events: true });
    expect(kvm_pgtable_leaves(w, -1)).toEqual([]);
    // One READ_ONCE per entry of the walk: the level-1 entry, the 512 of the level-2 table, the 512 of each level-3 table.
    expect(w.metrics['pgtable_entries_read']! - mapped).toBe(1 + 512 + 2 * 512);
    // The empty ones are folded into the step before them: visited (and stepped) are the entries in use only.
    expect(kinds(events, 'vcpu0', ['pte.visit'])).toEqual(['visit:table:L1', 'visit:table:L2', 'visit:leaf:L3', 'visit:reload:L3', 'visit:table:L2', 'visit:leaf:L3', 'visit:reload:L3']);
    expect(m.w.step).toBeLessThan(60);
  });

  it('kvm_arch_flush_remote_tlbs removes the VMID from every CPU', () => {
    const w = pgt_world();
    pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, M2, KVM_PGTABLE_PROT_RW);
    driver(w, 0, [access(0x8000_0000)]);
    driver(w, 1, [access(0x8000_1000), { fn: 'pgt_test_nop', args: {} }]);
    run_all(w);
    expect(tlb_entries(w, 0).length + tlb_entries(w, 1).length).toBe(2);
    const w2 = structuredClone(w);
    driver(w2, 0, [{ fn: 'kvm_arch_flush_remote_tlbs', args: {} }]);
    const { events } = run_all(w2, { events: true });
    expect(events.filter((e) => e.kind === 'tlbi.hyp').map((e) => [e['scope'], e['vmid']])).toEqual([['vmid', 1]]);
    expect(tlb_entries(w2, 0).length + tlb_entries(w2, 1).length).toBe(0);
  });
});
