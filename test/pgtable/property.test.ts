// Random mixes of parallel faults (4K pages and 2M blocks, under the read
// lock), unmaps (under the write lock) and guest accesses on a few vCPUs,
// over random schedules: no invariant breaks, the refcount rule holds at the
// end, and no reachable table page is freed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { model_fn, ret } from '../../src/core/machine/model.js';
import { sched_init } from '../../src/core/machine/scheduler.js';
import type { World } from '../../src/core/machine/world.js';
import {
  KVM_PGTABLE_PROT_RW,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_SHARED,
  kvm_pte_table,
  pgt_page,
  pte_get,
} from '../../src/core/arm64/kvm_pgtable.js';
import { kvm_pte_follow, pgtable_check_refcounts } from '../../src/core/arm64/pgtable.js';
import { guest_translate } from '../../src/core/arm64/tlb.js';
import { driver, pgt_world, run_all, type Act } from './world.js';

model_fn<{ ipa: number }>('prop_test_access', {
  go: (w, t, l) => {
    const r = guest_translate(w, t, -1, l.ipa, true);
    return ret(t, r.ok ? 0 : -14);
  },
});

const BASE = 0x8000_0000;
const PA_OFF = 0x1_0000_0000;

type Op = { k: 'map4k'; page: number } | { k: 'map2m'; region: number } | { k: 'unmap'; page: number; big: boolean } | { k: 'access'; page: number };

function act(op: Op, vcpu: number): Act {
  const F = KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT;
  switch (op.k) {
    case 'map4k': {
      const ipa = BASE + op.page * 0x1000;
      return { fn: 'kvm_pgtable_stage2_map', args: { mmu: -1, addr: ipa, size: 0x1000, phys: ipa + PA_OFF, prot: KVM_PGTABLE_PROT_RW, flags: F, memcache: vcpu }, lock: 'read' };
    }
    case 'map2m': {
      const ipa = BASE + op.region * 0x20_0000;
      return { fn: 'kvm_pgtable_stage2_map', args: { mmu: -1, addr: ipa, size: 0x20_0000, phys: ipa + PA_OFF, prot: KVM_PGTABLE_PROT_RW, flags: F, memcache: vcpu }, lock: 'read' };
    }
    case 'unmap': {
      const ipa = op.big ? BASE + Math.floor(op.page / 512) * 0x20_0000 : BASE + op.page * 0x1000;
      return { fn: 'kvm_stage2_unmap_range', args: { mmu: -1, start: ipa, size: op.big ? 0x20_0000 : 0x1000, may_block: true }, lock: 'write' };
    }
    case 'access':
      return { fn: 'prop_test_access', args: { ipa: BASE + op.page * 0x1000 } };
  }
}

/** Pages 0..3 and 512..515: two 2M regions, a few 4K pages in each. */
const page = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 512, max: 515 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  page.map((p) => ({ k: 'map4k' as const, page: p })),
  fc.integer({ min: 0, max: 1 }).map((r) => ({ k: 'map2m' as const, region: r })),
  fc.record({ page, big: fc.boolean() }).map(({ page: p, big }) => ({ k: 'unmap' as const, page: p, big })),
  page.map((p) => ({ k: 'access' as const, page: p })),
);

function reachable_live(w: World): string | null {
  const pgt = w.arm64!.mmu.pgt;
  const visit = (id: number): string | null => {
    const p = pgt_page(w, id);
    if (p.freed) return `reachable table page ${id} is freed`;
    for (let i = 0; i < 512; i++) {
      const d = pte_get(p, i);
      if (kvm_pte_table(d, p.level)) {
        const bad = visit(kvm_pte_follow(w, d));
        if (bad) return bad;
      }
    }
    return null;
  };
  for (const id of pgt.pgd) {
    const bad = visit(id);
    if (bad) return bad;
  }
  return null;
}

describe('parallel stage-2 updates over random schedules', () => {
  it('property: no violation, refcounts hold, nothing reachable is freed', () => {
    fc.assert(
      fc.property(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (progs, seed) => {
        const w = pgt_world({ vcpus: progs.length, policy: 'random', seed });
        w.sched = sched_init('random', seed);
        progs.forEach((p, v) => driver(w, v, [...p.map((o) => act(o, v)), { fn: 'rcu_barrier', args: {} }]));
        const { status } = run_all(w);
        expect(status).toBe('end');
        expect(w.violations.map((v) => v.message)).toEqual([]);
        expect(pgtable_check_refcounts(w, -1)).toEqual([]);
        expect(reachable_live(w)).toBeNull();
        expect(w.rcu!.cbs).toEqual([]);
      }),
      { numRuns: 300, seed: 4242 },
    );
  });
});
