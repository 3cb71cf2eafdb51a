// The race diagram: one column per thread (headed by thread and CPU), time
// downwards, step numbers in a left gutter, each row a kernel function and
// what it did that matters, the violation at the bottom in one line. At
// most 80 columns and 40 rows, plain ASCII, so it pastes into a commit
// message or a mail.
//
// Which steps are shown, in this order until the rows run out (ROWS, 24
// between the rules by default): the target and the slice steps it read
// from directly; the lock sections that held those (the acquire and the
// release); the requests, TLBIs, pending_unmap changes, invalidations and
// fault steps of those steps' threads since the earliest of them; what the
// shown steps read in turn; other lock operations; the rest of the slice.
// A step is drawn only when it has something to say (an event a developer
// names, or a field a later shown step read); the others still count, as
// their reads make fields of the others matter. Dependences through a lock
// word or a thread's preempt_count (but for sched.* violations) order
// steps rather than carry the race's values: they are not followed for
// the order, the lock operations come in as context instead.
import { CONTEXT_KINDS, context, type Slice } from './slice.js';
import type { EventKind } from '../core/machine/events.js';
import { describe_event, field_name, show_value } from './describe.js';
import { SEP, type Trace, type TracedStep } from './trace.js';
import type { Violation } from '../core/machine/world.js';

export const WIDTH = 80;
export const HEIGHT = 40;
/** Columns of the step gutter: `%5d ` */
const GUTTER = 6;
const SEPW = 2;
/** Items a step shows at most. */
const MAX_ITEMS = 3;
/** Threads shown side by side at most (the ones with the most rows). */
const MAX_COLUMNS = 4;

const LOCK_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['lock.acquire', 'lock.release']);
const KEY_KINDS: ReadonlySet<EventKind> = new Set([...CONTEXT_KINDS].filter((k) => !LOCK_KINDS.has(k)));

export interface ShownStep {
  step: number;
  thread: string;
  fn: string;
  /** What the step did that matters, one item per line before wrapping. */
  items: string[];
  /** Whether the step is in the causal slice (else it is context). */
  in_slice: boolean;
}

export interface Diagram {
  target: number;
  violation: Violation | null;
  columns: { thread: string; cpu: number }[];
  shown: ShownStep[];
  /** Steps in the causal slice. */
  slice: number[];
  /** The diagram as text lines. */
  lines: string[];
}

function is_order_only(loc: string, keep_preempt: boolean): boolean {
  if (loc.startsWith('locks' + SEP)) return true;
  if (loc.startsWith('threads' + SEP) && !keep_preempt) {
    const f = loc.split(SEP)[2];
    return f === 'preempt_count' || f === 'irqs_disabled';
  }
  return false;
}

/** Distance of each slice step from the target along value-carrying dependences (breadth first). */
function distances(sl: Slice, keep_preempt: boolean): Map<number, number> {
  const dist = new Map<number, number>([[sl.target, 0]]);
  const queue = [sl.target];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i]!;
    for (const d of sl.deps.get(n) ?? []) {
      if (dist.has(d.from) || is_order_only(d.loc, keep_preempt)) continue;
      dist.set(d.from, dist.get(n)! + 1);
      queue.push(d.from);
    }
  }
  return dist;
}

/** Model bookkeeping and allocator cursors: not what a developer reads in a race. */
function is_bookkeeping(name: string): boolean {
  return /(^|\.)(clock|seq_next|nobjs|nesting\[\d+\])$|_step$/.test(name);
}

/**
 * The lock.acquire and lock.release steps of the critical sections that
 * hold `steps` (on the step's own thread): what orders them against the
 * other threads. Nearest to the target first.
 */
function enclosing_locks(trace: Trace, steps: number[], target: number): number[] {
  const out = new Set<number>();
  const want = new Set(steps);
  const held = new Map<number, Map<string, number>>();
  for (const s of trace.steps) {
    if (s.step > target) break;
    let h = held.get(s.thread);
    // A lock taken at the thread's first step (the vCPU ioctl's vcpu->mutex) is held throughout: it orders nothing here.
    const first = !h;
    if (!h) held.set(s.thread, (h = new Map()));
    if (!first) for (const e of s.events) if (e.kind === 'lock.acquire') h.set(String(e.lock), s.step);
    if (want.has(s.step)) for (const acq of h.values()) if (acq !== s.step) out.add(acq);
    for (const e of s.events) {
      if (e.kind !== 'lock.release') continue;
      const acq = h.get(String(e.lock));
      h.delete(String(e.lock));
      // The release closes a section that held one of the steps.
      if (acq !== undefined && steps.some((n) => n >= acq && n <= s.step && trace.steps[n - 1]!.thread === s.thread)) out.add(s.step);
    }
  }
  return [...out].sort((a, b) => b - a);
}

/** Which locations of step `s` are read later by a chosen step (so its value matters). */
function read_later(s: TracedStep, chosen: Set<number>, sl: Slice): string[] {
  const out = new Set<string>();
  for (const c of chosen) {
    if (c <= s.step) continue;
    for (const d of sl.deps.get(c) ?? []) if (d.from === s.step) out.add(d.loc);
  }
  return [...out];
}

