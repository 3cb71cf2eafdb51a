// Questions about a whole history, answered without moving (omniscient
// debugging, as Pernosco does): a replay of the history on a World of its
// own, the session's position untouched.
//   hits KIND [field=value ...] [if EXPR]   every step where such an event happened
//   why-not ID                              why a breakpoint never fired
//   last-write EXPR                         the step that last changed EXPR's value
// Conditions and expressions run in the debugger's sandbox (src/debugger/expr.ts).
import type { Event } from '../core/machine/events.js';
import type { World } from '../core/machine/world.js';
import { filters_match, format_filter, watch_key, type Breakpoint, type Filter } from '../debugger/breakpoints.js';
import { DebugError, one_line } from '../debugger/errors.js';
import { compile_expr, run_expr } from '../debugger/expr.js';
import { error_text } from '../debugger/sandbox_realm.js';
import { Replayer, type History, type PokeApplier } from '../record/replay.js';

export interface Source {
  /** A fresh initial World. */
  world: () => World;
  h: History;
  apply_poke?: PokeApplier;
}

/** Replay `src` up to step `to`, calling `at` after every step (and once for step 0) with the World and the step's events. */
export function scan(src: Source, to: number, at: (step: number, w: World, events: readonly Event[]) => boolean | void): void {
  const rp = new Replayer(src.world(), src.h, { ...(src.apply_poke ? { apply_poke: src.apply_poke } : {}), invariants: false, check_choices: src.h.drive === 'policy' });
  if (at(0, rp.w, []) === true) return;
  const n = Math.min(to, src.h.picks.length);
  while (rp.w.step < n) {
    const r = rp.step();
    if (at(rp.w.step, rp.w, r.events) === true) return;
  }
}

export interface Hit {
  step: number;
  thread: string;
  event: Event;
}

export interface HitsResult {
  hits: Hit[];
  /** Events of the kind seen (before the filters and the condition). */
  candidates: number;
  /** Hits past the limit, not listed. */
  more: number;
  /** The condition's first error, if it threw (those events do not count as hits). */
  error: { step: number; message: string } | null;
}

function cond_value(cond: string, w: World, e: Event): { value?: unknown; error?: string } {
  try {
    return { value: run_expr(compile_expr(cond), { w, e }) };
  } catch (err) {
    if (err instanceof DebugError) throw err;
    return { error: one_line(error_text(err)) };
  }
}

/** Every event of `kind` in steps 1..to that passes `filters` and `cond` (evaluated on the World after its step, as a breakpoint's). */
export function hits(src: Source, to: number, kind: string, filters: readonly Filter[], cond: string | null, limit = 1000): HitsResult {
  if (cond) compile_expr(cond);
  const out: Hit[] = [];
  let candidates = 0;
  let more = 0;
  let error: HitsResult['error'] = null;
  scan(src, to, (step, w, events) => {
    for (const e of events) {
      if (e.kind !== kind) continue;
      candidates++;
      if (filters.length && !filters_match(filters, e)) continue;
      if (cond) {
        const c = cond_value(cond, w, e);
        if (c.error !== undefined) {
          error ??= { step, message: c.error };
          continue;
        }
        if (!c.value) continue;
      }
      if (out.length < limit) out.push({ step, thread: e.thread, event: e });
      else more++;
    }
  });
  return { hits: out, candidates, more, error };
}

export interface Candidate {
  step: number;
  thread: string;
  event: Event;
  /** The filters it failed, with the event's value of that field. */
  failed: { filter: string; got: unknown }[];
  /** The condition's value there (undefined: no condition, or a filter failed first). */
  cond?: unknown;
  cond_error?: string;
}

export interface WhyNot {
  id: number;
  /** One sentence: why it did not fire (or that it did). */
  reason: string;
  /** Events of its kind in the history. */
  candidates: number;
  /** Of those, the ones that passed its filters. */
  passed_filters: number;
  /** The candidates that came closest (fewest failed filters, then latest), at most `limit`. */
  closest: Candidate[];
  /** Steps where it would fire now (a breakpoint set after the fact, or disabled). */
  would_fire: number[];
}

function describe_bp(bp: Breakpoint): string {
  return [bp.kind, ...bp.filters.map(format_filter)].join(' ') + (bp.cond ? ` if ${bp.cond}` : '');
}

