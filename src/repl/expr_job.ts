// Commands that evaluate expressions (print, assert, and the checks of
// watch, break ... if, condition, catch ... if, dprintf) do it as a Pending:
// an expression outside the bounded subset runs in the evaluator, and the
// front end polls it, so Ctrl-C and Esc interrupt it and the TUI keeps
// drawing.
import type { Scope } from '../debugger/expr.js';
import { start_eval, type EvalJob } from '../debugger/expr.js';
import { DebugError } from '../debugger/errors.js';
import type { Ctx, Pending, Reply } from './command.js';

export interface ExprItem {
  src: string;
  scope: Scope;
  /** Says what the failure means (e.g. "the condition throws on a sample event"); the error's message follows. */
  context?: string;
}

/** Evaluate `items` in order, then `done(values)`; the first error fails the command. */
export function evaluate(ctx: Ctx, items: ExprItem[], done: (values: unknown[]) => Reply): Pending<unknown[]> {
  const interrupted = ctx.s.interrupt_watch();
  const values: unknown[] = [];
  let job: EvalJob | null = null;
  return {
    job: {
      resume() {
        while (values.length < items.length) {
          const it = items[values.length]!;
          try {
            job ??= start_eval(it.src, it.scope, interrupted);
            const r = job.resume(20);
            if (!r) return null;
            values.push(r.value);
            job = null;
          } catch (e) {
            job = null;
            if (!it.context || !(e instanceof DebugError) || e.code === 'EINTR') throw e;
            throw new DebugError(e.code, `${it.context}: ${e.message}`);
          }
        }
        return values;
      },
    },
    finish: done,
  };
}

/** Why a condition is refused when it is set. */
export function cond_context(sample: string): string {
  return `refused: the condition throws on ${sample}`;
}
