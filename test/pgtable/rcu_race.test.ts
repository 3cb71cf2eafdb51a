// The race the RCU series closed: vcpu1 walks into a level-3 table under the
// read lock while vcpu0, also under the read lock, collapses that table into
// a 2M block. The unlinked table must not be freed until vcpu1 has left its
// RCU read-side section.
import { describe, expect, it } from 'vitest';
import { sched_init } from '../../src/core/machine/scheduler.js';
import { KVM_PGTABLE_PROT_RW, KVM_PGTABLE_WALK_HANDLE_FAULT, KVM_PGTABLE_WALK_SHARED, pgt_page } from '../../src/core/arm64/kvm_pgtable.js';
import { pgtable_check_refcounts, pgtable_map_now } from '../../src/core/arm64/pgtable.js';
import { driver, pgt_world, ret_of, run_all } from './world.js';

const F = KVM_PGTABLE_WALK_SHARED | KVM_PGTABLE_WALK_HANDLE_FAULT;

function race_world(variants: string[] = [], seed = 1, policy: 'rr' | 'random' = 'rr') {
  const w = pgt_world({ variants, seed, policy });
  // A 4K mapping leaves a level-3 table (page 3) under pt2[0].
  pgtable_map_now(w, -1, 0x8000_0000, 0x4000_0000, 0x1000, KVM_PGTABLE_PROT_RW, { force_pte: true });
  const barrier = { fn: 'rcu_barrier', args: {} };
  driver(w, 0, [{ fn: 'kvm_pgtable_stage2_map', args: { mmu: -1, addr: 0x8000_0000, size: 0x20_0000, phys: 0x4020_0000, prot: KVM_PGTABLE_PROT_RW, flags: F, memcache: 0 }, lock: 'read' }, barrier]);
  driver(w, 1, [{ fn: 'kvm_pgtable_stage2_map', args: { mmu: -1, addr: 0x8000_1000, size: 0x1000, phys: 0x4000_1000, prot: KVM_PGTABLE_PROT_RW, flags: F, memcache: 1 }, lock: 'read' }, barrier]);
  return w;
}

// Thread ids: 0 rcu_gp, 1 vcpu0, 2 vcpu1. vcpu1 takes the read lock and walks
// down to the level-3 table (its reload of pt2[0] at step 11); vcpu0 then runs
// its whole collapse (cmpxchg pt2[0] -> LOCKED, TLBI, block, free the table);
// vcpu1's next step reads pt3[1].
const COMMITTED = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2];

describe('parallel faults: a table collapsed into a block while another walker is inside it', () => {
  it('with pgtable.free_unlinked_sync the committed schedule reaches the use-after-free', () => {
    const w = race_world(['pgtable.free_unlinked_sync']);
    const { m } = run_all(w, { picks: COMMITTED, max: COMMITTED.length });
    expect(m.schedule.picks).toEqual(COMMITTED);
    const v = w.violations.filter((x) => x.invariant === 'pgtable.use_after_free');
    expect(v.length).toBe(1);
    expect(v[0]!.step).toBe(25);
    expect(v[0]!.thread).toBe('vcpu1');
    expect(v[0]!.values).toMatchObject({ page: 3, level: 3, ptep: 'pt3[1]', freed_step: 24, freed_by: 'vcpu0' });
    expect(v[0]!.message).toBe(
      'use-after-free: vcpu1 read pt3[1] in level-3 table page 3, which vcpu0 freed at step 24 ' +
        '(at once in stage2_free_unlinked_table, no RCU grace period: pgtable.free_unlinked_sync) while vcpu1 was still walking it',
    );
  });

  it('without it the same schedule is safe: the table waits for a grace period that ends after vcpu1 leaves', () => {
    const w = race_world();
    const { m, events } = run_all(w, { picks: COMMITTED, events: true });
    expect(m.schedule.picks.slice(0, COMMITTED.length)).toEqual(COMMITTED);
    expect(w.violations).toEqual([]);
    expect(ret_of(w, 'vcpu0', 0)).toBe(0);
    // vcpu1 installed its page in the unlinked table (harmless: it is unreachable; the guest refaults).
    expect(ret_of(w, 'vcpu1', 0)).toBe(0);
    const unlock1 = events.findIndex((e) => e.thread === 'vcpu1' && e.kind === 'rcu.read_unlock');
    const gp_end = events.findIndex((e) => e.kind === 'rcu.gp_end');
    const free = events.findIndex((e) => e.kind === 'rcu.free' && e['page'] === 3);
    expect(unlock1).toBeGreaterThan(0);
    expect(gp_end).toBeGreaterThan(unlock1);
    expect(free).toBeGreaterThan(gp_end);
    expect(pgt_page(w, 3).freed).toBe(true);
    expect(pgtable_check_refcounts(w, -1)).toEqual([]);
  });

  it('2,000 seeded random schedules find nothing without the variant (and the variant is caught on some)', () => {
    let uaf = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const w = race_world([], seed, 'random');
      w.sched = sched_init('random', seed);
      const { status } = run_all(w);
      expect(status).toBe('end');
      if (w.violations.length) throw new Error(`seed ${seed}: ${w.violations.map((v) => v.message).join('; ')}`);
      expect(pgt_page(w, 3).freed).toBe(true);
    }
    for (let seed = 1; seed <= 200; seed++) {
      const w = race_world(['pgtable.free_unlinked_sync'], seed, 'random');
      run_all(w);
      if (w.violations.some((v) => v.invariant === 'pgtable.use_after_free')) uaf++;
    }
    expect(uaf).toBeGreaterThan(0);
  });
});
