// Block mappings through the one user_mem_abort(): THP-backed memory mapped
// by transparent_hugepage_adjust() after the retry check, hugetlbfs pages
// sized from the VMA, the memslot and nested caps on the size, host THP
// migration and splitting with the notifier over the whole huge page, and
// the stale-mapping check on blocks.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import type { Violation, World } from '../../src/core/machine/world.js';
import { parse_scenario, type LoadedScenario } from '../../src/scenario/load.js';
import { kvm_decode_nested_level } from '../../src/core/arm64/kvm_pgtable.js';
import { kvm_pgtable_get_leaf, kvm_pgtable_leaves } from '../../src/core/arm64/pgtable.js';
import { host_huge, host_pte } from '../../src/core/kvm/host_mm.js';
import { find_violation } from '../helpers/seeds.js';

const HVA = 0x7f00_0000_0000;

function scenario(body: string, o: { slot?: string; nested?: boolean; variants?: string[] } = {}): LoadedScenario {
  const text = `name: hugepage-test
summary: test
source: test
arch: arm64
vm:
  vcpus: 2
${o.nested ? '  ipa_bits: 40\n  nested_mmus: 4\n' : ''}  memslots:
    - ${o.slot ?? '{gpa: 0x8000_0000, size: 4M}'}
threads:
${body}
schedule: {policy: rr, seed: 1}
`;
  return parse_scenario(text, 'hugepage-test.yaml', { variants: o.variants ?? [] });
}

interface Run {
  w: World;
  events: Event[];
  violation: Violation | null;
}

function run(body: string, o: Parameters<typeof scenario>[1] = {}): Run {
  const m = new Machine(create_world(scenario(body, o).config));
  const events: Event[] = [];
  for (let r = m.step(); ; r = m.step()) {
    events.push(...r.events);
    if (r.status !== 'ok') break;
  }
  return { w: m.w, events, violation: m.w.violations[0] ?? null };
}

const maps = (r: Run) => r.events.filter((e) => e.kind === 'fault.map').map((e) => [e['mmu'], e['ipa'], e['pa'], e['level']]);

