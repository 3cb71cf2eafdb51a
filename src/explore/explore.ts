// The explorer: search the schedules of a scenario for an invariant
// violation (or a deadlock), shrink the one found, and report coverage.
//
// A search is cut into parts (part.ts): `workers` parts per machine times
// `shard.n` shards. Shard k gets the split items (dfs) or the schedule
// indices (random, pct) i with i mod n = k-1; inside a shard, schedule
// indices go round the workers, and a dfs item goes to the first worker
// that meets it (round the workers too with --budget). The workers of a
// shard share one visited table (visited.ts; with --budget or sleep sets
// each keeps its own); the union of their key sets is the distinct-state
// count, the same for any number of workers and shards when the search
// is exhaustive (shards with learned facts count more: dfs.ts,
// "Splitting"). When parts find violations, the one of the lowest item
// wins, items after it are not searched, and a split dfs finds it again
// in that item alone (search_item()), after searching on their own the
// earlier items that may hide one (hidden_items()), so with --budget/--depth (and
// no --time) the result depends only on the scenario, the options and the
// number of shards.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import '../core/world_init.js';
import type { Schedule } from '../core/machine/machine.js';
import type { Violation } from '../core/machine/world.js';
import { package_root } from '../scenario/bundled.js';
import type { LoadedScenario, Overrides } from '../scenario/load.js';
import { split_depth, type Finding } from './dfs.js';
import { learn_facts, Ownership, type Breach, type Facts } from './facts.js';
import { acquire_visited, next_generation, release_visited, VisitedTable } from './visited.js';
import { StealPool } from './steal.js';
import { CLAIMS, Part, type PartProgress, type PartResult, type PartSpec, type SearchParams, type Strategy } from './part.js';
import { shrink, type ShrinkResult } from './shrink.js';
import { Sim } from './sim.js';
import { estimate_k } from './walks.js';
import type { ToWorker, WorkerData } from './worker.js';
import { active_patches } from '../patch/scope.js';

export type { Strategy };

export const DEFAULT_WALK_BUDGET = 1000;
export const DEFAULT_WALK_DEPTH = 100_000;
export const DEFAULT_PCT_DEPTH = 3;
/** dfs without --depth: this many times the longest of a few random runs. */
export const DFS_DEPTH_FACTOR = 2;

export interface ExploreOptions {
  strategy: Strategy;
  seed?: number;
  /** Schedules (default: 1000 for random and pct, none for dfs). */
  budget?: number;
  /** Seconds of wall-clock time. */
  time?: number;
  /** Steps per path (default: 100000 for random and pct; dfs: twice the longest of 4 random runs). */
  depth?: number;
  /** Worker threads (default: one per core; 1 runs in this thread). */
  workers?: number;
  /** This machine's shard, k of n (1-based). */
  shard?: { k: number; n: number };
  /** Non-zero choice answers per path at most (default: no bound). */
  faults?: number;
  /** dfs: preemption bound (default: none, and sleep sets on). */
  preemptions?: number | null;
  /**
   * dfs with a preemption bound N: search the bounds 0, 1, ..., N in turn
   * and stop at the first with a violation (default on; not in a shard or
   * with a budget, which search N at once).
   */
  iterate?: boolean;
  /** dfs, several workers: hand work over inside items (steal.ts; default on; tests and the bench compare). */
  steal?: boolean;
  /** dfs: sleep-set reduction (default on). */
  por?: boolean;
  /** dfs: coarse transitions, a thread's local steps run with its previous step (default on). */
  coarse?: boolean;
  /** dfs with coarse transitions: learn which locations one thread owns and take its steps on them as local (default on; facts.ts). */
  facts?: boolean;
  /** Random runs to learn the facts from (default LEARN_RUNS; tests use fewer to see breaches). */
  learn_runs?: number;
  /** pct: bug depth d. */
  pct_depth?: number;
  /** Random walks and PCT: hash every state to count distinct states (default off: walks run on the plain World, about 20x faster). */
  states?: boolean;
  /** Shrink the violating schedule (default on). */
  shrink?: boolean;
  shrink_replays?: number;
  /** Progress callback, every progress_ms (default 250). */
  on_progress?: (p: Progress) => void;
  progress_ms?: number;
  /** Aborting stops the search cleanly (Ctrl-C). */
  signal?: AbortSignal;
}

