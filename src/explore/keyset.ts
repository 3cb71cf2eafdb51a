// Sets and maps of 53-bit state keys past the 2^24 entries one JS Set or
// Map holds (the unbounded fault-vs-invalidate search with faults filled
// 16M distinct states on one worker and had to stop there). The keys are
// hashes, so their low bits spread them evenly over the shards.

const SHARDS = 64;
const MASK = SHARDS - 1;

export class KeySet implements Iterable<number> {
  private readonly s: Set<number>[] = Array.from({ length: SHARDS }, () => new Set<number>());
  private n = 0;

  get size(): number {
    return this.n;
  }

  add(k: number): this {
    const s = this.s[k & MASK]!;
    const had = s.size;
    s.add(k);
    this.n += s.size - had;
    return this;
  }

  has(k: number): boolean {
    return this.s[k & MASK]!.has(k);
  }

  *[Symbol.iterator](): Iterator<number> {
    for (const s of this.s) yield* s;
  }

  /** The keys in one array (shard by shard: sort it for an order). */
  to_array(): Float64Array {
    const out = new Float64Array(this.n);
    let i = 0;
    for (const s of this.s) for (const k of s) out[i++] = k;
    return out;
  }
}

export class KeyMap<V> {
  private readonly m: Map<number, V>[] = Array.from({ length: SHARDS }, () => new Map<number, V>());
  private n = 0;

  get size(): number {
    return this.n;
  }

  get(k: number): V | undefined {
    return this.m[k & MASK]!.get(k);
  }

  set(k: number, v: V): this {
    const m = this.m[k & MASK]!;
    const had = m.size;
    m.set(k, v);
    this.n += m.size - had;
    return this;
  }
}
