// Iterative preemption bounding (explore.ts, after CHESS's iterative
// context bounding): dfs --preemptions N searches 0, 1, ..., N in turn,
// stops at the lowest bound with a violation, and a search cut short at
// bound N keeps the verdict of N-1.
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../src/explore/explore.js';
import { fixture, run } from './helpers.js';

const dfs = (preemptions: number, more: object = {}) => ({ strategy: 'dfs' as const, preemptions, ...more });

describe('dfs --preemptions N searches the bounds in turn', () => {
  it('stops at the lowest bound with a violation: the bound below it is verified, alone as in turn', async () => {
    const l = fixture('coarse-race', ['mmu.no_retry_check']);
    const r = await run(l, dfs(2));
    expect(r.violation?.violation.invariant).toBe('mmu.stale_mapping');
    const found = r.rounds.at(-1)!;
    expect(found.status).toBe('violation');
    expect(r.params.preemptions).toBe(found.preemptions);
    expect(r.rounds.map((x) => x.preemptions)).toEqual(Array.from({ length: found.preemptions! + 1 }, (_, i) => i));
    expect(r.rounds.slice(0, -1).every((x) => x.status === 'complete')).toBe(true);
    expect(r.verified_preemptions).toBe(found.preemptions! - 1);
    // Searched alone, the bound below finds nothing and the bound of the round finds the same race.
    const below = await run(l, dfs(found.preemptions! - 1, { iterate: false }));
    expect(below.violation).toBeNull();
    expect(below.complete).toBe(true);
    const at = await run(l, dfs(found.preemptions!, { iterate: false }));
    expect(at.violation?.violation.invariant).toBe('mmu.stale_mapping');
    expect(at.rounds).toHaveLength(1);
  });

  it('a complete search: each round reaches the states of its bound searched alone; the counts add up', async () => {
    // Without learned facts, so that no round learns what another would not (no restarts).
    const l = fixture('coarse-race');
    const r = await run(l, dfs(2, { facts: false }));
    expect(r.complete).toBe(true);
    expect(r.verified_preemptions).toBe(2);
    expect(r.rounds.map((x) => x.status)).toEqual(['complete', 'complete', 'complete']);
    for (const x of r.rounds) {
      const alone = await run(l, dfs(x.preemptions!, { facts: false, iterate: false }));
      expect(x.distinct, `bound ${x.preemptions}`).toBe(alone.distinct);
      expect(x.transitions, `bound ${x.preemptions}`).toBe(alone.transitions);
    }
    expect(r.distinct).toBe(r.rounds[2]!.distinct);
    expect(r.transitions).toBe(r.rounds.reduce((a, x) => a + x.transitions, 0));
    expect(r.rounds[0]!.distinct).toBeLessThan(r.rounds[1]!.distinct);
    expect(r.rounds[1]!.distinct).toBeLessThan(r.rounds[2]!.distinct);
  });

  it('stopped during bound N: not complete, and bound N-1 stays verified', async () => {
    const ac = new AbortController();
    let seen = 0;
    const on_progress = (p: Progress) => {
      if (p.preemptions !== 2) return;
      seen = p.transitions;
      ac.abort();
    };
    const r = await run(fixture('coarse-race'), dfs(2, { signal: ac.signal, progress_ms: 0, on_progress }));
    expect(r.status).toBe('interrupted');
    expect(r.complete).toBe(false);
    expect(r.rounds.map((x) => [x.preemptions, x.status])).toEqual([
      [0, 'complete'],
      [1, 'complete'],
      [2, 'interrupted'],
    ]);
    expect(r.verified_preemptions).toBe(1);
    // The progress counts the steps of the bounds done before, as the result does.
    expect(seen).toBeGreaterThan(r.rounds[0]!.transitions + r.rounds[1]!.transitions);
    expect(r.transitions).toBe(r.rounds.reduce((a, x) => a + x.transitions, 0));
  });

  it('a budget, or --no-iterate, searches the bound at once', async () => {
    const l = fixture('coarse-race');
    for (const o of [{ budget: 1_000_000 }, { iterate: false }]) {
      const r = await run(l, dfs(2, o));
      expect(r.rounds.map((x) => x.preemptions)).toEqual([2]);
      expect(r.verified_preemptions).toBe(2);
    }
  });
});
