// kvmdbg run SCENARIO [--events KIND,...] [--json] [--steps N] [--record FILE]:
// run to the end, print the events and the invariant report. Exit 0
// without a violation, 1 with one, 2 for bad input. With --record, the run
// is written to FILE as it goes (src/record); Ctrl-C or SIGTERM stop it
// and close the recording cleanly (exit 130 / 143).
//
// The printing (RunPrinter) is shared with `kvmdbg replay`, which prints
// the same output for the same run.
import '../src/core/world_init.js';
import type { Event } from '../src/core/machine/events.js';
import type { Violation } from '../src/core/machine/world.js';
import { load_scenario, type LoadedScenario } from '../src/scenario/load.js';
import { resolve_scenario_arg } from '../src/scenario/bundled.js';
import { compare_expect, run_scenario, type RunResult, type RunStatus } from '../src/scenario/run.js';
import { UserError } from '../src/scenario/errors.js';
import { ANSI, event_filter, event_to_json, format_event, format_fields, json_fields, paint, to_json } from '../src/repl/format.js';
import { EXIT_OK, EXIT_VIOLATION, Out, use_color, type CommonOptions } from './common.js';
import { active_patches, patches_note } from '../src/patch/scope.js';

export interface RunCommandOptions extends CommonOptions {
  events?: string;
  json?: boolean;
  steps?: number;
  record?: string;
  hashEvery?: number;
  force?: boolean;
}

/** What the report prints: a run's result, or a replay's. */
export type RunReport = Pick<RunResult, 'steps' | 'violation' | 'violations' | 'blocked' | 'metrics' | 'hash' | 'invariants'> & { status: RunStatus | 'diverged' };

export interface ReportExtra {
  /** Human lines after the hash line. */
  lines?: string[];
  /** Replaces the "stopped at the step limit" line (status 'limit'). */
  limit_line?: string;
  /** Fields added to the JSON summary. */
  json?: Record<string, unknown>;
}

/** Printing a run: the header, one line (or JSON object) per event, the report. */
export class RunPrinter {
  readonly out = new Out();
  readonly color: boolean;
  readonly on_event: (e: Event) => void;
  private readonly json: boolean;

  constructor(
    private readonly loaded: LoadedScenario,
    opts: Pick<RunCommandOptions, 'events' | 'json' | 'color'>,
  ) {
    let filter: ((kind: string) => boolean) | null = null;
    try {
      filter = event_filter(opts.events);
    } catch (e) {
      throw new UserError(`--events: ${(e as Error).message}`);
    }
    this.json = opts.json === true;
    const color = (this.color = !this.json && use_color(opts));
    const out = this.out;
    const tw = Math.max(6, ...loaded.config.threads.map((t) => t.name.length), `vcpu${loaded.config.vcpus - 1}`.length);
    this.on_event = this.json
      ? (e: Event) => {
          if (!filter || filter(e.kind)) out.line(to_json(event_to_json(e)));
        }
      : (e: Event) => {
          if (!filter || filter(e.kind)) out.line(format_event(e, { color, thread_width: tw }));
        };
  }

  header(): void {
    if (!this.json) this.out.line(paint(this.color, ANSI.bold, header(this.loaded)));
  }

  report(r: RunReport, limit: number | undefined, extra: ReportExtra = {}): void {
    if (this.json) print_json_summary(this.out, this.loaded, r, extra.json ?? {});
    else print_report(this.out, this.loaded, r, this.color, limit, extra);
    this.out.flush();
  }
}

