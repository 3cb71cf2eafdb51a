// Splitting a command line into words (quotes group, backslash escapes in
// double quotes) and reading numbers the way CONTRACT.md says: decimal or
// 0x-hex, `_` separators, sizes 4K/2M/1G.
import { DebugError } from '../debugger/errors.js';
import { parse_int_literal } from '../scenario/numbers.js';

export interface Word {
  text: string;
  start: number;
  end: number;
}

export function split_words(line: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let text = '';
    while (i < n && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === '"' || c === "'") {
        const close = scan_quote(line, i);
        text += c === '"' ? unescape(line.slice(i + 1, close)) : line.slice(i + 1, close);
        i = close + 1;
      } else {
        text += c;
        i++;
      }
    }
    out.push({ text, start, end: i });
  }
  return out;
}

/** Index of the quote closing the one at `i`. */
function scan_quote(line: string, i: number): number {
  const q = line[i]!;
  for (let j = i + 1; j < line.length; j++) {
    if (q === '"' && line[j] === '\\') {
      j++;
      continue;
    }
    if (line[j] === q) return j;
  }
  throw new DebugError('EINVAL', `unterminated ${q === '"' ? 'double' : 'single'} quote`);
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** A non-negative integer below 2^53 (steps, counts, ids). */
export function nat(s: string | undefined, what: string): number {
  if (s === undefined) throw new DebugError('EINVAL', `${what} is missing`);
  const v = parse_int_literal(s);
  if (typeof v !== 'number' || v < 0) throw new DebugError('EINVAL', `${what}: "${s}" is not a number >= 0 (decimal or 0x-hex)`);
  return v;
}

/** An unsigned 64-bit integer (addresses, descriptors, maple-tree indices and values). */
export function u64(s: string | undefined, what: string): bigint {
  if (s === undefined) throw new DebugError('EINVAL', `${what} is missing`);
  const v = parse_int_literal(s);
  if (v === null) throw new DebugError('EINVAL', `${what}: "${s}" is not a number (decimal or 0x-hex, sizes like 4K)`);
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw new DebugError('EINVAL', `${what}: ${s} does not fit in 64 unsigned bits`);
  return b;
}

/** A u64 that must also be below 2^53 (IPAs and sizes of the page-table model). */
export function addr(s: string | undefined, what: string): number {
  const b = u64(s, what);
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw new DebugError('EINVAL', `${what}: ${s} is beyond what the model addresses (2^53)`);
  return Number(b);
}

/** Breakpoint ids: `1 2 3`, also ranges `1-3`. */
export function ids(words: string[]): number[] | null {
  if (words.length === 0) return null;
  const out: number[] = [];
  for (const w of words) {
    const m = /^(\d+)-(\d+)$/.exec(w);
    if (m) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (b < a || b - a > 10_000) throw new DebugError('EINVAL', `bad range ${w}`);
      for (let i = a; i <= b; i++) out.push(i);
    } else out.push(nat(w, 'a breakpoint number'));
  }
  return out;
}
