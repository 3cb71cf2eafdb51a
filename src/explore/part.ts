// One part of a search: the searcher for the strategy on its own Sim, run
// in time slices so that a caller (the main thread or a worker) can report
// progress, take stop requests and honour deadlines between slices.
import '../core/world_init.js';
import type { WorldConfig } from '../core/world_init.js';
import { Dfs, type Finding } from './dfs.js';
import { Ownership, type Breach, type Facts } from './facts.js';
import { Sim } from './sim.js';
import { Walks } from './walks.js';
import { VisitedTable, visited_buffer } from './visited.js';
import { StealPool } from './steal.js';

export type Strategy = 'random' | 'pct' | 'dfs';

/** The search's parameters, the same for every part. */
export interface SearchParams {
  strategy: Strategy;
  seed: number;
  /** Schedules in all (Infinity: no budget). */
  budget: number;
  /** Steps per path at most (Infinity: none). */
  depth: number;
  faults: number;
  preemptions: number | null;
  por: boolean;
  /** dfs: coarse transitions (a thread's local steps are no scheduling points). */
  coarse: boolean;
  /** dfs with coarse transitions: the learned ownership facts (facts.ts), or null for none. */
  facts: Facts | null;
  /**
   * dfs: the facts make steps local above the split as well as below it.
   * False for shards: their items do not depend on the facts, so a shard
   * that breaks them learns and searches its own items again (dfs.ts).
   */
  facts_above_split: boolean;
  pct_depth: number;
  /** Split depth (dfs) and PCT's k: computed once by the caller. */
  split: number;
  k: number;
  /** Keep visited keys in random walks. */
  states: boolean;
  /** dfs: the depth bound was chosen by the explorer (no --depth). */
  depth_auto: boolean;
}

/**
 * Which items (dfs: nodes at the split depth; walks: schedule indices) a
 * part owns: item i goes to shard i mod n, and inside the shard to worker
 * floor(i / n) mod workers. The split depth depends on the number of shards
 * only, so shards run on machines with different numbers of cores agree.
 *
 * DFS items differ in size by orders of magnitude, so the workers of a
 * shard share `claims` instead: every worker meets the items in the same
 * order, and the first to meet one takes it (one deep in a large item
 * leaves the next ones to the others). Each item is still explored by
 * exactly one worker, so the states visited are the same; explore.ts says
 * why the violation reported is too.
 */
export interface PartSpec {
  /** 1-based shard and the number of shards. */
  k: number;
  n: number;
  worker: number;
  workers: number;
  /** DFS with several workers: one Int32 per item of this shard, 0 while nobody took it. */
  claims?: SharedArrayBuffer;
  /** Explore this item alone (explore.ts finds the reported violation again in it). */
  only?: number;
  /** DFS: the visited set below the split, shared by the workers of a shard (visited.ts); a part without one makes its own. */
  visited?: SharedArrayBuffer;
  /** DFS: count depth from the start (false), instead of first searching depth-blind (dfs.ts, "Depth"). */
  blind?: boolean;
  /** DFS with claims: the work the workers hand each other inside items (steal.ts). */
  steal?: SharedArrayBuffer;
}

export function owner(spec: PartSpec): (i: number) => boolean {
  const { k, n, worker, workers, only } = spec;
  if (only !== undefined) return (i) => i === only;
  const mine = (i: number) => i % n === k - 1 && Math.floor(i / n) % workers === worker;
  if (!spec.claims || workers === 1) return mine;
  const claims = new Int32Array(spec.claims);
  return (i) => {
    if (i % n !== k - 1) return false;
    const j = Math.floor(i / n);
    if (j >= claims.length) return mine(i);
    // Taken now, or by this worker before (its search started again: dfs.ts, "Depth").
    const had = Atomics.compareExchange(claims, j, 0, worker + 1);
    return had === 0 || had === worker + 1;
  };
}

/** Items of a shard whose workers share claims (past them, items go round the workers). */
export const CLAIMS = 1 << 16;

