// kvmdbg run SCENARIO [--events KIND,...] [--json] [--steps N]: run to the
// end, print the events and the invariant report. Exit 0 without a
// violation, 1 with one, 2 for bad input.
import '../src/core/world_init.js';
import type { Event } from '../src/core/machine/events.js';
import type { Violation } from '../src/core/machine/world.js';
import { load_scenario, type LoadedScenario } from '../src/scenario/load.js';
import { resolve_scenario_arg } from '../src/scenario/bundled.js';
import { compare_expect, run_scenario, type RunResult } from '../src/scenario/run.js';
import { UserError } from '../src/scenario/errors.js';
import { ANSI, event_filter, event_to_json, format_event, format_fields, json_fields, paint, to_json } from '../src/repl/format.js';
import { EXIT_OK, EXIT_VIOLATION, Out, use_color, type CommonOptions } from './common.js';

export interface RunCommandOptions extends CommonOptions {
  events?: string;
  json?: boolean;
  steps?: number;
}

export function run_command(file: string, opts: RunCommandOptions): number {
  const path = resolve_scenario_arg(file);
  const loaded = load_scenario(path, { variants: opts.variant ?? [], ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  if (opts.arch && opts.arch !== loaded.config.arch) {
    throw new UserError(`${path}: the scenario is for ${loaded.config.arch}, not ${opts.arch} (--arch); expected --arch ${loaded.config.arch} or no --arch`);
  }
  let filter: ((kind: string) => boolean) | null = null;
  try {
    filter = event_filter(opts.events);
  } catch (e) {
    throw new UserError(`--events: ${(e as Error).message}`);
  }
  const out = new Out();
  const color = !opts.json && use_color(opts);
  const tw = Math.max(6, ...loaded.config.threads.map((t) => t.name.length), `vcpu${loaded.config.vcpus - 1}`.length);
  const on_event = opts.json
    ? (e: Event) => {
        if (!filter || filter(e.kind)) out.line(to_json(event_to_json(e)));
      }
    : (e: Event) => {
        if (!filter || filter(e.kind)) out.line(format_event(e, { color, thread_width: tw }));
      };
  if (!opts.json) out.line(paint(color, ANSI.bold, header(loaded)));
  let r: RunResult;
  try {
    r = run_scenario(loaded, { ...(opts.steps !== undefined ? { steps: opts.steps } : {}), on_event, keep_events: false });
  } finally {
    out.flush();
  }
  if (opts.json) print_json_summary(out, loaded, r);
  else print_report(out, loaded, r, color, opts.steps);
  out.flush();
  return r.violation ? EXIT_VIOLATION : EXIT_OK;
}

function header(l: LoadedScenario): string {
  const c = l.config;
  const sched = c.sched.policy === 'script' ? 'script' : c.sched.policy === 'rr' ? 'round-robin' : `random, seed ${c.sched.seed}`;
  const vs = c.variants.length ? c.variants.join(', ') : 'none';
  return `# ${l.meta.name} (${c.arch}, ${c.vcpus} vCPU${c.vcpus === 1 ? '' : 's'}): variants ${vs}; schedule ${sched}`;
}

function violation_lines(v: Violation, color: boolean): string[] {
  const lines = [paint(color, [ANSI.bold, ANSI.red], `VIOLATION ${v.invariant} at step ${v.step} (${v.thread}): ${v.message}`)];
  const vals = format_fields(v.values ?? {});
  if (vals) lines.push(`  ${vals}`);
  return lines;
}

function print_report(out: Out, l: LoadedScenario, r: RunResult, color: boolean, limit: number | undefined): void {
  out.line('');
  if (r.violations.length) for (const v of r.violations) for (const s of violation_lines(v, color)) out.line(s);
  else out.line(paint(color, ANSI.green, `no violation in ${r.steps} steps (${r.invariants} invariants checked)`));
  if (r.status === 'limit') out.line(`stopped at the step limit (${limit ?? r.steps} steps)${limit === undefined ? '; --steps N changes it' : ''}`);
  const metrics = Object.keys(r.metrics).sort();
  if (metrics.length) out.line(`metrics: ${metrics.map((k) => `${k}=${r.metrics[k]}`).join(' ')}`);
  if (r.status === 'deadlock') {
    out.line(paint(color, [ANSI.bold, ANSI.red], `DEADLOCK at step ${r.steps}: every thread left is blocked`));
    for (const b of r.blocked) out.line(`  ${b}`);
  }
  const ex = compare_expect(l, r);
  if (ex && !ex.met) out.line(paint(color, ANSI.yellow, `note: ${ex.text}`));
  out.line(paint(color, ANSI.dim, `hash ${r.hash}`));
}

function violation_json(v: Violation): Record<string, unknown> {
  return { invariant: v.invariant, step: v.step, thread: v.thread, message: v.message, values: json_fields(v.values ?? {}) };
}

function print_json_summary(out: Out, l: LoadedScenario, r: RunResult): void {
  const ex = compare_expect(l, r);
  const summary = {
    scenario: l.meta.name,
    file: l.meta.path,
    arch: l.config.arch,
    variants: l.config.variants,
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
  };
  out.line(to_json({ summary }));
}