/** Why event breakpoint `bp` did not fire in steps 1..to. */
export function why_not(src: Source, to: number, bp: Breakpoint, limit = 5): WhyNot {
  if (bp.type === 'watchpoint') return why_not_watch(src, to, bp);
  if (bp.type === 'catchpoint') return why_not_catch(src, to, bp);
  const all: Candidate[] = [];
  let candidates = 0;
  let passed = 0;
  const fire: number[] = [];
  scan(src, to, (step, w, events) => {
    for (const e of events) {
      if (e.kind !== bp.kind) continue;
      candidates++;
      const failed = bp.filters.filter((f) => !filters_match([f], e)).map((f) => ({ filter: format_filter(f), got: e[f.field] }));
      const c: Candidate = { step, thread: e.thread, event: e, failed };
      if (!failed.length) {
        passed++;
        if (bp.cond) {
          const v = cond_value(bp.cond, w, e);
          if (v.error !== undefined) c.cond_error = v.error;
          else c.cond = v.value;
          if (v.value) fire.push(step);
        } else fire.push(step);
      }
      all.push(c);
    }
  });
  // Closest: fewest filters failed, then (for those that passed them) a condition that did not throw, then the latest.
  const rank = (c: Candidate) => c.failed.length * 2 + (c.cond_error ? 1 : 0);
  const closest = all
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || b.i - a.i)
    .slice(0, limit)
    .map((x) => x.c);
  let reason: string;
  if (!candidates) reason = `no ${bp.kind} event happened in steps 1-${to}`;
  else if (!passed) reason = `${candidates} ${bp.kind} event${candidates === 1 ? '' : 's'} happened, none with ${bp.filters.map(format_filter).join(' ')}`;
  else if (fire.length) reason = `it matches at step${fire.length === 1 ? '' : 's'} ${fire.slice(0, 8).join(', ')}${fire.length > 8 ? ', ...' : ''}${!bp.enabled ? ' (it is disabled)' : bp.hits ? ` (it fired ${bp.hits} time${bp.hits === 1 ? '' : 's'})` : ' (it was set after them, or the run did not pass them)'}`;
  else reason = `${passed} event${passed === 1 ? '' : 's'} passed the filters, and \`${bp.cond}\` was false${closest.some((c) => c.cond_error) ? ' or threw' : ''} at every one`;
  return { id: bp.id, reason: `breakpoint ${bp.id} (${describe_bp(bp)}): ${reason}`, candidates, passed_filters: passed, closest, would_fire: fire };
}

function why_not_watch(src: Source, to: number, bp: Breakpoint): WhyNot {
  const c = compile_expr(bp.expr!);
  let first: string | null = null;
  let changed: number[] = [];
  let last: string | null = null;
  let shown: unknown;
  let err: string | null = null;
  scan(src, to, (step, w) => {
    let key: string;
    try {
      const v = watch_key(run_expr(c, { w }));
      key = v.key;
      shown = v.value;
    } catch (e) {
      if (e instanceof DebugError) throw e;
      key = '!error';
      err ??= one_line(error_text(e));
    }
    if (first === null) first = key;
    else if (key !== last) changed.push(step);
    last = key;
  });
  changed = changed.slice(0, 20);
  const reason = changed.length
    ? `\`${bp.expr}\` changed at step${changed.length === 1 ? '' : 's'} ${changed.slice(0, 8).join(', ')}${!bp.enabled ? ' (it is disabled)' : ''}`
    : `\`${bp.expr}\` never changed in steps 0-${to}: it was ${err ? `an error (${err})` : JSON.stringify(typeof shown === 'bigint' ? `0x${shown.toString(16)}` : shown) ?? String(shown)} throughout`;
  return { id: bp.id, reason: `watchpoint ${bp.id}: ${reason}`, candidates: 0, passed_filters: 0, closest: [], would_fire: changed };
}

function why_not_catch(src: Source, to: number, bp: Breakpoint): WhyNot {
  // Violations are checked by the Machine: replay with invariants on.
  const seen = new Map<string, number>();
  const rp = new Replayer(src.world(), src.h, { ...(src.apply_poke ? { apply_poke: src.apply_poke } : {}), check_choices: src.h.drive === 'policy' });
  const n = Math.min(to, src.h.picks.length);
  while (rp.w.step < n) {
    const r = rp.step();
    for (const v of r.violations) if (!seen.has(v.invariant)) seen.set(v.invariant, rp.w.step);
  }
  const want = bp.invariant;
  const hit = want ? seen.get(want) : seen.size ? Math.min(...seen.values()) : undefined;
  const list = [...seen].map(([i, s]) => `${i} at step ${s}`).join(', ');
  const reason = hit !== undefined ? `a violation it catches happened at step ${hit}` : `no ${want ?? 'invariant'} violation happened in steps 1-${to}${seen.size ? ` (others did: ${list})` : ''}`;
  return { id: bp.id, reason: `catchpoint ${bp.id}: ${reason}`, candidates: seen.size, passed_filters: 0, closest: [], would_fire: hit !== undefined ? [hit] : [] };
}

export interface LastWrite {
  expr: string;
  /** The value at step `at`. */
  value: unknown;
  at: number;
  /** The step that last changed it (null: it has had this value since step 0). */
  step: number | null;
  thread: string | null;
  /** The value before that step. */
  before?: unknown;
}

/**
 * The last step up to `at` after which EXPR's value differs from the value
 * before it. One replay evaluating EXPR after every step: exact even when
 * the value changes and changes back, which a bisection would miss.
 */
export function last_write(src: Source, at: number, expr: string): LastWrite {
  const c = compile_expr(expr);
  let prev: { key: string; value: unknown } | null = null;
  let step: number | null = null;
  let thread: string | null = null;
  let before: unknown;
  let now: unknown;
  scan(src, at, (s, w) => {
    let v: { key: string; value: unknown };
    try {
      v = watch_key(run_expr(c, { w }));
    } catch (e) {
      if (e instanceof DebugError) throw e;
      const msg = `<error: ${one_line(error_text(e))}>`;
      v = { key: `!${msg}`, value: msg };
    }
    if (prev && v.key !== prev.key) {
      step = s;
      before = prev.value;
      const p = src.h.picks[s - 1]!;
      thread = w.threads[p < 0 ? ~p : p]?.name ?? null;
    }
    prev = v;
    now = v.value;
  });
  return { expr, value: now, at, step, thread, ...(step !== null ? { before } : {}) };
}
