// What the panes show, as plain data: rows of strings built from the
// Session through the REPL's own printers (the `info`, `mt list` and
// breakpoint JSON, format_event), so the TUI and the REPL never disagree.
// No Ink here; app.tsx and panes.tsx draw these.
import type { Event } from '../core/machine/events.js';
import { filters_match, type Breakpoint } from '../debugger/breakpoints.js';
import type { Session } from '../debugger/session.js';
import { bp_json } from '../repl/cmd_break.js';
import { format_event } from '../repl/format.js';
import type { Interpreter } from '../repl/interpreter.js';

// ------------------------------------------------------------------ grids

export interface Column {
  key: string;
  title: string;
  /** How readily the column gives up width when the pane is narrow (0: never). */
  shrink?: number;
  align?: 'left' | 'right';
  /** Where a value too wide loses characters (default: the end). */
  cut?: 'end' | 'middle';
}

export interface GridData {
  columns: Column[];
  rows: Record<string, string>[];
  /** A line shown instead of the table (no rows, or a layer this World lacks). */
  empty?: string;
}

/** Column widths for `width` columns of screen (with `gap` between columns and a 2-column row marker). */
export function fit_columns(columns: Column[], rows: Record<string, string>[], width: number, gap = 2): number[] {
  const natural = columns.map((c) => Math.max(c.title.length, ...rows.map((r) => (r[c.key] ?? '').length)));
  const widths = [...natural];
  const total = () => 2 + widths.reduce((a, b) => a + b, 0) + gap * Math.max(0, widths.length - 1);
  let excess = total() - width;
  // Take width from the shrinkable columns, widest first, down to a floor.
  while (excess > 0) {
    let best = -1;
    let score = 0;
    columns.forEach((c, i) => {
      const floor = Math.min(natural[i]!, Math.max(4, Math.min(c.title.length, 8)));
      const s = (c.shrink ?? 0) * (widths[i]! - floor);
      if (widths[i]! > floor && s > score) {
        score = s;
        best = i;
      }
    });
    if (best < 0) break;
    widths[best]!--;
    excess--;
  }
  return widths;
}

/** A cell padded or cut (with an ellipsis) to exactly `w` columns. */
export function cell(s: string, w: number, align: 'left' | 'right' = 'left', cut: 'end' | 'middle' = 'end'): string {
  if (s.length > w) return w <= 1 ? s.slice(0, w) : cut === 'middle' ? cut_middle(s, w) : `${s.slice(0, w - 1)}…`;
  return align === 'right' ? s.padStart(w) : s.padEnd(w);
}

/**
 * `fn:label` cut in the middle to `w` columns: the label (where in the
 * function) whole when it leaves room for a few characters of the name,
 * else as much of both ends as fits.
 */
