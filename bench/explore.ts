// The explorer: states per second and time to the first violation for every
// buggy variant, by strategy; and, side by side on one model (the
// fault-versus-invalidation retry race), kvmdbg beside SPIN (the Promela
// model in bench/explore/fault_retry.pml) and beside fast-check's scheduler
// (bench/explore/fault_retry_fc.ts).
//
// And the verdict (issue 16): DFS with --preemptions 2 on every bundled
// scenario without variants, 2 workers, to a complete verdict within a
// time limit, beside the previous algorithm (no coarse transitions) in the
// same process; every breaking variant found by that search; unbounded DFS
// on fault-vs-invalidate beside SPIN's exhaustive run of the Promela model.
//
// Run alone: node dist/bench/explore.js [--quick] [--side (only the side-by-side)] [--verify (only the verdict)]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import '../src/core/world_init.js';
import { all_variants } from '../src/core/machine/variants.js';
import { explore, verified_round, type ExploreOptions, type ExploreResult } from '../src/explore/explore.js';
import { load_scenario, type LoadedScenario } from '../src/scenario/load.js';
import { bundled_scenarios } from '../src/scenario/bundled.js';
import { fc_fault_retry } from './explore/fault_retry_fc.js';
import { print_rows, type Row } from './harness.js';
import { package_path } from './paths.js';

/** Where each breaking variant shows (the same table as test/explore/variants.test.ts). */
const CASES: [string, string][] = [
  ['mmu.no_notifier_flush', 'numa-invalidate-retry'],
  ['hv.no_srcu_sync', 'hv-tlb-flush-inhibit'],
  ['kvm.exit_request_before_mode', 'default'],
  ['mmu.no_retry_check', 'fault-vs-invalidate'],
  ['mmu.no_retry_check', 'numa-invalidate-retry'],
  ['mmu.no_retry_check', 'thp-fault-vs-migrate'],
  ['nv.no_unmap_request', 'nv-s2-recycle'],
  ['nv.put_drops_ref', 'nv-unmap-preempted'],
  ['nv.unmap_on_recycle', 'nv-s2-recycle'],
  ['pgtable.free_unlinked_sync', 'parallel-walk-rcu'],
  ['pgtable.no_bbm', 'parallel-walk-rcu'],
  ['pgtable.no_table_tlbi', 'parallel-walk-rcu'],
  ['nv.revmap_overwrite', 'nv-revmap'],
];

interface Strat {
  name: string;
  o: Omit<ExploreOptions, 'workers'>;
}

const STRATEGIES: Strat[] = [
  { name: 'random', o: { strategy: 'random', budget: 1e9 } },
  { name: 'pct d=3', o: { strategy: 'pct', budget: 1e9 } },
  // Exhaustive search needs bounds on these scenarios: CHESS's two preemptions, no injected faults.
  { name: 'dfs P=2 F=0', o: { strategy: 'dfs', preemptions: 2, faults: 0 } },
];

function scenario(id: string, variants: string[] = []): LoadedScenario {
  return load_scenario(package_path(`scenarios/${id}.yaml`), { variants });
}

async function run(l: LoadedScenario, o: Omit<ExploreOptions, 'workers'>, time: number): Promise<ExploreResult> {
  return explore(l, { variants: l.config.variants }, { workers: 1, shrink: false, time, ...o });
}

const fmt_ms = (r: ExploreResult) => (r.violation ? `${r.time_ms.toFixed(1)} ms` : `not found in ${(r.time_ms / 1000).toFixed(0)} s`);

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

interface SpinFigures {
  states: number;
  transitions: number;
  /** pan's own elapsed time (s) and the wall-clock time of running pan (ms). */
  elapsed_s: number;
  wall_ms: number;
  errors: number;
}