function items_of(s: TracedStep, chosen: Set<number>, sl: Slice, keep_preempt: boolean): string[] {
  const items: string[] = [];
  for (const e of s.events) {
    // might_sleep() says something only when the race is about sleeping in atomic context.
    if (e.kind === 'sched.might_sleep' && !keep_preempt) continue;
    const d = describe_event(e);
    if (d && !items.includes(d)) items.push(d);
  }
  const said = items.join(' ');
  for (const loc of read_later(s, chosen, sl)) {
    // A thread's locals and return values: the events of its steps say what they were.
    if (is_order_only(loc, keep_preempt) || loc.startsWith('threads' + SEP)) continue;
    // Written only as a whole (an array, a struct), or said by an event already.
    const exact = [...s.vals.keys()].filter((l) => l === loc || l.startsWith(loc + SEP));
    for (const l of exact.slice(0, 2)) {
      const name = field_name(l);
      if (is_bookkeeping(name)) continue;
      const last = name.split(/[.[]/).pop()!;
      if (said.includes(last)) continue;
      const it = `${name} = ${show_value(s.vals.get(l))}`;
      if (!items.includes(it)) items.push(it);
    }
  }
  return items.slice(0, MAX_ITEMS);
}

function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    // Keep `= value` together: break before the name's `=` rather than after it.
    while (cut > 0 && rest[cut - 1] === '=') cut = rest.lastIndexOf(' ', cut - 2);
    if (cut <= width / 3) {
      // No space late enough: break after a '.' or '_' of an identifier, else hard.
      const dot = Math.max(rest.lastIndexOf('.', width - 1), rest.lastIndexOf('_', width - 1));
      cut = dot > width / 3 ? dot + 1 : width;
    }
    out.push(rest.slice(0, cut).trimEnd());
    rest = '  ' + rest.slice(cut).trimStart();
  }
  if (rest.trim()) out.push(rest);
  return out;
}

