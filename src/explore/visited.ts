// The visited set below the split, shared by the workers of a search.
//
// Each worker used to keep a Map of its own, so a state reachable from the
// items of two workers was expanded by both (on fault-vs-invalidate, two
// preemptions: 2.86M steps with two workers for the 2.0M of one). Here the
// workers share one open-addressing hash table in a SharedArrayBuffer,
// 28 bytes a visit, which also keeps millions of small arrays off each
// worker's heap.
//
// What makes it sound:
// - A visit is published only after its fields are written (a slot is
//   claimed with compareExchange, filled, then its tag stored); a reader
//   that meets a slot being written takes it for another key. Two workers
//   may record one state twice and both expand it: never the reverse.
// - Every visit recorded is expanded in full by its worker with at least
//   the budgets recorded, unless the search stops (time, interrupt: no
//   verdict) or a breach restarts it (no verdict either).
// - A visit of any item covers one of any other (items are numbered the
//   same in every worker). A search that finds nothing has expanded every
//   visit it recorded, so every cut was at a state whose subtree was
//   searched in full. A visit of item i cut at one of a later item j is
//   'borrowed', and the worker keeps the edge i -> j: when workers report
//   a violation (or a deadlock) in item m, the one reported must be that of
//   the lowest item whose subtree holds one, whoever searched what; an item
//   below m can only hide one behind an edge that leads, directly or
//   through other items' edges, to an item whose visits may be unfinished
//   or hold what was found (m; an item a worker was in when the violation
//   stopped it; for a deadlock, an item where one was met: a finding under
//   a borrowed state is reported in the later item), and explore.ts
//   searches those items again on their own (hidden_items()). An item
//   searched to its end without a finding hides nothing behind its visits.
//   Cuts at visits of the same or an earlier item need no edge: what they
//   hide is in that item's subtree too. Until 2026-12-04 (fifth session)
//   a visit covered only visits of its item or a later one, which made two
//   workers run 11% more steps than one (fault-vs-invalidate, two
//   preemptions: 2.23M for 2.00M).
// - Depth-blind visits (dfs.ts, "Depth") cover only depth-blind ones, and
//   the first worker whose path meets the depth bound raises a flag that
//   sends every worker back to counting depth: a depth-blind search proves
//   nothing once any path met the bound.
// When the table is 70% full, new visits go to the worker's own Map.
//
// Memory. The table is 235 MB, and the pages of a fresh buffer are mapped
// on first touch; touched in hash order, one fault at a time in the middle
// of the search, they cost far more than touched in order: default, one
// preemption, one worker, 20 s: 133k and 144k states with the table
// faulted in as the search meets it, 207k and 251k with every page touched
// first (0.7 to 1.1 s of it). So the first search that records TOUCH_AT
// visits touches every page at once (an atomic add of 0: another worker
// may be writing), which a small search never pays; and a search's table
// goes back to a pool when it ends, for the next search of this thread
// (the next bound, a restart) to take with its pages mapped. Taking it
// moves the table to the next generation instead of clearing 235 MB: a
// slot tagged with another generation is empty. Every worker of a search
// has ended before its table goes back (explore.ts).
//
// Not used with sleep sets (no preemption bound): a visit there carries its
// sleep set, which a fixed-size slot does not hold.

/**
 * Int32 words of a slot: tag (generation, key high bits), key low 32 bits,
 * depth left, item, last thread + preemptions left + blind, faults left,
 * the key's last 11 bits (Sim.key_check(): a visit matches on all 64).
 */
const W = 7;
/** Header words: visits recorded, the depth-bound flag, the generation, whether every page was touched. */
const H = 4;
const COUNT = 0;
const DEPTH_MET = 1;
const GEN = 2;
const TOUCHED = 3;
/** A tag is gen << GEN_SHIFT | (key high 21 bits + 2), or gen << GEN_SHIFT | WRITING while its slot is filled. */
const GEN_SHIFT = 22;
const GENS = 1 << 9;
const WRITING = 1;
const INF = 0x7fffffff;
const BLIND = 1 << 30;
const LAST_BITS = 12;
const LAST_MASK = (1 << LAST_BITS) - 1;
/** Int32 words in a 4 KiB page. */
const PAGE = 1024;

export const VISITED_SLOTS = 1 << 23;
/** Visits after which a search touches every page of its table. */
export const TOUCH_AT = 1 << 12;

/** A visit's budgets: the thread that ran last (-1: none to preempt), depth, faults and preemptions left. */
export interface Budgets {
  last: number;
  d: number;
  f: number;
  p: number;
}

/** 'borrowed': covered by a visit of a later item only (VisitedTable.from says which). */
export type Visit = 'covered' | 'borrowed' | 'recorded' | 'full';

/** A fresh table's buffer, to hand to every part of one search. */
export function visited_buffer(slots = VISITED_SLOTS): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(4 * (H + W * slots));
  new Int32Array(buf)[GEN] = 1;
  return buf;
}

/** The table a search of this thread gave back, if no search holds it. */
let pooled: SharedArrayBuffer | null = null;

