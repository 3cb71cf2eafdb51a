// How a stop is reported: gdb's shapes in text ("Breakpoint 1, ...",
// "Old value = / New value ="), and CONTRACT.md's JSON
// {"step": N, "stopped": {"reason", "breakpoint"?, "event"?, "violation"?}}.
import type { Violation } from '../core/machine/world.js';
import type { Session, Stop } from '../debugger/session.js';
import { describe_wait } from '../core/machine/model.js';
import type { Event } from '../core/machine/events.js';
import { event_fields, event_to_json, format_value, json_value, tag_of } from './format.js';
import { pairs, show_value } from './text.js';

export function violation_json(v: Violation): Record<string, unknown> {
  return { invariant: v.invariant, message: v.message, step: v.step, thread: v.thread, values: json_value(v.values) };
}

export function stop_json(st: Stop): Record<string, unknown> {
  const stopped: Record<string, unknown> = { reason: st.reason };
  if (st.breakpoint !== undefined) stopped['breakpoint'] = st.breakpoint;
  if (st.event) stopped['event'] = event_to_json(st.event);
  if (st.violation) stopped['violation'] = violation_json(st.violation);
  if (st.watch) stopped['watch'] = { id: st.watch.id, expr: st.watch.expr, old: json_value(st.watch.old), new: json_value(st.watch.new) };
  if (st.error) stopped['error'] = st.error;
  if (st.blocked) stopped['blocked'] = st.blocked;
  const out: Record<string, unknown> = { step: st.step, stopped };
  if (st.printed) out['printed'] = st.printed;
  return out;
}

/** Where the session is: the step and the thread that ran it, at its innermost frame. */
export function location(s: Session): string {
  const n = s.step_no;
  const t = s.last_thread;
  if (n === 0 || !t) return `step ${n}: the start`;
  const f = t.stack[t.stack.length - 1];
  const at = t.done ? 'finished' : f ? `at ${f.fn}:${f.pc}` : 'idle';
  return `step ${n}: ${t.name} ${at}${t.wait ? ` (waits: ${describe_wait(t.wait)})` : ''}`;
}

/** An event on one line: `step 16, t0: fault.retry reason=seq`. */
export function event_line(e: Event): string {
  const fields = event_fields(e).map(([k, v]) => `${k}=${format_value(v, tag_of(e.kind, k))}`);
  return `step ${e.step}, ${e.thread}: ${[e.kind, ...fields].join(' ')}`;
}

export function stop_text(s: Session, st: Stop, opts: { events?: boolean } = {}): string {
  const lines: string[] = [...(st.printed ?? [])];
  const ev = event_line;
  switch (st.reason) {
    case 'breakpoint':
      if (st.error) lines.push(st.error);
      lines.push(`Breakpoint ${st.breakpoint}, ${st.event ? ev(st.event) : ''}`.trimEnd());
      break;
    case 'watchpoint':
      lines.push(`Watchpoint ${st.breakpoint}: ${st.watch!.expr}`, `Old value = ${show_value(st.watch!.old)}`, `New value = ${show_value(st.watch!.new)}`);
      break;
    case 'violation': {
      const v = st.violation!;
      if (st.error) lines.push(st.error);
      lines.push(`${st.breakpoint !== undefined ? `Catchpoint ${st.breakpoint}, v` : 'V'}iolation ${v.invariant} at step ${v.step} (${v.thread}): ${v.message}`);
      if (Object.keys(v.values).length) lines.push(`  ${pairs(v.values)}`);
      break;
    }
    case 'end':
      lines.push(`The run ended at step ${st.step}: every thread finished.`);
      return lines.join('\n');
    case 'deadlock':
      lines.push(`Deadlock at step ${st.step}: ${(st.blocked ?? []).join(', ')}`);
      return lines.join('\n');
    case 'blocked':
      lines.push(`Stopped: ${(st.blocked ?? []).join(', ')}`);
      break;
    case 'start':
      lines.push('No more reverse-execution history.');
      return [...lines, location(s)].join('\n');
    case 'interrupted':
      lines.push(`Interrupted at step ${st.step}.`);
      break;
    case 'error':
      lines.push(`Error: ${st.error} (the step was not taken)`);
      break;
    case 'limit':
      break;
  }
  lines.push(location(s));
  if (opts.events && (st.reason === 'limit' || st.reason === 'blocked')) for (const e of s.last_events()) lines.push(`  ${ev(e)}`);
  return lines.join('\n');
}
