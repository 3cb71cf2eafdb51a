// The nested stage-2 reverse map (scenarios/nv-revmap.yaml): it cuts the cost
// of canonical invalidations, the Ampere v2 overwrite loses a record and
// leaves a stale shadow translation, and guest TLBIs leave stale records.
import { describe, expect, it } from 'vitest';
import { find_violation, run_seed } from '../helpers/seeds.js';

const FILE = 'scenarios/nv-revmap.yaml';

describe('nested stage-2 reverse map', () => {
  it('revmap.overwrite: one canonical page at two nested IPAs keeps one record, and the other alias survives the invalidation', () => {
    const { r } = find_violation(FILE, ['revmap.overwrite'], 'mmu.stale_mapping');
    expect(r.violation!.message).toMatch(
      /^nested\[\d\] still maps IPA 0x[15]000 -> PA 0x[0-9a-f]+ after the host moved hva 0x7f0000000000 from pfn 0x[0-9a-f]+ to 0x[0-9a-f]+: the invalidation should have unmapped it/,
    );
  });

  it('the same seed with the reverse map as proposed pollutes the range and falls back to a full unmap', () => {
    const { seed } = find_violation(FILE, ['revmap.overwrite'], 'mmu.stale_mapping');
    const r = run_seed(FILE, seed);
    expect(r.violation).toBeNull();
    expect(r.metrics['revmap_full_unmaps']).toBeGreaterThan(0);
  });

  it('the map cuts the walk cost of canonical invalidations against revmap.off (upstream), on every seed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const on = run_seed(FILE, seed);
      const off = run_seed(FILE, seed, ['revmap.off']);
      expect(on.violation).toBeNull();
      expect(off.violation).toBeNull();
      const per = (m: Record<string, number>) => (m['nested_unmap_walk_steps'] ?? 0) / (m['canonical_unmaps'] ?? 1);
      expect(per(on.metrics), `seed ${seed}`).toBeLessThan(per(off.metrics));
    }
  });

  it('a guest TLBI that removes a shadow entry leaves its record behind (Marc Zyngier\'s accuracy question)', () => {
    const r = run_seed(FILE, 1);
    expect(r.metrics['revmap_stale_records']).toBeGreaterThanOrEqual(1);
  });

  it('2,000 seeded random runs with the map on find nothing', { timeout: 600_000 }, () => {
    const bad: string[] = [];
    for (let seed = 1; seed <= 2000; seed++) {
      const r = run_seed(FILE, seed);
      if (r.violation || r.status !== 'end') bad.push(`${seed}: ${r.violation?.invariant ?? r.status}`);
    }
    expect(bad).toEqual([]);
  });
});
