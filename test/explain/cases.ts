// Where each breaking variant shows (the explorer's table in
// test/explore/variants.test.ts), and a violating schedule for it.
import type { Schedule } from '../../src/core/machine/machine.js';
import type { Violation } from '../../src/core/machine/world.js';
import type { Strategy } from '../../src/explore/explore.js';
import type { LoadedScenario } from '../../src/scenario/load.js';
import { bundled, run } from '../explore/helpers.js';

export const CASES: { variant: string; scenario: string; strategies: Strategy[] }[] = [
  { variant: 'hv.no_srcu_sync', scenario: 'hv-tlb-flush-inhibit', strategies: ['random', 'pct'] },
  { variant: 'mmu.no_notifier_flush', scenario: 'numa-invalidate-retry', strategies: ['random', 'pct'] },
  { variant: 'kvm.exit_request_before_mode', scenario: 'default', strategies: ['random', 'pct'] },
  { variant: 'mmu.no_retry_check', scenario: 'fault-vs-invalidate', strategies: ['random', 'pct'] },
  { variant: 'mmu.no_retry_check', scenario: 'numa-invalidate-retry', strategies: ['pct', 'random'] },
  { variant: 'mmu.no_retry_check', scenario: 'thp-fault-vs-migrate', strategies: ['random', 'pct'] },
  { variant: 'nv.no_unmap_request', scenario: 'nv-s2-recycle', strategies: ['pct', 'random'] },
  { variant: 'nv.unmap_on_recycle', scenario: 'nv-s2-recycle', strategies: ['pct', 'random'] },
  { variant: 'pgtable.free_unlinked_sync', scenario: 'parallel-walk-rcu', strategies: ['random', 'pct'] },
  { variant: 'pgtable.no_bbm', scenario: 'parallel-walk-rcu', strategies: ['pct', 'random'] },
  { variant: 'pgtable.no_table_tlbi', scenario: 'parallel-walk-rcu', strategies: ['random', 'pct'] },
  { variant: 'nv.revmap_overwrite', scenario: 'nv-revmap', strategies: ['pct', 'random'] },
];

/** The invariant a variant says it breaks: the first word of `breaks`, unless that is "nothing". */
export function breaks(v: { breaks: string }): string | null {
  const m = /^([a-z0-9_]+\.[a-z0-9_.]+)/.exec(v.breaks.trim());
  return m ? m[1]! : null;
}

/** A violating schedule of `invariant` for the case, as found (shrunk when `shrunk`). */
export async function violating(c: { variant: string; scenario: string; strategies: Strategy[] }, invariant: string, shrunk = true): Promise<{ l: LoadedScenario; schedule: Schedule; violation: Violation } | null> {
  const l = bundled(c.scenario, [c.variant]);
  for (const strategy of c.strategies) {
    const r = await run(l, { strategy, budget: 60, shrink_replays: shrunk ? 400 : 0 });
    if (!r.violation || r.violation.violation.invariant !== invariant) continue;
    if (shrunk) return { l, schedule: r.violation.shrunk!.schedule, violation: r.violation.shrunk!.violation };
    return { l, schedule: r.violation.schedule, violation: r.violation.violation };
  }
  return null;
}
