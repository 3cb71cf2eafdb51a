// Printing events and values, shared by `kvmdbg run` and the REPL: one
// aligned line per event for people, one JSON object per event for scripts.
// Addresses and u64 values print in hex; in JSON they are "0x..." strings
// (CONTRACT.md, "JSON mode") because they may exceed 2^53.
import { EVENT_CATALOGUE, EVENT_KINDS, event_own_fields, is_event_kind, type Event, type FieldTag } from '../core/machine/events.js';

/** Keys every event has; the rest are the kind's fields. */

export function hex(n: number | bigint): string {
  if (typeof n === 'bigint') return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
  if (!Number.isFinite(n) || !Number.isInteger(n)) return String(n);
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** The tag of an event field (undefined for fields outside the catalogue). */
export function tag_of(kind: string, field: string): FieldTag | undefined {
  if (!is_event_kind(kind)) return undefined;
  return (EVENT_CATALOGUE[kind] as Record<string, FieldTag>)[field];
}

/** The event's own fields (a field named like a header key is the header's value, and left out). */
export const event_fields = event_own_fields;

function needs_quotes(s: string): boolean {
  return s === '' || /[\s="'{}[\],]/.test(s);
}

/** A value for people: hex for addresses, u64s and bigints; compact lists and mappings. */
export function format_value(v: unknown, tag?: FieldTag): string {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'number') return (tag === 'addr' || tag === 'u64') && Number.isInteger(v) ? hex(v) : String(v);
  if (typeof v === 'string') return needs_quotes(v) ? JSON.stringify(v) : v;
  if (v === null) return 'null';
  if (v === undefined) return '-';
  if (Array.isArray(v)) return `[${v.map((x) => format_value(x, tag === 'any' ? undefined : tag)).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}:${format_value(x)}`)
      .join(',')}}`;
  }
  return String(v);
}

/** ANSI styling, off unless asked for. */
export const ANSI = {
  reset: 0,
  bold: 1,
  dim: 2,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
} as const;

export function paint(on: boolean | undefined, codes: number | number[], s: string): string {
  if (!on || s === '') return s;
  const c = Array.isArray(codes) ? codes.join(';') : String(codes);
  return `\x1b[${c}m${s}\x1b[0m`;
}

const FAMILY_COLOR: Record<string, number> = {
  request: ANSI.cyan,
  vcpu: ANSI.cyan,
  ipi: ANSI.cyan,
  guest: ANSI.cyan,
  fault: ANSI.yellow,
  invalidate: ANSI.magenta,
  mm: ANSI.magenta,
  numa: ANSI.magenta,
  flush: ANSI.magenta,
  lock: ANSI.blue,
  sched: ANSI.blue,
  srcu: ANSI.blue,
  rcu: ANSI.blue,
  tlbi: ANSI.green,
  s2mmu: ANSI.green,
  pending_unmap: ANSI.green,
  nested: ANSI.green,
  vncr: ANSI.green,
  hv: ANSI.green,
  mt: ANSI.yellow,
  revmap: ANSI.yellow,
};

export function kind_color(kind: string): number | undefined {
  return FAMILY_COLOR[kind.split('.')[0]!];
}

export interface FormatOptions {
  color?: boolean;
  /** Column widths; the defaults fit the bundled scenarios. */
  step_width?: number;
  thread_width?: number;
  kind_width?: number;
}

export const DEFAULT_KIND_WIDTH = 20;

/** One aligned line: step, thread, kind, then `key=value` fields. */
export function format_event(e: Event, opts: FormatOptions = {}): string {
  const color = opts.color ?? false;
  const step = String(e.step).padStart(opts.step_width ?? 6);
  const thread = e.thread.padEnd(opts.thread_width ?? 6);
  const kind = e.kind.padEnd(opts.kind_width ?? DEFAULT_KIND_WIDTH);
  const fields = event_fields(e)
    .map(([k, v]) => `${paint(color, ANSI.dim, `${k}=`)}${format_value(v, tag_of(e.kind, k))}`)
    .join(' ');
  const kc = kind_color(e.kind);
  const line = `${paint(color, ANSI.dim, step)}  ${thread}  ${kc === undefined ? kind : paint(color, kc, kind)}  ${fields}`;
  return line.trimEnd();
}

/** A value for JSON: bigints, addresses and u64s as "0x..." strings. */
export function json_value(v: unknown, tag?: FieldTag): unknown {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'number') return (tag === 'addr' || tag === 'u64') && Number.isInteger(v) ? hex(v) : v;
  if (Array.isArray(v)) return v.map((x) => json_value(x, tag === 'any' ? undefined : tag));
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, json_value(x)]));
  }
  return v;
}

/** The event as a JSON-safe object: header fields, then the kind's fields. */
export function event_to_json(e: Event): Record<string, unknown> {
  const out: Record<string, unknown> = {
    seq: e.seq,
    step: e.step,
    thread: e.thread,
    cpu: e.cpu,
    vcpu: e.vcpu,
    kind: e.kind,
  };
  for (const [k, v] of event_fields(e)) out[k] = json_value(v, tag_of(e.kind, k));
  return out;
}

/** JSON.stringify that writes bigints as "0x..." strings instead of throwing. */
export function to_json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? hex(x) : x));
}

/**
 * Values without a catalogue tag (an invariant's explanation, a REPL
 * result): keys that name addresses, sizes or descriptors are printed in hex.
 */
export const HEX_KEY = /(^|_)(ipa|gpa|pa|hva|va|gva|addr|address|pfn|start|end|base|size|desc|descriptor|pte|old|new|vttbr|vtcr|first|last|entry)$/;

/** `key=value ...` for untagged values, hex where the key names an address. */
export function format_fields(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${format_value(v, HEX_KEY.test(k) ? 'addr' : undefined)}`)
    .join(' ');
}

/** JSON-safe copy of untagged values: bigints, and integers under address-like keys, as "0x..." strings. */
export function json_fields(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, json_value(v, HEX_KEY.test(k) ? 'addr' : undefined)]));
}

/**
 * A predicate over event kinds from a comma-separated list (`--events`,
 * `events KIND...`): a kind matches itself, a family name (`request`)
 * matches its kinds (`request.*`). Undefined: null (everything). Throws an
 * Error whose message names the unknown kind and what is allowed.
 */
export function event_filter(spec: string | readonly string[] | undefined): ((kind: string) => boolean) | null {
  if (spec === undefined) return null;
  const tokens = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim()).filter(Boolean);
  if (tokens.length === 0) throw new Error('no event kinds given; expected a comma-separated list like request,fault.retry');
  const families = [...new Set(EVENT_KINDS.map((k) => k.split('.')[0]!))];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const t of tokens) {
    const is_kind = is_event_kind(t);
    const is_family = EVENT_KINDS.some((k) => k.startsWith(`${t}.`));
    if (!is_kind && !is_family) throw new Error(`unknown event kind "${t}"; expected event kinds (such as request.make) or families: ${families.join(', ')}`);
    if (is_kind) exact.add(t);
    if (is_family) prefixes.push(`${t}.`);
  }
  return (kind) => exact.has(kind) || prefixes.some((p) => kind.startsWith(p));
}
