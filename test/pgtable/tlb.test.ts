// The TLB model: fills by hardware walks, hits, faults, and TLBI by VMID, IPA
// (with a level hint), range and all; a stale entry that a retired TLBI
// should have removed is a violation.
import { describe, expect, it } from 'vitest';
import { model_fn, ret } from '../../src/core/machine/model.js';
import type { World } from '../../src/core/machine/world.js';
import { KVM_PGTABLE_PROT_R, KVM_PGTABLE_PROT_RW, TLBI_TTL_UNKNOWN } from '../../src/core/arm64/kvm_pgtable.js';
import { kvm_pgtable_get_leaf, pgtable_map_now, pgtable_set_raw } from '../../src/core/arm64/pgtable.js';
import { guest_translate, hw_walk, tlb_entries, tlb_state, tlbi_all, tlbi_ipa, tlbi_range, tlbi_ttl_level, tlbi_vmid } from '../../src/core/arm64/tlb.js';
import { driver, pgt_world, ret_of, run_all } from './world.js';

const RESULT: Record<string, number> = { tlb: 1, walk: 2, translation: -1, permission: -2, access_flag: -3 };

model_fn<{ ipa: number; write: boolean }>('tlb_test_access', {
  go: (w, t, l) => {
    const r = guest_translate(w, t, -1, l.ipa, l.write);
    if (r.ok) w.metrics[`pa.${t.name}`] = r.pa;
    return ret(t, r.ok ? RESULT[r.via]! : RESULT[r.kind]!);
  },
});

function accesses(w: World, vcpu: number, list: [number, boolean?][]): void {
  driver(
    w,
    vcpu,
    list.map(([ipa, write]) => ({ fn: 'tlb_test_access', args: { ipa, write: write ?? false } })),
  );
}

function world(): World {
  const w = pgt_world();
  pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW);
  pgtable_map_now(w, -1, 0x8020_0000, 0x4020_0000, 0x20_0000, KVM_PGTABLE_PROT_R);
  return w;
}

describe('fills, hits and faults', () => {
  it('a walk fills the TLB of the CPU; the next access hits; permission faults come from the entry', () => {
    const w = world();
    accesses(w, 0, [[0x8000_0123], [0x8000_0456, true], [0x8020_1000], [0x8021_2345], [0x8020_0000, true], [0x8000_2000]]);
    run_all(w);
    expect([0, 1, 2, 3, 4, 5].map((i) => ret_of(w, 'vcpu0', i))).toEqual([2, 1, 2, 1, -2, -1]);
    expect(tlb_entries(w, 0).map((e) => [e.vmid, e.ipa, e.pa, e.level, e.r, e.w, e.x])).toEqual([
      [1, 0x8000_0000, 0x4000_0000, 3, true, true, false],
      [1, 0x8020_0000, 0x4020_0000, 2, true, false, false],
    ]);
    expect(w.metrics['pa.vcpu0']).toBe(0x4021_2345);
    expect(tlb_entries(w, 1)).toEqual([]);
    expect(w.violations).toEqual([]);
  });

  it('an entry without AF is an access-flag fault; reserved encodings and out-of-range IPAs are translation faults', () => {
    const w = world();
    const { pte } = kvm_pgtable_get_leaf(w, -1, 0x8000_0000);
    pgtable_set_raw(w, -1, 0x8000_0000, 3, pte & ~0x400n);
    const t = { cpu: 0, name: 'x', vcpu: 0 } as never;
    expect(guest_translate(w, t, -1, 0x8000_0000, false)).toEqual({ ok: false, kind: 'access_flag', level: 3 });
    pgtable_set_raw(w, -1, 0x8000_0000, 3, pte & ~0x2n); // type 0 at level 3
    expect(hw_walk(w, w.arm64!.mmu.pgt, 0x8000_0000)).toEqual({ ok: false, kind: 'translation', level: 3 });
    expect(guest_translate(w, t, -1, 2 ** 40, false)).toEqual({ ok: false, kind: 'translation', level: 1 });
  });

  it('capacity: the oldest entry is evicted', () => {
    const w = world();
    tlb_state(w).capacity = 2;
    pgtable_map_now(w, -1, 0x9000_0000, 0x5000_0000, 0x4000, KVM_PGTABLE_PROT_RW);
    accesses(w, 0, [[0x9000_0000], [0x9000_1000], [0x9000_2000], [0x9000_0000]]);
    run_all(w);
    expect([0, 1, 2, 3].map((i) => ret_of(w, 'vcpu0', i))).toEqual([2, 2, 2, 2]);
    expect(tlb_entries(w, 0).map((e) => e.ipa)).toEqual([0x9000_2000, 0x9000_0000]);
  });
});

