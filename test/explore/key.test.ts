// The visited set's key leaves out the step and event counters
// (src/explore/sim.ts key53(): the model compares its stamps only by
// order, and the key carries the time left on timed waits). A search
// keyed without them must reach the same violations and end states as one
// keyed with them, and merge at least as much.
import { describe, expect, it } from 'vitest';
import { REDUCTION_CASES as CASES, reach } from './helpers.js';

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