describe('user_mem_abort()', () => {
  it('transparent_hugepage_adjust(): THP-backed memory is mapped with a 2M block, IPA and pfn aligned down, after the retry check under the fault lock', () => {
    const r = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_1234, size: 2M, write: true}\n    - access: {ipa: 0x8010_0000}\n');
    expect(r.violation).toBeNull();
    // One fault: the block then serves the second access from the TLB.
    expect(maps(r)).toEqual([['s2', 0x8000_0000, 0x1000_0000, 2]]);
    const kinds = r.events.filter((e) => e.thread === 'vcpu0' && ['fault.check', 'fault.map', 'lock.acquire'].includes(e.kind)).map((e) => e.kind);
    expect(kinds.slice(0, 3)).toEqual(['lock.acquire', 'fault.check', 'fault.map']);
    expect(host_huge(r.w, HVA)).toMatchObject({ kind: 'thp', size: 0x20_0000, pfn: 0x10000 });
  });

  it('a plain access to memory the host already backs with a THP maps the block too', () => {
    const r = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_0000, size: 2M, force_pte: true}\n    - access: {ipa: 0x8000_5000}\n');
    expect(maps(r)).toEqual([
      ['s2', 0x8000_0000, 0x1000_0000, 3],
      // A table entry would have to be broken: the 4K page is under a level-3 table, and the block replaces it.
      ['s2', 0x8000_0000, 0x1000_0000, 2],
    ]);
    expect(r.violation).toBeNull();
  });

  it('force_pte (dirty logging): pages of the THP, no block', () => {
    const r = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_3000, size: 2M, force_pte: true}\n');
    expect(maps(r)).toEqual([['s2', 0x8000_3000, 0x1000_3000, 3]]);
  });

  it('a THP region the host already maps with 4K pages stays 4K: get_user_mapping_size() is PAGE_SIZE', () => {
    const r = run('  vcpu0:\n    - access: {ipa: 0x8000_0000}\n    - access_hugepage: {ipa: 0x8000_1000, size: 2M}\n');
    expect(maps(r)).toEqual([
      ['s2', 0x8000_0000, 0x1000_0000, 3],
      ['s2', 0x8000_1000, 0x1000_1000, 3],
    ]);
    expect(host_huge(r.w, HVA)).toBeUndefined();
  });

  it('fault_supports_stage2_huge_mapping(): a memslot whose hva and IPA differ inside 2M gets pages', () => {
    const r = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_0000, size: 2M}\n', { slot: '{gpa: 0x8000_0000, size: 4M, hva: 0x7f00_0000_1000}' });
    expect(maps(r).map((m) => m[3])).toEqual([3]);
  });

  it('hugetlbfs: vma_pagesize comes from the VMA under mmap_read_lock; 1G when the memslot holds it, 2M when it holds only that', () => {
    const big = run('  vcpu0:\n    - access_hugepage: {ipa: 0x4000_1000, size: 1G}\n', { slot: '{gpa: 0x4000_0000, size: 1G}' });
    expect(maps(big)).toEqual([['s2', 0x4000_0000, 0x4000_0000, 1]]);
    expect(host_huge(big.w, HVA)).toMatchObject({ kind: 'hugetlb', size: 2 ** 30 });
    const small = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8020_1000, size: 1G}\n', { slot: '{gpa: 0x8000_0000, size: 4M}' });
    // The 1G page cannot fit the 4M memslot: PUD -> PMD (the 2M inside the 1G page).
    expect(maps(small)).toEqual([['s2', 0x8020_0000, 0x4020_0000, 2]]);
    const hugetlb2m = run('  vcpu0:\n    - access_hugepage: {ipa: 0x8020_1000, size: 2M, backing: hugetlbfs}\n');
    // The pfn follows the hva: the second 2M of the slot.
    expect(maps(hugetlb2m)).toEqual([['s2', 0x8020_0000, 0x1020_0000, 2]]);
    // hugetlbfs sizes the block before the retry check: no get_user_mapping_size() walk.
    expect(host_huge(hugetlb2m.w, HVA + 0x20_0000)).toMatchObject({ kind: 'hugetlb' });
  });

  it('a THP is PMD-sized: access_hugepage with backing thp and size 1G is rejected when the scenario loads', () => {
    expect(() => scenario('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_0000, size: 1G, backing: thp}\n')).toThrow(/hugepage-test\.yaml:\d+:\d+: .*backing/);
  });
});

describe('user_mem_abort() for a nested fault (access_hugepage from L2)', () => {
  const VTTBR = '0x0001_0000_8010_0000';
  const l2 = (l1_size: string, access: string) => `  vcpu0:
    - l1_map: {vttbr: ${VTTBR}, nested_ipa: 0x20_0000, ipa: 0x8000_0000, size: ${l1_size}}
    - eret_l2: {vttbr: ${VTTBR}}
    - ${access}
    - exit_l2: {}
`;

  it('kvm_walk_nested_s2() first; the guest hypervisor\'s 2M mapping lets the shadow stage-2 map a 2M block of the THP', () => {
    const r = run(l2('2M', 'access_hugepage: {ipa: 0x20_1000, size: 2M}'), { nested: true });
    expect(r.violation).toBeNull();
    expect(maps(r)).toEqual([['nested[0]', 0x20_0000, 0x1000_0000, 2]]);
    // The shadow leaf records the guest's level in its software bits.
    const leaf = kvm_pgtable_leaves(r.w, 0).find((x) => x.ipa === 0x20_0000)!;
    expect([leaf.level, kvm_decode_nested_level(leaf.pte)]).toEqual([2, 2]);
  });

  it('a 4K guest mapping caps the shadow mapping at 4K (max_map_size = PAGE_SIZE, force_pte) even on a THP or a 1G hugetlbfs page', () => {
    const thp = run(l2('4K', 'access_hugepage: {ipa: 0x20_0000, size: 2M}'), { nested: true });
    expect(maps(thp)).toEqual([['nested[0]', 0x20_0000, 0x1000_0000, 3]]);
    const big = run(l2('4K', 'access_hugepage: {ipa: 0x20_0000, size: 1G}').replace('ipa: 0x8000_0000', 'ipa: 0x4000_0000'), { nested: true, slot: '{gpa: 0x4000_0000, size: 1G}' });
    expect(maps(big)).toEqual([['nested[0]', 0x20_0000, 0x4000_0000, 3]]);
  });

  it('vma_pagesize = min(vma_pagesize, guest block size): a 1G hugetlbfs page under a 2M guest mapping is a 2M shadow block', () => {
    const r = run(l2('2M', 'access_hugepage: {ipa: 0x20_3000, size: 1G}').replace('ipa: 0x8000_0000', 'ipa: 0x4020_0000'), { nested: true, slot: '{gpa: 0x4000_0000, size: 1G}' });
    expect(maps(r)).toEqual([['nested[0]', 0x20_0000, 0x4020_0000, 2]]);
    expect(kvm_pgtable_get_leaf(r.w, 0, 0x20_3000).level).toBe(2);
  });
});

