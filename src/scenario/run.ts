// Running a loaded scenario to its end: the runner behind `kvmdbg run`,
// reused by tests, the debugger and the explorer.
import { UserError } from './errors.js';
import { create_world } from '../core/world_init.js';
import { Machine, type Schedule, type StepResult } from '../core/machine/machine.js';
import { all_invariants } from '../core/machine/invariants.js';
import type { Event } from '../core/machine/events.js';
import type { Violation } from '../core/machine/world.js';
import type { LoadedScenario } from './load.js';

/** How a run stopped: all threads done, deadlock, an invariant broke, or the step limit. */
export type RunStatus = 'end' | 'deadlock' | 'violation' | 'limit';

/** Steps a run may take unless told otherwise (a livelocked model stops here). */
export const DEFAULT_STEP_LIMIT = 1_000_000;

export interface RunOptions {
  /** Stop after this many steps (default DEFAULT_STEP_LIMIT). */
  steps?: number;
  /** Called with every event as it happens. */
  on_event?: (e: Event) => void;
  /** Keep every event in the result (default true; off for long runs that stream). */
  keep_events?: boolean;
}

export interface RunResult {
  status: RunStatus;
  /** Scheduler steps taken. */
  steps: number;
  /** The first violation, or null. */
  violation: Violation | null;
  /** Every violation of the step that broke (one step may break several invariants). */
  violations: Violation[];
  /** For 'deadlock': each blocked thread and what it waits for. */
  blocked: string[];
  metrics: Record<string, number>;
  /** Machine.hash() of the final World. */
  hash: string;
  events: Event[];
  schedule: Schedule;
  /** How many invariants were checked after every step. */
  invariants: number;
  machine: Machine;
}

/** The model itself failed (a bug in kvmdbg, not in the scenario): says at which step. */
export class ModelError extends Error {
  constructor(
    readonly step: number,
    readonly thread: string | null,
    readonly original: unknown,
  ) {
    const msg = original instanceof Error ? original.message : String(original);
    super(`model error at step ${step}${thread ? ` (${thread})` : ''}: ${msg}`);
    this.name = 'ModelError';
    if (original instanceof Error && original.stack) this.stack = `${this.name}: ${this.message}\n${original.stack}`;
  }
}

export function invariants_for(arch: string): number {
  return all_invariants().filter((i) => !i.arch || i.arch === arch).length;
}

/**
 * One step of a run: the machine's result, and the status the run stops
 * with after it (end, deadlock, violation), or null to go on. A model that
 * throws becomes a ModelError naming the step and the thread.
 */
export function run_step(m: Machine): { r: StepResult; stop: RunStatus | null } {
  let r: StepResult;
  try {
    r = m.step();
  } catch (e) {
    // A patch's step that failed (src/patch) is the user's error, already located.
    if (e instanceof UserError) throw e;
    const picked = m.schedule.picks[m.schedule.picks.length - 1];
    throw new ModelError(m.w.step, picked === undefined ? null : (m.w.threads[picked]?.name ?? null), e);
  }
  const stop = r.status === 'end' ? 'end' : r.status === 'deadlock' ? 'deadlock' : r.violations.length ? 'violation' : null;
  return { r, stop };
}

/** A Machine for a run of `loaded`, and the events it keeps (opts.keep_events) while it also hands them to opts.on_event. */
export function run_machine(loaded: LoadedScenario, opts: RunOptions): { m: Machine; events: Event[] } {
  const keep = opts.keep_events ?? true;
  const m = new Machine(create_world(loaded.config));
  const events: Event[] = [];
  const on_event = opts.on_event;
  if (keep && on_event) {
    m.subscribe((e) => {
      events.push(e);
      on_event(e);
    });
  } else if (keep) m.subscribe((e) => events.push(e));
  else if (on_event) m.subscribe(on_event);
  return { m, events };
}

export function run_scenario(loaded: LoadedScenario, opts: RunOptions = {}): RunResult {
  const limit = opts.steps ?? DEFAULT_STEP_LIMIT;
  const { m, events } = run_machine(loaded, opts);

  let status: RunStatus = 'limit';
  let r: StepResult | null = null;
  for (let steps = 0; steps < limit; steps++) {
    const s = run_step(m);
    r = s.r;
    if (s.stop) {
      status = s.stop;
      break;
    }
  }
  const violations = status === 'violation' ? [...r!.violations] : [];
  const blocked = status === 'deadlock' ? (r!.blocked ?? []) : [];
  return {
    status,
    steps: m.w.step,
    violation: violations[0] ?? null,
    violations,
    blocked,
    metrics: { ...m.w.metrics },
    hash: m.hash(),
    events,
    schedule: m.schedule,
    invariants: invariants_for(loaded.config.arch),
    machine: m,
  };
}

/**
 * Whether the run showed what the scenario's `expect` says: null when it
 * says nothing, else {met, text} with a sentence for people.
 */
export function compare_expect(loaded: LoadedScenario, r: Pick<RunResult, 'violation' | 'status'>): { met: boolean; text: string } | null {
  const want = loaded.meta.expect?.violation;
  if (want === undefined) return null;
  const got = r.violation?.invariant ?? 'none';
  if (want === got) return { met: true, text: want === 'none' ? 'as expected, no violation' : `as expected, ${want} was violated` };
  const vs = loaded.config.variants.length ? ` (with variants ${loaded.config.variants.join(', ')})` : '';
  const stopped = r.status === 'limit' ? ' before the step limit' : '';
  if (want === 'none') return { met: false, text: `the scenario expects no violation, but ${got} was violated${vs}` };
  if (got === 'none') return { met: false, text: `the scenario expects ${want} to be violated, but it was not${stopped}${vs}` };
  return { met: false, text: `the scenario expects ${want} to be violated, but ${got} was${vs}` };
}
