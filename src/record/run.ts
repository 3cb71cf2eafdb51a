// `kvmdbg run SCENARIO --record FILE`: run_scenario()'s loop with a
// Recorder, yielding to the event loop every `slice` steps so that Ctrl-C
// and SIGTERM are handled: they stop the run, and the recording is closed
// cleanly at the step reached.
import type { Violation } from '../core/machine/world.js';
import type { LoadedScenario } from '../scenario/load.js';
import { DEFAULT_STEP_LIMIT, invariants_for, run_machine, run_step, type RunOptions, type RunResult, type RunStatus } from '../scenario/run.js';
import { Recorder } from './recorder.js';

export interface RecordRunOptions extends RunOptions {
  /** The recording to write. */
  path: string;
  hash_every?: number;
  /** Signals that stop the run and close the recording (default SIGINT, SIGTERM). */
  signals?: NodeJS.Signals[];
  /** Steps between yields to the event loop (default 4096). */
  slice?: number;
}

export interface RecordRunResult extends RunResult {
  /** The signal that stopped the run, or null. */
  interrupted: NodeJS.Signals | null;
  recording: { path: string; bytes: number; lines: number; steps: number };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function record_run(loaded: LoadedScenario, opts: RecordRunOptions): Promise<RecordRunResult> {
  const limit = opts.steps ?? DEFAULT_STEP_LIMIT;
  const slice = Math.max(1, opts.slice ?? 4096);
  let interrupted: NodeJS.Signals | null = null;
  const rec = new Recorder(opts.path, loaded, {
    ...(opts.hash_every !== undefined ? { hash_every: opts.hash_every } : {}),
    signals: opts.signals ?? ['SIGINT', 'SIGTERM'],
    on_signal: (sig) => {
      interrupted ??= sig;
    },
  });
  const { m, events } = run_machine(loaded, opts);

  let status: RunStatus = 'limit';
  let violations: Violation[] = [];
  let blocked: string[] = [];
  let steps = 0;
  try {
    rec.start(m);
    while (steps < limit) {
      if (steps > 0 && steps % slice === 0) {
        await tick();
        if (interrupted) break;
      }
      const { r, stop } = run_step(m);
      if (stop === 'end' || stop === 'deadlock') {
        status = stop;
        blocked = r.blocked ?? [];
        break;
      }
      steps++;
      rec.after_step(r);
      if (stop === 'violation') {
        status = stop;
        violations = [...r.violations];
        break;
      }
    }
  } catch (e) {
    // The model failed: what was recorded up to the step before stays, without an end line.
    rec.writer.abandon();
    throw e;
  }
  const end = rec.close(interrupted ? 'interrupted' : status);
  return {
    status,
    steps: m.w.step,
    violation: violations[0] ?? null,
    violations,
    blocked,
    metrics: { ...m.w.metrics },
    hash: end?.run_hash ?? m.hash(),
    events,
    schedule: m.schedule,
    invariants: invariants_for(loaded.config.arch),
    machine: m,
    interrupted,
    recording: { path: opts.path, bytes: rec.writer.bytes, lines: rec.writer.lines, steps: rec.writer.steps },
  };
}