describe('try_to_migrate_one() and __split_huge_pmd() on THP-backed guest memory', () => {
  const touch = '  vcpu0:\n    - access_hugepage: {ipa: 0x8000_0000, size: 2M}\n    - access_hugepage: {ipa: 0x8020_0000, size: 2M}\n';
  const then_mm = (op: string) => `${touch}  mm:\n    - ${op}\n`;

  /** Run vcpu0 to its end first, then the mm. */
  function sequenced(op: string): { w: World; events: Event[] } {
    const loaded = scenario(then_mm(op));
    loaded.config.sched = { policy: 'script', seed: 1, script: [] };
    const m = new Machine(create_world(loaded.config));
    const events: Event[] = [];
    const id = (name: string) => m.w.threads.find((t) => t.name === name)!.id;
    for (const who of ['vcpu0', 'mm']) {
      for (let i = 0; i < 5000 && !m.w.threads[id(who)]!.done; i++) events.push(...m.step(id(who)).events);
    }
    for (let r = m.step(); r.status === 'ok'; r = m.step()) events.push(...r.events);
    expect(m.w.violations).toEqual([]);
    return { w: m.w, events };
  }

  it('migrating one page of a THP moves the whole folio to new, aligned pfns, inside one notifier range over the 2M; KVM unmaps the block', () => {
    const { w, events } = sequenced('invalidate: {gpa: 0x8000_5000, size: 4K, change: migrate}');
    const start = events.find((e) => e.kind === 'invalidate.start')!;
    expect([start['hva_start'], start['hva_end']]).toEqual([HVA, HVA + 0x20_0000]);
    const change = events.filter((e) => e.kind === 'mm.change_pte');
    expect(change.map((e) => [e['hva'], e['old_pfn'], e['pages']])).toEqual([[HVA, 0x10000, 512]]);
    expect((change[0]!['new_pfn'] as number) % 512).toBe(0);
    expect(host_pte(w, HVA + 0x5000)!.pfn).toBe((change[0]!['new_pfn'] as number) + 5);
    expect(kvm_pgtable_leaves(w, -1).map((l) => l.ipa)).toEqual([0x8020_0000]);
  });

  it('a zap of part of a THP splits it first: the notifier covers the PMD, the zapped pages move, the others keep their pfns as 4K PTEs', () => {
    const { w, events } = sequenced('invalidate: {gpa: 0x8020_3000, size: 8K, change: zap}');
    const start = events.find((e) => e.kind === 'invalidate.start')!;
    expect([start['hva_start'], start['hva_end']]).toEqual([HVA + 0x20_0000, HVA + 0x40_0000]);
    expect(events.filter((e) => e.kind === 'mm.change_pte').map((e) => [e['hva'], e['old_pfn'], e['pages']])).toEqual([
      [HVA + 0x20_3000, 0x10203, 1],
      [HVA + 0x20_4000, 0x10204, 1],
    ]);
    expect(host_huge(w, HVA + 0x20_0000)).toBeUndefined();
    expect(host_pte(w, HVA + 0x20_2000)!.pfn).toBe(0x10202);
    // KVM unmapped the whole 2M block at range_start; the untouched THP at 0x8000_0000 stays mapped.
    expect(kvm_pgtable_leaves(w, -1).map((l) => l.ipa)).toEqual([0x8000_0000]);
  });

  it('NUMA protection of a whole THP makes the PMD PROT_NONE (change_huge_pmd); get_user_mapping_size() then sees no valid entry', () => {
    const { w, events } = sequenced('invalidate: {gpa: 0x8000_0000, size: 2M, change: numa}');
    expect(events.filter((e) => e.kind === 'mm.change_pte').map((e) => [e['hva'], e['prot_none'], e['pages']])).toEqual([[HVA, true, 512]]);
    expect(host_huge(w, HVA)).toMatchObject({ prot_none: true });
  });
});

