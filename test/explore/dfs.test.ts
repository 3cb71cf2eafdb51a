// Bounded exhaustive search on small scenarios: it completes without a
// violation, and its distinct-state count is a property of the scenario
// and the bounds, not of the run: the same across runs, with and without
// sleep sets, over one or two workers, and over shards merged.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dfs } from '../../src/explore/dfs.js';
import { search_params, union } from '../../src/explore/explore.js';
import { Ownership } from '../../src/explore/facts.js';
import { Sim } from '../../src/explore/sim.js';
import { merge_shards } from '../../src/explore/report.js';
import { replay_violations } from '../../src/explore/shrink.js';
import { fixture, run, run_shards } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kvmdbg-explore-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Small fixtures, with the bounds that keep them small ('fault' without injected faults: a 512-step preemption multiplies it). */
const SMALL: [string, { faults?: number }][] = [
  ['kick', {}],
  ['kick2', {}],
  ['inval', {}],
  ['fault', { faults: 0 }],
];

describe('exhaustive dfs', () => {
  for (const [name, bounds] of SMALL) {
    it(`${name}: completes without a violation; the count does not depend on the run`, async () => {
      const l = fixture(name);
      const a = await run(l, { strategy: 'dfs', ...bounds });
      expect(a.status).toBe('complete');
      expect(a.complete).toBe(true);
      expect(a.violation).toBeNull();
      // More than one interleaving: the threads do meet.
      expect(a.distinct).toBeGreaterThan(20);
      const b = await run(l, { strategy: 'dfs', ...bounds });
      expect(b.distinct).toBe(a.distinct);
      expect(b.transitions).toBe(a.transitions);
      // Sleep sets prune moves, not states: the very same states without them.
      const c = await run(l, { strategy: 'dfs', por: false, ...bounds });
      expect(c.status).toBe('complete');
      expect([...c.keys]).toEqual([...a.keys]);
      expect(c.transitions).toBeGreaterThanOrEqual(a.transitions);
    });
  }

  it('bounds: depth, faults and preemptions shrink the space; each bounded run is complete and repeatable', async () => {
    const l = fixture('fault');
    // Every step a scheduling point: with coarse transitions the depth bound makes one in the middle
    // of a run of local steps, a state the deeper search passes through without storing.
    const base = { depth: 40, coarse: false };
    const full = await run(l, { strategy: 'dfs', ...base });
    expect(full.status).toBe('complete');
    expect(full.cut).toBe(true);
    for (const o of [{ depth: 30, coarse: false }, { ...base, faults: 0 }, { ...base, preemptions: 1 }]) {
      const a = await run(l, { strategy: 'dfs', ...o });
      const b = await run(l, { strategy: 'dfs', ...o });
      expect(a.status, JSON.stringify(o)).toBe('complete');
      expect(a.distinct, JSON.stringify(o)).toBeLessThan(full.distinct);
      expect(b.distinct, JSON.stringify(o)).toBe(a.distinct);
      // Every state a more bounded search sees, the less bounded one sees too.
      const all = new Set(full.keys);
      expect([...a.keys].every((k) => all.has(k)), JSON.stringify(o)).toBe(true);
    }
  });

  it('depth left out of covering: with no path cut, the same states as counting it; a cut sends the search back to counting it', async () => {
    const l = fixture('fault');
    const r = await run(l, { strategy: 'dfs', preemptions: 1, faults: 1 });
    const facts = r.params.facts;
    const search = (depth: number, depth_blind: boolean, f = facts) => {
      const o = { depth, preemptions: 1, faults: 1, por: true, coarse: true, budget: Infinity, split: 0, owns: () => true, first: true };
      const dfs = new Dfs(new Sim(l.config, { undo: true }), { ...o, facts: f ? new Ownership(f) : null, depth_blind });
      dfs.run();
      return dfs;
    };
    const counted = search(r.params.depth, false);
    const blind = search(r.params.depth, true);
    expect(counted.stats.cut).toBe(false);
    expect(blind.status).toBe('done');
    expect([...blind.states].sort()).toEqual([...counted.states].sort());
    expect(blind.stats.transitions).toBeLessThan(counted.stats.transitions);
    // explore() searches depth-blind first: the same states.
    expect(r.distinct).toBe(counted.states.size);
    // A bound that cuts: the blind search stops at the first cut, and explore() counts depth again.
    const cut = await run(l, { strategy: 'dfs', preemptions: 1, faults: 1, depth: 30 });
    expect(search(30, true, cut.params.facts).status).toBe('depth');
    const want = search(30, false, cut.params.facts);
    expect(cut.cut).toBe(true);
    expect(cut.complete).toBe(true);
    expect(cut.distinct).toBe(want.states.size);
  });

  it('a search that fills the heap stops as full, with its counts, instead of dying with them', () => {
    const l = fixture('fault');
    const o = { depth: 400, preemptions: 1, faults: 0, por: true, coarse: true, budget: Infinity, split: 0, owns: () => true, first: true };
    const whole = new Dfs(new Sim(l.config, { undo: true }), o);
    expect(whole.run()).toBe('done');
    expect(whole.full).toBe(false);
    // A limit the heap is already over: the first check (every 16 moves here) stops it.
    const capped = new Dfs(new Sim(l.config, { undo: true }), { ...o, heap_limit: 1 });
    expect(capped.run(Infinity, 16)).toBe('budget');
    expect(capped.full).toBe(true);
    expect(capped.states.size).toBeGreaterThan(1);
    expect(capped.states.size).toBeLessThan(whole.states.size);
  });

  it('counts the moves that asked an injected-fault choice: where there are none, --faults 0 is the same search', async () => {
    const o = { strategy: 'dfs', preemptions: 1 } as const;
    const none = await run(fixture('kick2'), o);
    expect(none.choices).toBe(0);
    const none0 = await run(fixture('kick2'), { ...o, faults: 0 });
    expect([none0.distinct, none0.transitions]).toEqual([none.distinct, none.transitions]);
    const some = await run(fixture('coarse-race'), o);
    expect(some.choices).toBeGreaterThan(0);
    expect((await run(fixture('coarse-race'), { ...o, faults: 0 })).distinct).toBeLessThan(some.distinct);
  });

  it('two workers count the same states as one run', async () => {
    const l = fixture('kick2');
    const one = await run(l, { strategy: 'dfs' });
    const two = await run(l, { strategy: 'dfs', workers: 2 });
    expect(two.status).toBe('complete');
    expect(two.params.split).toBeGreaterThan(0);
    expect(two.params.facts_above_split).toBe(true);
    expect(two.distinct).toBe(one.distinct);
  });

  /** Three shards of one search (with different numbers of workers), merged from their files. */
  async function three_shards(l: ReturnType<typeof fixture>, o: { facts?: boolean }, tag: string) {
    const r = await run_shards(l, 3, { strategy: 'dfs', ...o }, tmp, `kick2.${tag}`, (k) => (k === 2 ? 2 : 1));
    for (const s of r.shards) expect(s.status).toBe('complete');
    return r;
  }

  it('three shards merged count the same states as one run, searched without learned facts', async () => {
    const l = fixture('kick2');
    const one = await run(l, { strategy: 'dfs', facts: false });
    const { shards, files, merged } = await three_shards(l, { facts: false }, 'plain');
    for (const r of shards) expect(r.distinct).toBeLessThanOrEqual(one.distinct);
    expect(union(shards.map((r) => r.keys)).length).toBe(one.distinct);
    expect(merged.status).toBe('complete');
    expect(merged.distinct).toBe(one.distinct);
    expect(merged.schedules).toBe(one.schedules);
    // A missing shard is an error, not a smaller count.
    expect(() => merge_shards(files.slice(1))).toThrow(/missing shard 1\/3/);
  });

  it('with learned facts, shards search above the split without them: every state of one run, and the ones up there', async () => {
    const l = fixture('kick2');
    const one = await run(l, { strategy: 'dfs' });
    const plain = await run(l, { strategy: 'dfs', facts: false });
    const { shards, merged } = await three_shards(l, {}, 'facts');
    expect(shards[0]!.params.facts_above_split).toBe(false);
    expect(shards[0]!.params.split).toBeGreaterThan(0);
    // So a shard's split does not depend on its facts, and a restart after a breach keeps it (explore.ts).
    const o = { strategy: 'dfs' } as const;
    expect(search_params(l, { ...o, facts: false }, 3, 3).split).toBe(shards[0]!.params.split);
    expect(search_params(l, o, 2, 1).split).not.toBe(search_params(l, { ...o, facts: false }, 2, 1).split);
    expect(merged.status).toBe('complete');
    const all = new Set(merged.keys);
    for (const k of one.keys) expect(all.has(k)).toBe(true);
    // More than one run (the top has the scheduling points the facts would take away), fewer than no facts at all.
    expect(merged.distinct).toBeGreaterThan(one.distinct);
    expect(merged.distinct).toBeLessThan(plain.distinct);
  });

  it('with workers taking items as they meet them, the violation reported is the same on every run and worker count', async () => {
    const l = fixture('coarse-race', ['mmu.no_retry_check']);
    const o = { strategy: 'dfs', preemptions: 2, faults: 0, shrink: false } as const;
    const runs = [await run(l, { ...o, workers: 2 }), await run(l, { ...o, workers: 2 }), await run(l, { ...o, workers: 3 })];
    const first = runs[0]!.violation!;
    expect(first.violation.invariant).toBe('mmu.stale_mapping');
    expect(runs[0]!.params.split).toBeGreaterThan(0);
    for (const r of runs) {
      expect(r.violation?.item).toBe(first.item);
      expect(r.violation?.schedule).toEqual(first.schedule);
    }
    expect(replay_violations(l.config, first.schedule).map((v) => v.invariant)).toContain('mmu.stale_mapping');
  });

  it('finds a violation, with sleep sets and with a preemption bound, and the schedule replays to it', async () => {
    const l = fixture('coarse-race', ['mmu.no_retry_check']);
    // Without sleep sets, with a CHESS preemption bound instead (which turns them off).
    for (const bounds of [{ depth: 120, faults: 0 }, { preemptions: 2, faults: 0 }]) {
      const r = await run(l, { strategy: 'dfs', ...bounds });
      expect(r.violation?.violation.invariant).toBe('mmu.stale_mapping');
      expect(replay_violations(l.config, r.violation!.shrunk!.schedule).map((v) => v.invariant)).toContain('mmu.stale_mapping');
    }
  });
});

