// Breakpoints on events (with field filters and `if` conditions),
// watchpoints on World expressions, violation catchpoints and dprintf. The
// table keeps an index from event kind to the enabled breakpoints on that
// kind, so a step's events cost one Map lookup each however many
// breakpoints there are.
import { EVENT_KINDS, event_fields, field_tag, is_event_kind, type Event, type EventKind, type FieldTag } from '../core/machine/events.js';
import { hash_value } from '../core/machine/hash.js';
import { invariant_named } from '../core/machine/invariants.js';
import type { Violation, World } from '../core/machine/world.js';
import { parse_int_literal } from '../scenario/numbers.js';
import { DebugError, clip, one_line } from './errors.js';
import { compile_expr, plain, run_expr } from './expr.js';
import { error_text } from './sandbox_realm.js';

export type BreakpointType = 'breakpoint' | 'watchpoint' | 'catchpoint' | 'dprintf';

export interface Filter {
  field: string;
  op: '=' | '!=';
  /** A number when the text is an integer literal (compared numerically), else the text. */
  value: number | bigint | string;
}

export interface Breakpoint {
  id: number;
  type: BreakpointType;
  /** Event kind (breakpoints and dprintf). */
  kind?: EventKind;
  filters: Filter[];
  /** `if` condition / `condition ID EXPR`, JavaScript over e, w (and v for catchpoints). */
  cond: string | null;
  temporary: boolean;
  enabled: boolean;
  /** Hits still to ignore. */
  ignore: number;
  hits: number;
  /** REPL commands run when it stops (`commands ID ... end`). */
  commands: string[];
  /** Watchpoints: the expression. */
  expr?: string;
  /** Catchpoints: the invariant name, or null for any. */
  invariant?: string | null;
  /** dprintf: the format and arguments, as typed (`"fmt", e.x, ...`). */
  format?: string;
}

export interface BreakSpec {
  kind: string;
  filters?: Filter[];
  cond?: string | null;
  temporary?: boolean;
  format?: string;
}

/** Fields every event has besides its kind's own. */
export const COMMON_FIELDS = ['seq', 'step', 'thread', 'cpu', 'vcpu'] as const;

export function fields_of(kind: EventKind): string[] {
  return [...event_fields(kind), ...COMMON_FIELDS];
}

