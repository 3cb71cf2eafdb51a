// `last-write EXPR`: the step that last changed EXPR's value before the
// current step, without moving (src/explain/queries.ts).
import { last_write } from '../explain/queries.js';
import { usage, type Command, type Reply } from './command.js';
import { format_value, json_value } from './format.js';
import { session_source } from './history_source.js';

export const LAST_WRITE: Command = {
  name: 'last-write',
  usage: 'last-write EXPR',
  summary: "the step that last changed EXPR's value before the current step (without moving)",
  help: 'EXPR is a JavaScript expression over the World (`w`), as for `print`.\nJSON: {expr, value, at, step, thread, before?}; step is null when the value has not changed since step 0.',
  run: (ctx, a): Reply => {
    const expr = a.rest.trim();
    if (!expr) usage(LAST_WRITE, 'an expression is needed');
    const r = last_write(session_source(ctx.s), ctx.s.step_no, expr);
    const json = { expr: r.expr, value: json_value(r.value), at: r.at, step: r.step, thread: r.thread, ...(r.step !== null ? { before: json_value(r.before) } : {}) };
    const text =
      r.step === null
        ? `${expr} = ${format_value(r.value)} since step 0 (no step up to ${r.at} changed it)`
        : `${expr} = ${format_value(r.value)}: last changed at step ${r.step} by ${r.thread ?? '?'} (it was ${format_value(r.before)})`;
    return { json, text };
  },
};