describe('random walks and pct', () => {
  it('are deterministic, and split over workers and shards by schedule', async () => {
    const l = fixture('fault');
    for (const strategy of ['random', 'pct'] as const) {
      const a = await run(l, { strategy, budget: 24, seed: 5, states: true });
      const b = await run(l, { strategy, budget: 24, seed: 5, states: true });
      expect(a.status).toBe('budget');
      expect(a.schedules).toBe(24);
      expect(b.distinct).toBe(a.distinct);
      expect(b.transitions).toBe(a.transitions);
      const s1 = await run(l, { strategy, budget: 24, seed: 5, states: true, shard: { k: 1, n: 2 } });
      const s2 = await run(l, { strategy, budget: 24, seed: 5, states: true, shard: { k: 2, n: 2 } });
      expect(s1.schedules + s2.schedules).toBe(24);
      expect(union([s1.keys, s2.keys]).length).toBe(a.distinct);
      const other = await run(l, { strategy, budget: 24, seed: 6, states: true });
      expect(other.keys).not.toEqual(a.keys);
    }
  });

  it('run the same schedules on the plain World (no --states) as on the tracked one', async () => {
    const l = fixture('coarse-race', ['mmu.no_retry_check']);
    const a = await run(l, { strategy: 'random', budget: 40, states: true, shrink: false });
    const b = await run(l, { strategy: 'random', budget: 40, shrink: false });
    expect(b.params.states).toBe(false);
    expect(b.transitions).toBe(a.transitions);
    expect(b.schedules).toBe(a.schedules);
    expect(b.violation?.schedule).toEqual(a.violation?.schedule);
  });
});

describe('union of the parts\' key sets', () => {
  it('is sorted and counts each key once, past the 2^24 entries a Set can hold', () => {
    // Two workers' sets of 9M keys each, overlapping in 1M: 17M distinct, more than a Set takes.
    const n = 9_000_000;
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = 2 ** 40 + i * 3;
      b[i] = 2 ** 40 + (i + n - 1_000_000) * 3;
    }
    b.reverse();
    const u = union([a, b]);
    expect(u.length).toBe(2 * n - 1_000_000);
    expect(u.length).toBeGreaterThan(2 ** 24);
    expect(u[0]).toBe(2 ** 40);
    expect(u[u.length - 1]).toBe(2 ** 40 + (2 * n - 1_000_001) * 3);
    let sorted = true;
    for (let i = 1; i < u.length; i++) if (!(u[i - 1]! < u[i]!)) sorted = false;
    expect(sorted).toBe(true);
    expect(union([new Float64Array([5, 1, 5, 3])])).toEqual(new Float64Array([1, 3, 5]));
  });
});
