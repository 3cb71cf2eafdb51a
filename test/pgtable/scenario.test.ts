// scenarios/parallel-walk-rcu.yaml through the scenario loader, create_world()
// and the arm64 vCPU run loop.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';

const FILE = 'scenarios/parallel-walk-rcu.yaml';
const SYNC = ['pgtable.free_unlinked_sync'];

// A seed whose schedule puts vcpu1 inside the table vcpu0 collapses. Found
// rather than hard-coded: any change to the model's step structure moves it.
const RACY_SEED = (() => {
  for (let seed = 1; seed <= 300; seed++) {
    if (run_scenario(load_scenario(FILE, { seed, variants: SYNC }), { keep_events: false }).violation) return seed;
  }
  throw new Error('no seed in 1..300 reaches the use-after-free');
})();

describe('scenarios/parallel-walk-rcu.yaml', () => {
  it('runs to the end without a violation; the collapsed table is freed by the RCU callback after a grace period', () => {
    const r = run_scenario(load_scenario(FILE, { seed: RACY_SEED }));
    expect(r.status).toBe('end');
    expect(r.violation).toBeNull();
    const ev = r.events;
    const call = ev.findIndex((e) => e.kind === 'rcu.call');
    const gp_end = ev.findIndex((e, i) => i > call && e.kind === 'rcu.gp_end');
    const free = ev.findIndex((e) => e.kind === 'rcu.free');
    expect(call).toBeGreaterThan(0);
    expect(ev[call]!.thread).toBe('vcpu0');
    expect(gp_end).toBeGreaterThan(call);
    expect(free).toBeGreaterThan(gp_end);
    expect(ev.some((e) => e.kind === 'fault.map' && e['level'] === 2)).toBe(true);
    // At this seed vcpu1 is inside the old table when vcpu0 unlinks it: it keeps
    // walking it after call_rcu(), and the grace period ends after it leaves.
    const page = ev[call]!['page'] as number;
    const touched = ev.findIndex((e, i) => i > call && e.thread === 'vcpu1' && e.kind === 'pte.visit' && String(e['ptep']).startsWith(`pt${page}[`));
    const left = ev.findIndex((e, i) => i > touched && e.thread === 'vcpu1' && e.kind === 'rcu.read_unlock');
    expect(touched).toBeGreaterThan(call);
    expect(left).toBeGreaterThan(touched);
    expect(gp_end).toBeGreaterThan(left);
  });

  it('with pgtable.free_unlinked_sync its own seed reaches the use-after-free', () => {
    const r = run_scenario(load_scenario(FILE, { seed: RACY_SEED, variants: SYNC }));
    expect(r.violation?.invariant).toBe('pgtable.use_after_free');
    expect(r.violation?.thread).toBe('vcpu1');
    expect(r.violation?.message).toMatch(/^use-after-free: vcpu1 (read|cmpxchg on|wrote) pt\d+\[\d+\] in level-3 table page \d+, which vcpu0 freed at step \d+ \(at once in stage2_free_unlinked_table, no RCU grace period/);
  });

  it('200 seeds: nothing without the variant; the variant is caught on some', () => {
    let hits = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const ok = run_scenario(load_scenario(FILE, { seed }), { keep_events: false });
      expect(ok.status).toBe('end');
      expect(ok.violation).toBeNull();
      const bad = run_scenario(load_scenario(FILE, { seed, variants: ['pgtable.free_unlinked_sync'] }), { keep_events: false });
      if (bad.violation?.invariant === 'pgtable.use_after_free') hits++;
      // The variant queues no RCU callback: the vmm's rcu_barrier (min_callbacks: 1) ends when nobody is left to queue one.
      else expect(bad.status, `seed ${seed}`).toBe('end');
    }
    expect(hits).toBeGreaterThan(0);
  });
});
