// Finding seeds rather than hard-coding them: any change to the model's step
// structure moves which seeds reach a race, but not whether some do.
import '../../src/core/world_init.js';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario, type RunResult } from '../../src/scenario/run.js';

export function run_seed(file: string, seed: number, variants: string[] = []): RunResult {
  return run_scenario(load_scenario(file, { seed, variants }), { keep_events: false });
}

/** The first seed in [1, max] whose run violates `invariant`, with its result. */
export function find_violation(file: string, variants: string[], invariant: string, max = 200): { seed: number; r: RunResult } {
  for (let seed = 1; seed <= max; seed++) {
    const r = run_seed(file, seed, variants);
    if (r.violation?.invariant === invariant) return { seed, r };
  }
  throw new Error(`no seed in 1..${max} of ${file} with ${variants.join(',')} violates ${invariant}`);
}

/** Runs seeds 1..n without variants; returns the seeds that violated something, with the invariant. */
export function clean_seeds(file: string, n: number): string[] {
  const bad: string[] = [];
  for (let seed = 1; seed <= n; seed++) {
    const r = run_seed(file, seed);
    if (r.violation || r.status === 'deadlock') bad.push(`${seed}: ${r.violation?.invariant ?? r.status}`);
  }
  return bad;
}
