// kvmdbg export RECORDING --format perfetto|ftrace -o FILE: replay the
// recording and write its timeline for ui.perfetto.dev (Chrome trace JSON)
// or as trace-cmd report text. `-o -` writes to stdout. Exit 0; 3 when the
// replay diverged (what was replayed is still written); 2 for bad input.
import '../src/core/world_init.js';
import { export_recording, write_output, type ExportFormat } from '../src/record/export.js';
import { UserError } from '../src/scenario/errors.js';
import { check_output } from '../src/record/output.js';
import { EXIT_DIVERGED, EXIT_OK, type CommonOptions } from './common.js';
import { apply_poke, open_recording } from './replay.js';

export interface ExportCommandOptions extends CommonOptions {
  format: ExportFormat;
  output?: string;
  force?: boolean;
}

export function export_command(file: string, opts: ExportCommandOptions): number {
  if (!opts.output) throw new UserError('export: -o FILE is required (- for stdout)');
  check_output(opts.output, { inputs: [{ path: file, what: 'the recording it exports' }], force: opts.force === true, what: 'the export' });
  const rec = open_recording(file, opts);
  const r = export_recording(rec, opts.format, { apply_poke });
  write_output(opts.output, r.text);
  const d = r.replay.divergence;
  if (d) {
    process.stderr.write(`kvmdbg: ${file}: the replay diverged at step ${d.step}: ${d.message}; exported the ${r.replay.steps} steps before\n`);
    return EXIT_DIVERGED;
  }
  if (opts.output !== '-') {
    const flows = opts.format === 'perfetto' ? `, ${r.flows} request flow${r.flows === 1 ? '' : 's'}` : '';
    process.stdout.write(`${opts.output}: ${r.events} events from ${r.replay.steps} steps${flows} (${opts.format})${opts.format === 'perfetto' ? '; open it at https://ui.perfetto.dev' : ''}\n`);
  }
  return EXIT_OK;
}
