// The search's World is the one its schedule reaches. The DFS steps one
// tracked World forward and undoes it step by step; a bug in undo (one
// was found: a leaf moved by an earlier step came back changed) leaves the
// search in a World no schedule reaches, and its verdict is then about
// something else. Here every end state a bounded search meets is compared
// with a fresh Machine replaying the search's schedule, on scenarios whose
// steps move objects around (RCU callbacks queued and invoked, table pages
// freed and reused). A coarse check: track.test.ts has the case that bug
// needed.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/core/machine/machine.js';
import { hash_value } from '../../src/core/machine/hash.js';
import { create_world } from '../../src/core/world_init.js';
import { Dfs } from '../../src/explore/dfs.js';
import { Sim } from '../../src/explore/sim.js';
import { learn_facts } from '../../src/explore/facts.js';
import { bundled } from './helpers.js';

const SCENARIOS = ['parallel-walk-rcu', 'fault-vs-invalidate'];
const ENDS = 20;

describe('every end state of a search is the World its schedule reaches', () => {
  for (const id of SCENARIOS) {
    it(`${id}: ${ENDS} end states, two preemptions, one injected fault, learned facts`, () => {
      const config = bundled(id).config;
      const sim = new Sim(config, { undo: true });
      const facts = learn_facts(config, 1, 1600, 1, 8);
      let ends = 0;
      let bad: string | null = null;
      const search = () =>
        new Dfs(sim, {
          depth: 1600,
          preemptions: 2,
          faults: 1,
          por: true,
          coarse: true,
          facts,
          budget: ENDS,
          split: 0,
          owns: () => true,
          first: true,
          collect: {
            end: () => {
              ends++;
              const s = sim.m.schedule;
              const m = new Machine(create_world(config));
              m.replay = { s: { picks: [...s.picks], choices: [...s.choices] }, pick: 0, choice: 0 };
              for (let i = 0; i < s.picks.length; i++) m.step();
              if (!bad && hash_value(m.w, ['events']) !== hash_value(sim.w, ['events'])) bad = `end state ${ends}, ${s.picks.length} steps`;
            },
            violation: () => {},
          },
        });
      // Facts from a few runs miss some sharing: learn each breach and start again, as explore() does.
      let dfs = search();
      for (let i = 0; dfs.run() === 'breach' && i < 8; i++) {
        facts.learn_breach(dfs.breach!);
        dfs = search();
      }
      expect(dfs.breach).toBeNull();
      expect(ends).toBeGreaterThan(0);
      expect(bad).toBeNull();
    });
  }
});
