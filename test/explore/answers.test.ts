// A choice kind may say that its higher answers add nothing to an
// exhaustive search (ChoiceKind.exhaustive): a vCPU preempted for 64 or 512
// steps can only do what it can when preempted for 8, since the search may
// leave it off its CPU longer at no preemption. A search that tries only
// the lower answers must reach the same violations and end states as one
// that tries them all.
import { describe, expect, it } from 'vitest';
import { choice_kind } from '../../src/core/machine/scheduler.js';
import { reach } from './helpers.js';

const CASES: [string, string[]][] = [
  ['coarse-request', []],
  ['coarse-request', ['kvm.exit_request_before_mode']],
  ['coarse-race', []],
];

describe('choice answers an exhaustive search leaves out', () => {
  it('preempt: off the CPU for 8 steps covers 64 and 512', () => {
    expect(choice_kind('preempt')).toMatchObject({ n: 4, exhaustive: 2 });
  });

  for (const [name, variants] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, one injected fault, at most 1 preemption: the same violations and end states, fewer states`, () => {
      const all = reach(name, variants, { preemptions: 1, faults: 1, all_answers: true });
      const fewer = reach(name, variants, { preemptions: 1, faults: 1 });
      expect(all.complete && fewer.complete).toBe(true);
      expect([...fewer.violations].sort()).toEqual([...all.violations].sort());
      expect(fewer.ends.size).toBeGreaterThan(0);
      expect([...fewer.ends].sort()).toEqual([...all.ends].sort());
      expect(fewer.states).toBeLessThan(all.states);
      if (variants.length) expect(fewer.violations.size).toBeGreaterThan(0);
    });
  }
});