/** Parse `field=value` / `field!=value`. */
export function parse_filter(tok: string): Filter {
  const m = /^([A-Za-z_][\w.]*)(!=|=)(.*)$/.exec(tok);
  if (!m || m[3] === '') throw new DebugError('EINVAL', `"${tok}" is not a filter; expected field=value`);
  const lit = parse_int_literal(m[3]!);
  return { field: m[1]!, op: m[2] as '=' | '!=', value: lit ?? unquote(m[3]!) };
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

export function format_filter(f: Filter): string {
  const v = typeof f.value === 'bigint' ? `0x${f.value.toString(16)}` : String(f.value);
  return `${f.field}${f.op}${v}`;
}

function value_matches(v: unknown, want: Filter['value']): boolean {
  if (typeof want === 'string') return typeof v === 'string' ? v === want : String(v) === want;
  if (typeof v === 'number') {
    if (typeof want === 'number') return v === want;
    return Number.isInteger(v) && BigInt(v) === want;
  }
  if (typeof v === 'bigint') return typeof want === 'bigint' ? v === want : Number.isInteger(want) && v === BigInt(want);
  if (typeof v === 'boolean') return want === (v ? 1 : 0);
  return false;
}

export function filters_match(filters: readonly Filter[], e: Event): boolean {
  for (const f of filters) {
    const eq = value_matches(e[f.field], f.value);
    if (eq !== (f.op === '=')) return false;
  }
  return true;
}

/** What a breakpoint test says about one event or violation. */
export type Verdict = false | true | { error: string };

/** What a watchpoint's expression evaluates to now: a comparable key and the value to show. */
export interface WatchValue {
  key: string;
  value: unknown;
}

export class BreakpointTable {
  private list: Breakpoint[] = [];
  private next_id = 1;
  /** Enabled event breakpoints and dprintfs by kind. */
  index = new Map<string, Breakpoint[]>();
  watches: Breakpoint[] = [];
  catches: Breakpoint[] = [];

  all(): readonly Breakpoint[] {
    return this.list;
  }

  get(id: number): Breakpoint {
    const bp = this.list.find((b) => b.id === id);
    if (!bp) throw new DebugError('ENOENT', `no breakpoint ${id}`);
    return bp;
  }

  get last_id(): number {
    return this.next_id - 1;
  }

  private add(bp: Omit<Breakpoint, 'id' | 'hits' | 'enabled' | 'ignore' | 'commands'>): Breakpoint {
    const b: Breakpoint = { id: this.next_id++, hits: 0, enabled: true, ignore: 0, commands: [], ...bp };
    this.list.push(b);
    this.reindex();
    return b;
  }

  /** Check a `break` / `tbreak` / `dprintf` spec: the kind, the fields, the expressions' syntax. */
  check_spec(spec: BreakSpec): void {
    if (!is_event_kind(spec.kind)) throw new DebugError('EINVAL', `unknown event kind ${clip(spec.kind, 60)}${suggest(spec.kind)}`);
    const kind = spec.kind;
    const allowed = fields_of(kind);
    for (const f of spec.filters ?? []) {
      if (!allowed.includes(f.field)) throw new DebugError('EINVAL', `${kind} has no field ${clip(f.field, 60)}; its fields are ${allowed.join(', ')}`);
    }
    if (spec.cond) compile_expr(spec.cond);
    if (spec.format !== undefined) compile_expr(`[${spec.format}]`);
  }

  /** `break` / `tbreak` / `dprintf` on an event kind. */
  add_break(spec: BreakSpec): Breakpoint {
    this.check_spec(spec);
    const kind = spec.kind as EventKind;
    return this.add({
      type: spec.format !== undefined ? 'dprintf' : 'breakpoint',
      kind,
      filters: spec.filters ?? [],
      cond: spec.cond ?? null,
      temporary: spec.temporary ?? false,
      ...(spec.format !== undefined ? { format: spec.format } : {}),
    });
  }

  /** Compile an expression (a syntax error throws EINVAL). */
  check_expr(expr: string): void {
    compile_expr(expr);
  }

  add_watch(expr: string): Breakpoint {
    compile_expr(expr);
    return this.add({ type: 'watchpoint', filters: [], cond: null, temporary: false, expr });
  }

  add_catch(invariant: string | null, cond: string | null = null): Breakpoint {
    if (invariant !== null && !invariant_named(invariant)) throw new DebugError('ENOENT', `no invariant ${invariant}`);
    if (cond) compile_expr(cond);
    return this.add({
      type: 'catchpoint',
      filters: [],
      cond,
      temporary: false,
      invariant,
    });
  }

  delete(ids: number[] | null): number[] {
    const gone = ids === null ? this.list.map((b) => b.id) : ids.map((id) => this.get(id).id);
    this.list = this.list.filter((b) => !gone.includes(b.id));
    this.reindex();
    return gone;
  }

  enable(ids: number[] | null, on: boolean): number[] {
    const bps = ids === null ? this.list : ids.map((id) => this.get(id));
    for (const b of bps) b.enabled = on;
    this.reindex();
    return bps.map((b) => b.id);
  }

  set_condition(id: number, cond: string | null): Breakpoint {
    const bp = this.get(id);
    if (bp.type === 'watchpoint') throw new DebugError('EINVAL', `watchpoint ${id} takes no condition; watch a different expression`);
    if (cond) compile_expr(cond);
    bp.cond = cond;
    return bp;
  }

  set_ignore(id: number, n: number): Breakpoint {
    const bp = this.get(id);
    bp.ignore = n;
    return bp;
  }

  set_commands(id: number, cmds: string[]): Breakpoint {
    const bp = this.get(id);
    bp.commands = cmds;
    return bp;
  }

  clear(): void {
    this.list = [];
    this.next_id = 1;
    this.reindex();
  }

  private reindex(): void {
    this.index = new Map();
    this.watches = [];
    this.catches = [];
    for (const b of this.list) {
      if (!b.enabled) continue;
      if (b.type === 'watchpoint') this.watches.push(b);
      else if (b.type === 'catchpoint') this.catches.push(b);
      else {
        let l = this.index.get(b.kind!);
        if (!l) this.index.set(b.kind!, (l = []));
        l.push(b);
      }
    }
  }

  /** Does event breakpoint `bp` match `e` (filters, then condition)? Pure. */
  test_event(bp: Breakpoint, e: Event, w: World): Verdict {
    if (bp.filters.length && !filters_match(bp.filters, e)) return false;
    return test_cond(bp, w, e, undefined);
  }

  /** Does catchpoint `bp` match violation `v`? Pure. */
  test_violation(bp: Breakpoint, v: Violation, w: World): Verdict {
    if (bp.invariant && bp.invariant !== v.invariant) return false;
    return test_cond(bp, w, undefined, v);
  }

  /** Should violation `v` stop the run? Every violation does until a catchpoint exists; then only those it catches. */
  violation_stops(v: Violation, w: World): { bp: Breakpoint | null; verdict: Verdict } {
    if (this.catches.length === 0) return { bp: null, verdict: !this.list.some((b) => b.type === 'catchpoint') };
    for (const bp of this.catches) {
      const verdict = this.test_violation(bp, v, w);
      if (verdict) return { bp, verdict };
    }
    return { bp: null, verdict: false };
  }
}

function test_cond(bp: Breakpoint, w: World, e: Event | undefined, v: Violation | undefined): Verdict {
  if (!bp.cond) return true;
  try {
    return Boolean(run_expr(compile_expr(bp.cond), { w, e, v }));
  } catch (err) {
    return { error: `Error in testing condition for breakpoint ${bp.id}: ${one_line(error_text(err))}` };
  }
}

/**
 * The value of a watchpoint's expression now (an exception is a value too:
 * `<error: ...>`, unless `throws`: the first value, when it is set).
 */
export function watch_value(bp: Breakpoint, w: World, throws = false): WatchValue {
  let value: unknown;
  try {
    value = run_expr(compile_expr(bp.expr!), { w });
  } catch (err) {
    if (throws) throw err;
    const msg = `<error: ${one_line(error_text(err))}>`;
    return { key: `!${msg}`, value: msg };
  }
  return watch_key(value);
}

/** A watched value with its comparable key (views are copied: the World moves on). */
export function watch_key(value: unknown): WatchValue {
  switch (typeof value) {
    case 'object':
      if (value === null) return { key: 'null', value };
      value = plain(value);
      return { key: `#${hash_value(value)}`, value };
    case 'bigint':
      return { key: `n${value}`, value };
    case 'function':
      return { key: `f${String(value)}`, value: '<function>' };
    default:
      return { key: `${typeof value}:${String(value)}`, value };
  }
}

/** Neutral values by field tag, for a sample event. */
const NEUTRAL: Record<FieldTag, unknown> = { int: 0, addr: 0, u64: 0, str: '', bool: false, any: [] };

/** An event of `kind` with every field at a neutral value, to try a condition on when it is set. */
export function sample_event(kind: string, w: World): Event {
  const t = w.threads.find((x) => x.vcpu >= 0) ?? w.threads[0];
  const e: Record<string, unknown> = { seq: w.seq, step: w.step, thread: t?.name ?? '-', cpu: t?.cpu ?? -1, vcpu: t && t.vcpu >= 0 ? t.vcpu : null, kind };
  if (is_event_kind(kind)) for (const f of event_fields(kind)) e[f] = structuredClone(NEUTRAL[field_tag(kind, f) ?? 'any']);
  return e as Event;
}

/** A violation with neutral values, to try a catchpoint's condition on. */
export function sample_violation(invariant: string | null, w: World): Violation {
  return { invariant: invariant ?? 'any', message: '', step: w.step, thread: w.threads[0]?.name ?? '-', values: {} };
}

function suggest(kind: string): string {
  const near = EVENT_KINDS.filter((k) => k.startsWith(kind) || k.split('.')[0] === kind.split('.')[0]).slice(0, 12);
  return near.length ? `; did you mean ${near.join(', ')}?` : '; `help break` lists the kinds';
}

/** The line a dprintf prints: its format (C printf: %d %u %x %p %s %%) applied to its arguments. */
export function dprintf_line(bp: Breakpoint, e: Event, w: World): string {
  let parts: unknown[];
  try {
    parts = run_expr(compile_expr(`[${bp.format!}]`), { w, e }) as unknown[];
  } catch (err) {
    return `dprintf ${bp.id}: ${one_line(error_text(err))}`;
  }
  const [fmt, ...args] = Array.from(parts);
  // Each dprintf prints one line; a format that ends in "\n", as gdb's do, does not make a blank one.
  return printf(String(fmt), args).replace(/\r?\n$/, '');
}

export function printf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%(-?\d*)(l{0,2})([diuxXps%])/g, (_m, width: string, _l: string, conv: string) => {
    if (conv === '%') return '%';
    const a = args[i++];
    let s: string;
    const big = (x: unknown): bigint | null => (typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : null);
    switch (conv) {
      case 'x':
      case 'X':
      case 'p': {
        const b = big(a);
        s = b === null ? String(a) : (b < 0n ? -b : b).toString(16);
        if (conv === 'X') s = s.toUpperCase();
        if (conv === 'p') s = `0x${s}`;
        break;
      }
      case 's':
        s = typeof a === 'string' ? a : a === undefined ? '(null)' : String(a);
        break;
      default:
        s = typeof a === 'bigint' ? a.toString() : String(typeof a === 'number' ? Math.trunc(a) : a);
    }
    const n = Number(width || 0);
    return n < 0 ? s.padEnd(-n) : s.padStart(n);
  });
}
