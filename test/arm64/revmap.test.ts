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
    expect(mmu.revmap!.nested_revmap_broken).toBe(false);
    // Each further record is stored with the allocation answered "fail"; the first
    // store that needs a node fails, and must leave the tree exactly as it was.
    let before = '';
    for (let i = 0; i < 40 && !mmu.revmap!.nested_revmap_broken; i++) {
      before = hash_value(mmu.revmap!.mt);
      w.sched.script.push('mt_alloc_fail=1');
      revmap_add(w, t, mmu, 0x4000_0000 + (i + 1) * 0x2000, 0x10_0000 + i * 0x1000, 4096);
    }
    expect(mmu.revmap!.nested_revmap_broken).toBe(true);
    expect(hash_value(mmu.revmap!.mt)).toBe(before);
    const ev = w.events.find((e) => e.kind === 'revmap.invalid');
    expect(ev?.['reason']).toMatch(/^ENOMEM/);
  });
});

describe('the payload as posted (VALID_ENTRY bit 63, nested IPA bits 55:12, UNKNOWN_IPA bit 0)', () => {
  it('records are stored raw, never as internal or reserved entries; an alias becomes one UNKNOWN_IPA record over the union', async () => {
    const { parse_scenario } = await import('../../src/scenario/load.js');
    const { create_world } = await import('../../src/core/world_init.js');
    const R = await import('../../src/core/arm64/nested_revmap.js');
    const M = await import('../../src/core/maple/index.js');
    const text = `
name: t
summary: t
arch: arm64
vm: {vcpus: 1, ipa_bits: 32, nested_mmus: 2, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads: {}
`;
    const w = create_world(parse_scenario(text, 't.yaml').config);
    w.variants['nv.revmap'] = true;
    const t = w.threads[0]!;
    const mmu = w.arm64!.nested_mmus[0]!;
    R.revmap_add(w, t, mmu, 0x4000_1000, 0x5000, 4096);
    R.revmap_add(w, t, mmu, 0x4000_3000, 0xff_ffff_f000, 4096);
    const mt = mmu.revmap!.mt;
    expect(M.mtree_load(mt, 0x4000_1000)).toBe(0x8000000000005000n);
    expect(M.mtree_load(mt, 0x4000_3fff)).toBe(0x800000fffffff000n);
    for (const { entry } of M.mt_entries(mt)) {
      expect(M.xa_is_internal(entry)).toBe(false);
      expect(M.mt_is_reserved(entry)).toBe(false);
      expect(M.ul_big(entry) & R.VALID_ENTRY).toBe(R.VALID_ENTRY);
    }
    // The same canonical page at a second nested IPA: ambiguous.
    R.revmap_add(w, t, mmu, 0x4000_1000, 0x9000, 4096);
    expect(M.mtree_load(mt, 0x4000_1000)).toBe(R.VALID_ENTRY | R.UNKNOWN_IPA);
    expect(R.payload_is_unknown(M.mtree_load(mt, 0x4000_1000))).toBe(true);
    expect(R.payload_nested_ipa(M.mtree_load(mt, 0x4000_3000))).toBe(0xff_ffff_f000);
    // The mt.store events carry the exact 64-bit entries.
    const stores = w.events.filter((e) => e.kind === 'mt.store').map((e) => e['entry']);
    expect(stores).toEqual([0x8000000000005000n, 0x800000fffffff000n, 0x8000000000000001n]);
    expect(w.events.some((e) => e.kind === 'revmap.invalid' && /UNKNOWN_IPA/.test(String(e['reason'])))).toBe(true);
    expect(M.mt_validate(mt)).toEqual([]);
  });
});

