// The nested stage-2 reverse map (scenarios/nv-revmap.yaml): it cuts the cost
// of canonical invalidations, the Ampere v2 overwrite loses a record and
// leaves a stale shadow translation, and guest TLBIs leave stale records.
import { describe, expect, it } from 'vitest';
import { find_violation, run_seed } from '../helpers/seeds.js';

const FILE = 'scenarios/nv-revmap.yaml';
const ON = ['nv.revmap'];

describe('nested stage-2 reverse map', () => {
  it('revmap.overwrite: one canonical page at two nested IPAs keeps one record, and the other alias survives the invalidation', () => {
    const { r } = find_violation(FILE, ['nv.revmap_overwrite'], 'mmu.stale_mapping');
    expect(r.violation!.message).toMatch(
      /^nested\[\d\] still maps IPA 0x[15]000 -> PA 0x[0-9a-f]+ after the host moved hva 0x7f0000000000 from pfn 0x[0-9a-f]+ to 0x[0-9a-f]+: the invalidation should have unmapped it/,
    );
  });

  it('the same seed with the reverse map as proposed pollutes the range and falls back to a full unmap', () => {
    const { seed } = find_violation(FILE, ['nv.revmap_overwrite'], 'mmu.stale_mapping');
    const r = run_seed(FILE, seed, ON);
    expect(r.violation).toBeNull();
    expect(r.metrics['revmap_full_unmaps']).toBeGreaterThan(0);
  });

  it('the map cuts the walk cost of canonical invalidations against upstream (no map), on every seed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const on = run_seed(FILE, seed, ON);
      const off = run_seed(FILE, seed);
      expect(on.violation).toBeNull();
      expect(off.violation).toBeNull();
      const per = (m: Record<string, number>) => (m['nested_unmap_walk_steps'] ?? 0) / (m['canonical_unmaps'] ?? 1);
      expect(per(on.metrics), `seed ${seed}`).toBeLessThan(per(off.metrics));
    }
  });

  it('a guest TLBI that removes a shadow entry leaves its record behind (Marc Zyngier\'s accuracy question)', () => {
    const r = run_seed(FILE, 1, ON);
    expect(r.metrics['revmap_stale_records']).toBeGreaterThanOrEqual(1);
  });

  it('2,000 seeded random runs with the map on (nv.revmap) find nothing', { timeout: 600_000 }, () => {
    const bad: string[] = [];
    for (let seed = 1; seed <= 2000; seed++) {
      const r = run_seed(FILE, seed, ON);
      if (r.violation || r.status !== 'end') bad.push(`${seed}: ${r.violation?.invariant ?? r.status}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('reverse map allocation failure (GFP_NOWAIT under mmu_lock)', () => {
  it('a failed store leaves the tree as it was and marks the map broken, so the next invalidation unmaps in full', async () => {
    const { parse_scenario } = await import('../../src/scenario/load.js');
    const { create_world } = await import('../../src/core/world_init.js');
    const { revmap_add } = await import('../../src/core/arm64/nested_revmap.js');
    const { hash_value } = await import('../../src/core/machine/hash.js');
    const text = `
name: t
summary: t
arch: arm64
vm: {vcpus: 1, ipa_bits: 32, nested_mmus: 2, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads: {}
schedule: {policy: script, script: ['mt_alloc_fail=0', 'mt_alloc_fail=1']}
`;
    const w = create_world(parse_scenario(text, 't.yaml').config);
    const t = w.threads[0]!;
    const mmu = w.arm64!.nested_mmus[0]!;
    revmap_add(w, t, mmu, 0x4000_0000, 0x1000, 4096);
    expect(mmu.revmap!.broken).toBe(false);
    // Each further record is stored with the allocation answered "fail"; the first
    // store that needs a node fails, and must leave the tree exactly as it was.
    let before = '';
    for (let i = 0; i < 40 && !mmu.revmap!.broken; i++) {
      before = hash_value(mmu.revmap!.mt);
      w.sched.script.push('mt_alloc_fail=1');
      revmap_add(w, t, mmu, 0x4000_0000 + (i + 1) * 0x2000, 0x10_0000 + i * 0x1000, 4096);
    }
    expect(mmu.revmap!.broken).toBe(true);
    expect(hash_value(mmu.revmap!.mt)).toBe(before);
    const ev = w.events.find((e) => e.kind === 'revmap.invalid');
    expect(ev?.['reason']).toMatch(/^ENOMEM/);
  });
});
