// An injected preemption (a vCPU scheduled out at a preemption point, or by
// cond_resched) is a context switch away from a thread that could have gone
// on: the search counts it against the preemption bound, as it counts the
// scheduler switching away from a runnable thread. With faults unbounded,
// `--preemptions P` then still bounds how often any thread loses its CPU.
import { describe, expect, it } from 'vitest';
import { Dfs } from '../../src/explore/dfs.js';
import { Sim } from '../../src/explore/sim.js';
import { fixture } from './helpers.js';

/** Distinct states a search reaches with some vCPU off its CPU by preemption. */
function preempted_states(preemptions: number | null): { off: number; states: number; complete: boolean } {
  const sim = new Sim(fixture('coarse-request').config, { undo: true });
  const off = new Set<number>();
  const key53 = sim.key53.bind(sim);
  sim.key53 = () => {
    const k = key53();
    if (sim.w.threads.some((t) => sim.preempted(t.id))) off.add(k);
    return k;
  };
  const dfs = new Dfs(sim, { depth: 400, preemptions, faults: Infinity, por: true, coarse: true, budget: Infinity, split: 0, owns: () => true, first: true });
  const status = dfs.run();
  return { off: off.size, states: dfs.states.size, complete: status === 'done' };
}

describe('injected preemptions count against the preemption bound', () => {
  it('no preemption allowed: no state has a vCPU scheduled out, whatever the fault budget', () => {
    const r = preempted_states(0);
    expect(r.complete).toBe(true);
    expect(r.off).toBe(0);
  });

  it('one preemption allowed: the vCPU is scheduled out, and the states are a subset of the unbounded search', () => {
    const one = preempted_states(1);
    const all = preempted_states(null);
    expect(one.complete && all.complete).toBe(true);
    expect(one.off).toBeGreaterThan(0);
    expect(all.off).toBeGreaterThan(one.off);
    expect(one.states).toBeLessThan(all.states);
  });
});
