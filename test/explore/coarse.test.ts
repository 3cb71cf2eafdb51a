// Coarse transitions (src/explore/local.ts) are a reduction: a search with
// them must reach the same violations and the same end states as one
// without them. Small scenarios, searched to the end both ways, compare
// the sets. End states are compared without the model's step stamps
// (changed_step, fill_step, section_start...): running a thread's local
// steps earlier renumbers the steps of the others (local.ts says why that
// changes no outcome), and everything else must be equal. The depth
// bound (in steps) cuts both searches alike: a coarse transition of k
// steps counts k.
import { describe, expect, it } from 'vitest';
import { REDUCTION_CASES as CASES, reach } from './helpers.js';

describe('coarse transitions', () => {
  for (const [name, variants, p] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, ${p === null ? 'no preemption bound' : `at most ${p} preemption`}: the same violations and end states, fewer states`, () => {
      const fine = reach(name, variants, { preemptions: p, coarse: false });
      const coarse = reach(name, variants, { preemptions: p, coarse: true });
      expect(fine.complete).toBe(true);
      expect(coarse.complete).toBe(true);
      expect([...coarse.violations].sort()).toEqual([...fine.violations].sort());
      expect(coarse.ends.size).toBeGreaterThan(0);
      expect([...coarse.ends].sort()).toEqual([...fine.ends].sort());
      // The reduction does something: steps were merged, and fewer states stored.
      expect(coarse.merged).toBeGreaterThan(0);
      expect(coarse.states).toBeLessThan(fine.states);
      if (variants.length) expect(fine.violations.size).toBeGreaterThan(0);
    });
  }

  it('without sleep sets too (the two reductions are independent)', () => {
    const fine = reach('kick2', [], { preemptions: null, coarse: false, por: false });
    const coarse = reach('kick2', [], { preemptions: null, coarse: true, por: false });
    expect(fine.complete && coarse.complete).toBe(true);
    expect([...coarse.ends].sort()).toEqual([...fine.ends].sort());
    expect(coarse.states).toBeLessThan(fine.states);
  });
});
