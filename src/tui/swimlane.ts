// The swimlane pane: the history as columns, one per thread, time
// downwards, ending at the current step; each row the model function and
// label a step ran in its thread's column. Steps in the causal slice of the
// current step (what `explain` draws) are marked `*` in the gutter and
// their cell is bracketed, so the race stands out of the interleaving.
import { slice, type Slice } from '../explain/slice.js';
import { trace_history, type Trace } from '../explain/trace.js';
import type { Session } from '../debugger/session.js';
import { session_source } from '../repl/history_source.js';

/** Longer histories are not traced for the pane (`explain` still works). */
export const SWIMLANE_MAX_STEPS = 5_000;

export interface SwimlaneData {
  trace: Trace;
  sl: Slice | null;
}

/** Trace the session's history up to the current step and slice from it. */
export function swimlane_data(s: Session): SwimlaneData | string {
  const n = s.step_no;
  if (n === 0) return 'step 0: nothing has run yet';
  if (n > SWIMLANE_MAX_STEPS) return `step ${n}: the swimlane traces at most ${SWIMLANE_MAX_STEPS} steps; \`explain\` draws the race`;
  const src = session_source(s);
  const trace = trace_history(src.world, src.h, { until: n, ...(src.apply_poke ? { apply_poke: src.apply_poke } : {}) });
  return { trace, sl: slice(trace, n) };
}

function fit(s: string, w: number): string {
  if (w <= 0) return '';
  return s.length > w ? s.slice(0, Math.max(0, w - 1)) + '~' : s.padEnd(w);
}

/** The pane's lines: a header, then the last `height - 1` steps up to the current one. */
export function swimlane_lines(d: SwimlaneData, width: number, height: number): string[] {
  const { trace, sl } = d;
  const ran = new Set(trace.steps.map((s) => s.thread));
  const cols = trace.threads.filter((t) => ran.has(t.id));
  const gutter = 7;
  const cw = Math.max(4, Math.floor((width - gutter) / Math.max(1, cols.length)) - 1);
  const at = new Map(cols.map((c, i) => [c.id, i]));
  const in_slice = new Set(sl?.steps ?? []);
  const header = ' '.repeat(gutter) + cols.map((c) => fit(`${c.name} (CPU ${c.cpu})`, cw)).join(' ');
  const v = trace.violation && trace.violation.step === trace.steps.length ? trace.violation : null;
  const rows = Math.max(1, height - 1 - (v ? 1 : 0));
  const from = Math.max(0, trace.steps.length - rows);
  const out = [header.trimEnd()];
  for (const st of trace.steps.slice(from)) {
    const mark = in_slice.has(st.step) ? '*' : ' ';
    const cells = cols.map(() => ' '.repeat(cw));
    const cell = `${st.fn}:${st.pc}`;
    cells[at.get(st.thread)!] = fit(mark === '*' ? `[${cell}]` : ` ${cell}`, cw);
    out.push(`${String(st.step).padStart(gutter - 2)}${mark} ${cells.join(' ')}`.trimEnd());
  }
  if (v) out.push(fit(`${v.step} ${v.invariant}: ${v.message}`, width).trimEnd());
  return out;
}
