// The visited set's key leaves out the step and event counters
// (src/explore/sim.ts key53(): the model compares its stamps only by
// order, and the key carries the time left on timed waits). A search
// keyed without them must reach the same violations and end states as one
// keyed with them, and merge at least as much.
import { describe, expect, it } from 'vitest';
import { REDUCTION_CASES as CASES, reach } from './helpers.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import { Sim } from '../../src/explore/sim.js';

describe('state keys without the counters', () => {
  for (const [name, variants, p] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, ${p === null ? 'no preemption bound' : `at most ${p} preemption`}: the same violations and end states`, () => {
      const with_counters = reach(name, variants, { preemptions: p, key_counters: true });
      const without = reach(name, variants, { preemptions: p });
      expect(with_counters.complete && without.complete).toBe(true);
      expect([...without.violations].sort()).toEqual([...with_counters.violations].sort());
      expect(without.ends.size).toBeGreaterThan(0);
      expect([...without.ends].sort()).toEqual([...with_counters.ends].sort());
      expect(without.states).toBeLessThanOrEqual(with_counters.states);
    });
  }
});

describe('history fields keyed by class', () => {
  for (const [name, variants, p] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, ${p === null ? 'no preemption bound' : `at most ${p} preemption`}: the same violations and end states as keyed by value`, () => {
      const exact = reach(name, variants, { preemptions: p, exact_history: true });
      const by_class = reach(name, variants, { preemptions: p });
      expect(exact.complete && by_class.complete).toBe(true);
      expect([...by_class.violations].sort()).toEqual([...exact.violations].sort());
      expect([...by_class.ends].sort()).toEqual([...exact.ends].sort());
      expect(by_class.states).toBeLessThanOrEqual(exact.states);
    });
  }
  it('fault-vs-invalidate-like race (coarse-race, 1 preemption): stamps by class merge paths that differ only in when things happened', () => {
    const exact = reach('coarse-race', [], { preemptions: 1, exact_history: true });
    const by_class = reach('coarse-race', [], { preemptions: 1 });
    expect(by_class.states).toBeLessThan(exact.states);
  });
});

describe('visits matched on 64 bits (key53 and key_check)', () => {
  // Every state's 53-bit key made 0: only the check bits tell states apart,
  // in the search's own map and in the table workers share.
  for (const [name, variants, p] of CASES.filter(([, , p]) => p !== null)) {
    for (const table of [false, true]) {
      it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, at most ${p} preemption, ${table ? 'shared table' : 'own map'}: the same violations and end states when only the check bits differ`, () => {
        const plain = reach(name, variants, { preemptions: p, table });
        const check = reach(name, variants, { preemptions: p, table, collide: 'check' });
        expect(plain.complete && check.complete).toBe(true);
        expect([...check.violations].sort()).toEqual([...plain.violations].sort());
        expect([...check.ends].sort()).toEqual([...plain.ends].sort());
        // Without the check bits the collision hides states: the comparison above can fail.
        const both = reach(name, variants, { preemptions: p, table, collide: 'both' });
        expect(both.ends.size).toBeLessThan(plain.ends.size);
      });
    }
  }
});

describe('a spin loop that leaves nothing behind', () => {
  it('coarse-race, at most 1 preemption: the vCPU retrying its fault behind a preempted walker comes back to a visited state, so the depth bound no longer cuts the search', () => {
    const with_counters = reach('coarse-race', [], { preemptions: 1, key_counters: true, exact_history: true });
    const without = reach('coarse-race', [], { preemptions: 1 });
    expect(with_counters.cut).toBe(true);
    expect(without.cut).toBe(false);
    expect(without.complete).toBe(true);
    expect(without.revisits).toBeGreaterThan(with_counters.revisits);
  });
});

describe('counters stay out of the state', () => {
  // A model field that copies a counter (the metrics, a thread's step count)
  // into a frame splits states that differ only in the counters: the
  // visited set then counts more states than there are, and which of them
  // a search meets first depends on the order it runs in. Bumping every
  // counter between steps must not change any key along a run (its 53
  // bits, nor the 11 check bits the visited sets add).
  for (const s of bundled_scenarios()) {
    it(`${s.id}: a run with its counters bumped before every step has the same keys`, () => {
      const cfg = load_scenario(s.path, { seed: 3 }).config;
      const a = new Sim(cfg, { undo: false });
      const b = new Sim(cfg, { undo: false });
      a.restart();
      b.restart();
      const m = new Machine(create_world(cfg));
      const checks = new Set<number>();
      for (let i = 0; i < 3000; i++) {
        const r = m.step();
        if (r.status !== 'ok') break;
        const t = m.schedule.picks[m.schedule.picks.length - 1]!;
        for (const k of Object.keys(b.w.metrics)) b.w.metrics[k] = b.w.metrics[k]! + 1000 + i;
        b.w.metrics['pgtable_entries_read'] = (b.w.metrics['pgtable_entries_read'] ?? 0) + 777;
        for (const th of b.w.threads) th.steps += 1000;
        a.exec(t, m.schedule.choices.slice(a.m.schedule.choices.length), null);
        b.exec(t, m.schedule.choices.slice(b.m.schedule.choices.length), null);
        expect(b.key53(), `${s.id}, step ${i + 1} (${b.w.threads[t]!.name} in ${b.w.threads[t]!.stack.at(-1)?.fn ?? 'nothing'})`).toBe(a.key53());
        expect(b.key_check()).toBe(a.key_check());
        checks.add(a.key_check());
      }
      // The 11 check bits follow the state as the 53 do.
      expect(checks.size).toBeGreaterThan(16);
    });
  }
});
