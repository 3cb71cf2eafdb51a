// Recording overhead: `run` against `run --record` on the same scenario in
// the same process (paired, alternating runs; the median ratio) and as
// whole commands (paired child processes), the fixed cost of a recording,
// and the bytes a recording takes per step. The goal is at most 1.1x; rr's
// published recording overhead is 1.49x to 1.79x on its lighter
// workloads. Also: how fast `replay --verify` re-runs a recording.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import '../src/core/world_init.js';
import { load_scenario, parse_scenario, type LoadedScenario } from '../src/scenario/load.js';
import { run_scenario } from '../src/scenario/run.js';
import { record_run } from '../src/record/run.js';
import { load_recording } from '../src/record/load.js';
import { replay_recording } from '../src/record/replay.js';
import { print_rows, type Row } from './harness.js';
import { package_path } from './paths.js';

/** The default scenario with its vCPU loops and invalidations repeated: ~370k steps. */
const LONG = `name: long-default
arch: arm64
vm:
  vcpus: 2
  memslots:
    - {gpa: 0x8000_0000, size: 2M}
threads:
  vcpu0:
    - repeat: {times: 20000, do: [{access: {ipa: 0x8000_0000, write: true}}, {access: {ipa: 0x8000_2000}}]}
  vcpu1:
    - repeat: {times: 20000, do: [{access: {ipa: 0x8000_1000, write: true}}, {access: {ipa: 0x8000_2000}}]}
  mm:
    - repeat: {times: 5000, do: [{invalidate: {gpa: 0x8000_0000, size: 8K, change: migrate}}]}
schedule: {policy: random, seed: 1}
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median times (ms) of `run` and `run --record`, alternating which goes first. */
async function paired(loaded: LoadedScenario, file: string, rounds: number, steps?: number): Promise<{ plain: number; rec: number; ratio: number; n: number }> {
  const lim = steps !== undefined ? { steps } : {};
  const plain: number[] = [];
  const rec: number[] = [];
  const ratios: number[] = [];
  let n = 0;
  for (let i = 0; i < rounds + 3; i++) {
    let tp = 0;
    let tr = 0;
    for (const which of i % 2 === 0 ? ['plain', 'rec'] : ['rec', 'plain']) {
      const t0 = performance.now();
      if (which === 'plain') n = run_scenario(loaded, { ...lim, keep_events: false }).steps;
      else await record_run(loaded, { ...lim, path: file, keep_events: false });
      if (which === 'plain') tp = performance.now() - t0;
      else tr = performance.now() - t0;
    }
    if (i < 3) continue; // warm-up rounds
    plain.push(tp);
    rec.push(tr);
    ratios.push(tr / tp);
  }
  return { plain: median(plain), rec: median(rec), ratio: median(ratios), n };
}

/** Median wall time (ms) of `kvmdbg ARGS` in a child process. */
function cli_ms(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [package_path('bin/kvmdbg.js'), ...args], { stdio: 'ignore' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`bench: kvmdbg ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

async function measure(name: string, scenario_arg: string | null, loaded: LoadedScenario, file: string, rounds: number): Promise<Row[]> {
  const p = await paired(loaded, file, rounds);
  const bytes = statSync(file).size;
  const r = load_recording(file);
  const t0 = performance.now();
  const rp = replay_recording(r, { verify: true });
  const t_replay = performance.now() - t0;
  if (rp.divergence) throw new Error(`bench: the replay of ${name} diverged: ${rp.divergence.message}`);
  const rows: Row[] = [
    { name: `${name}: run --record (${p.n} steps)`, value: (p.rec * 1e6) / p.n, unit: 'ns/step', note: `run: ${((p.plain * 1e6) / p.n).toFixed(0)} ns/step; overhead x${p.ratio.toFixed(3)} (in process, median of ${rounds} paired runs)` },
    { name: `${name}: recording size`, value: bytes / p.n, unit: 'bytes/step', note: `${bytes} bytes, ${r.hashes.size} state hashes` },
    { name: `${name}: replay --verify`, value: (t_replay * 1e6) / p.n, unit: 'ns/step', note: `x${(t_replay / p.plain).toFixed(2)} of run` },
  ];
  if (scenario_arg) {
    // What a user sees: the whole command, paired child processes.
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 7; i++) {
      a.push(cli_ms(['run', scenario_arg, '--json', '--events', 'thread.exit']));
      b.push(cli_ms(['run', scenario_arg, '--json', '--events', 'thread.exit', '--record', file]));
    }
    rows.push({ name: `${name}: \`kvmdbg run --record\` command`, value: median(b), unit: 'ms', note: `\`kvmdbg run\`: ${median(a).toFixed(0)} ms; overhead x${(median(b) / median(a)).toFixed(3)} (child processes, median of 7)` });
  }
  return rows;
}

export async function bench_record(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-bench-record-'));
  try {
    const rows: Row[] = [];
    const def = load_scenario(package_path('scenarios/default.yaml'));
    rows.push(...(await measure('long default', null, parse_scenario(LONG, 'long.yaml'), join(dir, 'long.jsonl'), 5)));
    rows.push(...(await measure('default.yaml', 'default', def, join(dir, 'default.jsonl'), 30)));
    rows.push(...(await measure('nv-revmap.yaml', 'nv-revmap', load_scenario(package_path('scenarios/nv-revmap.yaml')), join(dir, 'nv-revmap.jsonl'), 30)));
    // The fixed price of a recording: open, header, handlers, the first and last hashes, fsync.
    const one = await paired(def, join(dir, 'one.jsonl'), 30, 1);
    rows.push({ name: 'fixed cost of a recording (a 1-step run)', value: one.rec - one.plain, unit: 'ms', note: 'open, header, signal handlers, step-0 and end hashes, fsync' });
    print_rows('record: recording overhead (goal <= 1.1x; rr records at 1.49x-1.79x on its lighter workloads) and size', rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