describe('mmu.stale_mapping on blocks', () => {
  /** vcpu0 faults until it has its pfn; the mm migrates the THP; vcpu0 runs on until it maps or retries. */
  function scripted(variants: string[]) {
    const loaded = scenario('  vcpu0:\n    - access_hugepage: {ipa: 0x8000_1000, size: 2M}\n  mm:\n    - invalidate: {gpa: 0x8000_1000, size: 4K, change: migrate}\n', { variants });
    loaded.config.sched = { policy: 'script', seed: 1, script: [] };
    const m = new Machine(create_world(loaded.config));
    const id = (name: string) => m.w.threads.find((t) => t.name === name)!.id;
    const events: Event[] = [];
    const run_until = (thread: string, until: (e: Event, seen: Event[]) => boolean) => {
      for (let i = 0; i < 1000; i++) {
        const r = m.step(id(thread));
        events.push(...r.events);
        if (r.violations.length || r.events.some((e) => until(e, events))) return;
      }
      throw new Error(`${thread} never got there`);
    };
    // The fault's __kvm_faultin_pfn() is the first touch: the host allocates the THP.
    run_until('vcpu0', (e) => e.kind === 'fault.faultin');
    run_until('mm', (e, seen) => e.kind === 'lock.release' && seen.some((x) => x.kind === 'invalidate.end'));
    run_until('vcpu0', (e) => e.kind === 'fault.map' || e.kind === 'fault.retry');
    for (let r = m.step(); r.status === 'ok'; r = m.step()) events.push(...r.events);
    return { violation: m.w.violations[0] ?? null, events, w: m.w };
  }

  it('with mmu.no_retry_check a hugepage fault that looked its pfn up before a THP migration maps the old folio as a 2M block', () => {
    const r = scripted(['mmu.no_retry_check']);
    expect(r.violation?.invariant).toBe('mmu.stale_mapping');
    expect(r.violation?.message).toMatch(
      /^vcpu0 installed IPA 0x80000000 -> PA 0x10000000 \(2M block\) in s2, but the host now maps hva 0x7f0000000000 \(in the 2M block at hva 0x7f0000000000\) to pfn 0x1010000 \(changed at step \d+\), not pfn 0x10000: the fault looked up its pfn before an invalidation of this gfn and mapped it after/,
    );
  });

  it('the same schedule on the current code retries on the sequence count and maps the migrated folio', () => {
    const r = scripted([]);
    expect(r.violation).toBeNull();
    expect(r.events.find((e) => e.kind === 'fault.retry')?.['reason']).toBe('seq');
    expect(r.events.filter((e) => e.kind === 'fault.map').map((e) => [e['ipa'], e['pa'], e['level']]).at(-1)).toEqual([0x8000_0000, 0x10_1000_0000, 2]);
  });
});

describe('scenarios/thp-fault-vs-migrate.yaml', () => {
  const FILE = 'scenarios/thp-fault-vs-migrate.yaml';

  it('with mmu.no_retry_check a hugepage fault racing a THP migration is caught (a 2M block of the old folio)', () => {
    const { r } = find_violation(FILE, ['mmu.no_retry_check'], 'mmu.stale_mapping');
    expect(r.violation!.message).toMatch(/\(2M block\)/);
  });
});