/** A number for the part, 0 .. n*workers-1 (part 0 counts what is above the split). */
export function part_index(spec: PartSpec): number {
  return (spec.k - 1) * spec.workers + spec.worker;
}

export interface PartProgress {
  transitions: number;
  schedules: number;
  distinct: number;
  depth: number;
  /** Depth of the path being explored (dfs). */
  current: number;
}

export type PartStatus = 'done' | 'violation' | 'budget' | 'time' | 'interrupted' | 'breach';
export type StopReason = 'time' | 'interrupted' | 'breach';

export interface PartResult extends PartProgress {
  part: number;
  status: PartStatus;
  /** The bounded space of this part was exhausted (dfs, no budget or time cut). */
  complete: boolean;
  /** The depth bound cut some path (dfs) or some schedule (walks). */
  cut: boolean;
  /** DFS: items met above the split; walks: next schedule index. */
  items: number;
  finding: Finding | null;
  deadlock: Finding | null;
  /** The visited state keys (53-bit numbers). */
  keys: Float64Array;
  slept: number;
  revisits: number;
  /** DFS: moves that asked a fault choice (DfsStats.choices). */
  choices: number;
  /** DFS: gifts of work taken from other workers (steal.ts), and steps replayed to reach them. */
  taken: number;
  replayed: number;
  /** The visited set filled up (dfs). */
  full: boolean;
  /** A step broke the learned facts (dfs): this part proves nothing. */
  breach: Breach | null;
  /** Every breach this part saw (dfs.ts Dfs.breaches), to learn from. */
  breaches: Breach[];
  /** DFS: the search that ended was depth-blind (explore.ts searches again if another part met the depth bound). */
  blind: boolean;
  /** DFS on a shared visited table: [item, later item] for each cut at a later item's visit (Dfs.borrows). */
  borrows: [number, number][];
  /** DFS: the items whose visits may hide a violation (Dfs.unfinished_items()), or a deadlock (those and Dfs.deadlock_items). */
  unfinished: number[];
  deadlocked: number[];
}

/** The share of `budget` schedules that part `p` of `parts` runs. */
export function part_budget(budget: number, p: number, parts: number): number {
  if (!Number.isFinite(budget)) return Infinity;
  return Math.floor(budget / parts) + (p < budget % parts ? 1 : 0);
}

export class Part {
  searcher: Dfs | Walks;
  private stopped: PartStatus | null = null;
  /** Steps run by a depth-blind search that met the depth bound and was dropped (dfs.ts, "Depth"). */
  private dropped = 0;
  /** Breaches seen by a dropped depth-blind search. */
  private readonly dropped_breaches: Breach[] = [];
  private readonly visited: VisitedTable | undefined;
  private readonly steal: StealPool | undefined;
  /** This part no longer counts among the searching workers of the steal pool. */
  private left = false;

  constructor(
    readonly config: WorldConfig,
    readonly params: SearchParams,
    readonly spec: PartSpec,
  ) {
    const p = params;
    this.steal = spec.steal ? new StealPool(spec.steal) : undefined;
    if (p.strategy === 'dfs') {
      this.visited = new VisitedTable(spec.visited ?? visited_buffer());
      this.searcher = this.dfs(spec.blind !== false);
    } else {
      const sim = new Sim(config, { undo: false, track: p.states });
      this.searcher = new Walks(sim, {
        strategy: p.strategy,
        seed: p.seed,
        pct_depth: p.pct_depth,
        depth: p.depth,
        faults: p.faults,
        budget: p.budget,
        owns: owner(spec),
        k: p.k,
        states: p.states,
      });
    }
  }

  /** This part's DFS, first with depth left out of covering, then (after it met the depth bound) with it. */
  private dfs(depth_blind: boolean): Dfs {
    const p = this.params;
    const spec = this.spec;
    return new Dfs(new Sim(this.config, { undo: true }), {
      depth: p.depth,
      preemptions: p.preemptions,
      faults: p.faults,
      por: p.por,
      coarse: p.coarse,
      facts: p.facts ? new Ownership(p.facts) : null,
      facts_above_split: p.facts_above_split,
      budget: part_budget(p.budget, part_index(spec), spec.n * spec.workers),
      split: p.split,
      owns: owner(spec),
      first: part_index(spec) === 0,
      depth_blind,
      visited: this.visited,
      ...(this.steal ? { steal: this.steal } : {}),
    });
  }

