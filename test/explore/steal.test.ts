// Work stealing inside items (steal.ts): two searches sharing a visited
// table and a pool, run in turns in this thread, the second owning no
// item, so that all it searches is what the first gives it.
import { describe, expect, it } from 'vitest';
import { Dfs, type DfsOptions } from '../../src/explore/dfs.js';
import { Sim } from '../../src/explore/sim.js';
import { decode_gift, encode_gift, StealPool } from '../../src/explore/steal.js';
import { replay_violations } from '../../src/explore/shrink.js';
import { VisitedTable, visited_buffer } from '../../src/explore/visited.js';
import { fixture, run } from './helpers.js';

type Opts = Omit<DfsOptions, 'owns' | 'first'>;
const base: Opts = { depth: 400, preemptions: 2, faults: 0, por: false, coarse: true, budget: Infinity, split: 2 };

function alone(name: string, variants: string[], o: Opts): Dfs {
  const l = fixture(name, variants);
  const d = new Dfs(new Sim(l.config, { undo: true }), { ...o, owns: () => true, first: true, visited: new VisitedTable(visited_buffer(1 << 18)) });
  d.run();
  return d;
}

/** The giver owns every item; the taker none. Turns of `every` moves each. */
function pair(name: string, variants: string[], o: Opts, every: number): [Dfs, Dfs] {
  const l = fixture(name, variants);
  const visited = new VisitedTable(visited_buffer(1 << 18));
  const steal = new StealPool(StealPool.buffer(2));
  const giver = new Dfs(new Sim(l.config, { undo: true }), { ...o, owns: () => true, first: true, visited, steal });
  const taker = new Dfs(new Sim(l.config, { undo: true }), { ...o, owns: () => false, first: false, visited, steal });
  for (let turns = 0; giver.status === 'running' || taker.status === 'running'; turns++) {
    if (turns > 1e6) throw new Error('the pair did not end');
    // A deadline in the past: each run() returns after `every` moves.
    for (const d of [giver, taker]) if (d.status === 'running') d.run(0, every);
  }
  return [giver, taker];
}

describe('work stealing inside items', () => {
  it('a gift encodes and decodes to itself', () => {
    const g = { blind: true, item: 3, depth: 17, faults: 1, pre: 2, last: 1, threads: [0, 2], moves: [{ thread: 1, item: -1, steps: [[], [0, 1]] }, { thread: 0, item: 3, steps: [[2]] }] };
    expect(decode_gift(encode_gift(g))).toEqual(g);
  });

  for (const [name, variants] of [['coarse-race', []], ['kick2', []], ['coarse-x86', []]] as const) {
    it(`${name}, two preemptions: the giver and the taker together visit the states of one search, and the taker searched what it was given`, () => {
      const one = alone(name, [...variants], base);
      expect(one.status).toBe('done');
      const [giver, taker] = pair(name, [...variants], base, 8);
      expect([giver.status, taker.status]).toEqual(['done', 'done']);
      expect(taker.stats.taken).toBeGreaterThan(0);
      expect(giver.stats.given).toBe(taker.stats.taken);
      expect(taker.stats.transitions).toBeGreaterThan(taker.stats.replayed);
      const both = new Set([...giver.states.to_array(), ...taker.states.to_array()]);
      expect([...both].sort()).toEqual([...new Set(one.states.to_array())].sort());
    });
  }

  it('a violation met in a gift has the schedule from the initial state, which replays to it', () => {
    const found: string[] = [];
    // Turn lengths move the violation between giver and taker; check every one that the taker finds.
    for (const every of [2, 3, 5, 8, 13]) {
      const [giver, taker] = pair('coarse-race', ['mmu.no_retry_check'], base, every);
      for (const d of [giver, taker]) {
        if (!d.finding) continue;
        expect(d.finding.violation.invariant).toBe('mmu.stale_mapping');
        expect(replay_violations(fixture('coarse-race', ['mmu.no_retry_check']).config, d.finding.schedule).map((v) => v.invariant)).toContain('mmu.stale_mapping');
        if (d === taker) found.push(`every ${every}`);
      }
      expect(giver.finding ?? taker.finding).not.toBeNull();
    }
    expect(found.length).toBeGreaterThan(0);
  });

  it('in explore(), with three workers, depth-blind first and then counting depth after a cut: the states of one worker', async () => {
    for (const depth of [undefined, 30]) {
      const o = { strategy: 'dfs', preemptions: 2, faults: 1, ...(depth ? { depth } : {}) } as const;
      const one = await run(fixture('fault'), { ...o, workers: 1 });
      const three = await run(fixture('fault'), { ...o, workers: 3 });
      const no_steal = await run(fixture('fault'), { ...o, workers: 3, steal: false });
      expect(one.complete && three.complete && no_steal.complete).toBe(true);
      expect(three.cut).toBe(depth !== undefined);
      expect([three.distinct, no_steal.distinct]).toEqual([one.distinct, one.distinct]);
    }
  });
});
