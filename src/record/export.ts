// `kvmdbg export RECORDING --format perfetto|ftrace -o FILE`: replay the
// recording and feed its events to an exporter.
import { writeFileSync } from 'node:fs';
import { create_world } from '../core/world_init.js';
import { UserError } from '../scenario/errors.js';
import { FtraceExporter } from './ftrace.js';
import type { Recording } from './load.js';
import { PerfettoExporter, perfetto_json } from './perfetto.js';
import { replay_recording, type PokeApplier, type ReplayResult } from './replay.js';

export type ExportFormat = 'perfetto' | 'ftrace';

export interface ExportResult {
  /** The exported text. */
  text: string;
  /** Events exported. */
  events: number;
  /** Flow arrows (perfetto). */
  flows: number;
  replay: ReplayResult;
}

/** Replay `rec` and render its events (up to a divergence, if any: see result.replay.divergence). */
export function export_recording(rec: Recording, format: ExportFormat, opts: { apply_poke?: PokeApplier } = {}): ExportResult {
  const w0 = create_world(rec.scenario.config);
  let n = 0;
  if (format === 'perfetto') {
    const ex = new PerfettoExporter(w0, { name: rec.scenario.meta.name, source: rec.path, tool: rec.header.tool });
    const replay = replay_recording(rec, {
      ...(opts.apply_poke ? { apply_poke: opts.apply_poke } : {}),
      on_event: (e) => {
        n++;
        ex.event(e);
      },
    });
    for (const v of replay.violations) ex.violation(v);
    const meta = { kvmdbg: { recording: rec.path, scenario: rec.scenario.meta.name, file: rec.header.file, tool: rec.header.tool, variants: rec.header.variants, seed: rec.header.seed, steps: replay.steps, time_unit: '1 step = 1 us' } };
    return { text: perfetto_json(ex.finish(), meta), events: n, flows: ex.flows, replay };
  }
  if (format === 'ftrace') {
    const ex = new FtraceExporter(w0);
    const replay = replay_recording(rec, {
      ...(opts.apply_poke ? { apply_poke: opts.apply_poke } : {}),
      on_event: (e) => {
        n++;
        ex.event(e);
      },
    });
    for (const v of replay.violations) ex.violation(v);
    return { text: `${ex.lines.join('\n')}\n`, events: n, flows: 0, replay };
  }
  throw new UserError(`--format ${String(format)}: expected perfetto or ftrace`);
}

/** Write `text` to `path` ('-': stdout); errors are UserError. */
export function write_output(path: string, text: string): void {
  if (path === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot write: ${code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}
