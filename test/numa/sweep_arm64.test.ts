// scenarios/numa-invalidate-retry-arm64.yaml without variants: 2,000 seeded random
// runs, none breaks an invariant, deadlocks or hits the step limit.
import { describe, expect, it } from 'vitest';
import { run_scenario } from '../../src/scenario/run.js';
import { ARM64_FILE, load_with } from './helpers.js';

describe('numa-invalidate-retry-arm64: 2,000 seeds', () => {
  for (let chunk = 0; chunk < 4; chunk++) {
    it(`seeds ${chunk * 500 + 1}..${chunk * 500 + 500} end without a violation`, () => {
      const bad: string[] = [];
      for (let seed = chunk * 500 + 1; seed <= chunk * 500 + 500; seed++) {
        const r = run_scenario(load_with(ARM64_FILE, [], seed), { keep_events: false, steps: 50_000 });
        if (r.status !== 'end') bad.push(`seed ${seed}: ${r.status} ${r.violation?.message ?? r.blocked.join('; ')}`);
      }
      expect(bad).toEqual([]);
    });
  }
});
