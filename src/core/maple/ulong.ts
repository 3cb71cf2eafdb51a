// The kernel's unsigned long, as the maple-tree model carries it: indices,
// pivots, gaps and entries are all 0..2^64-1 and exact.
//
// One value has one representation (so === is equality and <, <= compare
// across the kinds exactly, as JavaScript compares numbers with bigints):
//   a number      0 .. 2^53-1        (every index the simulator uses)
//   a bigint      2^53 .. 2^64-2
//   Infinity      ULONG_MAX (2^64-1)  (the top pivot of every tree)
// The common case stays a small number, so the hot paths do number
// arithmetic; a bigint only appears for a value that needs it.
// Arithmetic wraps modulo 2^64 as C's does (ULONG_MAX + 1 == 0).

export type ulong = number | bigint;

export const ULONG_MAX = Infinity;
const MAX_SAFE = 9007199254740991; // 2^53-1
const TWO53N = 9007199254740992n;
const U64_MAXN = 0xffffffffffffffffn;
const U64_MAX_M1N = 0xfffffffffffffffen;
const MOD = 1n << 64n;

/** Is a Float64 arena word a stand-in for a bigint (2^53 .. 2^64-2)? */
export function ul_wide_word(d: number): boolean {
  return d > MAX_SAFE && d !== Infinity;
}

/** The canonical ulong of an exact integer 0..2^64-1 given as a number or bigint; null otherwise. */
export function ul(x: unknown): ulong | null {
  if (typeof x === 'number') {
    if (x >= 0 && x <= MAX_SAFE && Number.isInteger(x)) return x;
    if (x === Infinity) return Infinity;
    // An integral double above 2^53 names one integer exactly.
    if (Number.isInteger(x) && x > MAX_SAFE && x < 18446744073709551616) return BigInt(x);
    return null;
  }
  if (typeof x === 'bigint') return x >= 0n && x <= U64_MAXN ? ul_of_big(x) : null;
  return null;
}

/** The canonical ulong of a bigint already known to be in 0..2^64-1. */
export function ul_of_big(x: bigint): ulong {
  if (x <= 9007199254740991n) return Number(x);
  if (x === U64_MAXN) return Infinity;
  return x;
}

/** ul() that throws a RangeError naming `what`. */
export function ul_or_throw(x: unknown, what: string): ulong {
  const v = ul(x);
  if (v === null) throw new RangeError(`${what}: ${String(x)} is not an integer 0..2^64-1`);
  return v;
}

/** As a bigint (ULONG_MAX -> 2^64-1). */
export function ul_big(x: ulong): bigint {
  if (typeof x === 'bigint') return x;
  return x === Infinity ? U64_MAXN : BigInt(x);
}

/** x + 1, wrapping ULONG_MAX to 0. */
export function ul_inc(x: ulong): ulong {
  if (typeof x === 'number') {
    if (x < MAX_SAFE) return x + 1;
    return x === Infinity ? 0 : TWO53N;
  }
  return x === U64_MAX_M1N ? Infinity : x + 1n;
}

/** x - 1, wrapping 0 to ULONG_MAX. */
export function ul_dec(x: ulong): ulong {
  if (typeof x === 'number') {
    if (x > 0 && x !== Infinity) return x - 1;
    return x === 0 ? Infinity : U64_MAX_M1N;
  }
  return x === TWO53N ? MAX_SAFE : x - 1n;
}

/** (x + y) mod 2^64. */
export function ul_add(x: ulong, y: ulong): ulong {
  if (typeof x === 'number' && typeof y === 'number' && x + y <= MAX_SAFE) return x + y;
  return ul_of_big((ul_big(x) + ul_big(y)) % MOD);
}

/** (x - y) mod 2^64. */
export function ul_sub(x: ulong, y: ulong): ulong {
  if (typeof x === 'number' && typeof y === 'number' && x !== Infinity && x >= y) return x - y;
  return ul_of_big((((ul_big(x) - ul_big(y)) % MOD) + MOD) % MOD);
}

/** The low two bits (what tells internal and value entries apart). */
export function ul_low2(x: ulong): number {
  if (typeof x === 'bigint') return Number(x & 3n);
  return x === Infinity ? 3 : x % 4;
}

/** Bitwise and with a mask (as a bigint result made canonical). */
export function ul_and(x: ulong, mask: bigint): ulong {
  return ul_of_big(ul_big(x) & mask);
}

/** x >> n (logical). */
export function ul_shr(x: ulong, n: number): ulong {
  if (typeof x === 'number' && x !== Infinity) return Math.floor(x / 2 ** n);
  return ul_of_big(ul_big(x) >> BigInt(n));
}

/** (x << n) mod 2^64. */
export function ul_shl(x: ulong, n: number): ulong {
  return ul_of_big((ul_big(x) << BigInt(n)) & U64_MAXN);
}

/** 0x-hex text. */
export function ul_hex(x: ulong): string {
  return '0x' + ul_big(x).toString(16);
}

/** Decimal text (what the kernel's %lu prints). */
export function ul_dec_text(x: ulong): string {
  return ul_big(x).toString();
}

/** A JSON-safe form for recorded arguments: a number when exact, else a bigint. */
export function ul_arg(x: ulong): number | bigint {
  return typeof x === 'number' && x !== Infinity ? x : ul_big(x);
}
