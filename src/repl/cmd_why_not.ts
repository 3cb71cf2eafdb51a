// `why-not ID`: why a breakpoint, watchpoint or catchpoint never fired over
// the whole history, without moving (src/explain/queries.ts).
import { why_not } from '../explain/queries.js';
import { usage, type Command, type Reply } from './command.js';
import { event_to_json, format_value, json_value } from './format.js';
import { session_source } from './history_source.js';
import { nat } from './parse.js';

export const WHY_NOT: Command = {
  name: 'why-not',
  usage: 'why-not ID',
  summary: 'why a breakpoint, watchpoint or catchpoint never fired: the events of its kind and its condition at the closest ones',
  help: 'JSON: {id, reason, candidates, passed_filters, closest: [{step, thread, event, failed, cond}], would_fire}.',
  complete: (s) => s.breakpoints.all().map((b) => String(b.id)),
  run: (ctx, a): Reply => {
    if (a.words.length !== 1) usage(WHY_NOT);
    const bp = ctx.s.breakpoints.get(nat(a.words[0], 'the breakpoint id'));
    const r = why_not(session_source(ctx.s), ctx.s.end_step, bp);
    const closest = r.closest.map((c) => ({
      step: c.step,
      thread: c.thread,
      event: event_to_json(c.event),
      failed: c.failed.map((f) => ({ filter: f.filter, got: json_value(f.got) })),
      ...(c.cond !== undefined ? { cond: json_value(c.cond) } : {}),
      ...(c.cond_error !== undefined ? { cond_error: c.cond_error } : {}),
    }));
    const lines = [r.reason];
    if (r.closest.length) lines.push('closest:');
    for (const c of r.closest) {
      const why = c.failed.length ? c.failed.map((f) => `${f.filter.replace(/(!?=).*/, '')} was ${format_value(f.got)} (want ${f.filter})`).join(', ') : c.cond_error ? `condition threw: ${c.cond_error}` : c.cond !== undefined ? `condition = ${format_value(c.cond)}` : 'matches';
      lines.push(`  step ${c.step} ${c.thread}: ${why}`);
    }
    return { json: { id: r.id, reason: r.reason, candidates: r.candidates, passed_filters: r.passed_filters, closest, would_fire: r.would_fire }, text: lines.join('\n') };
  },
};
