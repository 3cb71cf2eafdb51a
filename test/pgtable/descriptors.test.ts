// Stage-2 descriptors bit for bit. Expected values are written by hand from
// the VMSAv8-64 stage-2 layout (4K granule): bit 0 valid, bit 1 type (1 =
// table / page, 0 = block), 5:2 MemAttr, 6 S2AP read, 7 S2AP write, 9:8 SH
// (3 = inner shareable), 10 AF, 47:12 output address, 54 XN, 58:55 SW.
// Normal memory with FWB is MemAttr 0b0110 (0x18 in the descriptor), without
// FWB 0b1111 (0x3c); Device-nGnRE is 0b0001 (0x4).
import { describe, expect, it } from 'vitest';
import {
  KVM_INVALID_PTE_LOCKED,
  KVM_NV_GUEST_MAP_SZ,
  KVM_PGTABLE_PROT_DEVICE,
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_RW,
  KVM_PGTABLE_PROT_RWX,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_PROT_X,
  PAGE_S2_MEMATTR,
  kvm_decode_nested_level,
  kvm_encode_nested_level,
  kvm_init_invalid_leaf_owner,
  kvm_init_valid_leaf_pte,
  kvm_level_supports_block_mapping,
  kvm_mmu_cache_min_pages,
  kvm_pgd_pages,
  kvm_pte_decode,
  kvm_pte_describe,
  stage2_pte_is_locked,
  stage2_set_prot_attr,
  stage2_start_level,
  type kvm_pgtable,
} from '../../src/core/arm64/kvm_pgtable.js';
import { kvm_pgtable_get_leaf, kvm_pgtable_walk_levels, pgtable_map_now } from '../../src/core/arm64/pgtable.js';
import { pgt_world } from './world.js';

const FWB: kvm_pgtable = { ia_bits: 40, start_level: 1, pgd: [], flags: 0, fwb_cap: true };
const NOFWB: kvm_pgtable = { ...FWB, fwb_cap: false };

function leaf(pgt: kvm_pgtable, pa: number, prot: number | bigint, level: number): bigint {
  const attr = stage2_set_prot_attr(pgt, prot);
  if (typeof attr === 'number') throw new Error(`prot rejected: ${attr}`);
  return kvm_init_valid_leaf_pte(pa, attr, level);
}

const R = KVM_PGTABLE_PROT_R;
const W = KVM_PGTABLE_PROT_W;
const X = KVM_PGTABLE_PROT_X;

// [name, prot, 4K page at PA 0x4000_1000, 2M block at 0x4020_0000, 1G block at 0xc000_0000]
const PERMS: [string, number, bigint, bigint, bigint][] = [
  ['none', 0, 0x0040_0000_4000_171bn, 0x0040_0000_4020_0719n, 0x0040_0000_c000_0719n],
  ['R', R, 0x0040_0000_4000_175bn, 0x0040_0000_4020_0759n, 0x0040_0000_c000_0759n],
  ['W', W, 0x0040_0000_4000_179bn, 0x0040_0000_4020_0799n, 0x0040_0000_c000_0799n],
  ['RW', R | W, 0x0040_0000_4000_17dbn, 0x0040_0000_4020_07d9n, 0x0040_0000_c000_07d9n],
  ['X', X, 0x0000_0000_4000_171bn, 0x0000_0000_4020_0719n, 0x0000_0000_c000_0719n],
  ['RX', R | X, 0x0000_0000_4000_175bn, 0x0000_0000_4020_0759n, 0x0000_0000_c000_0759n],
  ['RWX', R | W | X, 0x0000_0000_4000_17dbn, 0x0000_0000_4020_07d9n, 0x0000_0000_c000_07d9n],
];

