// A stable hash of the World: a walk over plain data with object keys in
// sorted order (so insertion order never matters), mixed into two 32-bit
// lanes. 64 bits printed as 16 hex digits. The explorer's incremental state
// key (src/explore/track.ts) mixes with the same Mixer.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** What a Canon returns for a field that is left out of the hash. */
export const OMIT: unique symbol = Symbol('omit');

/** A field's value as the hash sees it (the explorer's state key maps history fields to their class). */
export type Canon = (key: string, value: unknown) => unknown;

export class Mixer {
  a = 0x811c9dc5 | 0;
  b = 0x01000193 | 0;

  reset(seed: number): this {
    this.a = (0x811c9dc5 ^ seed) | 0;
    this.b = (0x01000193 + seed) | 0;
    return this;
  }

  word(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    this.b = Math.imul(this.b ^ x, 0x5bd1e995);
    this.b ^= this.b >>> 15;
  }

  /**
   * Strings by a 64-bit digest made once per string (the explorer's key:
   * its leaves hold the same few hundred names and labels over and over).
   * A Mixer with it hashes differently from one without: only for keys
   * compared with keys of the same kind.
   */
  strings: Map<string, number[]> | null = null;

  str(s: string): void {
    this.word(3);
    const cache = this.strings;
    if (cache) {
      let d = cache.get(s);
      if (d === undefined) {
        const m = new Mixer();
        m.str(s);
        m.fin();
        d = [m.a, m.b];
        if (cache.size > 1 << 16) cache.clear();
        cache.set(s, d);
      }
      this.word(d[0]!);
      this.word(d[1]!);
      return;
    }
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  /** Mix in any plain value (throws on a function or symbol: the World must be plain data). */
  value(v: unknown, canon?: Canon): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v) && Math.abs(v) <= 0x7fffffff) {
          this.word(1);
          this.word(v | 0);
        } else {
          f64[0] = v;
          this.word(2);
          this.word(u32[0]!);
          this.word(u32[1]!);
        }
        return;
      case 'string':
        this.str(v);
        return;
      case 'boolean':
        this.word(v ? 5 : 4);
        return;
      case 'bigint':
        this.str(v.toString(16));
        this.word(6);
        return;
      case 'undefined':
        this.word(7);
        return;
      case 'object':
        break;
      default:
        throw new Error(`cannot hash a ${typeof v}: the World must be plain data`);
    }
    if (v === null) {
      this.word(8);
      return;
    }
    if (Array.isArray(v)) {
      this.word(9);
      this.word(v.length);
      for (const x of v) this.value(x, canon);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      this.word(10);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      this.word(bytes.length);
      // Whole 32-bit words where aligned, then the tail bytes.
      const n4 = (v.byteOffset & 3) === 0 ? bytes.length >>> 2 : 0;
      if (n4) {
        const words = new Uint32Array(v.buffer, v.byteOffset, n4);
        for (let i = 0; i < n4; i++) this.word(words[i]!);
      }
      for (let i = n4 * 4; i < bytes.length; i++) this.word(bytes[i]!);
      return;
    }
    this.object(v as Record<string, unknown>, Object.keys(v), canon);
  }

  /** An object by the given keys, in sorted order. */
  object(v: Record<string, unknown>, keys: string[], canon?: Canon): void {
    keys.sort();
    this.word(11);
    this.word(keys.length);
    for (const k of keys) {
      this.str(k);
      if (!canon) this.value(v[k]);
      else {
        const c = canon(k, v[k]);
        if (c !== OMIT) this.value(c, canon);
      }
    }
  }

  /** Avalanche both lanes in place (the explorer sums finished lanes). */
  fin(): void {
    let a = this.a ^ (this.b >>> 16);
    let b = this.b ^ Math.imul(this.a, 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x27d4eb2d);
    this.a = (a ^ (a >>> 16)) >>> 0;
    this.b = (b ^ (b >>> 13)) >>> 0;
  }

  digest(): string {
    let a = this.a ^ (this.b >>> 16);
    let b = this.b ^ Math.imul(this.a, 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x27d4eb2d);
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Hash `v`, leaving out the given top-level keys. */
export function hash_value(v: unknown, skip: readonly string[] = []): string {
  const m = new Mixer();
  if (skip.length && v && typeof v === 'object' && !Array.isArray(v)) {
    m.object(v as Record<string, unknown>, Object.keys(v).filter((k) => !skip.includes(k)));
  } else {
    m.value(v);
  }
  return m.digest();
}
