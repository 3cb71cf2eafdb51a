// An obviously-correct reference for the maple tree's observable behaviour:
// a sorted list of [first, last, entry] with non-NULL entries. Written
// independently of src/core/maple (which is a B-tree); the differential
// tests run both side by side.

export const INF = Infinity;
export const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const XA_ZERO = 1030;

export interface R {
  first: number;
  last: number;
  entry: number;
}

export class Ref {
  r: R[] = [];

  clone(): Ref {
    const c = new Ref();
    c.r = this.r.map((x) => ({ ...x }));
    return c;
  }

  find(i: number): R | undefined {
    for (const x of this.r) if (x.first <= i && i <= x.last) return x;
    return undefined;
  }

  store(first: number, last: number, entry: number): void {
    const out: R[] = [];
    for (const x of this.r) {
      if (x.last < first || x.first > last) {
        out.push(x);
        continue;
      }
      if (x.first < first) out.push({ first: x.first, last: first - 1, entry: x.entry });
      if (x.last > last) out.push({ first: last + 1, last: x.last, entry: x.entry });
    }
    if (entry !== 0) out.push({ first, last, entry });
    out.sort((a, b) => a.first - b.first);
    this.r = out;
  }

  overlaps(first: number, last: number): boolean {
    return this.r.some((x) => !(x.last < first || x.first > last));
  }

  load(i: number): number {
    const x = this.find(i);
    return x === undefined || x.entry === XA_ZERO ? 0 : x.entry;
  }

  /** Entry at i and the range of its slot (maximal NULL range when empty). */
  walk(i: number): R {
    const x = this.find(i);
    if (x) return { ...x };
    let lo = 0;
    let hi = INF;
    for (const y of this.r) {
      if (y.last < i && y.last + 1 > lo) lo = y.last + 1;
      if (y.first > i && y.first - 1 < hi) hi = y.first - 1;
    }
    return { first: lo, last: hi, entry: 0 };
  }

  erase(i: number): number {
    const x = this.find(i);
    if (!x) return 0;
    this.r = this.r.filter((y) => y !== x);
    return x.entry;
  }

  /** mt_find semantics: entry, new index (last+1, 0 after ULONG_MAX). */
  mt_find(index: number, max: number): { entry: number; next: number; first: number; last: number } | null {
    if (index > max) return null;
    for (const x of this.r) {
      if (x.last < index) continue;
      if (x.first > max) return null;
      if (x.entry === XA_ZERO) continue;
      return { entry: x.entry, next: x.last === INF ? 0 : x.last + 1, first: x.first, last: x.last };
    }
    return null;
  }

  /** Maximal free intervals in ascending order. */
  gaps(): Array<[number, number]> {
    const g: Array<[number, number]> = [];
    let lo = 0;
    for (const x of this.r) {
      if (x.first > lo) g.push([lo, x.first - 1]);
      if (x.last === INF) return g;
      lo = x.last + 1;
    }
    g.push([lo, INF]);
    return g;
  }

  /** mas_empty_area(_rev) semantics incl. the model's representability limits. */
  empty_area(min: number, max: number, size: number, rev: boolean): { ret: number; index?: number; last?: number } {
    if (min > max) return { ret: -22 };
    if (!(size > 0)) return { ret: -22 };
    if (size === INF) {
      if (!(max === INF && min <= 1)) return { ret: -22 };
    } else if (size > MAX_EXACT) return { ret: -34 };
    else if (max !== INF && max - min < size - 1) return { ret: -22 };
    const gaps = this.gaps();
    if (rev) gaps.reverse();
    for (const [glo, ghi] of gaps) {
      const s = Math.max(glo, min);
      const e = Math.min(ghi, max);
      if (s > e) continue;
      // does it fit?
      let fits: boolean;
      if (size === INF) fits = e === INF && s <= 1;
      else fits = e === INF || e - s + 1 >= size;
      if (!fits) continue;
      if (size === INF) {
        if (rev || s === 1) return { ret: 0, index: 1, last: INF };
        return { ret: -34 };
      }
      if (rev) {
        if (e === INF) return { ret: -34 };
        return { ret: 0, index: e - (size - 1), last: e };
      }
      const last = s + (size - 1);
      if (last > MAX_EXACT) return { ret: -34 };
      return { ret: 0, index: s, last };
    }
    return { ret: -16 };
  }
}