  /** Items (dfs: split items; walks: schedule indices) at or above `i` are not explored. */
  limit(i: number): void {
    const s = this.searcher;
    const cur = s.o.item_limit;
    s.o.item_limit = cur === undefined ? i : Math.min(cur, i);
  }

  /** Stop at the next slice: the time budget ran out, the user interrupted, or another part broke the facts (it starts again). */
  stop(why: StopReason): void {
    this.stopped ??= why;
  }

  get finished(): boolean {
    return this.stopped !== null || this.searcher.status !== 'running';
  }

  /** Run for about `slice_ms`; false when finished. */
  slice(slice_ms = 50): boolean {
    if (this.finished) return false;
    const s = this.searcher;
    s.run(performance.now() + slice_ms);
    const depth_met = s instanceof Dfs && s.o.depth_blind === true && s.idle && this.visited?.depth_met === true;
    if (s.status === 'depth' || depth_met) {
      // A path met the depth bound: the depth-blind search proves nothing; again with depth counted.
      this.dropped += s.stats.transitions;
      if (s instanceof Dfs) this.dropped_breaches.push(...s.breaches);
      const limit = s.o.item_limit;
      if (s instanceof Dfs && s.idle) this.steal?.rejoin();
      this.searcher = this.dfs(false);
      if (limit !== undefined) this.limit(limit);
      return !this.finished;
    }
    // Idle and still running: waiting for a gift.
    if (s instanceof Dfs && s.idle && s.status === 'running') this.steal!.wait(2);
    // A worker that ends searching (not for want of work) no longer counts for the others' end.
    if (this.finished && this.steal && !this.left && !(s instanceof Dfs && s.idle)) {
      this.left = true;
      this.steal.leave();
    }
    return !this.finished;
  }

  progress(): PartProgress {
    const s = this.searcher;
    return {
      transitions: s.stats.transitions + this.dropped,
      schedules: s.stats.schedules,
      distinct: s.states.size,
      depth: s.stats.max_depth,
      current: s instanceof Dfs ? s.depth : 0,
    };
  }

  result(): PartResult {
    const s = this.searcher;
    const st = s.status;
    const status: PartStatus = st === 'violation' ? 'violation' : st === 'budget' ? 'budget' : st === 'done' ? 'done' : st === 'breach' ? 'breach' : (this.stopped ?? 'interrupted');
    const dfs = s instanceof Dfs ? s : null;
    return {
      ...this.progress(),
      part: part_index(this.spec),
      status,
      complete: dfs !== null && status === 'done' && s.o.item_limit === undefined,
      cut: dfs ? dfs.stats.cut : (s as Walks).stats.cut > 0,
      items: dfs ? dfs.items : (s as Walks).next,
      finding: s.finding,
      deadlock: s.deadlock,
      keys: s.states.to_array(),
      full: dfs ? dfs.full : false,
      slept: dfs ? dfs.stats.slept : 0,
      revisits: dfs ? dfs.stats.revisits : 0,
      choices: dfs ? dfs.stats.choices : 0,
      taken: dfs ? dfs.stats.taken : 0,
      replayed: dfs ? dfs.stats.replayed : 0,
      breach: dfs ? (this.dropped_breaches[0] ?? dfs.breach) : null,
      breaches: dfs ? [...this.dropped_breaches, ...dfs.breaches] : [],
      blind: dfs ? dfs.o.depth_blind === true : false,
      borrows: dfs ? [...dfs.borrows].flatMap(([i, js]) => [...js].map((j): [number, number] => [i, j])) : [],
      unfinished: dfs ? dfs.unfinished_items() : [],
      deadlocked: dfs ? [...dfs.deadlock_items].sort((a, b) => a - b) : [],
    };
  }
}