export interface Progress {
  elapsed_ms: number;
  transitions: number;
  schedules: number;
  /** Sum over parts, of the bound being searched (parts may share states; the final count is exact). */
  distinct: number;
  depth: number;
  current: number;
  /** Fraction done when the search is bounded by a budget or a time, else null. */
  fraction: number | null;
  /** dfs: the preemption bound being searched (null: none). */
  preemptions: number | null;
}

/**
 * One preemption bound of a dfs that searches the bounds in turn (CHESS's
 * iterative context bounding): how its search ended.
 */
export interface Round {
  preemptions: number | null;
  /** 'complete' (no violation at this bound), 'violation', or why it stopped. */
  status: ExploreStatus;
  distinct: number;
  transitions: number;
  time_ms: number;
  restarts: number;
  /** The depth bound cut some path of this round. */
  cut: boolean;
}

export type ExploreStatus = 'violation' | 'complete' | 'budget' | 'time' | 'interrupted' | 'done';

export interface ViolationReport {
  violation: Violation;
  violations: Violation[];
  /** The schedule the search found, to the violating step. */
  schedule: Schedule;
  steps: number;
  item: number;
  shrunk: ShrinkResult | null;
}

export interface ExploreResult {
  scenario: { name: string; path: string; arch: string };
  variants: string[];
  params: SearchParams;
  workers: number;
  shard: { k: number; n: number };
  parts: number;
  status: ExploreStatus;
  /** dfs explored every state within its bounds (no budget, time or stop cut it). */
  complete: boolean;
  /** The depth bound cut some path. */
  cut: boolean;
  /** A part's visited set filled up (MAX_STATES): the search stopped there. */
  full: boolean;
  transitions: number;
  schedules: number;
  distinct: number;
  depth: number;
  /** Wall-clock time of the search (without shrinking). */
  time_ms: number;
  /** Wall-clock time of the shrinking. */
  shrink_ms: number;
  /** Items met above the split (dfs) / schedule indices used (walks). */
  items: number;
  slept: number;
  revisits: number;
  /** DFS: moves that asked an injected-fault choice (DfsStats.choices). A search with faults left that met none is the same under any `--faults`. Shard files leave it out. */
  choices?: number;
  /** DFS with several workers: gifts of work taken inside items (steal.ts), and the steps replayed to reach them. Shard files leave them out. */
  taken?: number;
  replayed?: number;
  violation: ViolationReport | null;
  /** The union of the parts' visited state keys (shard files carry it). */
  keys: Float64Array;
  /** dfs: searches started again because a step broke the learned facts (facts.ts). */
  restarts: number;
  /** A breach the search could not start again after (the time ran out, or an interrupt): the verdict is not exhaustive. */
  breach: Breach | null;
  /** The facts learned from the random runs, before any breach: what the shards of one search agree on (`params.facts` has what was learned since). */
  initial_facts: Facts | null;
  /**
   * dfs: the searches run, one per preemption bound searched (0, 1, ... up
   * to --preemptions, or that bound alone); `params` are the last one's.
   * The other fields sum over rounds (transitions, schedules, time,
   * restarts) or are the last round's (distinct, keys, depth, status).
   */
  rounds: Round[];
  /** The largest preemption bound searched completely without a violation (null: none, or no bound). */
  verified_preemptions: number | null;
  /** The preemption bound asked for (`params` has the last round's, lower when the time ran out first). */
  target_preemptions: number | null;
}

/** Restarts after breaches of the learned facts before the search goes on without them. */
export const MAX_RESTARTS = 8;

/** Resolve the options into the search's parameters (what every part and shard must agree on). */
/** Split items per shard (dfs with more than one part). */
export const SPLIT_ITEMS = 32;

/**
 * Resolve the options into the search's parameters (what every part and
 * shard must agree on). `parts` > 1 splits a dfs; the split depth depends
 * on `shards` only.
 */