describe('leaf descriptors (FWB, Normal memory)', () => {
  for (const [name, prot, page, block2m, block1g] of PERMS) {
    it(`${name}: 4K page, 2M block, 1G block`, () => {
      expect(leaf(FWB, 0x4000_1000, prot, 3)).toBe(page);
      expect(leaf(FWB, 0x4020_0000, prot, 2)).toBe(block2m);
      expect(leaf(FWB, 0xc000_0000, prot, 1)).toBe(block1g);
    });
  }

  it('the same values come out of a real map walk at each level', () => {
    const w = pgt_world({ rcu: false });
    for (const [name, prot, page, block2m, block1g] of PERMS) {
      const i = PERMS.findIndex((p) => p[0] === name);
      // Distinct IPAs per permission; PAs fixed so the expected values hold.
      const base = 0x1_0000_0000 * (i + 1);
      expect(pgtable_map_now(w, -1, base + 0x1000, 0x4000_1000, 0x1000, prot)).toBe(0);
      expect(pgtable_map_now(w, -1, base + 0x20_0000, 0x4020_0000, 0x20_0000, prot)).toBe(0);
      expect(pgtable_map_now(w, -1, base + 0x4000_0000, 0xc000_0000, 0x4000_0000, prot)).toBe(0);
      expect(kvm_pgtable_get_leaf(w, -1, base + 0x1000)).toEqual({ pte: page, level: 3 });
      expect(kvm_pgtable_get_leaf(w, -1, base + 0x20_0000)).toEqual({ pte: block2m, level: 2 });
      expect(kvm_pgtable_get_leaf(w, -1, base + 0x4000_0000)).toEqual({ pte: block1g, level: 1 });
    }
  });
});

describe('memory attributes', () => {
  it('Normal without FWB is MemAttr 0xf (0x3c in the descriptor)', () => {
    expect(PAGE_S2_MEMATTR('NORMAL', false)).toBe(0x3cn);
    expect(PAGE_S2_MEMATTR('NORMAL', true)).toBe(0x18n);
    expect(leaf(NOFWB, 0x4000_1000, KVM_PGTABLE_PROT_RW, 3)).toBe(0x0040_0000_4000_17ffn);
    expect(leaf(NOFWB, 0x4020_0000, KVM_PGTABLE_PROT_RW, 2)).toBe(0x0040_0000_4020_07fdn);
  });

  it('Device-nGnRE is MemAttr 1 with or without FWB, never executable', () => {
    expect(leaf(FWB, 0x4000_1000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE, 3)).toBe(0x0040_0000_4000_17c7n);
    expect(leaf(NOFWB, 0x4000_1000, KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_DEVICE, 3)).toBe(0x0040_0000_4000_17c7n);
    expect(stage2_set_prot_attr(FWB, KVM_PGTABLE_PROT_RWX | KVM_PGTABLE_PROT_DEVICE)).toBe(-22);
  });

  it('output address bits 47:12 straddle the two 32-bit halves', () => {
    expect(leaf(FWB, 0x12_3456_7000, KVM_PGTABLE_PROT_RW, 3)).toBe(0x0040_0012_3456_77dbn);
    expect(leaf(FWB, 0xffff_ffff_f000, KVM_PGTABLE_PROT_RW, 3)).toBe(0x0040_ffff_ffff_f7dbn);
  });

  it('software bits 58:55: NV keeps the guest mapping level in SW1|SW0', () => {
    expect(KVM_NV_GUEST_MAP_SZ).toBe(0x0180_0000_0000_0000n);
    expect(leaf(FWB, 0x4000_1000, BigInt(KVM_PGTABLE_PROT_RW) | kvm_encode_nested_level(2), 3)).toBe(0x0140_0000_4000_17dbn);
    const d = leaf(FWB, 0x4000_1000, BigInt(KVM_PGTABLE_PROT_RW) | kvm_encode_nested_level(3), 3);
    expect(d).toBe(0x01c0_0000_4000_17dbn);
    expect(kvm_decode_nested_level(d)).toBe(3);
    expect(kvm_pte_decode(d, 3).sw).toBe(3);
  });
});

