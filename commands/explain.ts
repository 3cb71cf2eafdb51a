// kvmdbg explain RECORDING [--step N] [--format text|markdown|json]: the
// race diagram of a recording's violation (or of step N), from the causal
// slice of that step (src/explain). Exit 0; 2 for bad input (a malformed
// recording, a step out of range, no violation and no --step); 3 when the
// recording cannot be replayed up to that step.
import '../src/core/world_init.js';
import '../src/debugger/trees.js';
import '../src/debugger/pagetables.js';
import { explain, format_diagram, type ExplainFormat } from '../src/explain/index.js';
import { Divergence } from '../src/record/replay.js';
import { EXIT_DIVERGED, EXIT_OK, type CommonOptions } from './common.js';
import { apply_poke, open_recording } from './replay.js';

export interface ExplainCommandOptions extends CommonOptions {
  step?: number;
  format?: ExplainFormat;
}

export function explain_command(file: string, opts: ExplainCommandOptions): number {
  const rec = open_recording(file, opts);
  let text: string;
  try {
    const d = explain(
      rec.scenario.config,
      { picks: rec.picks, choices: rec.choices, cmds: rec.cmds, drive: rec.header.drive },
      { apply_poke, what: file, ...(opts.step !== undefined ? { step: opts.step } : {}) },
    );
    text = format_diagram(d, opts.format ?? 'text');
  } catch (e) {
    if (!(e instanceof Divergence)) throw e;
    process.stderr.write(`kvmdbg: ${file}: the replay diverged at step ${e.step}: ${e.message}\n`);
    return EXIT_DIVERGED;
  }
  process.stdout.write(text + '\n');
  return EXIT_OK;
}
