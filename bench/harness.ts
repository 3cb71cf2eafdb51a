// Benchmark helpers. Figures are measured here, never in tests: each row is
// printed beside a peer or a baseline run in the same process.
import { performance } from 'node:perf_hooks';

export interface Row {
  name: string;
  value: number;
  unit: string;
  peer?: string;
  peer_value?: number;
  note?: string;
}

/** Median ns per operation of `fn`, which performs `ops` operations per call. */
export function ns_per_op(fn: () => void, ops: number, rounds = 7, min_ms = 50): number {
  // Warm up so the JIT has settled before the timed rounds.
  const warm_end = performance.now() + min_ms;
  let reps = 0;
  while (performance.now() < warm_end) { fn(); reps++; }
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    samples.push(((performance.now() - t0) * 1e6) / (reps * ops));
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

export function print_rows(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  for (const r of rows) {
    let line = `  ${r.name.padEnd(44)} ${fmt(r.value).padStart(12)} ${r.unit}`;
    if (r.peer !== undefined && r.peer_value !== undefined) {
      line += `   vs ${r.peer}: ${fmt(r.peer_value)} ${r.unit} (x${(r.peer_value / r.value).toFixed(2)})`;
    }
    if (r.note) line += `   ${r.note}`;
    console.log(line);
  }
}
