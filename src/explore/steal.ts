// Work the workers of one search hand each other inside an item.
//
// Items (dfs.ts, "Splitting") differ in size by orders of magnitude: the
// item reached with no preemption above the split keeps the whole bound,
// and on numa-invalidate-retry at two preemptions one item held 70% of
// the steps, so one worker searched alone for half the run (the log,
// 2026-12-05, twelfth session). A worker that has met every item and
// finished its own says so here; a worker still searching then gives it
// the moves not yet tried at the shallowest node of its path below the
// split (those threads' subtrees, which it drops from its own node), as
// the path from the initial state to that node. The taker replays the
// path and searches those moves with the shared visited table
// (visited.ts), as part of the same item.
//
// Why it stays sound: the giver recorded the node's visit and the taker
// expands the moves it gave up, with the node's budgets, so the node is
// still expanded in full by the two together; every other visit is
// expanded by the worker that recorded it, as before. The search ends
// when no worker is searching and no gift waits (`outstanding`, below);
// one that stops early (time, an interrupt, a breach) proves nothing
// anyway.
//
// The buffer: a lock word, the outstanding count (workers searching plus
// gifts waiting: it reaches 0 only when nothing can make more work), the
// idle workers, the gifts waiting, the number of slots (CAP), then the
// slots of SLOT words each. A gift is given only while more workers are
// idle than gifts wait, so twice the workers' slots leave room for races.
const LOCK = 0;
const OUTSTANDING = 1;
const IDLE = 2;
const QUEUED = 3;
const CAP = 4;
const H = 5;
/** Int32 words a gift may take (a path of a few thousand steps). */
const SLOT = 1 << 15;

export class StealPool {
  private readonly a: Int32Array;

  constructor(buf: SharedArrayBuffer) {
    this.a = new Int32Array(buf);
  }

  /** A pool for `workers` workers, each searching at first. */
  static buffer(workers: number): SharedArrayBuffer {
    const cap = 2 * workers + 2;
    const buf = new SharedArrayBuffer(4 * (H + cap * SLOT));
    const a = new Int32Array(buf);
    a[OUTSTANDING] = workers;
    a[CAP] = cap;
    return buf;
  }

  private lock(): void {
    while (Atomics.compareExchange(this.a, LOCK, 0, 1) !== 0);
  }

  private unlock(): void {
    Atomics.store(this.a, LOCK, 0);
  }

  /** Some worker is idle with no gift waiting for it. */
  wanted(): boolean {
    return Atomics.load(this.a, IDLE) > Atomics.load(this.a, QUEUED);
  }

  /** Offer a gift; false when it does not fit or no slot is free. */
  give(gift: Int32Array): boolean {
    if (gift.length + 1 > SLOT) return false;
    this.lock();
    const q = this.a[QUEUED]!;
    const ok = q < this.a[CAP]!;
    if (ok) {
      const at = H + q * SLOT;
      this.a[at] = gift.length;
      this.a.set(gift, at + 1);
      Atomics.add(this.a, OUTSTANDING, 1);
      Atomics.store(this.a, QUEUED, q + 1);
    }
    this.unlock();
    if (ok) Atomics.notify(this.a, QUEUED);
    return ok;
  }

  /** Take a waiting gift (an idle worker; it is then searching), or null. */
  take(): Int32Array | null {
    if (Atomics.load(this.a, QUEUED) === 0) return null;
    this.lock();
    const q = this.a[QUEUED]!;
    let gift: Int32Array | null = null;
    if (q > 0) {
      const at = H + (q - 1) * SLOT;
      gift = this.a.slice(at + 1, at + 1 + this.a[at]!);
      Atomics.store(this.a, QUEUED, q - 1);
      // The gift's count is now this worker's.
      Atomics.sub(this.a, IDLE, 1);
    }
    this.unlock();
    return gift;
  }

  /** This worker has nothing left to search. */
  idle(): void {
    Atomics.add(this.a, IDLE, 1);
    Atomics.sub(this.a, OUTSTANDING, 1);
  }

  /** An idle worker searches again on its own (a depth-blind search started again counting depth). */
  rejoin(): void {
    Atomics.add(this.a, OUTSTANDING, 1);
    Atomics.sub(this.a, IDLE, 1);
  }

  /** A searching worker ends for good (a violation, the budget, a breach, items past a limit). */
  leave(): void {
    Atomics.sub(this.a, OUTSTANDING, 1);
  }

  /** No worker is searching and no gift waits: the search is over. */
  finished(): boolean {
    return Atomics.load(this.a, OUTSTANDING) === 0;
  }

  /** Sleep until a gift may be waiting, at most `ms`. */
  wait(ms: number): void {
    if (Atomics.load(this.a, QUEUED) === 0) Atomics.wait(this.a, QUEUED, 0, ms);
  }
}

/** A gift: the moves from the initial state to a node, and the threads to try there. */
export interface Gift {
  /** The giver searched depth-blind (dfs.ts, "Depth"): a taker counting depth drops it. */
  blind: boolean;
  /** The node's item, depth, faults and preemptions used, and the thread that ran last. */
  item: number;
  depth: number;
  faults: number;
  pre: number;
  last: number;
  threads: number[];
  /** Each move: its thread, its item, each step's answers. */
  moves: { thread: number; item: number; steps: number[][] }[];
}

export function encode_gift(g: Gift): Int32Array {
  const out: number[] = [g.blind ? 1 : 0, g.item, g.depth, g.faults, g.pre, g.last, g.threads.length, ...g.threads, g.moves.length];
  for (const m of g.moves) {
    out.push(m.thread, m.item, m.steps.length);
    for (const s of m.steps) out.push(s.length, ...s);
  }
  return Int32Array.from(out);
}

export function decode_gift(a: Int32Array): Gift {
  let i = 0;
  const next = () => a[i++]!;
  const blind = next() === 1;
  const item = next();
  const depth = next();
  const faults = next();
  const pre = next();
  const last = next();
  const threads = Array.from({ length: next() }, next);
  const moves = Array.from({ length: next() }, () => {
    const thread = next();
    const item = next();
    const steps = Array.from({ length: next() }, () => Array.from({ length: next() }, next));
    return { thread, item, steps };
  });
  return { blind, item, depth, faults, pre, last, threads, moves };
}
