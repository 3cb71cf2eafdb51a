// A worker thread running one part of a search (explore.ts starts them).
// Messages in: {stop: 'time' | 'interrupted' | 'breach'}, {limit: item}. Out:
// {progress}, {found: item} as soon as a violation is found, then {result}.
import { parentPort, workerData } from 'node:worker_threads';
import { parse_scenario, type Overrides } from '../scenario/load.js';
import { Part, type PartSpec, type SearchParams, type StopReason } from './part.js';
import { load_patch_sources } from '../patch/load.js';
import type { PatchSource } from '../patch/scope.js';

export interface WorkerData {
  text: string;
  file: string;
  overrides: Overrides;
  params: SearchParams;
  spec: PartSpec;
  progress_ms: number;
  /** The patches the parent loaded (--patch): the worker runs the same model. */
  patches: PatchSource[];
}

export type ToWorker = { stop: StopReason } | { limit: number };

async function main(): Promise<void> {
  const port = parentPort!;
  const d = workerData as WorkerData;
  load_patch_sources(d.patches, 'cli');
  const { config } = parse_scenario(d.text, d.file, d.overrides);
  const part = new Part(config, d.params, d.spec);
  port.on('message', (m: ToWorker) => {
    if ('stop' in m) part.stop(m.stop);
    else part.limit(m.limit);
  });
  let last = performance.now();
  let told = false;
  while (part.slice(50)) {
    const s = part.searcher;
    if (!told && s.finding) {
      told = true;
      port.postMessage({ found: s.finding.item });
    }
    if (performance.now() - last >= d.progress_ms) {
      last = performance.now();
      port.postMessage({ progress: part.progress() });
    }
    // Let stop and limit messages in.
    await new Promise<void>((r) => setImmediate(r));
  }
  const result = part.result();
  port.postMessage({ result }, [result.keys.buffer as ArrayBuffer]);
}

main().catch((e: unknown) => {
  parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
});