export function search_params(loaded: LoadedScenario, o: ExploreOptions, parts: number, shards: number): SearchParams {
  const walks = o.strategy !== 'dfs';
  // dfs: a path that spins while changing something each time round (a vCPU retrying a fault
  // takes a page from its memcache each time) goes on until the thread it waits for runs, which a
  // preemption bound may forbid, so dfs is bounded by default: twice the longest of a few random runs.
  const depth =
    o.depth ?? (walks ? DEFAULT_WALK_DEPTH : DFS_DEPTH_FACTOR * estimate_k(new Sim(loaded.config, { undo: false, track: false }), o.seed ?? loaded.config.sched.seed, DEFAULT_WALK_DEPTH));
  const base: SearchParams = {
    strategy: o.strategy,
    seed: o.seed ?? loaded.config.sched.seed,
    budget: o.budget ?? (walks ? DEFAULT_WALK_BUDGET : Infinity),
    depth,
    faults: o.faults ?? Infinity,
    preemptions: o.strategy === 'dfs' ? (o.preemptions ?? null) : null,
    por: o.strategy === 'dfs' ? (o.por ?? true) : false,
    coarse: o.strategy === 'dfs' ? (o.coarse ?? true) : false,
    facts: null,
    // Shards cannot agree on facts learned from breaches: their items must not depend on them (dfs.ts).
    facts_above_split: shards === 1,
    pct_depth: o.pct_depth ?? DEFAULT_PCT_DEPTH,
    split: 0,
    k: 1,
    states: o.states ?? false,
    depth_auto: o.depth === undefined && !walks,
  };
  if (base.coarse && (o.facts ?? true)) base.facts = learn_facts(loaded.config, base.seed, depth, base.faults, o.learn_runs).facts;
  base.split = split_for(loaded, base, parts, shards);
  if (o.strategy === 'pct') base.k = estimate_k(new Sim(loaded.config, { undo: false, track: false }), base.seed, depth);
  return base;
}