/** spin -a, cc, ./pan in a scratch directory; null when spin or cc is missing. */
function run_spin(defines: string[]): SpinFigures | null {
  if (!which('spin') || !which('cc')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-spin-'));
  try {
    copyFileSync(package_path('bench/explore/fault_retry.pml'), join(dir, 'fault_retry.pml'));
    const a = spawnSync('spin', ['-a', ...defines.map((d) => `-D${d}`), 'fault_retry.pml'], { cwd: dir, encoding: 'utf8' });
    if (a.status !== 0) throw new Error(`spin -a failed: ${a.stdout}${a.stderr}`);
    const c = spawnSync('cc', ['-O2', '-DSAFETY', '-o', 'pan', 'pan.c'], { cwd: dir, encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`cc pan.c failed: ${c.stderr}`);
    const t0 = performance.now();
    const p = spawnSync('./pan', ['-m100000'], { cwd: dir, encoding: 'utf8' });
    const wall_ms = performance.now() - t0;
    const out = p.stdout;
    const num = (re: RegExp) => Number((re.exec(out)?.[1] ?? 'NaN').replace(/e\+?/, 'e'));
    return {
      states: num(/([\d.e+]+) states, stored/),
      transitions: num(/([\d.e+]+) transitions \(= stored\+matched\)/),
      elapsed_s: num(/elapsed time ([\d.e+]+) seconds/),
      wall_ms,
      errors: num(/errors: (\d+)/),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds a verdict may take (the issue's target) and the worker count it is measured with. */
const VERDICT_S = 150;
const VERDICT_WORKERS = 2;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const n = (x: number) => x.toLocaleString('en-US');

function verdict_text(r: ExploreResult): string {
  // Searches started again after breaches of the learned facts (explore.ts).
  const again = r.restarts ? `, ${r.restarts} restart${r.restarts === 1 ? '' : 's'}` : '';
  // The preemption bounds searched in turn (explore.ts): where the violation was found, or the largest verified.
  const v = verified_round(r.rounds);
  const bound = r.rounds.length > 1 ? (r.violation ? ` at P=${r.params.preemptions}` : r.status !== 'complete' && v ? `; P=${v.preemptions} verified in ${secs(v.time_ms)} (${n(v.distinct)} states)` : '') : '';
  if (r.violation) return `violation ${r.violation.violation.invariant}${bound} after ${secs(r.time_ms)}${again}`;
  if (r.status === 'complete') return `verified in ${secs(r.time_ms)}, ${n(r.distinct)} states${r.cut ? ' (depth cut)' : ''}${again}`;
  return `no verdict: ${r.status} after ${secs(r.time_ms)}, ${n(r.distinct)} states${r.cut ? ' (depth cut)' : ''}${again}${bound}`;
}

async function verify_rows(limit: number): Promise<void> {
  const dfs2 = (coarse: boolean) => ({ strategy: 'dfs', preemptions: 2, coarse, workers: VERDICT_WORKERS, shrink: false }) as const;
  for (const s of bundled_scenarios()) {
    const l = load_scenario(s.path, { variants: [] });
    const r = await explore(l, { variants: [] }, { ...dfs2(true), time: limit });
    let line = `  ${s.id.padEnd(30)} ${verdict_text(r)}`;
    if (r.status !== 'complete' && !r.violation && r.choices === 0) {
      // With faults left, the search met no fault choice to take: --faults 0 would run it again.
      line += ';  --faults 0: the same search (no move asked an injected-fault choice)';
    } else if (r.status !== 'complete' && !r.violation) {
      // The same preemption bound without injected faults.
      const small = await explore(l, { variants: [] }, { strategy: 'dfs', preemptions: 2, faults: 0, workers: VERDICT_WORKERS, shrink: false, time: limit });
      line += `;  --faults 0: ${verdict_text(small)}`;
    }
    console.log(line);
  }
  console.log(`  (target: a verdict within ${VERDICT_S} s each, ${VERDICT_WORKERS} workers; limit this run: ${limit} s)`);
  // Where both finish: the small scenarios of the tests, same bounds.
  console.log(`\n## explore: dfs --preemptions 2 to a verdict on small scenarios (test fixtures), ${VERDICT_WORKERS} workers, beside the previous algorithm`);
  for (const f of ['coarse-race', 'coarse-request', 'coarse-x86']) {
    const l = load_scenario(package_path(`test/explore/fixtures/${f}.yaml`), { variants: [] });
    const now = await explore(l, { variants: [] }, { ...dfs2(true), time: limit });
    const old = await explore(l, { variants: [] }, { ...dfs2(false), time: limit });
    console.log(`  ${f.padEnd(30)} coarse: ${verdict_text(now)};  previous: ${verdict_text(old)}`);
  }
  console.log(`\n## explore: each breaking variant, dfs --preemptions 2, ${VERDICT_WORKERS} workers, time to the violation`);
  const breaking = new Set(all_variants().filter((v) => !/^nothing\b/.test(v.breaks.trim())).map((v) => v.name));
  for (const [variant, id] of CASES) {
    if (!breaking.has(variant)) continue;
    const r = await explore(scenario(id, [variant]), { variants: [variant] }, { ...dfs2(true), time: limit });
    console.log(`  ${`${variant} (${id})`.padEnd(56)} ${verdict_text(r)}${r.violation ? `, ${n(r.distinct)} states` : ''}`);
  }
  // Unbounded DFS to a verdict on fault-vs-invalidate, beside SPIN on the Promela model of the same race.
  console.log(`\n## explore: a complete verdict on the fault/invalidation retry race, kvmdbg beside SPIN`);
  const fixed = scenario('fault-vs-invalidate');
  const u = await explore(fixed, { variants: [] }, { strategy: 'dfs', workers: VERDICT_WORKERS, shrink: false, time: limit });
  console.log(`  kvmdbg dfs, no preemption bound (fault-vs-invalidate, depth ${n(u.params.depth)}): ${verdict_text(u)}, ${n(u.transitions)} steps`);
  const spin = run_spin([]);
  if (spin) {
    console.log(`  SPIN (bench/explore/fault_retry.pml, exhaustive, -DSAFETY): ${spin.errors === 0 ? 'verified' : `${spin.errors} errors`}, ${n(spin.states)} states stored, ${n(spin.transitions)} transitions, pan ${spin.elapsed_s} s (wall ${secs(spin.wall_ms)})`);
  } else console.log('  SPIN: not run (`spin` or a C compiler not on PATH; `apt-get install -y spin`)');
}

export async function bench_explore(opts: { quick?: boolean; side_only?: boolean; verify_only?: boolean } = {}): Promise<void> {
  const time = opts.quick ? 3 : 10;
  if (!opts.side_only) {
    console.log(`\n## explore: the verdict, dfs --preemptions 2 on every bundled scenario (no variant), ${VERDICT_WORKERS} workers`);
    await verify_rows(opts.quick ? 20 : VERDICT_S);
  }
  if (opts.verify_only) return;
  // Warm up the JIT on the simulator and the tracker.
  await run(scenario('fault-vs-invalidate'), { strategy: 'random', budget: 20 }, 2);
  await run(scenario('fault-vs-invalidate'), { strategy: 'dfs', depth: 60 }, 2);

  // 1. Every buggy variant, by strategy: time to the first violation and steps per second.
  const breaking = new Set(all_variants().filter((v) => !/^nothing\b/.test(v.breaks.trim())).map((v) => v.name));
  const rows: Row[] = [];
  for (const [variant, id] of opts.side_only ? [] : CASES) {
    if (!breaking.has(variant)) continue;
    const l = scenario(id, [variant]);
    for (const s of STRATEGIES) {
      const r = await run(l, s.o, time);
      const rate = r.time_ms > 0 ? (r.transitions / r.time_ms) * 1000 : 0;
      rows.push({
        name: `${variant} (${id}) ${s.name}`,
        value: r.time_ms,
        unit: r.violation ? 'ms to violation' : 'ms, none found',
        note: `${r.violation ? `${r.violation.violation.invariant}, ${r.schedules} schedules` : `${r.schedules} schedules`}; ${Math.round(rate).toLocaleString('en-US')} steps/s`,
      });
    }
  }
  if (rows.length) print_rows('explore: time to the first violation, by variant and strategy (1 worker, no shrinking)', rows);

  // 2. One model, three checkers.
  const side: Row[] = [];
  const notes: string[] = [];
  const fixed = scenario('fault-vs-invalidate');
  const buggy = scenario('fault-vs-invalidate', ['mmu.no_retry_check']);
  const dfs_fixed = await run(fixed, { strategy: 'dfs' }, time);
  const dfs_rate = (dfs_fixed.transitions / dfs_fixed.time_ms) * 1000;
  const dfs_distinct_rate = (dfs_fixed.distinct / dfs_fixed.time_ms) * 1000;
  const walk_fixed = await run(fixed, { strategy: 'random', budget: 1e9 }, time / 2);
  const walk_rate = (walk_fixed.schedules / walk_fixed.time_ms) * 1000;
  const first: Record<string, ExploreResult> = {};
  for (const s of [
    { name: 'random', o: { strategy: 'random', budget: 1e9 } as const },
    { name: 'pct', o: { strategy: 'pct', budget: 1e9 } as const },
    { name: 'dfs P=2', o: { strategy: 'dfs', preemptions: 2 } as const },
    { name: 'dfs', o: { strategy: 'dfs' } as const },
  ]) {
    first[s.name] = await run(buggy, s.o, time);
  }
  const best_first = Math.min(...Object.values(first).map((r) => (r.violation ? r.time_ms : Infinity)));

  const spin_fixed = run_spin([]);
  const spin_buggy = spin_fixed ? run_spin(['NO_RETRY']) : null;
  if (spin_fixed && spin_buggy) {
    const spin_rate = spin_fixed.states / Math.max(spin_fixed.elapsed_s, spin_fixed.wall_ms / 1000, 1e-3);
    side.push({ name: 'states/s: kvmdbg dfs (transitions)', value: dfs_rate, unit: 'states/s', peer: 'SPIN (stored states)', peer_value: spin_rate, note: `goal: within 4x (${spin_rate / dfs_rate <= 4 ? 'met' : 'not met'})` });
    side.push({ name: 'states/s: kvmdbg dfs (distinct states)', value: dfs_distinct_rate, unit: 'states/s', peer: 'SPIN', peer_value: spin_rate });
    side.push({ name: 'time to first violation: kvmdbg (best strategy)', value: best_first, unit: 'ms', peer: 'SPIN (pan run)', peer_value: spin_buggy.wall_ms, note: `goal: no worse (${best_first <= spin_buggy.wall_ms ? 'met' : 'not met'})` });
    notes.push(
      `SPIN: ${spin_fixed.states.toLocaleString('en-US')} states (the whole space of the Promela model, ${spin_fixed.errors} errors) in ${spin_fixed.elapsed_s} s; with NO_RETRY the assertion fails after ${spin_buggy.states.toLocaleString('en-US')} states in ${spin_buggy.wall_ms.toFixed(0)} ms (pan only; spin -a and cc take longer)`,
    );
  } else {
    notes.push('SPIN row skipped: `spin` (and a C compiler) not on PATH. Install it with `apt-get install -y spin` (Debian/Ubuntu), then run the bench again.');
  }
  const fc_fixed = await fc_fault_retry({ retry: true, runs: opts.quick ? 300 : 2000 });
  const fc_buggy = await fc_fault_retry({ retry: false, runs: 100_000 });
  side.push({ name: 'schedules/s: kvmdbg random walks', value: walk_rate, unit: 'schedules/s', peer: 'fast-check scheduler', peer_value: fc_fixed.rate, note: `goal: at least 10x (${walk_rate / fc_fixed.rate >= 10 ? 'met' : 'not met'}: x${(walk_rate / fc_fixed.rate).toFixed(1)})` });
  side.push({
    name: 'time to first violation: kvmdbg (best strategy)',
    value: best_first,
    unit: 'ms',
    peer: 'fast-check',
    peer_value: fc_buggy.failed_at ? fc_buggy.ms : Infinity,
    note: fc_buggy.failed_at ? `fast-check: schedule ${fc_buggy.failed_at}` : 'fast-check: not found',
  });
  print_rows('explore: one model (the fault/invalidation retry race), kvmdbg beside SPIN and fast-check', side);
  for (const [k, r] of Object.entries(first)) {
    console.log(`  kvmdbg ${k.padEnd(7)} first violation: ${fmt_ms(r)} (${r.schedules} schedules, ${r.transitions.toLocaleString('en-US')} steps)`);
  }
  console.log(
    `  kvmdbg dfs on the fixed model: ${dfs_fixed.distinct.toLocaleString('en-US')} distinct states, ${dfs_fixed.transitions.toLocaleString('en-US')} steps in ${(dfs_fixed.time_ms / 1000).toFixed(1)} s (${dfs_fixed.status}); the simulator models each access in ~100 steps where the Promela model takes ~8`,
  );
  for (const n of notes) console.log(`  ${n}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await bench_explore({ quick: process.argv.includes('--quick'), side_only: process.argv.includes('--side'), verify_only: process.argv.includes('--verify') });
}
