// Every bundled scenario, without variants, over 2,000 seeded random
// schedules: the upstream model stays clean, except a scenario whose
// `expect` names a violation (a finding), which must show that one and
// nothing else. Split over two files so vitest runs the halves in parallel.
import { expect, it } from 'vitest';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';

export const SEEDS = 2000;

/** The two halves, about equal in run time (nv-revmap and nv-s2-recycle are the slow ones). */
export const HALVES: string[][] = [
  ['nv-revmap', 'default', 'fault-vs-invalidate', 'hv-tlb-flush-inhibit', 'thp-fault-vs-migrate', 'nv-unmap-preempted'],
  ['nv-s2-recycle', 'numa-invalidate-retry-arm64', 'numa-invalidate-retry', 'nv-l1-remap-vs-shadow-fault', 'parallel-walk-rcu'],
];

/** seeds 1..SEEDS of `id` without variants: what each seed that did not end cleanly ended with. */
function outcomes(path: string): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = run_scenario(load_scenario(path, { seed, variants: [] }), { keep_events: false });
    const what = r.violation?.invariant ?? (r.status === 'end' ? null : r.status);
    if (what) seen.set(what, [...(seen.get(what) ?? []), seed]);
  }
  return seen;
}

export function check_half(half: number): void {
  for (const id of HALVES[half]!) {
    it(`${id}: ${SEEDS} seeded random schedules of the upstream model`, { timeout: 900_000 }, () => {
      const s = bundled_scenarios().find((x) => x.id === id);
      expect(s, `no bundled scenario ${id}`).toBeDefined();
      const want = load_scenario(s!.path).meta.expect?.violation;
      const seen = outcomes(s!.path);
      const summary = [...seen].map(([k, seeds]) => `${k} (${seeds.length} seeds, first ${seeds[0]})`);
      if (!want || want === 'none') {
        expect(summary, `${id} is not clean without variants`).toEqual([]);
        return;
      }
      // A finding: its violation shows, and the only other outcome allowed is the same race seen later (nv.stale_shadow).
      expect(seen.has(want), `${id} expects ${want}; seen: ${summary.join(', ') || 'nothing'}`).toBe(true);
      const others = [...seen.keys()].filter((k) => k !== want && !(ALSO[id] ?? []).includes(k));
      expect(others, `${id}: outcomes other than ${want}`).toEqual([]);
    });
  }
}

/** Other outcomes a finding's scenario may show, each the same race seen at a later step (README "Findings"). */
const ALSO: Record<string, string[]> = { 'nv-l1-remap-vs-shadow-fault': ['nv.stale_shadow'] };

/** Every bundled scenario is in exactly one half. */
export function check_halves_cover(): void {
  it('every bundled scenario is in one half', () => {
    const ids = bundled_scenarios().map((s) => s.id).sort();
    expect(HALVES.flat().sort()).toEqual(ids);
  });
}
