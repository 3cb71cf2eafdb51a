// Recording overhead: `run` against `run --record` on the same scenario in
// the same process (paired, alternating runs; the median ratio), and the
// bytes a recording takes per step. The goal is at most 1.1x; rr's
// published recording overhead is 1.49x to 1.79x on its lighter
// workloads. Also: how fast `replay --verify` re-runs a recording.
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

async function measure(name: string, loaded: LoadedScenario, file: string, rounds: number): Promise<Row[]> {
  // Warm up both paths.
  run_scenario(loaded, { keep_events: false });
  await record_run(loaded, { path: file, keep_events: false });
  const plain: number[] = [];
  const rec: number[] = [];
  const ratios: number[] = [];
  let steps = 0;
  for (let i = 0; i < rounds; i++) {
    // Alternate the order so that neither side always runs second.
    const order = i % 2 === 0 ? ['plain', 'rec'] : ['rec', 'plain'];
    let tp = 0;
    let tr = 0;
    for (const which of order) {
      const t0 = performance.now();
      if (which === 'plain') steps = run_scenario(loaded, { keep_events: false }).steps;
      else await record_run(loaded, { path: file, keep_events: false });
      const dt = performance.now() - t0;
      if (which === 'plain') tp = dt;
      else tr = dt;
    }
    plain.push(tp);
    rec.push(tr);
    ratios.push(tr / tp);
  }
  const bytes = statSync(file).size;
  const r = load_recording(file);
  const t0 = performance.now();
  const rp = replay_recording(r, { verify: true });
  const t_replay = performance.now() - t0;
  if (rp.divergence) throw new Error(`bench: the replay of ${name} diverged: ${rp.divergence.message}`);
  const ns_plain = (median(plain) * 1e6) / steps;
  const ns_rec = (median(rec) * 1e6) / steps;
  return [
    { name: `${name}: run, ns/step (${steps} steps)`, value: ns_plain, unit: 'ns/step' },
    { name: `${name}: run --record, ns/step`, value: ns_rec, unit: 'ns/step', note: `overhead x${median(ratios).toFixed(3)} (median of ${rounds} paired runs; goal <= 1.1, rr 1.49-1.79)` },
    { name: `${name}: recording size`, value: bytes / steps, unit: 'bytes/step', note: `${bytes} bytes, ${r.hashes.size} state hashes` },
    { name: `${name}: replay --verify, ns/step`, value: (t_replay * 1e6) / steps, unit: 'ns/step', note: `x${((t_replay * 1e6) / steps / ns_plain).toFixed(2)} of run` },
  ];
}

export async function bench_record(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-bench-record-'));
  try {
    const rows: Row[] = [];
    rows.push(...(await measure('default.yaml', load_scenario(package_path('scenarios/default.yaml')), join(dir, 'default.jsonl'), 15)));
    rows.push(...(await measure('nv-revmap.yaml', load_scenario(package_path('scenarios/nv-revmap.yaml')), join(dir, 'nv-revmap.jsonl'), 15)));
    rows.push(...(await measure('long default (370k steps)', parse_scenario(LONG, 'long.yaml'), join(dir, 'long.jsonl'), 5)));
    print_rows('record: recording overhead and size', rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