export function cut_middle(s: string, w: number): string {
  const colon = s.lastIndexOf(':');
  const label = colon > 0 ? s.slice(colon) : '';
  if (label && w - 1 - label.length >= 4) return `${s.slice(0, w - 1 - label.length)}…${label}`;
  const head = Math.ceil((w - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (w - 1 - head))}`;
}

/**
 * `s` cut to `w` visible columns with an ellipsis, keeping its SGR escapes
 * (the lines here are ASCII plus single-width marks). Lines the panes cut
 * themselves never reach Ink's truncation, which slices ANSI strings slowly
 * and caches every line it ever cut.
 */
export function fit_ansi(s: string, w: number): string {
  // eslint-disable-next-line no-control-regex
  const esc = /\x1b\[[0-9;]*m/y;
  let visible = 0;
  for (let i = 0; i < s.length; i++) {
    esc.lastIndex = i;
    const m = esc.exec(s);
    if (m) i += m[0].length - 1;
    else visible++;
  }
  if (visible <= w) return s;
  let out = '';
  let n = 0;
  let styled = false;
  for (let i = 0; i < s.length && n < w - 1; i++) {
    esc.lastIndex = i;
    const m = esc.exec(s);
    if (m) {
      out += m[0];
      styled = true;
      i += m[0].length - 1;
    } else {
      out += s[i];
      n++;
    }
  }
  return `${out}…${styled ? '\x1b[0m' : ''}`;
}

/** Header and rows as text lines of `width` columns at most (the marker column left out). */
export function grid_lines(g: GridData, width: number, gap = 2): { header: string; rows: string[] } {
  const w = fit_columns(g.columns, g.rows, width, gap);
  const sep = ' '.repeat(gap);
  const line = (get: (c: Column) => string) =>
    g.columns
      .map((c, i) => cell(get(c), w[i]!, c.align, c.cut))
      .join(sep)
      .trimEnd();
  return { header: line((c) => c.title), rows: g.rows.map((r) => line((c) => r[c.key] ?? '')) };
}

// ------------------------------------------------------- interpreter queries

/** Runs read-only commands for the panes on an interpreter of their own (a `commands` block being typed does not swallow them). */
export class Query {
  constructor(private readonly interp: Interpreter) {}

  json<T = Record<string, unknown>>(cmd: string): T | null {
    const o = this.interp.exec(cmd);
    return o && o.ok ? (o.result as T) : null;
  }

  text(cmd: string): { ok: boolean; text: string } {
    const o = this.interp.exec(cmd);
    if (!o) return { ok: true, text: '' };
    return { ok: o.ok, text: o.text };
  }
}

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

/** `OUTSIDE_GUEST_MODE` as `OUTSIDE` when columns are scarce. */
function short_mode(m: string): string {
  return m.replace(/_GUEST_MODE$/, '').replace(/_MODE$/, '');
}

/** The threads pane: `info threads` joined with `info vcpus` (mode, pending requests, hw_mmu). */
export function threads_grid(q: Query, opts: { narrow?: boolean } = {}): GridData {
  const threads = q.json<{ rows: Row[] }>('info threads')?.rows ?? [];
  const vcpus = q.json<{ rows: Row[] }>('info vcpus')?.rows ?? [];
  const by_thread = new Map(vcpus.map((v) => [String(v['thread']), v]));
  const arm64 = vcpus.some((v) => 'hw_mmu' in v);
  const columns: Column[] = [
    { key: 'thread', title: 'THREAD', shrink: 1 },
    { key: 'state', title: 'STATE', shrink: 3 },
    // The innermost frame `fn:label`: cut in the middle, so the label (where in fn) stays readable.
    { key: 'frame', title: 'FRAME', shrink: 3, cut: 'middle' },
    { key: 'mode', title: 'MODE', shrink: 2 },
    { key: 'requests', title: 'REQUESTS', shrink: 2 },
  ];
  if (arm64) columns.push({ key: 'hw_mmu', title: 'HW_MMU', shrink: 1 });
  const rows = threads.map((t) => {
    const v = by_thread.get(String(t['name']));
    const mode = v ? str(v['mode']) : '';
    return {
      thread: str(t['name']),
      state: str(t['state']),
      frame: str(t['frame']),
      mode: opts.narrow ? short_mode(mode) : mode,
      requests: v ? str(v['requests']) : '',
      hw_mmu: v && arm64 ? str(v['hw_mmu']) : '',
    };
  });
  return { columns, rows, ...(rows.length ? {} : { empty: 'No threads.' }) };
}

/** The MMU pane: `info mmus` with each reverse map's size from `mt list`; on x86, `info invalidation`. */
export function mmus_grid(q: Query): GridData {
  const mmus = q.json<{ rows: Row[]; absent?: boolean; message?: string }>('info mmus');
  if (!mmus || mmus.absent) {
    const inv = q.text('info invalidation');
    return { columns: [], rows: [], empty: inv.ok ? inv.text : (mmus?.message ?? 'No MMUs.') };
  }
  const trees = q.json<{ trees: Row[] }>('mt list')?.trees ?? [];
  const revmap = new Map(trees.filter((t) => String(t['name']).endsWith('.revmap')).map((t) => [String(t['name']).replace(/\.revmap$/, ''), String(t['entries'])]));
  const columns: Column[] = [
    { key: 'mmu', title: 'MMU' },
    { key: 'vmid', title: 'VMID', align: 'right' },
    { key: 'valid', title: 'VALID', shrink: 1 },
    { key: 'refcnt', title: 'REFCNT', align: 'right' },
    { key: 'tlb_vttbr', title: 'TLB_VTTBR', shrink: 1 },
    { key: 'pending_unmap', title: 'PENDING_UNMAP', shrink: 2 },
    { key: 'revmap', title: 'REVMAP', align: 'right', shrink: 1 },
    { key: 'leaves', title: 'LEAVES', align: 'right', shrink: 1 },
  ];
  const rows = mmus.rows.map((m) => ({
    mmu: str(m['mmu']),
    vmid: str(m['vmid']),
    valid: str(m['valid']),
    refcnt: str(m['refcnt']),
    tlb_vttbr: str(m['tlb_vttbr']),
    pending_unmap: str(m['pending_unmap']),
    revmap: revmap.get(str(m['mmu'])) ?? '-',
    leaves: str(m['leaves']),
  }));
  return { columns, rows, ...(rows.length ? {} : { empty: 'No MMUs.' }) };
}

/** What a breakpoint stops on, as `info breakpoints` says it. */
function bp_what(j: Row): string {
  if (j['type'] === 'watchpoint') return str(j['expr']);
  if (j['type'] === 'catchpoint') return `violation${j['invariant'] ? ` ${String(j['invariant'])}` : ''}`;
  const spec = [j['kind'], ...((j['filters'] as string[] | undefined) ?? [])].join(' ');
  return j['format'] ? `${spec}, ${String(j['format'])}` : spec;
}

/** The breakpoints pane: the breakpoint table's JSON (bp_json), one row each. */
export function breakpoints_grid(s: Session): GridData {
  const rows = s.breakpoints.all().map((bp) => {
    const j = bp_json(bp);
    return {
      id: String(bp.id),
      type: bp.type,
      disp: bp.temporary ? 'del' : 'keep',
      enb: bp.enabled ? 'y' : 'n',
      hits: String(bp.hits),
      what: bp_what(j) + (bp.cond ? ` if ${bp.cond}` : '') + (bp.ignore ? ` (ignore ${bp.ignore})` : ''),
    };
  });
  const columns: Column[] = [
    { key: 'id', title: 'NUM', align: 'right' },
    { key: 'type', title: 'TYPE', shrink: 1 },
    { key: 'disp', title: 'DISP' },
    { key: 'enb', title: 'ENB' },
    { key: 'hits', title: 'HITS', align: 'right' },
    { key: 'what', title: 'WHAT', shrink: 3 },
  ];
  return { columns, rows, ...(rows.length ? {} : { empty: 'No breakpoints: b or :break KIND [field=value ...]' }) };
}

// ------------------------------------------------------------------ events

export type Mark = 'stop' | 'break' | 'violation' | null;

export interface EventRow {
  key: string;
  /** The line without colour (what the filter and the tests see). */
  text: string;
  /** The line with the REPL's colours (same text). */
  painted: string;
  mark: Mark;
}

export interface EventWindow {
  rows: EventRow[];
  /** The scroll offset (rows from the bottom) after clamping. */
  scroll: number;
  /** True when the window reaches the oldest row. */
  at_top: boolean;
}

/**
 * Formatted event lines, cached per Event object (the filter formats many
 * events per frame). Not by seq: another timeline reuses seq numbers.
 */
export class EventText {
  private cache = new WeakMap<Event, string>();
  private painted = new WeakMap<Event, string>();
  constructor(
    readonly color: boolean,
    private readonly thread_width: () => number,
  ) {}

  plain(e: Event): string {
    let s = this.cache.get(e);
    if (s === undefined) {
      s = format_event(e, { thread_width: this.thread_width() });
      this.cache.set(e, s);
    }
    return s;
  }

  paint(e: Event): string {
    if (!this.color) return this.plain(e);
    let s = this.painted.get(e);
    if (s === undefined) {
      s = format_event(e, { thread_width: this.thread_width(), color: true });
      this.painted.set(e, s);
    }
    return s;
  }

  /** Forget every line (the thread column changed width). */
  clear(): void {
    this.cache = new WeakMap();
    this.painted = new WeakMap();
  }
}

/** Enabled event breakpoints (and dprintfs): an event they match is marked as a hit. */
function breakpoint_matcher(bps: readonly Breakpoint[]): (e: Event) => boolean {
  const live = bps.filter((b) => b.enabled && b.kind && (b.type === 'breakpoint' || b.type === 'dprintf'));
  if (live.length === 0) return () => false;
  return (e) => live.some((b) => b.kind === e.kind && filters_match(b.filters, e));
}

/** Steps regenerated per scan of older history (one chunk at a time). */
const CHUNK = 5_000;

/**
 * The event log the pane reads: the last N events that pass the filter,
 * oldest first. The Session holds the recent events in memory; older ones
 * it regenerates from checkpoints, which costs about as much as running
 * the steps again, so a search that needs them goes back `budget` steps
 * per frame and carries on in the next (the screen and the keys stay
 * live) until it has enough rows or reaches step 0. Results are kept
 * until the position, the history or the filter change.
 */
export class EventFeed {
  private key = '';
  private matches: Event[] = [];
  /** The matches cover steps (lo, hi]. */
  private lo = 0;

  constructor(
    private readonly s: Session,
    private readonly text: EventText,
  ) {}

  /** `done`: nothing left to search for this request; `at_start`: the events reach back to step 0. */
  last(n: number, filter: string, gen: number, budget: number): { events: Event[]; done: boolean; at_start: boolean; searched_to: number } {
    const s = this.s;
    const f = filter.trim().toLowerCase();
    if (!f && n <= 2000) {
      // The common case: the newest rows, from the in-memory window.
      const events = s.events(n);
      return { events, done: true, at_start: events.length < n, searched_to: 0 };
    }
    const keep = f ? (e: Event) => this.text.plain(e).toLowerCase().includes(f) : () => true;
    const key = `${gen}|${s.step_no}|${s.end_step}|${f}`;
    if (key !== this.key) {
      this.key = key;
      const hi = s.step_no;
      const lo = Math.min(s.checkpoint_info().events_from, hi);
      this.matches = s.events_between(lo + 1, hi).filter(keep);
      this.lo = lo;
    }
    let spent = 0;
    while (this.matches.length < n && this.lo > 0 && spent < budget) {
      const a = Math.max(0, this.lo - CHUNK);
      const older = s.events_between(a + 1, this.lo).filter(keep);
      this.matches = older.concat(this.matches);
      spent += this.lo - a;
      this.lo = a;
    }
    return { events: this.matches.slice(-n), done: this.lo === 0 || this.matches.length >= n, at_start: this.lo === 0 && this.matches.length <= n, searched_to: this.lo };
  }
}

/**
 * The rows of the event log the pane shows: the last `height` rows once
 * `scroll` rows from the bottom are skipped. Only those rows (and as many
 * events as the scroll needs) are fetched and formatted. Violations
 * recorded in the World appear as rows of their own after their step.
 * `searching` is the step an unfinished search has gone back to.
 */
export function event_window(
  s: Session,
  feed: EventFeed,
  text: EventText,
  o: { height: number; scroll: number; filter: string; stop_seq: number | null; gen?: number; budget?: number },
): EventWindow & { searching: number | null } {
  const height = Math.max(0, o.height);
  const f = o.filter.trim().toLowerCase();
  const want = height + Math.max(0, o.scroll);
  const got = feed.last(want, o.filter, o.gen ?? 0, o.budget ?? Infinity);
  const events = got.events;
  const reached_start = got.at_start;
  const is_hit = breakpoint_matcher(s.breakpoints.all());
  const rows: (EventRow & { step: number })[] = events.map((e) => ({
    key: `e${e.seq}`,
    text: text.plain(e),
    painted: text.paint(e),
    mark: e.seq === o.stop_seq ? 'stop' : is_hit(e) ? 'break' : null,
    step: e.step,
  }));
  // Violations after the events of their step (all of them when the window reaches the start).
  const from = reached_start ? -1 : (events[0]?.step ?? s.step_no);
  const violations = s.world.violations.filter((v) => v.step >= from && v.step <= s.step_no);
  for (const v of violations) {
    const line = `${String(v.step).padStart(6)}  ${v.thread.padEnd(6)}  violation ${v.invariant}: ${v.message}`;
    if (f && !line.toLowerCase().includes(f) && !'violation'.includes(f)) continue;
    let at = rows.length;
    while (at > 0 && rows[at - 1]!.step > v.step) at--;
    rows.splice(at, 0, { key: `v${v.step}:${v.invariant}`, text: line, painted: line, mark: 'violation', step: v.step });
  }
  const max_scroll = Math.max(0, rows.length - height);
  const scroll = reached_start ? Math.min(o.scroll, max_scroll) : o.scroll;
  const end = Math.max(0, rows.length - scroll);
  const start = Math.max(0, end - height);
  return {
    rows: rows.slice(start, end).map(({ step: _s, ...r }) => r),
    scroll,
    at_top: reached_start && start === 0,
    searching: got.done ? null : got.searched_to,
  };
}

// ------------------------------------------------------------------ stops

/** What the status bar says about a stop (CONTRACT.md: `breakpoint 1`, `violation NAME`, `end`); null after plain steps. */
export function stop_label(stopped: { reason: string; breakpoint?: number; violation?: { invariant?: string } } | null | undefined): string | null {
  if (!stopped) return null;
  switch (stopped.reason) {
    case 'breakpoint':
      return `breakpoint ${stopped.breakpoint}`;
    case 'watchpoint':
      return `watchpoint ${stopped.breakpoint}`;
    case 'violation':
      return `violation ${stopped.violation?.invariant ?? '?'}`;
    case 'limit':
      return null;
    default:
      return stopped.reason;
  }
}
