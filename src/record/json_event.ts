// Event fields as JSON-safe values for the exporters: bigints, addresses
// and u64s as "0x..." strings (as CONTRACT.md's JSON mode prints them).
import { EVENT_CATALOGUE, is_event_kind, type Event, type FieldTag } from '../core/machine/events.js';

const HEADER = new Set(['seq', 'step', 'thread', 'cpu', 'vcpu', 'kind']);

export function hex(n: number | bigint): string {
  if (typeof n === 'bigint') return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export function field_tag(kind: string, field: string): FieldTag | undefined {
  return is_event_kind(kind) ? (EVENT_CATALOGUE[kind] as Record<string, FieldTag>)[field] : undefined;
}

export function json_safe(v: unknown, tag?: FieldTag): unknown {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'number') return (tag === 'addr' || tag === 'u64') && Number.isInteger(v) ? hex(v) : v;
  if (Array.isArray(v)) return v.map((x) => json_safe(x, tag === 'any' ? undefined : tag));
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, json_safe(x)]));
  return v;
}

/** The event's own fields (not the header), in catalogue order, then any others. */
export function own_fields(e: Event): [string, unknown][] {
  const out: [string, unknown][] = [];
  const seen = new Set<string>();
  if (is_event_kind(e.kind)) {
    for (const k of Object.keys(EVENT_CATALOGUE[e.kind])) {
      if (k in e && !HEADER.has(k)) {
        out.push([k, e[k]]);
        seen.add(k);
      }
    }
  }
  for (const k of Object.keys(e)) if (!HEADER.has(k) && !seen.has(k)) out.push([k, e[k]]);
  return out;
}
