// A stable hash of the World: a walk over plain data with object keys in
// sorted order (so insertion order never matters), mixed into two 32-bit
// lanes. 64 bits printed as 16 hex digits.


class Mixer {
  h1 = 0x811c9dc5 | 0;
  h2 = 0x01000193 | 0;
  word(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ x, 0x5bd1e995);
    this.h2 ^= this.h2 >>> 15;
  }
  num(x: number): void {
    if (Number.isInteger(x) && Math.abs(x) <= 0x7fffffff) {
      this.word(1);
      this.word(x | 0);
    } else {
      f64[0] = x;
      this.word(2);
      this.word(u32[0]!);
      this.word(u32[1]!);
    }
  }
  str(s: string): void {
    this.word(3);
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }
  digest(): string {
    let a = this.h1 ^ (this.h2 >>> 16);
    let b = this.h2 ^ Math.imul(this.h1, 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x27d4eb2d);
    return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
  }
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function walk(m: Mixer, v: unknown): void {
  switch (typeof v) {
    case 'number':
      m.num(v);
      return;
    case 'string':
      m.str(v);
      return;
    case 'boolean':
      m.word(v ? 5 : 4);
      return;
    case 'bigint':
      m.str(v.toString(16));
      m.word(6);
      return;
    case 'undefined':
      m.word(7);
      return;
    case 'object':
      break;
    default:
      throw new Error(`cannot hash a ${typeof v}: the World must be plain data`);
  }
  if (v === null) {
    m.word(8);
    return;
  }
  if (Array.isArray(v)) {
    m.word(9);
    m.word(v.length);
    for (const x of v) walk(m, x);
    return;
  }
  if (ArrayBuffer.isView(v)) {
    m.word(10);
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    m.word(bytes.length);
    // Whole 32-bit words where aligned, then the tail bytes.
    const n4 = (v.byteOffset & 3) === 0 ? bytes.length >>> 2 : 0;
    if (n4) {
      const words = new Uint32Array(v.buffer, v.byteOffset, n4);
      for (let i = 0; i < n4; i++) m.word(words[i]!);
    }
    for (let i = n4 * 4; i < bytes.length; i++) m.word(bytes[i]!);
    return;
  }
  const keys = Object.keys(v as object).sort();
  m.word(11);
  m.word(keys.length);
  for (const k of keys) {
    m.str(k);
    walk(m, (v as Record<string, unknown>)[k]);
  }
}

/** Hash `v`, leaving out the given top-level keys. */
export function hash_value(v: unknown, skip: readonly string[] = []): string {
  const m = new Mixer();
  if (skip.length && v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v).filter((k) => !skip.includes(k)).sort();
    m.word(11);
    m.word(keys.length);
    for (const k of keys) {
      m.str(k);
      walk(m, (v as Record<string, unknown>)[k]);
    }
  } else {
    walk(m, v);
  }
  return m.digest();
}