export async function run_command(file: string, opts: RunCommandOptions): Promise<number> {
  const path = resolve_scenario_arg(file);
  const loaded = load_scenario(path, { variants: opts.variant ?? [], ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  if (opts.arch && opts.arch !== loaded.config.arch) {
    throw new UserError(`${path}: the scenario is for ${loaded.config.arch}, not ${opts.arch} (--arch); expected --arch ${loaded.config.arch} or no --arch`);
  }
  const p = new RunPrinter(loaded, opts);
  const steps = opts.steps !== undefined ? { steps: opts.steps } : {};
  p.header();
  if (opts.record === undefined) {
    let r: RunResult;
    try {
      r = run_scenario(loaded, { ...steps, on_event: p.on_event, keep_events: false });
    } finally {
      p.out.flush();
    }
    p.report(r, opts.steps);
    limit_note(r, opts.steps);
    return r.violation ? EXIT_VIOLATION : EXIT_OK;
  }
  const { check_output } = await import('../src/record/output.js');
  check_output(opts.record, { inputs: [{ path, what: 'the scenario' }], force: opts.force === true, what: 'the recording' });
  const { record_run } = await import('../src/record/run.js');
  let r;
  try {
    r = await record_run(loaded, { ...steps, on_event: p.on_event, keep_events: false, path: opts.record, ...(opts.hashEvery !== undefined ? { hash_every: opts.hashEvery } : {}) });
  } finally {
    p.out.flush();
  }
  const rec = r.recording;
  const note = `recording: ${rec.path} (${rec.steps} steps, ${rec.bytes} bytes)`;
  const lines = [paint(p.color, ANSI.dim, note)];
  p.report(r, opts.steps, {
    lines,
    ...(r.interrupted ? { limit_line: `stopped by ${r.interrupted} at step ${r.steps}` } : {}),
    json: { recording: { file: rec.path, steps: rec.steps, bytes: rec.bytes, interrupted: r.interrupted } },
  });
  if (r.interrupted) {
    process.stderr.write(`kvmdbg: interrupted by ${r.interrupted} at step ${r.steps}; the recording ${rec.path} is closed and replays to there\n`);
    return 128 + (r.interrupted === 'SIGINT' ? 2 : r.interrupted === 'SIGTERM' ? 15 : 1);
  }
  limit_note(r, opts.steps);
  return r.violation ? EXIT_VIOLATION : EXIT_OK;
}

/** A run cut short by the step limit says so on stderr too: its report is not the end of the story. */
function limit_note(r: Pick<RunResult, 'status' | 'steps'>, asked: number | undefined): void {
  if (r.status !== 'limit') return;
  process.stderr.write(`kvmdbg: the run stopped at the step limit (${r.steps} steps) before every thread finished${asked === undefined ? '; --steps N changes the limit' : ''}\n`);
}

function header(l: LoadedScenario): string {
  const c = l.config;
  const sched = c.sched.policy === 'script' ? 'script' : c.sched.policy === 'rr' ? 'round-robin' : `random, seed ${c.sched.seed}`;
  const vs = c.variants.length ? c.variants.join(', ') : 'none';
  return `# ${l.meta.name} (${c.arch}, ${c.vcpus} vCPU${c.vcpus === 1 ? '' : 's'}): variants ${vs}${patches_note()}; schedule ${sched}`;
}

function violation_lines(v: Violation, color: boolean): string[] {
  const lines = [paint(color, [ANSI.bold, ANSI.red], `VIOLATION ${v.invariant} at step ${v.step} (${v.thread}): ${v.message}`)];
  const vals = format_fields(v.values ?? {});
  if (vals) lines.push(`  ${vals}`);
  return lines;
}

function print_report(out: Out, l: LoadedScenario, r: RunReport, color: boolean, limit: number | undefined, extra: ReportExtra): void {
  out.line('');
  if (r.violations.length) for (const v of r.violations) for (const s of violation_lines(v, color)) out.line(s);
  else out.line(paint(color, ANSI.green, `no violation in ${r.steps} steps (${r.invariants} invariants checked)`));
  if (r.status === 'limit') out.line(extra.limit_line ?? `stopped at the step limit (${limit ?? r.steps} steps)${limit === undefined ? '; --steps N changes it' : ''}`);
  const metrics = Object.keys(r.metrics).sort();
  if (metrics.length) out.line(`metrics: ${metrics.map((k) => `${k}=${r.metrics[k]}`).join(' ')}`);
  if (r.status === 'deadlock') {
    out.line(paint(color, [ANSI.bold, ANSI.red], `DEADLOCK at step ${r.steps}: every thread left is blocked`));
    for (const b of r.blocked) out.line(`  ${b}`);
  }
  if (r.status !== 'diverged') {
    const ex = compare_expect(l, { violation: r.violation, status: r.status });
    if (ex && !ex.met) out.line(paint(color, ANSI.yellow, `note: ${ex.text}`));
  }
  out.line(paint(color, ANSI.dim, `hash ${r.hash}`));
  for (const s of extra.lines ?? []) out.line(s);
}

/** The loaded patches by name and sha256 (absent without --patch, as before patches existed). */
function patches_json(): { patches?: { file: string; sha256: string }[] } {
  const ps = active_patches();
  return ps.length ? { patches: ps.map((p) => ({ file: p.file, sha256: p.sha256 })) } : {};
}

function violation_json(v: Violation): Record<string, unknown> {
  return { invariant: v.invariant, step: v.step, thread: v.thread, message: v.message, values: json_fields(v.values ?? {}) };
}

function print_json_summary(out: Out, l: LoadedScenario, r: RunReport, extra: Record<string, unknown>): void {
  const ex = r.status === 'diverged' ? null : compare_expect(l, { violation: r.violation, status: r.status });
  const summary = {
    scenario: l.meta.name,
    file: l.meta.path,
    arch: l.config.arch,
    variants: l.config.variants,
    ...patches_json(),
    schedule: { policy: l.config.sched.policy, seed: l.config.sched.seed },
    steps: r.steps,
    status: r.status,
    violation: r.violation ? violation_json(r.violation) : null,
    violations: r.violations.map(violation_json),
    invariants: r.invariants,
    metrics: r.metrics,
    blocked: r.blocked,
    expect: l.meta.expect?.violation ?? null,
    expect_met: ex ? ex.met : null,
    hash: r.hash,
    ...extra,
  };
  out.line(to_json({ summary }));
}