describe('table and invalid descriptors', () => {
  it('table descriptors at levels 0, 1 and 2 (48-bit IPA: four levels) point at the next table page', () => {
    const w = pgt_world({ ipa_bits: 48, rcu: false });
    const pgt = w.arm64!.mmu.pgt;
    expect(pgt.start_level).toBe(0);
    expect(pgt.pgd).toEqual([0]);
    expect(pgtable_map_now(w, -1, 0x4000_1000, 0x4000_1000, 0x1000, KVM_PGTABLE_PROT_RW)).toBe(0);
    const { levels, pa } = kvm_pgtable_walk_levels(w, -1, 0x4000_1000);
    // Table pages 1, 2, 3 sit at PA 0x80_0000_0000 + id * 4K; type and valid set.
    expect(levels.map((l) => [l.level, l.page, l.index, l.descriptor])).toEqual([
      [0, 0, 0, 0x0000_0080_0000_1003n],
      [1, 1, 1, 0x0000_0080_0000_2003n],
      [2, 2, 0, 0x0000_0080_0000_3003n],
      [3, 3, 1, 0x0040_0000_4000_17dbn],
    ]);
    expect(pa).toBe(0x4000_1000);
    expect(levels.map((l) => l.type)).toEqual(['table', 'table', 'table', 'page']);
  });

  it('40-bit IPA: three levels from level 1, two concatenated pgd pages', () => {
    const w = pgt_world({ ipa_bits: 40, rcu: false });
    const pgt = w.arm64!.mmu.pgt;
    expect([pgt.start_level, pgt.pgd.length]).toEqual([1, 2]);
    expect(kvm_mmu_cache_min_pages(pgt)).toBe(2);
    // IPA 0x80_4000_1000 is in the second 512G half: pgd page 1, index 1.
    expect(pgtable_map_now(w, -1, 0x80_4000_1000, 0x4000_1000, 0x1000, KVM_PGTABLE_PROT_R)).toBe(0);
    const { levels } = kvm_pgtable_walk_levels(w, -1, 0x80_4000_1000);
    expect(levels.map((l) => [l.level, l.page, l.index, l.descriptor])).toEqual([
      [1, 1, 1, 0x0000_0080_0000_2003n],
      [2, 2, 0, 0x0000_0080_0000_3003n],
      [3, 3, 1, 0x0040_0000_4000_175bn],
    ]);
  });

  it('start level and concatenated pgd pages by IPA size (stage2_pgtable_levels = levels(ipa - 4), at least 2)', () => {
    const cases: [number, number, number][] = [
      [32, 2, 4],
      [34, 2, 16],
      [36, 1, 1],
      [40, 1, 2],
      [42, 1, 8],
      [43, 1, 16],
      [44, 0, 1],
      [48, 0, 1],
    ];
    for (const [ia, start, pages] of cases) {
      expect([ia, stage2_start_level(ia), kvm_pgd_pages(ia, stage2_start_level(ia))]).toEqual([ia, start, pages]);
    }
  });

  it('invalid entries: LOCKED is bit 10, the owner id sits in 9:2', () => {
    expect(KVM_INVALID_PTE_LOCKED).toBe(0x400n);
    expect(stage2_pte_is_locked(0x400n)).toBe(true);
    expect(stage2_pte_is_locked(0x401n)).toBe(false); // valid: AF, not LOCKED
    expect(kvm_init_invalid_leaf_owner(1)).toBe(0x4n);
    expect(kvm_pte_decode(0x4n, 3)).toMatchObject({ type: 'owner', owner: 1, valid: false });
    expect(kvm_pte_decode(0x400n, 2)).toMatchObject({ type: 'locked', locked: true });
    expect(kvm_pte_describe(0x400n, 2)).toMatch(/LOCKED/);
  });

  it('decodes and describes a leaf the way pt walk prints it', () => {
    const d = kvm_pte_decode(0x0040_0000_4020_07d9n, 2);
    expect(d).toMatchObject({ type: 'block', valid: true, oa: 0x4020_0000, size: 0x20_0000, memattr: 6, r: true, w: true, xn: true, sh: 3, af: true, sw: 0 });
    expect(kvm_pte_describe(0x0040_0000_4020_07d9n, 2)).toBe('2M block PA 0x40200000 S2AP RW XN AF SH IS MemAttr 0x6');
    expect(kvm_pte_decode(0x0000_0000_4000_0719n, 3).type).toBe('reserved'); // type 0 at level 3
    expect(kvm_pte_decode(0x0000_0080_0000_1003n, 3).type).toBe('page'); // type 1 at level 3 is a page
    expect(kvm_level_supports_block_mapping(0)).toBe(false);
    expect(kvm_pte_decode(0x0000_0000_0000_0719n, 0).type).toBe('reserved'); // no level-0 blocks with 4K
  });
});