describe('TLBI', () => {
  function filled(): World {
    const w = world();
    accesses(w, 0, [[0x8000_0000], [0x8020_0000]]);
    accesses(w, 1, [[0x8000_0000], [0x8020_0000]]);
    run_all(w);
    expect(tlb_entries(w, 0).length + tlb_entries(w, 1).length).toBe(4);
    return w;
  }

  it('by IPA with the right level hint, or none (TLBI_TTL_UNKNOWN), removes the entry on every CPU', () => {
    const w = filled();
    expect(tlbi_ipa(w, 1, 0x8000_0000, 3)).toBe(2);
    expect(tlbi_ipa(w, 1, 0x8020_1000, TLBI_TTL_UNKNOWN)).toBe(2); // inside the block, no hint
    expect(tlb_entries(w, 0)).toEqual([]);
  });

  it('__tlbi_level(): level 0 is a hint like 1..3 (since LPA2), so a level-0 TTL spares a level-2 block entry', () => {
    const w = filled();
    expect(tlbi_ttl_level(0)).toBe(0);
    expect(tlbi_ttl_level(TLBI_TTL_UNKNOWN)).toBeNull();
    expect(tlbi_ipa(w, 1, 0x8020_1000, 0)).toBe(0);
    expect(tlb_entries(w, 0).find((e) => e.level === 2)).toMatchObject({ stale_since: w.step });
  });

  it('by VMID, by range, and all', () => {
    const w = filled();
    expect(tlbi_vmid(w, 2)).toBe(0);
    expect(tlbi_range(w, 1, 0x8010_0000, 0x20_0000)).toBe(2); // overlaps the 2M block only
    expect(tlb_entries(w, 1).map((e) => e.level)).toEqual([3]);
    expect(tlbi_vmid(w, 1)).toBe(2);
    const w2 = filled();
    expect(tlbi_all(w2)).toBe(4);
  });

  it('a wrong level hint leaves the entry, and an access through it after the TLBI retired is a violation', () => {
    const w = filled();
    // The page table changes (unmap), and the TLBI names level 2 for a level-3 entry.
    pgtable_set_raw(w, -1, 0x8000_0000, 3, 0n);
    expect(tlbi_ipa(w, 1, 0x8000_0000, 2)).toBe(0);
    expect(tlb_entries(w, 0)[0]).toMatchObject({ ipa: 0x8000_0000, level: 3, stale_since: w.step });
    accesses(w, 0, [[0x8000_0000]]);
    run_all(w);
    expect(w.violations.map((v) => v.invariant)).toEqual(['tlb.stale_entry']);
    expect(w.violations[0]!.message).toMatch(/^vcpu0 on CPU 0 accessed IPA 0x80000000 through a stale TLB entry \(vmid 1, level 3, PA 0x40000000\): TLBI IPAS2E1IS ipa=0x80000000 TTL level 2 \(entry is level 3\) retired at step \d+ without removing it$/);
  });

  it('an entry that no TLBI has covered yet may be stale legally (the window between clear and TLBI)', () => {
    const w = filled();
    pgtable_set_raw(w, -1, 0x8000_0000, 3, 0n);
    accesses(w, 0, [[0x8000_0000]]);
    run_all(w);
    expect(ret_of(w, 'vcpu0', 0)).toBe(1);
    expect(w.violations).toEqual([]);
  });
});