/** Rows of one shown step in a column of `width` (fn on the first row unless the same fn continues). */
function step_rows(st: ShownStep, same_fn: boolean, width: number): string[] {
  const rows: string[] = [];
  const lines = same_fn ? st.items.map((i) => '  ' + i) : st.items.length ? [`${st.fn}: ${st.items[0]}`, ...st.items.slice(1).map((i) => '  ' + i)] : [st.fn];
  for (const l of lines) rows.push(...wrap(l, width));
  return rows;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

function violation_line(v: Violation | null, target: number, trace: Trace, width: number): string {
  if (!v) {
    const s = trace.steps[target - 1];
    return `step ${target} (${s?.name ?? '?'}): sliced from here`;
  }
  // Cut to one line: the whole message is in --format markdown/json and `check`.
  const line = `${v.step} ${v.invariant}: ${v.message}`;
  return line.length <= width ? line : line.slice(0, width - 3) + '...';
}

export interface DiagramOptions {
  width?: number;
  height?: number;
  /** Rows between the rules to aim for (default ROWS). */
  rows?: number;
}

/** Rows between the rules by default. */
export const ROWS = 24;

/** Lay out the diagram for `sl` within width x height. */
export function diagram(trace: Trace, sl: Slice, opts: DiagramOptions = {}): Diagram {
  const width = opts.width ?? WIDTH;
  const height = opts.height ?? HEIGHT;
  const v = trace.violation && trace.violation.step === sl.target ? trace.violation : null;
  const keep_preempt = v !== null && v.invariant.startsWith('sched.');
  const dist = distances(sl, keep_preempt);
  const in_slice = new Set(sl.steps);
  const ring = (lo: number, hi: number) => [...dist].filter(([, d]) => d >= lo && d <= hi).map(([n]) => n).sort((a, b) => b - a);
  // Context comes from the threads of the target and of what it read, since the earliest of those.
  const near = ring(0, 1);
  const near_slice: Slice = { ...sl, steps: near.slice().sort((a, b) => a - b) };
  const locks = context(trace, near_slice, LOCK_KINDS).sort((a, b) => b - a);
  const key = context(trace, near_slice).filter((n) => !locks.includes(n) || trace.steps[n - 1]!.events.some((e) => KEY_KINDS.has(e.kind))).sort((a, b) => b - a);
  // Priority: what the target read and the locks it held meanwhile, the key events of the threads
  // racing, what those steps read, other lock operations, the rest.
  const first = ring(0, 1);
  const held = enclosing_locks(trace, first, sl.target);
  const candidates = [...first, ...held, ...key, ...ring(2, 2), ...enclosing_locks(trace, ring(2, 2), sl.target), ...locks, ...ring(3, Infinity)];

  // header, rule, rule, violation; a diagram reads best at a screenful, not at the limit.
  const body = Math.min(height - 4, opts.rows ?? ROWS);
  let chosen = new Set<number>();
  let laid: Layout = layout(trace, [], sl, keep_preempt, width);
  for (const n of candidates) {
    if (chosen.has(n)) continue;
    const next = new Set(chosen).add(n);
    const l = layout(trace, [...next], sl, keep_preempt, width);
    if (l.rows.length > body) continue;
    // Kept even when it has nothing to say itself: what it read makes fields of the others matter.
    chosen = next;
    laid = l;
  }
  const rule = '-'.repeat(GUTTER - 1) + ' ' + laid.columns.map((c) => '-'.repeat(laid.colw)).join(' '.repeat(SEPW));
  const header = pad(' step', GUTTER) + laid.columns.map((c) => pad(`${c.thread} (CPU ${c.cpu})`, laid.colw)).join(' '.repeat(SEPW));
  const lines = [header.trimEnd(), rule.trimEnd(), ...laid.rows.map((r) => r.trimEnd()), rule.trimEnd(), violation_line(v, sl.target, trace, width)];
  for (const s of laid.shown) s.in_slice = in_slice.has(s.step);
  return { target: sl.target, violation: v, columns: laid.columns, shown: laid.shown, slice: sl.steps, lines };
}

interface Layout {
  columns: { thread: string; cpu: number; id: number }[];
  colw: number;
  rows: string[];
  shown: ShownStep[];
}

function layout(trace: Trace, chosen_list: number[], sl: Slice, keep_preempt: boolean, width: number): Layout {
  const chosen = new Set(chosen_list);
  chosen.add(sl.target);
  const steps = [...chosen].sort((a, b) => a - b).map((n) => trace.steps[n - 1]!);
  const shown: ShownStep[] = [];
  for (const s of steps) {
    const items = items_of(s, chosen, sl, keep_preempt);
    if (!items.length && s.step !== sl.target) continue;
    // The step asked for says at least which label it ran.
    if (!items.length) items.push(`(${s.pc})`);
    shown.push({ step: s.step, thread: s.name, fn: s.fn, items, in_slice: true });
  }
  // A field shown again later on the same thread: its earlier value was a step on the way.
  const later = new Map<number, Set<string>>();
  for (let k = shown.length - 1; k >= 0; k--) {
    const st = shown[k]!;
    const id = trace.steps[st.step - 1]!.thread;
    const seen = later.get(id) ?? new Set<string>();
    later.set(id, seen);
    const names = st.items.map((it) => /^([\w.[\]>-]+) = /.exec(it)?.[1] ?? null);
    const keep = st.items.filter((_it, j) => names[j] === null || !seen.has(names[j]!));
    for (const n of names) if (n) seen.add(n);
    if (keep.length || st.step === sl.target) st.items = keep;
    else shown.splice(k, 1);
  }
  // Columns: threads in order of their ids, the busiest MAX_COLUMNS of them.
  const count = new Map<number, number>();
  for (const s of shown) {
    const id = trace.steps[s.step - 1]!.thread;
    count.set(id, (count.get(id) ?? 0) + s.items.length + 1);
  }
  const tid = (s: ShownStep) => trace.steps[s.step - 1]!.thread;
  const target_thread = trace.steps[sl.target - 1]!.thread;
  const ids = [...count.keys()].sort((a, b) => (b === target_thread ? 1 : 0) - (a === target_thread ? 1 : 0) || count.get(b)! - count.get(a)!).slice(0, MAX_COLUMNS).sort((a, b) => a - b);
  const columns = ids.map((id) => ({ id, thread: trace.threads[id]!.name, cpu: trace.threads[id]!.cpu }));
  const n = Math.max(1, columns.length);
  const colw = Math.floor((width - GUTTER - (n - 1) * SEPW) / n);
  const rows: string[] = [];
  let prev: ShownStep | null = null;
  const kept = shown.filter((s) => ids.includes(tid(s)));
  for (const s of kept) {
    const col = ids.indexOf(tid(s));
    const same_fn = prev !== null && tid(prev) === tid(s) && prev.fn === s.fn;
    const r = step_rows(s, same_fn, colw);
    r.forEach((text, i) => {
      const gutter = i === 0 ? String(s.step).padStart(GUTTER - 1) + ' ' : ' '.repeat(GUTTER);
      rows.push(gutter + ' '.repeat(col * (colw + SEPW)) + text);
    });
    prev = s;
  }
  return { columns, colw, rows, shown: kept };
}

/** The diagram as Markdown: the violation in full, the diagram in a fenced block. */
export function to_markdown(d: Diagram): string {
  const head = d.violation ? `**${d.violation.invariant}** at step ${d.violation.step} (${d.violation.thread}): ${d.violation.message}` : `Causal slice of step ${d.target}`;
  return `${head}\n\n\`\`\`\n${d.lines.join('\n')}\n\`\`\`\n`;
}

/** The diagram as a JSON value (CONTRACT.md JSON conventions). */
export function to_json(d: Diagram): Record<string, unknown> {
  return {
    target: d.target,
    violation: d.violation ? { invariant: d.violation.invariant, message: d.violation.message, step: d.violation.step, thread: d.violation.thread } : null,
    columns: d.columns.map((c) => ({ thread: c.thread, cpu: c.cpu })),
    steps: d.shown.map((s) => ({ step: s.step, thread: s.thread, fn: s.fn, lines: s.items, slice: s.in_slice })),
    slice: d.slice,
    text: d.lines.join('\n'),
  };
}
