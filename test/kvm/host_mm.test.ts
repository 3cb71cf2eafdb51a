// Host pfns (src/core/kvm/host_mm.ts pfn_of()): a function of the page and
// of how many times it moved, not of the order pages were touched in.
import { describe, expect, it } from 'vitest';
import { create_world } from '../../src/core/world_init.js';
import { PFN_FIRST, PFN_WINDOW, host_change_pte, host_faultin, host_huge, host_pte, host_vma_declare } from '../../src/core/kvm/host_mm.js';
import { DEFAULT_HVA_BASE } from '../../src/core/world_init.js';
import type { Thread, World } from '../../src/core/machine/world.js';
import { x86_config } from '../x86/helpers.js';

const HVA = DEFAULT_HVA_BASE;
const PAGE = 0x1000;

function world(): { w: World; t: Thread } {
  const w = create_world(x86_config(1, {}));
  return { w, t: w.threads[0]! };
}

/** The World's host mm after touching `pages` (page indexes from HVA) in that order. */
function touched(pages: number[]): World['mm'] {
  const { w } = world();
  for (const p of pages) host_faultin(w, HVA + p * PAGE);
  return w.mm;
}

describe('host pfn numbering', () => {
  it('the same pages touched in any order have the same pfns', () => {
    const a = touched([0, 1, 2, 5]);
    expect(touched([5, 2, 0, 1])).toEqual(a);
    expect(touched([1, 5, 0, 2])).toEqual(a);
    expect(host_faultin({ mm: a } as World, HVA + 5 * PAGE)).toBe(PFN_FIRST + 5);
  });

  it('a migration moves a page to its next generation, a new pfn no other page has', () => {
    const { w, t } = world();
    const seen = new Set<number>();
    for (let p = 0; p < 4; p++) seen.add(host_faultin(w, HVA + p * PAGE));
    for (let round = 1; round <= 3; round++) {
      host_change_pte(w, t, HVA + PAGE, { migrate: true });
      const pfn = host_pte(w, HVA + PAGE)!.pfn;
      expect(pfn).toBe(PFN_FIRST + 1 + round * PFN_WINDOW);
      expect(seen.has(pfn)).toBe(false);
      seen.add(pfn);
    }
    // The other pages kept theirs.
    expect(host_pte(w, HVA)!.pfn).toBe(PFN_FIRST);
  });

  it('a THP gets the pfns its subpages would have, naturally aligned; a 1G page is rounded up to its size', () => {
    const { w } = world();
    host_vma_declare(w, HVA + 0x20_0000, 'thp', 0x20_0000);
    host_faultin(w, HVA + 0x20_3000);
    expect(host_huge(w, HVA + 0x20_0000)).toMatchObject({ pfn: PFN_FIRST + 0x200, size: 0x20_0000 });
    const { w: g } = world();
    host_vma_declare(g, HVA, 'hugetlb', 2 ** 30);
    host_faultin(g, HVA);
    expect(host_huge(g, HVA)!.pfn).toBe(0x40000);
    // Its pfns run to 0x80000, which the 768M of pages above its end would have: they are refused rather than shared.
    expect(host_faultin(g, HVA + 2 ** 30 + 0x3000_0000)).toBe(0x80000);
    expect(() => host_faultin(g, HVA + 2 ** 30 + 0x1000)).toThrow(/would share a pfn with the huge page at hva 0x7f0000000000 \(1024M\)/);
  });

  it('memslots more than 64 GiB of hva apart are refused when the World is made', () => {
    const cfg = x86_config(1, {});
    expect(() => create_world({ ...cfg, memslots: [{ gpa: 0, size: 0x1000, hva: HVA }, { gpa: 0x1_0000_0000, size: 0x1000, hva: HVA + 2 ** 36 }] })).toThrow(/within one aligned 64 GiB window/);
  });
});