/** An empty table for one search: the pooled one, in its next generation, or a new one. */
export function acquire_visited(): SharedArrayBuffer {
  const buf = pooled;
  if (!buf) return visited_buffer();
  pooled = null;
  next_generation(buf);
  return buf;
}

/** Empty a table no part visits any more: its slots now belong to an earlier generation. */
export function next_generation(buf: SharedArrayBuffer): void {
  const a = new Int32Array(buf);
  let gen = a[GEN]! + 1;
  if (gen === GENS) {
    a.fill(0, H);
    gen = 1;
  }
  a[GEN] = gen;
  a[COUNT] = 0;
  a[DEPTH_MET] = 0;
}

/** Give a search's table back, once none of its parts can visit it again. */
export function release_visited(buf: SharedArrayBuffer): void {
  if (buf.byteLength === 4 * (H + W * VISITED_SLOTS)) pooled = buf;
}

export class VisitedTable {
  private readonly a: Int32Array;
  private readonly mask: number;
  private readonly limit: number;
  private readonly gen: number;
  /** A slot's budgets as read, for `covers` (one object, not one per visit). */
  private readonly e: Budgets = { last: 0, d: 0, f: 0, p: 0 };

  constructor(buf: SharedArrayBuffer) {
    this.a = new Int32Array(buf);
    const slots = (this.a.length - H) / W;
    if (!Number.isInteger(slots) || (slots & (slots - 1)) !== 0) throw new Error(`visited table: ${slots} slots is not a power of two`);
    this.mask = slots - 1;
    this.limit = Math.floor(slots * 0.7);
    this.gen = this.a[GEN]!;
    if (this.gen < 1 || this.gen >= GENS) throw new Error(`visited table: generation ${this.gen}, expected 1 to ${GENS - 1} (a buffer from visited_buffer())`);
  }

  get buffer(): SharedArrayBuffer {
    return this.a.buffer as SharedArrayBuffer;
  }

  /** Visits recorded by all workers. */
  get size(): number {
    return Atomics.load(this.a, COUNT);
  }

  /** Some depth-blind search met the depth bound: every depth-blind one must count depth. */
  get depth_met(): boolean {
    return Atomics.load(this.a, DEPTH_MET) !== 0;
  }

  set_depth_met(): void {
    Atomics.store(this.a, DEPTH_MET, 1);
  }

  /** After 'borrowed': the lowest later item whose visit covered it. */
  from = -1;

  /**
   * Whether a visit with budgets `b` at (`key`, `check`) under `item` is
   * covered by an earlier one (`covers` decides between two budgets):
   * 'covered' by a visit of this item or an earlier one, else 'borrowed'
   * from a later one (see `from`); if not covered, record it ('recorded'),
   * or say the table is full ('full': the caller keeps it).
   */
  visit(key: number, check: number, b: Budgets, item: number, blind: boolean, covers: (e: Budgets, b: Budgets) => boolean): Visit {
    const a = this.a;
    const hi = Math.floor(key / 4294967296);
    const lo = key | 0;
    const g = this.gen << GEN_SHIFT;
    const tag = g | (hi + 2);
    const mode = blind ? BLIND : 0;
    const e = this.e;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    // A later item's covering visit, while one of this item or an earlier one may still come.
    let later = INF;
    for (;;) {
      const at = H + i * W;
      const t = Atomics.load(a, at);
      if (t >>> GEN_SHIFT !== this.gen) {
        // Empty, or a visit of an earlier search on this buffer.
        if (later !== INF) {
          this.from = later;
          return 'borrowed';
        }
        if (Atomics.load(a, COUNT) >= this.limit) return 'full';
        if (Atomics.compareExchange(a, at, t, g | WRITING) !== t) continue; // taken meanwhile: look at it again
        a[at + 1] = lo;
        a[at + 2] = b.d === Infinity ? INF : b.d;
        a[at + 3] = item;
        a[at + 4] = (b.last + 1) | (b.p << LAST_BITS) | mode;
        a[at + 5] = b.f === Infinity ? INF : b.f;
        a[at + 6] = check;
        Atomics.store(a, at, tag);
        if (Atomics.add(a, COUNT, 1) === TOUCH_AT) this.touch();
        return 'recorded';
      }
      if (t === tag && a[at + 1] === lo && a[at + 6] === check) {
        const x = a[at + 4]!;
        const by = a[at + 3]!;
        if ((x & BLIND) === mode && (by <= item || by < later)) {
          const d = a[at + 2]!;
          const f = a[at + 5]!;
          e.last = (x & LAST_MASK) - 1;
          e.p = (x & ~BLIND) >>> LAST_BITS;
          e.d = d === INF ? Infinity : d;
          e.f = f === INF ? Infinity : f;
          if (covers(e, b)) {
            if (by <= item) return 'covered';
            later = by;
          }
        }
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Map every page of the table in, in order, once per buffer (see "Memory"). */
  private touch(): void {
    const a = this.a;
    if (Atomics.compareExchange(a, TOUCHED, 0, 1) !== 0) return;
    for (let i = H; i < a.length; i += PAGE) Atomics.add(a, i, 0);
  }
}
