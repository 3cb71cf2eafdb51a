// An obviously-correct reference for the maple tree's observable behaviour:
// a sorted list of [first, last, entry] with non-NULL entries, all bigints
// 0..2^64-1. Written independently of src/core/maple (which is a B-tree
// over an arena of doubles); the differential tests run both side by side.

export const TOP = (1n << 64n) - 1n; // ULONG_MAX
const XA_ZERO = 1030n;
const EINVAL = -22;
const EBUSY = -16;

export interface R {
  first: bigint;
  last: bigint;
  entry: bigint;
}

export class Ref {
  r: R[] = [];

  find(i: bigint): R | undefined {
    for (const x of this.r) if (x.first <= i && i <= x.last) return x;
    return undefined;
  }

  store(first: bigint, last: bigint, entry: bigint): void {
    const out: R[] = [];
    for (const x of this.r) {
      if (x.last < first || x.first > last) {
        out.push(x);
        continue;
      }
      if (x.first < first) out.push({ first: x.first, last: first - 1n, entry: x.entry });
      if (x.last > last) out.push({ first: last + 1n, last: x.last, entry: x.entry });
    }
    if (entry !== 0n) out.push({ first, last, entry });
    out.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    this.r = out;
  }

  overlaps(first: bigint, last: bigint): boolean {
    return this.r.some((x) => !(x.last < first || x.first > last));
  }

  load(i: bigint): bigint {
    const x = this.find(i);
    return x === undefined || x.entry === XA_ZERO ? 0n : x.entry;
  }

  /** Entry at i and the range of its slot (maximal NULL range when empty). */
  walk(i: bigint): R {
    const x = this.find(i);
    if (x) return { ...x };
    let lo = 0n;
    let hi = TOP;
    for (const y of this.r) {
      if (y.last < i && y.last + 1n > lo) lo = y.last + 1n;
      if (y.first > i && y.first - 1n < hi) hi = y.first - 1n;
    }
    return { first: lo, last: hi, entry: 0n };
  }

  erase(i: bigint): bigint {
    const x = this.find(i);
    if (!x) return 0n;
    this.r = this.r.filter((y) => y !== x);
    return x.entry;
  }

  /** mt_find(): entry, the new index (last+1, 0 after ULONG_MAX), its range; XA_ZERO_ENTRY skipped. */
  mt_find(index: bigint, max: bigint): { entry: bigint; next: bigint; first: bigint; last: bigint } | null {
    if (index > max) return null;
    for (const x of this.r) {
      if (x.last < index) continue;
      if (x.first > max) return null;
      if (x.entry === XA_ZERO) continue;
      return { entry: x.entry, next: x.last === TOP ? 0n : x.last + 1n, first: x.first, last: x.last };
    }
    return null;
  }

  /** The entry (and range) mas_prev() reaches from index: the last non-NULL range ending below index's range, not below min. */
  prev(index: bigint, min: bigint): R | null {
    const here = this.walk(index);
    let best: R | null = null;
    for (const x of this.r) if (x.last < here.first && x.last >= min) best = x;
    return best ? { ...best } : null;
  }

  /** Maximal free intervals in ascending order. */
  gaps(): Array<[bigint, bigint]> {
    const g: Array<[bigint, bigint]> = [];
    let lo = 0n;
    for (const x of this.r) {
      if (x.first > lo) g.push([lo, x.first - 1n]);
      if (x.last === TOP) return g;
      lo = x.last + 1n;
    }
    g.push([lo, TOP]);
    return g;
  }

  /** mas_empty_area(_rev): the lowest (highest) free [index, index+size-1] inside [min, max]. */
  empty_area(min: bigint, max: bigint, size: bigint, rev: boolean): { ret: number; index?: bigint; last?: bigint } {
    if (min > max || size === 0n || max - min < size - 1n) return { ret: EINVAL };
    const gaps = this.gaps();
    if (rev) gaps.reverse();
    for (const [glo, ghi] of gaps) {
      const s = glo > min ? glo : min;
      const e = ghi < max ? ghi : max;
      if (s > e || e - s < size - 1n) continue;
      return rev ? { ret: 0, index: e - size + 1n, last: e } : { ret: 0, index: s, last: s + size - 1n };
    }
    return { ret: EBUSY };
  }
}