/** The split depth of a dfs over `parts` parts (it depends on the facts, which decide what is a scheduling point, unless they are left out above the split). */
function split_for(loaded: LoadedScenario, p: SearchParams, parts: number, shards: number): number {
  if (p.strategy !== 'dfs' || parts <= 1) return 0;
  const b = { ...p, facts: p.facts ? new Ownership(p.facts) : null, owns: () => false, first: true };
  return split_depth(() => new Sim(loaded.config, { undo: true }), b, SPLIT_ITEMS * shards);
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** The worker script: beside this module when built, else the build in dist/ (tests run the sources). */
function worker_url(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./worker.js', here);
  return pathToFileURL(join(package_root(), 'dist', 'src', 'explore', 'worker.js'));
}

export async function explore(loaded: LoadedScenario, overrides: Overrides, o: ExploreOptions): Promise<ExploreResult> {
  const t0 = performance.now();
  const shard = o.shard ?? { k: 1, n: 1 };
  const workers = Math.max(1, o.workers ?? availableParallelism());
  const parts = workers * shard.n;
  // CHESS's iterative context bounding: every bound from 0 up to the one asked for, in turn, so
  // that a race is found with the fewest preemptions it needs, and a search the time cuts short
  // at bound N still leaves the verdict of bound N-1. A shard is one search (its file is merged
  // with the other shards' of the same bound), and a budget counts the schedules of one search.
  const target = o.strategy === 'dfs' ? (o.preemptions ?? null) : null;
  const iterate = target !== null && target > 0 && o.iterate !== false && shard.n === 1 && o.budget === undefined;
  const bounds = iterate ? Array.from({ length: target + 1 }, (_, i) => i) : [target];
  let params = search_params(loaded, { ...o, preemptions: bounds[0]! }, parts, shard.n);
  const initial_facts = params.facts;
  const mine: PartSpec[] = Array.from({ length: workers }, (_, worker) => ({ k: shard.k, n: shard.n, worker, workers }));
  const deadline = o.time !== undefined ? t0 + o.time * 1000 : Infinity;
  const progress_ms = o.progress_ms ?? 250;

  const fraction = (p: { schedules: number }) => {
    const f: number[] = [];
    if (Number.isFinite(params.budget)) f.push(p.schedules / (params.budget / shard.n));
    if (o.time !== undefined) f.push((performance.now() - t0) / (o.time * 1000));
    return f.length ? Math.min(1, Math.max(...f)) : null;
  };
  // Earlier rounds' work (dfs, preemption bounds in turn): the progress and the result add it to the present round's.
  const earlier = { transitions: 0, schedules: 0, slept: 0, revisits: 0, choices: 0, taken: 0, replayed: 0 };
  const report = (ps: PartProgress[]) => {
    if (!o.on_progress) return;
    const sum: Progress = {
      elapsed_ms: performance.now() - t0,
      transitions: earlier.transitions,
      schedules: earlier.schedules,
      distinct: 0,
      depth: 0,
      current: 0,
      fraction: null,
      preemptions: params.preemptions,
    };
    for (const p of ps) {
      sum.transitions += p.transitions;
      sum.schedules += p.schedules;
      sum.distinct += p.distinct;
      sum.depth = Math.max(sum.depth, p.depth);
      sum.current = Math.max(sum.current, p.current);
    }
    sum.fraction = fraction(sum);
    o.on_progress(sum);
  };

  const rounds: Round[] = [];
  let results: PartResult[] = [];
  // The union of the last round's visited keys: its distinct states, and the result's.
  let keys: Float64Array = new Float64Array(0);
  let restarts = 0;
  for (const bound of bounds) {
    const r0 = performance.now();
    // The round before is done: its work goes into the counts beside this one's.
    for (const r of results) {
      earlier.transitions += r.transitions;
      earlier.schedules += r.schedules;
      earlier.slept += r.slept;
      earlier.revisits += r.revisits;
      earlier.choices += r.choices;
      earlier.taken += r.taken;
      earlier.replayed += r.replayed;
    }
    if (bound !== params.preemptions) {
      params = { ...params, preemptions: bound };
      params.split = split_for(loaded, params, parts, shard.n);
    }
    const again = restarts;
    results = await search_learning(params);
    const out = outcome(results, results.some((r) => r.finding || r.deadlock), params.strategy);
    keys = union(results.map((r) => r.keys));
    rounds.push({
      preemptions: bound,
      status: out.status,
      distinct: keys.length,
      transitions: results.reduce((a, r) => a + r.transitions, 0),
      time_ms: performance.now() - r0,
      restarts: restarts - again,
      cut: results.some((r) => r.cut),
    });
    if (out.status !== 'complete') break;
  }

  // A breach of the learned facts: learn what broke them and search again (facts.ts), while there is time.
  // The facts learned carry over to the next bound. A shard learns from the breaches in its own items
  // and searches them again: its items do not depend on the facts (facts_above_split), so the shards
  // need not agree on what they learned.
  async function search_learning(p: SearchParams): Promise<PartResult[]> {
    for (;;) {
      const results = await search(p);
      const breaches = results.flatMap((r) => r.breaches);
      const stopped = results.some((r) => r.finding || r.status === 'time' || r.status === 'interrupted');
      if (breaches.length === 0 || stopped || o.signal?.aborted || performance.now() >= deadline) return results;
      restarts++;
      let facts: Facts | null = null;
      if (restarts <= MAX_RESTARTS) {
        const own = new Ownership(p.facts!);
        for (const b of breaches) own.learn_breach(b);
        facts = own.facts;
      }
      params = p = { ...p, facts };
      // A shard's split does not depend on the facts (facts_above_split is off): keep it.
      if (p.facts_above_split) p.split = split_for(loaded, p, parts, shard.n);
    }
  }

  // One search with these parameters: in this thread with one worker, else in worker threads.
  // A DFS takes its visited table from the pool and gives it back when no part can visit it again (visited.ts, "Memory").
  async function search(params: SearchParams): Promise<PartResult[]> {
    if (params.strategy !== 'dfs') return workers === 1 ? search_here(params, undefined) : run_workers(loaded, overrides, params, mine, deadline, progress_ms, o.signal, report);
    // With a budget each worker keeps a visited set of its own: each part stops after its share of schedules, and
    // which items those cover must not depend on timing (so items go round the workers, not to the first to claim them).
    if (workers > 1 && Number.isFinite(params.budget)) return run_workers(loaded, overrides, params, mine, deadline, progress_ms, o.signal, report);
    const visited = acquire_visited();
    try {
      if (workers === 1) return await search_here(params, visited);
      // DFS items go to the first worker that meets them (part.ts): a fresh set of claims per search; the workers share the visited table.
      const shared = (blind: boolean) => {
        const claims = new SharedArrayBuffer(4 * CLAIMS);
        // With sleep sets (no preemption bound) each worker keeps its own visits: a gift would be searched again from scratch.
        const steal = o.steal === false || params.preemptions === null ? undefined : StealPool.buffer(workers);
        return mine.map((m) => ({ ...m, claims, visited, blind, ...(steal ? { steal } : {}) }));
      };
      const table = new VisitedTable(visited);
      const results = await run_workers(loaded, overrides, params, shared(true), deadline, progress_ms, o.signal, report);
      // A worker's path met the depth bound after another finished depth-blind on visits it shared: search again counting depth, on an empty table.
      if (table.depth_met && results.some((r) => r.blind)) {
        next_generation(visited);
        if (performance.now() < deadline && !o.signal?.aborted) return await run_workers(loaded, overrides, params, shared(false), deadline, progress_ms, o.signal, report);
        for (const r of results) if (r.blind && r.status === 'done') Object.assign(r, { status: o.signal?.aborted ? 'interrupted' : 'time', complete: false });
      }
      return results;
    } finally {
      release_visited(visited);
    }
  }

  // One search in this thread.
  async function search_here(params: SearchParams, visited: SharedArrayBuffer | undefined): Promise<PartResult[]> {
    const part = new Part(loaded.config, params, { ...mine[0]!, visited });
    let last = performance.now();
    while (part.slice(50)) {
      if (o.signal?.aborted) part.stop('interrupted');
      else if (performance.now() >= deadline) part.stop('time');
      if (performance.now() - last >= progress_ms) {
        last = performance.now();
        report([part.progress()]);
      }
      await tick();
    }
    return [part.result()];
  }

  // Combine.
  const sum = (f: (r: PartResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const first = await reported_finding(loaded, params, results, deadline, o.signal);
  // The search's time takes in finding the violation again (shrinking is timed apart).
  const search_ms = performance.now() - t0;
  const breach = results.find((r) => r.breach)?.breach ?? null;
  const { status, complete } = outcome(results, first !== undefined, params.strategy);
  let violation: ViolationReport | null = null;
  if (first) {
    let shrunk: ShrinkResult | null = null;
    if (o.shrink !== false) {
      shrunk = shrink(loaded.config, first.schedule, first.violation.invariant, {
        max_replays: o.shrink_replays ?? 2000,
        deadline: performance.now() + 30_000,
      });
    }
    violation = { violation: first.violation, violations: first.violations, schedule: first.schedule, steps: first.steps, item: first.item, shrunk };
  }
  return {
    scenario: { name: loaded.meta.name, path: loaded.meta.path, arch: loaded.config.arch },
    variants: [...loaded.config.variants],
    params,
    workers,
    shard,
    parts,
    status,
    complete,
    cut: results.some((r) => r.cut),
    full: results.some((r) => r.full),
    transitions: earlier.transitions + sum((r) => r.transitions),
    schedules: earlier.schedules + sum((r) => r.schedules),
    distinct: keys.length,
    depth: Math.max(0, ...results.map((r) => r.depth)),
    time_ms: search_ms,
    shrink_ms: performance.now() - t0 - search_ms,
    items: Math.max(0, ...results.map((r) => r.items)),
    slept: earlier.slept + sum((r) => r.slept),
    revisits: earlier.revisits + sum((r) => r.revisits),
    choices: earlier.choices + sum((r) => r.choices),
    taken: earlier.taken + sum((r) => r.taken),
    replayed: earlier.replayed + sum((r) => r.replayed),
    violation,
    keys,
    restarts,
    breach,
    initial_facts,
    rounds,
    verified_preemptions: verified_round(rounds)?.preemptions ?? null,
    target_preemptions: target,
  };
}

/**
 * How a search ended, from its parts (or shards): a violation (or
 * deadlock) first, then an interrupt, the time, the budget; complete when
 * a dfs explored every state within its bounds, proved nothing false and
 * found nothing.
 */
export function outcome(parts: readonly { status: string; complete: boolean; breach?: unknown }[], found: boolean, strategy: Strategy): { status: ExploreStatus; complete: boolean } {
  const statuses = new Set(parts.map((r) => r.status));
  const complete = !found && strategy === 'dfs' && !parts.some((r) => r.breach) && parts.every((r) => r.complete);
  const status: ExploreStatus = found
    ? 'violation'
    : statuses.has('interrupted')
      ? 'interrupted'
      : statuses.has('time')
        ? 'time'
        : statuses.has('budget')
          ? 'budget'
          : complete
            ? 'complete'
            : 'done';
  return { status, complete };
}

/** The round of the largest preemption bound searched completely (rounds run in increasing bounds), or null. */
export function verified_round(rounds: readonly Round[]): Round | null {
  return rounds.filter((r) => r.status === 'complete' && r.preemptions !== null).at(-1) ?? null;
}

/**
 * The finding a search reports from its parts' results: an invariant
 * violation first, else a deadlock, of the lowest item; with a split dfs,
 * as search_item() finds it again, unless an earlier item that may hide one
 * (hidden_items()) has one when searched on its own. With a budget, items
 * go round the workers and the finding is already the same on every run.
 */
export async function reported_finding(loaded: LoadedScenario, params: SearchParams, results: readonly PartResult[], deadline: number, signal?: AbortSignal): Promise<Finding | undefined> {
  const by_item = (a: Finding, b: Finding) => a.item - b.item;
  const findings = results.filter((r) => r.finding).map((r) => r.finding!).sort(by_item);
  const deadlocks = results.filter((r) => r.deadlock).map((r) => r.deadlock!).sort(by_item);
  const first: Finding | undefined = findings[0] ?? deadlocks[0];
  if (!first || params.strategy !== 'dfs' || params.split === 0 || Number.isFinite(params.budget)) return first;
  const deadlock = !findings.length;
  const unsafe = results.flatMap((r) => (deadlock ? [...r.unfinished, ...r.deadlocked] : r.unfinished));
  // The items that may hide one, then the finding's own: the first with one, searched alone, is reported.
  for (const item of [...hidden_items(results.flatMap((r) => r.borrows), first.item, unsafe), first.item]) {
    const f = await search_item(loaded, params, item, deadlock, deadline, signal);
    if (f === 'time') break; // out of time: what the workers found stands
    if (f) return f;
  }
  return first;
}

/**
 * The violation (or deadlock) of `item` as a search of that item alone,
 * on a visited set of its own, finds it first: null for none, 'time' when
 * stopped (the worker's finding stands). With several workers, which
 * worker explored an item, and so which states its visited set held when
 * it got there, depends on timing; the item does not: the lowest item with a violation
 * reachable within the bounds is the lowest one where some worker reports
 * one, or one of hidden_items() below it, which are searched again on
 * their own first (a path into it that a worker cut at a state visited
 * before, with at least the budgets left, goes on from that earlier visit:
 * in a lower item, where it is reported, or in a later one, an edge
 * hidden_items() follows). The schedule found in the item does depend
 * on the worker's visited set: searching the item again on its own gives
 * the same one on every run, with any number of workers and shards that
 * split the search (the split depends on the shards only).
 */
async function search_item(loaded: LoadedScenario, params: SearchParams, item: number, deadlock: boolean, deadline: number, signal?: AbortSignal): Promise<Finding | null | 'time'> {
  // The pooled table: the search's own went back to the pool when its workers ended.
  const visited = acquire_visited();
  try {
    const part = new Part(loaded.config, params, { k: 1, n: 1, worker: 0, workers: 1, only: item, visited });
    // part.searcher, not a copy: a depth-blind search that meets the bound is replaced (dfs.ts, "Depth").
    while (part.slice(50)) {
      if (deadlock && part.searcher.deadlock) return part.searcher.deadlock;
      if (signal?.aborted || performance.now() >= deadline) return 'time';
      await tick(); // let an interrupt in
    }
    return deadlock ? part.searcher.deadlock : part.searcher.finding;
  } finally {
    release_visited(visited);
  }
}

/**
 * The items below `m` that may hide a violation (or deadlock) from the
 * workers' search, given its borrow edges [i, j] (item i cut at a visit of
 * a later item j; visited.ts) and the `unsafe` items, whose visits may be
 * unfinished or hold what was found (Dfs.unfinished_items(), the
 * violation's among them; for a deadlock, also the items where one was
 * met): those below m that are unsafe or from which a path of edges leads
 * to an unsafe item, ascending. Any other item below m was searched in
 * full without a finding, up to cuts at visits whose subtrees were
 * searched in full without one or lie in an earlier item.
 */
export function hidden_items(borrows: readonly (readonly [number, number])[], m: number, unsafe: readonly number[]): number[] {
  const into = new Map<number, number[]>();
  for (const [i, j] of borrows) {
    const l = into.get(j);
    if (l) l.push(i);
    else into.set(j, [i]);
  }
  // Backwards from the unsafe items: an item cut at an item that may hide one may hide one too.
  const seen = new Set(unsafe);
  const todo = [...seen];
  while (todo.length) {
    for (const i of into.get(todo.pop()!) ?? []) {
      if (seen.has(i)) continue;
      seen.add(i);
      todo.push(i);
    }
  }
  return [...seen].filter((i) => i < m).sort((a, b) => a - b);
}

/**
 * The sorted union of key sets. Sorted in one array and deduplicated in
 * place: a Set holds at most 2^24 entries, which two workers' sets can pass
 * together (fault-vs-invalidate unbounded with faults, after 50 minutes).
 */
export function union(sets: Float64Array[]): Float64Array {
  const all = new Float64Array(sets.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of sets) {
    all.set(a, at);
    at += a.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  return all.slice(0, n);
}

async function run_workers(
  loaded: LoadedScenario,
  overrides: Overrides,
  params: SearchParams,
  mine: PartSpec[],
  deadline: number,
  progress_ms: number,
  signal: AbortSignal | undefined,
  report: (ps: PartProgress[]) => void,
): Promise<PartResult[]> {
  const progress: PartProgress[] = mine.map(() => ({ transitions: 0, schedules: 0, distinct: 0, depth: 0, current: 0 }));
  const results: (PartResult | null)[] = mine.map(() => null);
  const ws: Worker[] = [];
  let limit = Infinity;
  let failure: string | null = null;
  const send = (m: ToWorker) => {
    for (let i = 0; i < ws.length; i++) if (!results[i]) ws[i]!.postMessage(m);
  };
  const found = (item: number) => {
    if (item < limit) {
      limit = item;
      send({ limit: item });
    }
  };
  let stopped = false;
  const timer = setInterval(() => {
    if (!stopped && signal?.aborted) {
      stopped = true;
      send({ stop: 'interrupted' });
    } else if (!stopped && performance.now() >= deadline) {
      stopped = true;
      send({ stop: 'time' });
    }
    report(progress);
  }, Math.min(progress_ms, 100));
  try {
    await new Promise<void>((resolve) => {
      let left = mine.length;
      const finish = () => {
        if (--left === 0) resolve();
      };
      mine.forEach((spec, i) => {
        const data: WorkerData = { text: loaded.meta.text, file: loaded.meta.path, overrides, params, spec, progress_ms, patches: active_patches() };
        const w = new Worker(worker_url(), { workerData: data });
        ws.push(w);
        let over = false;
        const end = () => {
          if (over) return;
          over = true;
          finish();
        };
        w.on('message', (m: { progress?: PartProgress; found?: number; result?: PartResult; error?: string }) => {
          if (m.progress) progress[i] = m.progress;
          if (m.found !== undefined) found(m.found);
          if (m.result) {
            results[i] = m.result;
            progress[i] = m.result;
            if (m.result.finding) found(m.result.finding.item);
            // The search proves nothing past a breach: once that worker is done learning, the others stop, so that it starts again now.
            if (m.result.breach) send({ stop: 'breach' });
            end();
          }
          if (m.error) {
            failure ??= m.error;
            end();
          }
        });
        w.on('error', (e) => {
          failure ??= e.stack ?? e.message;
          end();
        });
        w.on('exit', () => {
          if (!results[i]) failure ??= `worker ${spec.worker} exited without a result`;
          end();
        });
      });
    });
  } finally {
    clearInterval(timer);
  }
  // Ended before the caller gives their visited table back to the pool.
  await Promise.all(ws.map((w) => w.terminate()));
  if (failure) throw new Error(`explorer worker failed: ${failure}`);
  return results.map((r) => {
    if (r) r.keys = new Float64Array(r.keys);
    return r!;
  });
}
