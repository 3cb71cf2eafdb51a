// `explain`'s price: replaying a history with footprints (the tracker at
// the slice's depth) beside a plain replay of the same history, and the
// slice and diagram of a violation on top.
import { performance } from 'node:perf_hooks';
import { Machine } from '../src/core/machine/machine.js';
import { create_world } from '../src/core/world_init.js';
import { diagram } from '../src/explain/diagram.js';
import { slice } from '../src/explain/slice.js';
import { schedule_history, trace_history } from '../src/explain/trace.js';
import { load_scenario } from '../src/scenario/load.js';
import { print_rows } from './harness.js';
import { package_path } from './paths.js';

function best_ms(fn: () => void, reps: number): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export async function bench_explain(): Promise<void> {
  // A long clean run (the default scenario to its end), and a violating one.
  const { config } = load_scenario(package_path('scenarios/default.yaml'));
  const m = new Machine(create_world(config), { invariants: false });
  while (m.step().status === 'ok');
  const sch = { picks: [...m.schedule.picks], choices: [...m.schedule.choices] };
  const n = sch.picks.length;
  const plain = best_ms(() => {
    const r = new Machine(create_world(config), { invariants: false });
    r.replay = { s: sch, pick: 0, choice: 0 };
    for (let i = 0; i < n; i++) r.step();
  }, 5);
  const traced = best_ms(() => void trace_history(config, schedule_history(sch), { until: n }), 3);

  const bad = load_scenario(package_path('scenarios/fault-vs-invalidate.yaml'), { variants: ['mmu.no_retry_check'], seed: 1 });
  const vm = new Machine(create_world(bad.config));
  for (;;) {
    const r = vm.step();
    if (r.status !== 'ok' || r.violations.length) break;
  }
  const vs = { picks: [...vm.schedule.picks], choices: [...vm.schedule.choices] };
  const tr = trace_history(bad.config, schedule_history(vs));
  const sl = slice(tr, tr.steps.length);
  const draw = best_ms(() => void diagram(tr, slice(tr, tr.steps.length)), 5);
  print_rows('explain', [
    { name: `replay with footprints (default, ${n} steps)`, value: n / (traced / 1000), unit: 'steps/s', peer: 'a plain replay', peer_value: n / (plain / 1000) },
    { name: `slice + diagram (fault-vs-invalidate, ${tr.steps.length} steps)`, value: draw, unit: 'ms', note: `slice of ${sl.steps.length} steps` },
  ]);
}
