// Text building blocks of the REPL's printers: aligned tables, values the
// way `print` shows them (bigints in hex), and short locals for `where`.
import { hex } from './format.js';

/** An aligned table: a header row, then the rows; the last column is not padded. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** An integer for people: hex from 4096 up (addresses, pfns), decimal below. */
export function num(v: number | bigint): string {
  if (typeof v === 'bigint') return hex(v);
  if (Number.isInteger(v) && Math.abs(v) >= 4096) return hex(v);
  return String(v);
}

function compact(v: unknown, depth: number): string {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return String(v);
  if (depth > 6) return Array.isArray(v) ? '[...]' : '{...}';
  if (ArrayBuffer.isView(v)) {
    const a = Array.from(v as unknown as ArrayLike<number | bigint>);
    const head = a.slice(0, 16).map((x) => compact(x, depth + 1));
    return `${v.constructor.name}(${a.length}) [${head.join(', ')}${a.length > 16 ? ', ...' : ''}]`;
  }
  if (Array.isArray(v)) return `[${v.map((x) => compact(x, depth + 1)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, x]) => `${key(k)}: ${compact(x, depth + 1)}`).join(', ')} }`;
}

function key(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
}

/** A value as `print` shows it: on one line when short, else indented. */
export function show_value(v: unknown, indent = '', depth = 0): string {
  const one = compact(v, depth);
  if (one.length + indent.length <= 100 || v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || depth > 6) return one;
  const inner = `${indent}  `;
  if (Array.isArray(v)) return `[\n${v.map((x) => `${inner}${show_value(x, inner, depth + 1)}`).join(',\n')}\n${indent}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  return `{\n${entries.map(([k, x]) => `${inner}${key(k)}: ${show_value(x, inner, depth + 1)}`).join(',\n')}\n${indent}}`;
}

/** `k=v` pairs for a frame's locals or a violation's values. */
export function pairs(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${typeof v === 'number' || typeof v === 'bigint' ? num(v) : typeof v === 'string' ? v : compact(v, 4)}`)
    .join(' ');
}
