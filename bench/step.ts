// What one explorer step costs, layer by layer, beside the model alone: the
// Machine stepping the plain World (what random walks run), then the same
// random runs on the tracked World with footprints (what facts.ts learns
// from), then with the undo log and the state key as well (what every DFS
// step keeps), and last the DFS itself (one worker, one preemption, for a
// few seconds), whose steps also pay for the visited set, the coarse
// transitions' locality checks, the checks of the learned facts and undoing.
// Each layer is printed beside the model alone in the same process.
//
// Run alone: node dist/bench/step.js
import '../src/core/world_init.js';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { explore } from '../src/explore/explore.js';
import { Sim, type SimOptions } from '../src/explore/sim.js';
import { new_footprint } from '../src/explore/track.js';
import { rand, schedule_rng } from '../src/explore/walks.js';
import { bundled_scenarios } from '../src/scenario/bundled.js';
import { load_scenario, type LoadedScenario } from '../src/scenario/load.js';
import { print_rows, type Row } from './harness.js';

/** Steps per layer and round; the median of ROUNDS rounds is printed. */
const STEPS = 100_000;
const ROUNDS = 5;
/** The same random runs for every layer: seeded schedules, no injected faults, runs cut at this many steps. */
const RUN_STEPS = 3_000;

interface Layer {
  name: string;
  sim: SimOptions;
  footprints: boolean;
  key: boolean;
}

const LAYERS: Layer[] = [
  { name: 'model alone (plain World)', sim: { track: false }, footprints: false, key: false },
  { name: '+ footprints (tracked World)', sim: { undo: false, key: false }, footprints: true, key: false },
  { name: '+ undo log and state key', sim: {}, footprints: true, key: true },
];

/** Median ns per step of random runs of `l` on a Sim made with `layer`. */
function ns_per_step(l: LoadedScenario, layer: Layer): number {
  const sim = new Sim(l.config, layer.sim);
  sim.answer = () => 0;
  const samples: number[] = [];
  let run = 0;
  for (let r = 0; r <= ROUNDS; r++) {
    let steps = 0;
    const t0 = performance.now();
    while (steps < STEPS) {
      const g = schedule_rng(7, run++);
      sim.restart();
      for (let s = 0; s < RUN_STEPS; s++) {
        const ready = sim.runnable();
        if (ready.length === 0) break;
        const x = sim.exec(ready[rand(g, ready.length)]!, [], layer.footprints ? new_footprint() : null);
        steps++;
        if (layer.key) sim.key53();
        if (x.result.violations.length) break;
      }
    }
    // The first round warms the JIT up.
    if (r > 0) samples.push(((performance.now() - t0) * 1e6) / steps);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

export async function bench_step(): Promise<void> {
  for (const id of ['fault-vs-invalidate', 'default', 'hv-tlb-flush-inhibit']) {
    const s = bundled_scenarios().find((x) => x.id === id)!;
    const l = load_scenario(s.path, { variants: [] });
    const base = ns_per_step(l, LAYERS[0]!) / 1000;
    // A cost: the note says how many times the model alone each layer takes.
    const row = (name: string, value: number, note = ''): Row => ({ name, value, unit: 'us/step', note: `${(value / base).toFixed(1)}x the model alone${note}` });
    const rows: Row[] = [{ name: LAYERS[0]!.name, value: base, unit: 'us/step' }];
    for (const layer of LAYERS.slice(1)) rows.push(row(layer.name, ns_per_step(l, layer) / 1000));
    // The search's own step: its round's time over its steps (learning the facts is not in it), from
    // the second of two searches, which finds the JIT warm and the pooled visited table mapped in.
    const dfs = () => explore(l, { variants: [] }, { strategy: 'dfs', preemptions: 1, workers: 1, time: 5, iterate: false, shrink: false });
    await dfs();
    const r = await dfs();
    const round = r.rounds[r.rounds.length - 1]!;
    rows.push(row('DFS step (P=1, one worker, 5 s)', (round.time_ms * 1000) / round.transitions, `, ${round.transitions.toLocaleString('en-US')} steps`));
    print_rows(`step cost: ${id}`, rows);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bench_step();
