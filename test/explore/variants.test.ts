// Every variant that breaks an invariant is found by the explorer within a
// small budget, on the bundled scenario that exercises it, by at least one
// strategy; the shrunk schedule still breaks it and is no longer.
import { describe, expect, it } from 'vitest';
import { all_variants } from '../../src/core/machine/variants.js';
import { replay_violations } from '../../src/explore/shrink.js';
import type { ExploreOptions, Strategy } from '../../src/explore/explore.js';
import { bundled, run } from './helpers.js';

/** The invariant a variant says it breaks: the first word of `breaks`, unless that is "nothing". */
function breaks(v: { breaks: string }): string | null {
  const m = /^([a-z0-9_]+\.[a-z0-9_.]+)/.exec(v.breaks.trim());
  return m ? m[1]! : null;
}

/**
 * Where each breaking variant shows: scenario, the strategies to try in
 * order, options for them (dfs has no schedule budget), and for dfs the
 * status of each preemption bound searched in turn.
 */
interface Case {
  scenario: string;
  strategies: Strategy[];
  expect?: string;
  options?: Partial<ExploreOptions>;
  rounds?: string[];
}

const CASES: Record<string, Case[]> = {
  'hv.no_srcu_sync': [{ scenario: 'hv-tlb-flush-inhibit', strategies: ['random', 'pct'] }],
  'mmu.no_notifier_flush': [{ scenario: 'numa-invalidate-retry', strategies: ['random', 'pct'] }],
  'kvm.exit_request_before_mode': [{ scenario: 'default', strategies: ['random', 'pct'] }],
  'mmu.no_retry_check': [
    { scenario: 'fault-vs-invalidate', strategies: ['random', 'pct'] },
    { scenario: 'numa-invalidate-retry', strategies: ['pct', 'random'] },
    { scenario: 'thp-fault-vs-migrate', strategies: ['random', 'pct'] },
  ],
  'nv.no_unmap_request': [{ scenario: 'nv-s2-recycle', strategies: ['pct', 'random'] }],
  // The preempted unmap pass must outlast a full round of recycling by the other vCPU: PCT needs
  // about 11,600 schedules; the bounded search finds none at one preemption and is certain of it at
  // two (the injected cond_resched, and the switch back right after the recycle).
  'nv.put_drops_ref': [{ scenario: 'nv-unmap-preempted', strategies: ['dfs'], options: { preemptions: 2 }, rounds: ['complete', 'complete', 'violation'] }],
  'nv.unmap_on_recycle': [{ scenario: 'nv-s2-recycle', strategies: ['pct', 'random'] }],
  'pgtable.free_unlinked_sync': [{ scenario: 'parallel-walk-rcu', strategies: ['random', 'pct'] }],
  'pgtable.no_bbm': [{ scenario: 'parallel-walk-rcu', strategies: ['pct', 'random'] }],
  'pgtable.no_table_tlbi': [{ scenario: 'parallel-walk-rcu', strategies: ['random', 'pct'] }],
  'nv.revmap_overwrite': [{ scenario: 'nv-revmap', strategies: ['pct', 'random'] }],
};

const BUDGET = 60;

describe('every breaking variant is found', () => {
  const breaking = all_variants().filter((v) => breaks(v) !== null);

  it('each breaking variant has a scenario here', () => {
    expect(breaking.length).toBeGreaterThan(5);
    for (const v of breaking) expect(CASES[v.name], `${v.name} (breaks ${breaks(v)}) needs a case in variants.test.ts`).toBeDefined();
  });

  for (const v of breaking) {
    for (const c of CASES[v.name] ?? []) {
      it(`${v.name} on ${c.scenario}`, { timeout: 180_000 }, async () => {
        const want = c.expect ?? breaks(v)!;
        const l = bundled(c.scenario, [v.name]);
        const tried: string[] = [];
        for (const strategy of c.strategies) {
          const r = await run(l, { strategy, ...(strategy === 'dfs' ? {} : { budget: BUDGET }), shrink_replays: 400, ...c.options });
          tried.push(`${strategy}: ${r.violation ? r.violation.violation.invariant : 'nothing'} in ${r.schedules} schedules`);
          if (!r.violation || r.violation.violation.invariant !== want) continue;
          if (c.rounds) expect(r.rounds.map((x) => x.status)).toEqual(c.rounds);
          const s = r.violation.shrunk!;
          expect(s).not.toBeNull();
          // The shrunk schedule still breaks the invariant at its last step, and is no longer.
          expect(replay_violations(l.config, s.schedule).map((x) => x.invariant)).toContain(want);
          expect(s.steps).toBeLessThanOrEqual(r.violation.steps);
          expect(s.schedule.picks.length).toBe(s.steps);
          expect(s.switches).toBeLessThanOrEqual(s.original.switches);
          // So does the schedule as found.
          expect(replay_violations(l.config, r.violation.schedule).map((x) => x.invariant)).toContain(want);
          return;
        }
        expect.fail(`${v.name}: ${want} not found on ${c.scenario} (random and pct: within ${BUDGET} schedules; ${tried.join('; ')})`);
      });
    }
  }
});
