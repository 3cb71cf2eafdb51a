// Event fields as JSON-safe values for the exporters: bigints, addresses
// and u64s as "0x..." strings (as CONTRACT.md's JSON mode prints them).
import { EVENT_CATALOGUE, event_own_fields, is_event_kind, type FieldTag } from '../core/machine/events.js';


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

export { event_own_fields as own_fields };
