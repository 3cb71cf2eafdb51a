// `hits KIND [field=value ...] [if EXPR]`: every step of the whole history
// where such an event happened, without moving (src/explain/queries.ts).
import { EVENT_KINDS } from '../core/machine/events.js';
import { hits } from '../explain/queries.js';
import { parse_break_spec } from './cmd_break.js';
import type { Command, Reply } from './command.js';
import { event_to_json, format_event } from './format.js';
import { session_source } from './history_source.js';

export const HITS: Command = {
  name: 'hits',
  usage: 'hits KIND [field=value ...] [if EXPR]',
  summary: 'every step of the whole history where such an event happened (without moving)',
  help: 'KIND, the filters and the condition are those of `break` (a condition sees e and w after the step).\nJSON: {hits: [{step, thread, event}], candidates, more, error}.',
  complete: (_s, words) => (words.length === 0 ? [...EVENT_KINDS] : []),
  run: (ctx, a): Reply => {
    const p = parse_break_spec(ctx.s, a.tokens, a.rest);
    ctx.s.breakpoints.check_spec(p);
    const r = hits(session_source(ctx.s), ctx.s.end_step, p.kind, p.filters, p.cond);
    const json = {
      hits: r.hits.map((h) => ({ step: h.step, thread: h.thread, event: event_to_json(h.event) })),
      candidates: r.candidates,
      more: r.more,
      error: r.error,
    };
    const lines = r.hits.map((h) => format_event(h.event));
    const what = `${r.hits.length + r.more} hit${r.hits.length + r.more === 1 ? '' : 's'} of ${r.candidates} ${p.kind} event${r.candidates === 1 ? '' : 's'} in steps 1-${ctx.s.end_step}`;
    if (r.more) lines.push(`... ${r.more} more`);
    lines.push(what + (r.error ? `; the condition threw at step ${r.error.step}: ${r.error.message}` : ''));
    return { json, text: lines.join('\n') };
  },
};
