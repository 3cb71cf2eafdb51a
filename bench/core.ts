// Simulator speed: steps per second on the default scenario with every
// invariant checked, beside the same runs with invariants off; and the
// per-step price of a state hash (the explorer's visited set) and of a
// World copy (a debugger checkpoint).
import { performance } from 'node:perf_hooks';
import { Machine } from '../src/core/machine/machine.js';
import { create_world } from '../src/core/world_init.js';
import { load_scenario } from '../src/scenario/load.js';
import { print_rows, type Row } from './harness.js';
import { package_path } from './paths.js';

function steps_per_second(cfg: Parameters<typeof create_world>[0], invariants: boolean, min_ms = 1500): number {
  let steps = 0;
  let seed = 1;
  const t0 = performance.now();
  while (performance.now() - t0 < min_ms) {
    const m = new Machine(create_world({ ...cfg, sched: { ...cfg.sched, seed: seed++ } }), { invariants });
    for (;;) {
      const r = m.step();
      if (r.status !== 'ok' || r.violations.length) break;
      steps++;
    }
  }
  return steps / ((performance.now() - t0) / 1000);
}

export async function bench_core(): Promise<void> {
  const { config } = load_scenario(package_path('scenarios/default.yaml'));
  // Warm up the JIT on both paths before measuring.
  steps_per_second(config, true, 300);
  steps_per_second(config, false, 300);
  const on = steps_per_second(config, true);
  const off = steps_per_second(config, false);

  // A mid-run World: hash it and copy it.
  const m = new Machine(create_world(config));
  let n = 0;
  while (n < 60 && m.step().status === 'ok') n++;
  const w = m.w;
  const time = (fn: () => void, reps: number) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return ((performance.now() - t0) * 1e6) / reps;
  };
  time(() => m.state_hash(), 200);
  time(() => structuredClone(w), 200);
  const hash_ns = time(() => m.state_hash(), 2000);
  const clone_ns = time(() => structuredClone(w), 2000);
  const step_ns = 1e9 / on;
  const rows: Row[] = [
    { name: 'steps/s, invariants on (default.yaml)', value: on, unit: 'steps/s', peer: 'invariants off', peer_value: off },
    { name: 'state hash of a mid-run World', value: hash_ns, unit: 'ns', note: `= ${(hash_ns / step_ns).toFixed(1)} steps` },
    { name: 'World copy (checkpoint, structuredClone)', value: clone_ns, unit: 'ns', note: `= ${(clone_ns / step_ns).toFixed(1)} steps` },
  ];
  print_rows('core: the step interpreter', rows);
}
