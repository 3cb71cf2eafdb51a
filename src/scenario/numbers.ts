// Number literals in scenarios and REPL commands: decimal or 0x-hex, `_`
// separators between digits, and the size suffixes K, M, G, T (powers of
// 1024, as the kernel's memparse()). Values beyond 2^53 come back as bigint.

const LITERAL = /^([+-]?)(?:0[xX]([0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)|0[bB]([01]+(?:_[01]+)*)|([0-9]+(?:_[0-9]+)*))([kKmMgGtT]?)$/;

const SUFFIX: Record<string, bigint> = { '': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n };

export const U64_MAX = (1n << 64n) - 1n;

/** Parse an integer literal; null when `s` is not one. */
export function parse_int_literal(s: string): number | bigint | null {
  const m = LITERAL.exec(s.trim());
  if (!m) return null;
  const [, sign, hex, bin, dec, suffix] = m;
  let v: bigint;
  if (hex !== undefined) v = BigInt(`0x${hex.replace(/_/g, '')}`);
  else if (bin !== undefined) v = BigInt(`0b${bin.replace(/_/g, '')}`);
  else v = BigInt(dec!.replace(/_/g, ''));
  v *= SUFFIX[suffix!.toLowerCase()]!;
  if (sign === '-') v = -v;
  return normalize_int(v);
}

/** A bigint that fits in a double exactly becomes a number. */
export function normalize_int(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function is_int(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** Parse a literal that must be an integer (for flags): throws a plain message otherwise. */
export function parse_int_strict(s: string, what: string): number {
  const v = parse_int_literal(s);
  if (v === null) throw new Error(`${what}: "${s}" is not a number; expected a decimal or 0x-hex integer`);
  if (typeof v === 'bigint') throw new Error(`${what}: ${s} is too large; expected an integer below 2^53`);
  return v;
}
