// `explain`: the causal slice of a violation (or of any step) and its race
// diagram, for a recording (the CLI) or a session's history (REPL, TUI).
import type { World } from '../core/machine/world.js';
import type { WorldConfig } from '../core/world_init.js';
import type { History, PokeApplier } from '../record/replay.js';
import { diagram, to_json, to_markdown, type Diagram, type DiagramOptions } from './diagram.js';
import { slice } from './slice.js';
import { trace_history } from './trace.js';
import { UserError } from '../scenario/errors.js';

export type ExplainFormat = 'text' | 'markdown' | 'json';

export interface ExplainOptions extends DiagramOptions {
  /** The step to slice from (default: the first violation). */
  step?: number;
  apply_poke?: PokeApplier;
  /** With no step and no violation, the step to explain (the REPL's current step); else an error. */
  fallback?: number;
  /** Names the history in errors (a recording's path, `this session`). */
  what?: string;
}

/** Trace `h` up to the step asked for (or its first violation) and lay out the diagram of that step. */
export function explain(init: WorldConfig | (() => World), h: History, opts: ExplainOptions = {}): Diagram {
  const what = opts.what ?? 'the history';
  const n = h.picks.length;
  if (n === 0) throw new UserError(`${what}: nothing has run yet (step 0); there is no step to explain`);
  if (opts.step !== undefined && (!Number.isInteger(opts.step) || opts.step < 1 || opts.step > n)) {
    throw new UserError(n ? `${what}: step ${opts.step}: expected a step from 1 to ${n}` : `${what}: step ${opts.step}: there are no steps yet`);
  }
  const tr = trace_history(init, h, { ...(opts.apply_poke ? { apply_poke: opts.apply_poke } : {}), ...(opts.step !== undefined ? { until: opts.step } : {}) });
  const target = opts.step ?? (tr.violation ? tr.violation.step : (opts.fallback ?? null));
  if (target === null) throw new UserError(`${what}: no invariant was violated in its ${n} step${n === 1 ? '' : 's'}; expected --step N (a step from 1 to ${n}) to explain`);
  return diagram(tr, slice(tr, target), opts);
}

export function format_diagram(d: Diagram, format: ExplainFormat): string {
  if (format === 'json') return JSON.stringify(to_json(d));
  if (format === 'markdown') return to_markdown(d).trimEnd();
  return d.lines.join('\n');
}

export { diagram, to_json, to_markdown, type Diagram };
