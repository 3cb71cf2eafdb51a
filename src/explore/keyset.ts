// Sets and maps of 53-bit state keys past the 2^24 entries one JS Set or
// Map holds (the unbounded fault-vs-invalidate search with faults filled
// 16M distinct states on one worker and had to stop there). The keys are
// hashes, so their low bits spread them evenly over the slots.

/** Bits of a state key in these tables (Sim.key53(): what a Float64Array slot holds exactly). */
export const KEY_BITS = 53;

/**
 * Bits of the key a visit is matched on: key53() and the 11 bits of
 * Sim.key_check() that the visited sets keep beside it. These tables count
 * distinct states by their 53 bits (two states sharing those are counted
 * once, and both searched).
 */
export const VISIT_KEY_BITS = 64;

/**
 * The verdict's hash compaction: a visited set of keys, not of Worlds, so
 * two states that share a key are searched as one, and the second one's
 * future goes unsearched (the trade SPIN's hash-compact and bitstate modes
 * make too). With keys as good as random, the chance that any two
 * of `n` states share one is at most n(n-1)/2 pairs times 2^-VISIT_KEY_BITS.
 */
export function key_collision_bound(n: number): number {
  return Math.min(1, (n * (n - 1)) / 2 ** (VISIT_KEY_BITS + 1));
}

/** Slots of a fresh table (it doubles when three quarters are taken). */
const FIRST_SLOTS = 1 << 12;

/**
 * An open-addressed table of keys in a Float64Array (0 marks a free slot;
 * the key 0 is kept apart). A Set or Map of numbers above 2^31 holds each
 * one as a heap object, which the garbage collector walks again and again
 * once millions are in it; this table holds none.
 */
class KeyTable {
  protected t = new Float64Array(FIRST_SLOTS);
  protected n = 0;
  protected has_zero = false;

  get size(): number {
    return this.n + (this.has_zero ? 1 : 0);
  }

  /** Bytes of the key table, which lives outside the JS heap (the search counts it against its heap share). */
  get bytes(): number {
    return this.t.byteLength;
  }

  /** The slot of key `k` (not 0): where it is, or the free slot it would take. The keys are hashes: their low 32 bits are spread already. */
  protected slot(k: number): number {
    const t = this.t;
    const mask = t.length - 1;
    let i = (k >>> 0) & mask;
    while (t[i] !== k && t[i] !== 0) i = (i + 1) & mask;
    return i;
  }

  /** Put `k` in free slot `i`; true when that fills three quarters of the table, which must then grow(). */
  protected fill(i: number, k: number): boolean {
    this.t[i] = k;
    return ++this.n * 4 > this.t.length * 3;
  }

  /** Double the table, telling `moved` where each key went. */
  protected grow(moved?: (from: number, to: number) => void): void {
    const old = this.t;
    this.t = new Float64Array(old.length * 2);
    for (let j = 0; j < old.length; j++) {
      if (old[j] === 0) continue;
      const to = this.slot(old[j]!);
      this.t[to] = old[j]!;
      moved?.(j, to);
    }
  }
}

export class KeySet extends KeyTable implements Iterable<number> {
  add(k: number): this {
    if (k === 0) this.has_zero = true;
    else {
      const i = this.slot(k);
      if (this.t[i] === 0 && this.fill(i, k)) this.grow();
    }
    return this;
  }

  has(k: number): boolean {
    return k === 0 ? this.has_zero : this.t[this.slot(k)] === k;
  }

  *[Symbol.iterator](): Iterator<number> {
    if (this.has_zero) yield 0;
    for (const k of this.t) if (k !== 0) yield k;
  }

  /** The keys in one array (in table order: sort it for an order). */
  to_array(): Float64Array {
    const out = new Float64Array(this.size);
    let i = 0;
    if (this.has_zero) out[i++] = 0;
    for (const k of this.t) if (k !== 0) out[i++] = k;
    return out;
  }
}

/** A map on the same table: the values in an array beside the keys. */
export class KeyMap<V> extends KeyTable {
  private v: (V | undefined)[] = new Array<V | undefined>(FIRST_SLOTS);
  private zero: V | undefined = undefined;

  get(k: number): V | undefined {
    if (k === 0) return this.zero;
    const i = this.slot(k);
    return this.t[i] === k ? this.v[i] : undefined;
  }

  set(k: number, val: V): this {
    if (k === 0) {
      this.zero = val;
      this.has_zero = true;
      return this;
    }
    const i = this.slot(k);
    if (this.t[i] === k) {
      this.v[i] = val;
      return this;
    }
    this.v[i] = val;
    if (this.fill(i, k)) {
      const old = this.v;
      const v = new Array<V | undefined>(old.length * 2);
      this.grow((from, to) => (v[to] = old[from]));
      this.v = v;
    }
    return this;
  }
}
