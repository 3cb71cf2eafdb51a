// Questions about the whole history, answered without moving: explain (the
// race diagram of a violation or a step), hits, why-not, last-write
// (src/explain). Each replays the session's timeline on a World of its own.
import '../debugger/trees.js';
import '../debugger/pagetables.js';
import { apply_poke } from '../debugger/pokes.js';
import { DebugError } from '../debugger/errors.js';
import type { Session } from '../debugger/session.js';
import { explain, to_json, to_markdown } from '../explain/index.js';
import { hits, last_write, why_not, type Source } from '../explain/queries.js';
import { UserError } from '../scenario/errors.js';
import { EVENT_KINDS } from '../core/machine/events.js';
import { parse_break_spec } from './cmd_break.js';
import { usage, type Command, type Reply } from './command.js';
import { event_to_json, format_event, format_value, json_value } from './format.js';
import { nat } from './parse.js';

/** The session's whole timeline (to its last step, past the current one after going back) as a history. */
export function session_source(s: Session): Source {
  const sch = s.schedule();
  return {
    world: () => s.initial_world(),
    h: {
      picks: sch.picks,
      // Replayer flattens the answers by step: one entry keeps them in order.
      choices: new Map(sch.choices.length ? [[1, sch.choices]] : []),
      cmds: s.pokes().map((p) => ({ step: p.step, cmd: p.text, poke: p.name, args: structuredClone(p.args) })),
      drive: 'schedule',
    },
    apply_poke,
  };
}

function show(v: unknown): string {
  return format_value(v);
}

const EXPLAIN: Command = {
  name: 'explain',
  usage: 'explain [STEP] [--markdown] [--width N]',
  summary: 'the race diagram of the first violation in the history (or of STEP): its causal slice, one column per thread',
  help: [
    'A step is in the causal slice when it wrote something the step explained read, transitively, across threads.',
    'The diagram shows the slice steps nearest the target, and the locks, requests and TLBIs of the threads shown,',
    'within 80 columns (or --width N, from 40 to 200) and 40 lines. Without a violation in the history and without STEP, the current step.',
    'JSON: {target, violation, columns, steps: [{step, thread, fn, lines, slice}], slice, text}.',
  ].join('\n'),
  run: (ctx, a) => {
    let step: number | undefined;
    let markdown = false;
    let width: number | undefined;
    for (let k = 0; k < a.words.length; k++) {
      const w = a.words[k]!;
      if (w === '--markdown') markdown = true;
      else if (w === '--width') {
        width = nat(a.words[++k], 'the width');
        if (width < 40 || width > 200) usage(EXPLAIN, '--width: expected 40 to 200 columns');
      }
      else if (step === undefined && /^[0-9]/.test(w)) step = nat(w, 'the step');
      else usage(EXPLAIN);
    }
    const src = session_source(ctx.s);
    const fallback = ctx.s.step_no > 0 ? ctx.s.step_no : undefined;
    let d;
    try {
      d = explain(src.world, src.h, { apply_poke, what: 'this session', ...(width !== undefined ? { width } : {}), ...(step !== undefined ? { step } : {}), ...(fallback !== undefined ? { fallback } : {}) });
    } catch (e) {
      if (e instanceof UserError) throw new DebugError('EINVAL', e.message.replace(/expected --step N/, 'expected explain STEP'));
      throw e;
    }
    return { json: to_json(d), text: markdown ? to_markdown(d).trimEnd() : d.lines.join('\n') };
  },
};

const HITS: Command = {
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

const WHY_NOT: Command = {
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
      const why = c.failed.length ? c.failed.map((f) => `${f.filter.replace(/(!?=).*/, '')} was ${show(f.got)} (want ${f.filter})`).join(', ') : c.cond_error ? `condition threw: ${c.cond_error}` : c.cond !== undefined ? `condition = ${show(c.cond)}` : 'matches';
      lines.push(`  step ${c.step} ${c.thread}: ${why}`);
    }
    return { json: { id: r.id, reason: r.reason, candidates: r.candidates, passed_filters: r.passed_filters, closest, would_fire: r.would_fire }, text: lines.join('\n') };
  },
};

const LAST_WRITE: Command = {
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
        ? `${expr} = ${show(r.value)} since step 0 (no step up to ${r.at} changed it)`
        : `${expr} = ${show(r.value)}: last changed at step ${r.step} by ${r.thread ?? '?'} (it was ${show(r.before)})`;
    return { json, text };
  },
};

export const EXPLAIN_COMMANDS: Command[] = [EXPLAIN, HITS, WHY_NOT, LAST_WRITE];
