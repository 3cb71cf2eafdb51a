// kvmdbg replay RECORDING [--verify] [--json] [--events KIND,...]: re-run a
// recording and print what `kvmdbg run` printed for it, then whether the
// replay followed it. Exit as `run` would for the run it reproduces (0, or
// 1 on a violation); 3 on a divergence (the replay cannot follow the
// recording, or reaches another state); 2 for a malformed recording. A recording cut short by a crash replays up to its
// last complete line, with a warning.
import { BASELINE } from '../src/core/baseline.js';
import '../src/core/world_init.js';
// The poke handlers a recording's commands name (pt map, mt store, variant...).
import { apply_poke } from '../src/debugger/pokes.js';
import '../src/debugger/trees.js';
import '../src/debugger/pagetables.js';
import { load_recording, type Recording } from '../src/record/load.js';
import { replay_recording, type Divergence, type ReplayResult } from '../src/record/replay.js';
import { DEFAULT_STEP_LIMIT } from '../src/scenario/run.js';
import { UserError } from '../src/scenario/errors.js';
import { package_version } from '../src/scenario/bundled.js';
import { ANSI, paint } from '../src/repl/format.js';
import { EXIT_DIVERGED, EXIT_OK, EXIT_VIOLATION, type CommonOptions } from './common.js';
import { RunPrinter, type ReportExtra } from './run.js';

export interface ReplayCommandOptions extends CommonOptions {
  verify?: boolean;
  json?: boolean;
  events?: string;
}

export { apply_poke };

/** Load a recording for a command: the common options do not apply, the warning goes to stderr. */
export function open_recording(file: string, opts: CommonOptions): Recording {
  if (opts.variant?.length || opts.seed !== undefined) {
    throw new UserError(`${file}: a recording holds its own variants and seed; expected no --variant or --seed`);
  }
  const rec = load_recording(file);
  if (opts.arch && opts.arch !== rec.scenario.config.arch) {
    throw new UserError(`${file}: the recording is for ${rec.scenario.config.arch}, not ${opts.arch} (--arch)`);
  }
  rec.scenario.meta.path = rec.header.file;
  if (rec.warning) process.stderr.write(`kvmdbg: warning: ${rec.warning}\n`);
  return rec;
}

export function divergence_json(d: Divergence | null): Record<string, unknown> | null {
  return d ? { step: d.step, kind: d.kind, message: d.message, parts: d.parts, last_match: d.last_match } : null;
}

export function replay_command(file: string, opts: ReplayCommandOptions): number {
  const rec = open_recording(file, opts);
  const p = new RunPrinter(rec.scenario, opts);
  p.header();
  let r: ReplayResult;
  try {
    r = replay_recording(rec, { verify: opts.verify === true, apply_poke, on_event: p.on_event });
  } finally {
    p.out.flush();
  }
  const end = rec.end;
  const extra: ReportExtra = {
    lines: replay_lines(rec, r, opts.verify === true, p.color),
    json: {
      replay: {
        recording: file,
        tool: rec.header.tool,
        recorded_steps: r.recorded_steps,
        recorded_status: end?.status ?? null,
        verify: opts.verify === true,
        hashes_checked: r.hashes_checked,
        last_match: r.last_match,
        divergence: divergence_json(r.divergence),
      },
    },
  };
  if (r.status === 'limit' && end && end.status !== 'limit') extra.limit_line = `the recording stops at step ${r.steps} (${end.status})`;
  else if (r.status === 'limit' && !end) extra.limit_line = `the recording stops at step ${r.steps} (not closed cleanly)`;
  const limit = end?.status === 'limit' && r.steps !== DEFAULT_STEP_LIMIT ? r.steps : undefined;
  p.report(r, limit, extra);
  return r.divergence ? EXIT_DIVERGED : r.violation ? EXIT_VIOLATION : EXIT_OK;
}

function replay_lines(rec: Recording, r: ReplayResult, verify: boolean, color: boolean): string[] {
  const d = r.divergence;
  if (d) {
    const lines = [paint(color, [ANSI.bold, ANSI.red], `DIVERGENCE at step ${d.step}: ${d.message}`)];
    if (d.kind !== 'poke') lines.push(`  recorded by kvmdbg ${rec.header.tool} (model: ${rec.header.model ?? 'not recorded'}), replayed by kvmdbg ${package_version()} (model: ${BASELINE})`);
    return lines;
  }
  const what = verify
    ? `${r.hashes_checked} state hash${r.hashes_checked === 1 ? '' : 'es'} match${r.hashes_checked === 1 ? 'es' : ''} (every ${rec.header.hash_every} steps${rec.end?.hash ? ' and at the end' : ''})`
    : rec.end?.hash
      ? 'the final state matches (--verify checks every recorded hash)'
      : 'no final state to compare (--verify checks the recorded hashes)';
  return [paint(color, ANSI.dim, `replay: ${rec.path}: ${r.recorded_steps} steps followed; ${what}`)];
}
