// Bounded exhaustive depth-first search with state hashing, sleep-set
// partial-order reduction and CHESS-style preemption bounding.
//
// A move is one scheduler step: a thread and its answers to the injected-
// fault choices that step asks (allocation failure, lock drop at
// cond_resched, preemption...). At each state the search tries every
// runnable thread with every combination of answers: it runs the step with
// all-zero answers first, sees which choices it asked and how many answers
// each has, and queues the alternatives (answer vectors that differ at one
// position and are zero after it), so every answer vector is tried once.
// Answers a choice kind marks as adding nothing (`exhaustive`: a vCPU
// preempted for 64 or 512 steps can do nothing it cannot when preempted
// for 8, and the search may leave it off longer) are not tried.
//
// Visited set. A state is 64 bits of a hash, Sim.key53() and
// Sim.key_check(): the simulated state without the step and event
// counters, with the time left on timed waits (sim.ts says why that is
// enough); `distinct` counts the 53 bits of key53(). A state reached
// again is not expanded again if an earlier visit had at least as much of
// every budget left (depth, faults, preemptions) and a sleep set contained
// in the present one; if it only slept on moves the present visit must
// take, just those are taken (Godefroid's state caching with sleep sets);
// otherwise it is expanded again. So what the search covers does not depend on the order it meets
// states in: `distinct` is exactly the set of states reachable within the
// bounds, which is what makes counts equal across runs, worker counts and
// shards (the tests check it, and that a bounded search's states are a
// subset of a less bounded one's; shards with learned facts count more,
// "Splitting" below says why).
//
// Sleep sets (Godefroid 1996). After move t was explored from state s, the
// later siblings u of t carry t in their sleep set when t and u are
// independent at s; a sleeping move is not taken (the other order covers
// it), and it stays asleep in the children while the moves taken are
// independent of it. Independence is decided from the footprints the
// tracker records while the moves run (track.ts): two moves are independent
// when neither reads the clock, neither writes a location the other reads
// or writes (including what decides whether the other's thread can run),
// and both threads are different. A sleeping move is also dropped when the
// move taken leaves its thread unable to run. Sleep sets prune moves, not
// states: every reachable state is still visited, within the same depth,
// because equivalent orders have the same length and the same number of
// injected faults.
//
// Depth. A search with a depth bound must re-expand a state met again
// with more steps left than at its earlier visit (the earlier one may have
// been cut short); a state met at many depths, as in the retry loops, is
// expanded many times. But a search in which no path reaches the bound is
// the search without one, and there a visit covers a later one whatever
// the depth. So the explorer first searches with depth left out of
// covering below the split (depth_blind); the first path that reaches the
// bound stops that search ('depth'), and Part starts it again with depth
// counted. A verdict comes either from a search that never met the bound
// (the same states as the unbounded search: all reachable ones within the
// other bounds) or from the depth-counting one, as before.
// With coarse transitions a move the bound cuts short (its thread's next
// step is local) ends at a state that is no scheduling point: a visit of
// the move's source with more depth left runs past it. Such a state is
// visited (its invariants are checked) but not counted, or the count would
// depend on which visit of the source came first, which with several
// workers is a matter of timing (the fixture `fault`, bound 30, counted
// 617 to 619 states by the order its items were searched in; 2026-12-05).
//
// Preemption bounding (Musuvathi and Qadeer, CHESS, PLDI 2007): switching
// away from a thread that could go on running is a preemption; with a bound
// P, no path takes more than P. A move that leaves its thread scheduled out
// by an injected preemption (a wait registered with `preempts`, model.ts)
// is one too, though the thread cannot run once it waits. Sleep sets are
// not sound together with a preemption bound (reordering moves changes the
// number of preemptions; Coons et al., OOPSLA 2013), so a preemption bound
// turns them off, and the visited set then also keys on the thread that ran
// last.
//
// Coarse transitions (local.ts): after a thread's step, its next steps run
// at once while they touch only its own frames; the first one that does
// not is undone and becomes the next scheduling point. A move is then the
// step and the local steps after it (its footprint their union; depth
// counts every step). This is sound with sleep sets (a local step is
// independent of every other thread's step, so the union depends on what
// the first step depends on) and with a preemption bound (moving a
// thread's local steps forward to its previous step never adds a context
// switch, so every schedule within P preemptions has a coarse one within
// P that reaches the same states at the scheduling points and the same
// violations). local.ts gives the argument; coarse.test.ts checks it.
//
// Splitting. Workers and shards split the search tree at a fixed depth
// (split_depth): the nodes at that depth, numbered in the order this search
// meets them, are the items, and each part explores the items it owns
// (part.ts); a worker that has finished its own items takes the untried
// moves of a node in another's (steal.ts). Above the split every part
// runs the same search (with a visited set of its own, so that the
// numbering is the same everywhere); below it the workers of a shard
// share one visited set (visited.ts, which says why a visit of any item
// covers one of any other; with sleep sets, each part keeps its own).
// The parts together visit every
// reachable state; the union of the states they met is the single run's
// set. Shards take the learned facts (facts.ts) below the split only: a
// breach learned below the split can undo what the facts made local
// above it, and the items, the nodes at the split, would change with
// what a shard learned, so the shards, which do not talk, could not
// agree on them. Above the split only a thread's own frames make a step
// local (local.ts), which holds whatever was learned; below it each item
// is a search from its root state, to which the argument of facts.ts
// applies as to a search from the initial state. So a shard that breaks
// its facts learns and searches its own items again. The union of the
// shards' states holds the single run's, and more: the top's scheduling
// points that the facts would have taken away, and what the items rooted
// at them reach.
import { getHeapStatistics } from 'node:v8';
import { new_footprint, index_footprint, dependent, type IndexedFootprint } from './track.js';
import { add_footprint, frames_of, local_step, not_local_by_record } from './local.js';
import type { Breach, Ownership } from './facts.js';
import type { Exec, Sim } from './sim.js';
import type { Violation } from '../core/machine/world.js';
import type { Footprint } from './track.js';
import type { Schedule } from '../core/machine/machine.js';
import type { Budgets, VisitedTable } from './visited.js';
import { KeyMap, KeySet } from './keyset.js';
import { decode_gift, encode_gift, type Gift, type StealPool } from './steal.js';

export interface DfsOptions {
  /** Maximum steps from the initial state (Infinity: none). */
  depth: number;
  /** Maximum preemptions per path, or null for no bound (sleep sets on). */
  preemptions: number | null;
  /** Maximum non-zero choice answers per path (Infinity: none). */
  faults: number;
  /** Sleep-set reduction (ignored with a preemption bound). */
  por: boolean;
  /** Coarse transitions: a thread's local steps run with its previous step (local.ts). */
  coarse: boolean;
  /** Stop after this many schedules (complete paths) in this part. */
  budget: number;
  /**
   * Below the split, a visit covers another whatever depth either had left,
   * and a path that reaches the depth bound stops the search (status
   * 'depth'; Part searches again without this). See "Depth" above.
   */
  depth_blind?: boolean;
  /** Split depth (0: no split; the whole tree is item 0). */
  split: number;
  /** Whether this part explores item i. */
  owns: (i: number) => boolean;
  /** This part counts the schedules that end above the split (exactly one part does). */
  first: boolean;
  /** Items at or above this index are skipped (another part found a violation in an earlier item). */
  item_limit?: number;
  /**
   * Learned ownership (facts.ts): locations a thread's local steps may
   * touch besides its own frames. Every step run and every waiting thread's
   * wait predicate is checked against them; after a breach the search
   * proves nothing, goes on only to learn more (Dfs.breaches) and ends
   * with status 'breach'.
   */
  facts?: Ownership | null;
  /**
   * The facts make steps local above the split too (default true). A shard
   * searches without them there (false): its items are then the same
   * whatever facts it holds, so it can learn a breach and search its own
   * items again without the other shards ("Splitting" above).
   */
  facts_above_split?: boolean;
  /**
   * Tests of the reductions: go on past violations (not below them), and
   * call `end` at every end state (every thread done, or a deadlock) and
   * `violation` with the invariants each violating step broke, to compare
   * searches with and without a reduction.
   */
  collect?: { end(): void; violation(invariants: string[]): void };
  /** The visited set below the split, shared with the other workers (visited.ts); without sleep sets only. */
  visited?: VisitedTable;
  /** Work the workers sharing `visited` hand each other inside items (steal.ts). */
  steal?: StealPool;
  /** Heap bytes in use at which the search stops as full (default HEAP_SHARE of the heap's limit; tests set it). */
  heap_limit?: number;
}

export interface Finding {
  violation: Violation;
  violations: Violation[];
  /** The schedule from the initial state to the violating step, inclusive. */
  schedule: Schedule;
  steps: number;
  /** Index of the split item it was found under (0 when not split). */
  item: number;
}

export interface DfsStats {
  /** Steps run (transitions explored; the local steps of a coarse transition count one each). */
  transitions: number;
  /** Local steps run as part of a coarse transition (no scheduling point before them). */
  merged: number;
  /** Steps run to see whether they were local, found not to be, and undone. */
  unmerged: number;
  /** Complete paths: to the end, a deadlock, or the depth bound. */
  schedules: number;
  /** Moves not taken because they were asleep. */
  slept: number;
  /** Children not expanded because an earlier visit covered them. */
  revisits: number;
  /**
   * Moves whose steps asked a choice with an injected fault among its
   * answers, taken or not. Counted while faults are left: with none left
   * such a step may run inside a coarse transition, unseen here.
   */
  choices: number;
  max_depth: number;
  /** The depth bound cut at least one path. */
  cut: boolean;
  /** Moves given to idle workers, and taken from others (steal.ts). */
  given: number;
  taken: number;
  /** Steps run to replay the paths to nodes taken from others. */
  replayed: number;
}

interface Sleeper {
  id: string;
  thread: number;
  answers: number[];
  asked: number[];
  fp: IndexedFootprint | null;
}

interface Node {
  depth: number;
  faults: number;
  pre: number;
  last: number;
  sleep: Sleeper[];
  done: Sleeper[];
  enabled: number[];
  /** Threads in the order they are tried, and where we are. */
  order: number[];
  ti: number;
  work: number[][];
  /** Only these moves are left to take here (ids; see seen()), or null for all. */
  only: string[] | null;
  /** The steps of the move into this node (one, or more with coarse transitions). */
  x: Exec[] | null;
  /** The item this node belongs to (-1 above the split). */
  item: number;
}

interface Seen {
  /** Sim.key_check(): the visit's key is (the map's key, this). */
  c: number;
  /** The thread that ran last (only compared with a preemption bound). */
  last: number;
  d: number;
  f: number;
  p: number;
  sleep: string[];
}

/**
 * Whether a visit `e` covers one with (last, d, f, p) left: every path
 * from the latter is a path from `e` within its budgets. The thread that
 * ran last counts for one preemption at most: after the first move both
 * visits have the same last thread, and that move preempts at most once
 * more from `e` (when its last thread, still able to run, is not the one
 * moving) than from the other. A visit whose last thread cannot run
 * (last -1) preempts nobody with its first move.
 */
function covers(e: Seen | Budgets, last: number, d: number, f: number, p: number): boolean {
  if (e.d < d || e.f < f) return false;
  return e.last === last || e.last === -1 ? e.p >= p : e.p >= p + 1;
}

const covers_budgets = (e: Budgets, b: Budgets) => covers(e, b.last, b.d, b.f, b.p);

const move_id = (thread: number, answers: readonly number[]) => `${thread}:${answers.join(',')}`;

function nonzero(a: readonly number[]): number {
  let n = 0;
  for (const x of a) if (x !== 0) n++;
  return n;
}

/** Whether sleeper `s` is move (thread, prefix then zeros). */
function matches(s: Sleeper, thread: number, prefix: readonly number[]): boolean {
  if (s.thread !== thread || s.answers.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (s.answers[i] !== prefix[i]) return false;
  for (let i = prefix.length; i < s.answers.length; i++) if (s.answers[i] !== 0) return false;
  return true;
}

const NONE: Violation[] = [];

/** Transitions without a new breach after which a search that broke its facts stops (at least). */
const QUIET = 50_000;

export type DfsStatus = 'running' | 'done' | 'violation' | 'budget' | 'breach' | 'depth';

/** Distinct states one part keeps at most (keyset.ts; the heap stops a search well before). */
export const MAX_STATES = 1 << 30;

/**
 * The share of the JS heap a search may fill before it stops as full: a
 * table that grows allocates its next one beside the old, and a worker
 * that runs out of heap dies with everything it had counted. The key
 * tables (keyset.ts) live outside the heap and count against it too.
 */
export const HEAP_SHARE = 0.75;

export class Dfs {
  readonly states = new KeySet();
  readonly stats: DfsStats = { transitions: 0, merged: 0, unmerged: 0, schedules: 0, slept: 0, revisits: 0, choices: 0, max_depth: 0, cut: false, given: 0, taken: 0, replayed: 0 };
  finding: Finding | null = null;
  /** The first deadlock met (every thread left blocked); the search goes on. */
  deadlock: Finding | null = null;
  status: DfsStatus = 'running';
  /** Items met so far (nodes at the split depth). */
  items = 0;
  /** The visited set reached MAX_STATES, or the heap HEAP_SHARE of its limit. */
  full = false;
  /** Heap bytes in use at which the search stops as full (DfsOptions.heap_limit). */
  private readonly heap_limit: number;
  /**
   * Every breach seen. After the first one the search proves nothing, but
   * it goes on, learning each breach into its copy of the facts, until
   * QUIET transitions (or as many as it ran before the first) bring no new
   * one: explore.ts then learns them all at once and starts again, instead
   * of once per breach. Violations and deadlocks met past a breach are not
   * reported (which one is met depends on what was learned on the way);
   * the search started again finds them.
   */
  readonly breaches: Breach[] = [];
  /** Transitions run before the first breach, and the count at which the search stops learning. */
  private quiet_from: number | undefined;
  private quiet_until = Infinity;
  private readonly facts: Ownership | null;
  /** The facts of moves from nodes above the split (DfsOptions.facts_above_split). */
  private readonly top_facts: Ownership | null;
  private readonly stack: Node[] = [];
  /** With work stealing (o.steal): this search has nothing left of its own (run() returns while it waits for a gift). */
  idle = false;
  /**
   * Items this search cut at a visit of a later item in the shared table
   * ('borrowed', visited.ts), by item: explore.ts (hidden_items()) needs
   * them when some part reports a violation or a deadlock.
   */
  readonly borrows = new Map<number, Set<number>>();
  /** Items in which a deadlock was met: their visits may hide one (explore.ts hidden_items()). */
  readonly deadlock_items = new Set<number>();
  private readonly seen_above = new KeyMap<Seen[]>();
  private readonly seen_below = new KeyMap<Seen[]>();
  private readonly por: boolean;
  /**
   * Keys of thread records (Tracker.subtree_key53) whose next step was
   * not local. Up to its first access outside the thread's own record a
   * step depends on that record alone (and on constants; not on what the
   * facts give it: local.ts, not_local_by_record), so that first
   * access, which makes it not local, comes again whenever the record is
   * the same: the step need not be run to find out. (A false hit, two
   * records with one 53-bit key, only makes a local step a scheduling
   * point, which is always sound.)
   */
  private readonly not_local = [new Set<number>(), new Set<number>()];
  /** The same above the split when the facts are not used there: a step not local without them may be with them. */
  private readonly not_local_top = [new Set<number>(), new Set<number>()];

  constructor(
    readonly sim: Sim,
    readonly o: DfsOptions,
  ) {
    this.por = o.por && o.preemptions === null;
    this.heap_limit = o.heap_limit ?? HEAP_SHARE * getHeapStatistics().heap_size_limit;
    this.facts = o.coarse ? (o.facts ?? null) : null;
    this.top_facts = o.facts_above_split === false ? null : this.facts;
    sim.restart();
    const root = this.node(0, 0, 0, -1, [], null, o.split === 0 ? 0 : -1);
    this.states.add(sim.key53());
    if (o.split === 0) {
      this.items = 1;
      if (!o.owns(0)) {
        this.status = 'done';
        return;
      }
    }
    if (this.leaf(root)) return;
    this.seen(root, sim.key53(), sim.key_check(), o.split === 0 ? this.seen_below : this.seen_above);
    this.push(root);
  }

  /**
   * The items whose visits may hide a violation from a search cut at them
   * (explore.ts hidden_items()): the ones this search left unfinished (on
   * its stack when it stopped), its violation's among them. Its other
   * items were searched to the end without one (up to their own borrows).
   */
  unfinished_items(): number[] {
    const out = new Set<number>();
    if (this.finding) out.add(this.finding.item);
    for (const n of this.stack) if (n.item >= 0) out.add(n.item);
    return [...out].sort((a, b) => a - b);
  }

  private borrow(item: number, from: number): void {
    let s = this.borrows.get(item);
    if (!s) this.borrows.set(item, (s = new Set()));
    s.add(from);
  }

  /** Depth of the path being explored. */
  get depth(): number {
    return this.stack.length;
  }

  private node(depth: number, faults: number, pre: number, last: number, sleep: Sleeper[], x: Exec[] | null, item: number): Node {
    if (item === -1 ? this.top_facts : this.facts) this.check_waits();
    const enabled = this.sim.runnable();
    const order = last >= 0 && enabled.includes(last) ? [last, ...enabled.filter((t) => t !== last)] : enabled;
    return { depth, faults, pre, last, sleep, done: [], enabled, order, ti: 0, work: [[]], only: null, x, item };
  }

  /** Check what every waiting thread's wait predicate reads now against the facts. */
  private check_waits(): void {
    for (const t of this.sim.w.threads) {
      if (t.done || t.wait === null) continue;
      this.check_step(t.id, this.sim.wait_reads(t.id));
    }
  }

  /** Check a step's (or a wait predicate's) footprint against the facts; whether it broke them. */
  private check_step(thread: number, fp: Footprint): boolean {
    const facts = this.facts!;
    let broke = false;
    // One location at a time: learn each, and look again (a footprint has finitely many).
    for (let b = facts.check(thread, fp), n = 0; b && n < fp.r.size + fp.w.size; b = facts.check(thread, fp), n++) {
      broke = true;
      this.breaches.push(b);
      facts.learn_breach(b);
      this.quiet_until = this.stats.transitions + Math.max(QUIET, this.quiet_from ??= this.stats.transitions);
    }
    return broke;
  }

  /** What first broke the learned facts (the search then ends with status 'breach'). */
  get breach(): Breach | null {
    return this.breaches[0] ?? null;
  }

  /** The visited set cannot grow (MAX_STATES, or the heap): end as 'budget', not exhaustive. */
  private stop_full(): void {
    this.full = true;
    this.end('budget');
  }

  /** End the search: past a breach, whatever ends it, it proves nothing ('breach'). */
  private end(status: DfsStatus): void {
    this.status = this.breach ? 'breach' : status;
  }

  /** A node with nothing to explore below: the end, a deadlock, or the depth bound. Counts the schedule. */
  private leaf(n: Node): boolean {
    if (n.enabled.length === 0) {
      this.o.collect?.end();
      const w = this.sim.w;
      const stuck = w.threads.filter((t) => !t.done && !t.daemon);
      if (stuck.length) {
        const blocked = stuck.map((t) => t.name).join(', ');
        const v: Violation = {
          invariant: 'deadlock',
          message: `every thread left is blocked: ${blocked}`,
          step: w.step,
          thread: stuck[0]!.name,
          values: { blocked: stuck.map((t) => t.name) },
        };
        // Worth reporting, but a violation of an invariant comes first: keep searching.
        if (!this.breach && (!this.deadlock || Math.max(0, n.item) < this.deadlock.item)) this.deadlock = this.finding_of([v], n.item);
        this.deadlock_items.add(Math.max(0, n.item));
        this.o.collect?.violation(['deadlock']);
      }
      this.count_schedule(n);
      return true;
    }
    if (n.depth >= this.o.depth) {
      this.stats.cut = true;
      // Depth-blind covering holds only while no path is cut: search again with the depth counted.
      if (this.o.depth_blind && n.item >= 0 && this.status === 'running') {
        this.status = 'depth';
        // The other workers' depth-blind visits prove nothing either (visited.ts).
        this.o.visited?.set_depth_met();
      }
      this.count_schedule(n);
      return true;
    }
    return false;
  }

  private count_schedule(n: Node): void {
    // Above the split every part sees the same paths: part 0 counts them.
    if (n.item < 0 && !this.o.first) return;
    this.stats.schedules++;
    if (this.stats.schedules >= this.o.budget && this.status === 'running') this.end('budget');
  }

  private finding_of(violations: Violation[], item: number): Finding {
    const s = this.sim.m.schedule;
    return {
      violation: violations[0]!,
      violations: [...violations],
      schedule: { picks: [...s.picks], choices: [...s.choices] },
      steps: s.picks.length,
      item: Math.max(0, item),
    };
  }

  private found(violations: Violation[], item: number): void {
    this.finding = this.finding_of(violations, item);
    this.status = 'violation';
  }

  /**
   * Whether the visit (key, budgets, sleep set) is covered by an earlier
   * one: true when it is. When an earlier visit had at least these budgets
   * but slept on moves this one must take, only those moves are left to
   * take here (Godefroid's state caching with sleep sets): n.only is set
   * and false returned. Records the visit otherwise.
   */
  private seen(n: Node, key: number, c: number, map: KeyMap<Seen[]>): boolean {
    const o = this.o;
    // The thread that ran last matters only while it can go on (switching away is then a preemption).
    const last = o.preemptions === null || !n.enabled.includes(n.last) ? -1 : n.last;
    // Above the split the depth always counts: items are numbered the same with and without depth_blind.
    const d = o.depth_blind && map === this.seen_below ? Infinity : o.depth - n.depth;
    const f = o.faults - n.faults;
    const p = o.preemptions === null ? 0 : o.preemptions - n.pre;
    const table = map === this.seen_below && !this.por ? this.o.visited : undefined;
    if (table) {
      const v = table.visit(key, c, { last, d, f, p }, n.item, o.depth_blind === true, covers_budgets);
      if (v === 'borrowed') {
        this.borrow(n.item, table.from);
        return true;
      }
      // Once the table is full, this worker's own Map below takes the visits (no sleep sets here).
      if (v !== 'full') return v === 'covered';
    }
    const sleep = n.sleep.map((s) => s.id);
    const list = map.get(key);
    if (!list) {
      map.set(key, [{ c, last, d, f, p, sleep }]);
      return false;
    }
    let fewest: Seen | null = null;
    let missing: string[] | null = null;
    for (const e of list) {
      if (e.c !== c || !covers(e, last, d, f, p)) continue;
      const m = e.sleep.filter((id) => !sleep.includes(id));
      if (m.length === 0) return true;
      if (!missing || m.length < missing.length) {
        missing = m;
        fewest = e;
      }
    }
    if (missing && fewest) {
      n.only = missing;
      const both = fewest.sleep.filter((id) => sleep.includes(id));
      if (fewest.d === d && fewest.f === f && fewest.p === p) fewest.sleep = both;
      else list.push({ c, last, d, f, p, sleep: both });
      return false;
    }
    const me: Seen = { c, last, d, f, p, sleep };
    const keep = list.filter((e) => !(e.c === c && covers(me, e.last, e.d, e.f, e.p) && sleep.every((id) => e.sleep.includes(id))));
    keep.push(me);
    map.set(key, keep);
    return false;
  }

  private push(n: Node): void {
    if (n.only && n.order.length) n.work = this.work_for(n, n.order[0]!);
    this.stack.push(n);
  }

  /** The answer prefixes to try for thread `t` at node `n`. */
  private work_for(n: Node, t: number): number[][] {
    if (!n.only) return [[]];
    const out: number[][] = [];
    for (const id of n.only) {
      const [th, a] = id.split(':');
      if (Number(th) === t) out.push(a ? a.split(',').map(Number) : []);
    }
    return out;
  }

  /** Explore until done, a violation, the budget, or `deadline` (performance.now() ms). */
  run(deadline = Infinity, check_every = 256): DfsStatus {
    const sim = this.sim;
    const o = this.o;
    let tick = 0;
    while (this.status === 'running') {
      if (++tick >= check_every) {
        tick = 0;
        if (o.steal && !this.idle && o.steal.wanted()) this.give(o.steal);
        if (performance.now() >= deadline) return this.status;
        // Stop while the counts can still be reported (a worker out of heap dies with them).
        if (getHeapStatistics().used_heap_size + this.states.bytes + this.seen_above.bytes + this.seen_below.bytes >= this.heap_limit) {
          this.stop_full();
          break;
        }
        // Another worker's path met the depth bound: this depth-blind search proves nothing either.
        if (this.o.depth_blind && this.o.visited?.depth_met) {
          this.status = 'depth';
          break;
        }
      }
      const n = this.stack[this.stack.length - 1];
      if (!n && o.steal && !this.breach) {
        // Every item met, this search's own done: take a gift, wait for one, or end with the others.
        if (this.take(o.steal)) continue;
        if (!o.steal.finished()) return this.status;
      }
      if (!n || this.stats.transitions >= this.quiet_until) {
        this.end('done');
        break;
      }
      if (o.item_limit !== undefined && n.item >= o.item_limit) {
        // Another part found a violation in an earlier item: items come in order, so this part is through.
        this.status = 'done';
        break;
      }
      // The next move to try here.
      let thread = -1;
      let prefix: number[] | null = null;
      while (n.ti < n.order.length) {
        if (n.work.length) {
          prefix = n.work.shift()!;
          thread = n.order[n.ti]!;
          break;
        }
        n.ti++;
        if (n.ti < n.order.length) n.work = this.work_for(n, n.order[n.ti]!);
      }
      if (prefix === null) {
        this.stack.pop();
        if (n.x) this.undo(n.x);
        continue;
      }
      const preempts = n.last >= 0 && thread !== n.last && n.enabled.includes(n.last) ? 1 : 0;
      if (o.preemptions !== null && n.pre + preempts > o.preemptions) {
        n.work.length = 0;
        continue;
      }
      const used_faults = n.faults + nonzero(prefix);
      // Asleep: not taken, but its alternatives are (their answers differ).
      const asleep = this.por ? n.sleep.find((s) => matches(s, thread, prefix!)) : undefined;
      if (asleep) {
        this.stats.slept++;
        if (!n.only) this.alternatives(n, prefix, asleep.asked, used_faults);
        continue;
      }
      // Above the split, the facts of the top (none in a shard); the move into an item is the top's too.
      const facts = n.item === -1 ? this.top_facts : this.facts;
      const fp = this.por || facts ? new_footprint() : null;
      const x0 = sim.exec(thread, prefix, fp);
      this.stats.transitions++;
      if (facts) this.check_step(thread, fp!);
      // With n.only the moves to take are listed whole: their alternatives were taken at the earlier visit.
      if (!n.only) this.alternatives(n, prefix, x0.asked, used_faults);
      const x = [x0];
      let violations = x0.result.violations;
      let depth = n.depth + 1;
      let short = false;
      if (this.o.coarse && violations.length === 0) {
        const r = this.extend(thread, depth, fp, x, used_faults < o.faults, facts);
        depth = r.depth;
        violations = r.violations;
        short = r.short;
      }
      let pre = n.pre + preempts;
      if (o.preemptions !== null) {
        // A move that ends with its thread scheduled out by an injected preemption preempted it.
        if (sim.preempted(thread)) pre++;
        if (pre > o.preemptions) {
          this.undo(x);
          continue;
        }
      }
      const me: Sleeper = { id: move_id(thread, x0.answers), thread, answers: x0.answers, asked: x0.asked, fp: this.por ? index_footprint(fp!) : null };
      if (depth > this.stats.max_depth) this.stats.max_depth = depth;
      // The time left goes into both halves of the key: counted once.
      const kx = sim.key_x();
      const key = sim.key53(kx);
      const check = sim.key_check(kx);
      // A move the depth bound cut short ends at no scheduling point (see "Depth").
      if (!short) this.states.add(key);
      if (this.states.size >= MAX_STATES && this.status === 'running') this.stop_full();
      if (violations.length) {
        if (this.o.collect) {
          this.o.collect.violation(violations.map((v) => v.invariant));
          this.undo(x);
          continue;
        }
        // Past a breach, which violation the search meets depends on what it learned on the way: the search started again finds it.
        if (this.breach) {
          this.undo(x);
          continue;
        }
        this.found(violations, n.item);
        break;
      }
      // The child's sleep set: what slept here or was explored here before, independent of this move.
      let sleep: Sleeper[] = [];
      const enabled_after = this.por ? sim.runnable() : [];
      if (this.por) {
        for (const s of n.sleep) if (s.thread !== thread && !dependent(s.fp!, me.fp!) && enabled_after.includes(s.thread)) sleep.push(s);
        for (const s of n.done) if (s.thread !== thread && !dependent(s.fp!, me.fp!) && enabled_after.includes(s.thread)) sleep.push(s);
        n.done.push(me);
      }
      let item = n.item;
      const at_split = o.split > 0 && n.depth < o.split && depth >= o.split;
      if (at_split) item = -2; // decided below
      const child = this.node(depth, used_faults, pre, thread, sleep, x, item);
      if (at_split) {
        // Items are numbered in the order this search meets them; only new visits count.
        if (this.seen(child, key, check, this.seen_above)) {
          this.stats.revisits++;
          this.undo(x);
          continue;
        }
        const i = this.items++;
        child.item = i;
        if (!o.owns(i) || (o.item_limit !== undefined && i >= o.item_limit)) {
          this.undo(x);
          continue;
        }
        if (this.leaf(child)) {
          this.undo(x);
          continue;
        }
        this.push(child);
        continue;
      }
      if (this.leaf(child)) {
        this.undo(x);
        continue;
      }
      if (this.seen(child, key, check, depth < o.split ? this.seen_above : this.seen_below)) {
        this.stats.revisits++;
        this.undo(x);
        continue;
      }
      this.push(child);
    }
    return this.status;
  }

  private undo(xs: Exec[]): void {
    for (let i = xs.length - 1; i >= 0; i--) this.sim.undo(xs[i]!);
  }

  /**
   * Give an idle worker the threads not yet tried at the shallowest node
   * of this path below the split that has any within the bounds (the
   * largest subtrees left): they leave this node's order.
   */
  private give(pool: StealPool): void {
    const P = this.o.preemptions;
    for (let j = 0; j < this.stack.length; j++) {
      const n = this.stack[j]!;
      if (n.item < 0 || n.only) continue;
      const preempts = (t: number) => (n.last >= 0 && t !== n.last && n.enabled.includes(n.last) ? 1 : 0);
      const threads = n.order.slice(n.ti + 1).filter((t) => P === null || n.pre + preempts(t) <= P);
      if (threads.length === 0) continue;
      // The moves into each node of the path (the root has none; a taker's path starts at its first move).
      const moves = this.stack.slice(0, j + 1).flatMap((m) => (m.x ? [{ thread: m.last, item: m.item, steps: m.x.map((e) => e.answers) }] : []));
      const gift = encode_gift({ blind: this.o.depth_blind === true, item: n.item, depth: n.depth, faults: n.faults, pre: n.pre, last: n.last, threads, moves });
      if (!pool.give(gift)) return;
      n.order.length = n.ti + 1;
      this.stats.given++;
      return;
    }
  }

  /**
   * With the stack empty (the World initial): take a gift and replay its
   * path, the moves above the node kept only to be undone. Whether there
   * is one to search now (a depth-blind gift is dropped by a search that
   * counts depth: its giver searches its items again).
   */
  private take(pool: StealPool): boolean {
    if (!this.idle) {
      this.idle = true;
      pool.idle();
    }
    for (let raw = pool.take(); raw; raw = pool.take()) {
      this.idle = false;
      const g = decode_gift(raw);
      const blind = this.o.depth_blind === true;
      if (g.blind === blind) {
        this.replay(g);
        this.stats.taken++;
        return true;
      }
      // A gift counting depth: a path met the bound and this depth-blind search is over too (Part starts it again).
      // Given back, or its moves would be lost; a depth-blind one is stale (its giver searches its items again).
      if (!g.blind && !pool.give(raw)) throw new Error('explorer: no room to give work back (steal.ts)');
      this.idle = true;
      pool.idle();
      if (!g.blind) return false;
    }
    return false;
  }

  private replay(g: Gift): void {
    const sim = this.sim;
    let x: Exec[] | null = null;
    for (const [k, m] of g.moves.entries()) {
      x = m.steps.map((answers) => sim.exec(m.thread, answers, null));
      this.stats.replayed += x.length;
      // Nodes above the given one have nothing left to try: they are there to be undone.
      if (k < g.moves.length - 1) this.stack.push({ depth: 0, faults: 0, pre: 0, last: m.thread, sleep: [], done: [], enabled: [], order: [], ti: 0, work: [], only: null, x, item: m.item });
    }
    const n = this.node(g.depth, g.faults, g.pre, g.last, [], x, g.item);
    n.order = g.threads;
    this.stack.push(n);
  }

  /**
   * Coarse transitions: after `thread`'s step, run its next steps while
   * they are local (local.ts), up to the depth bound; a step that is not
   * local is undone and left as the next scheduling point. The steps run
   * go into `xs`, their footprints into `fp`. With no fault left to
   * inject (`faults_left` false) a choice can only be answered 0, so a
   * step that asks one may still be local. `facts`: those of the node
   * the move is from. `short`: the depth bound stopped a next step that
   * is local (run to see, and undone).
   */
  private extend(thread: number, depth: number, fp: ReturnType<typeof new_footprint> | null, xs: Exec[], faults_left: boolean, facts: Ownership | null): { depth: number; violations: Violation[]; short: boolean } {
    const sim = this.sim;
    const w = sim.w;
    const not_local = (facts === this.facts ? this.not_local : this.not_local_top)[faults_left ? 1 : 0]!;
    for (;;) {
      const t = w.threads[thread]!;
      if (t.done || t.daemon || t.wait !== null) break;
      // A label whose step was never local in the learning runs: a scheduling point without running it to see.
      const top = t.stack[t.stack.length - 1];
      if (top && facts?.never_local(top.fn, top.pc)) break;
      const own = sim.tr.subtree_key53('threads', String(thread));
      if (not_local.has(own)) break;
      const before = frames_of(w, thread);
      const f = new_footprint();
      const y = sim.exec(thread, [], f);
      // Past the depth bound the step is run only to see whether it is local: not checked against the facts.
      const b = facts !== null && depth < this.o.depth && this.check_step(thread, f);
      if (b || !local_step(sim.w, thread, f, faults_left ? y.asked.length : 0, before, facts)) {
        sim.undo(y);
        this.stats.unmerged++;
        if (not_local.size >= 1 << 20) not_local.clear();
        if (!b && not_local_by_record(thread, f, facts)) not_local.add(own);
        break;
      }
      if (depth >= this.o.depth) {
        sim.undo(y);
        this.stats.unmerged++;
        return { depth, violations: NONE, short: true };
      }
      xs.push(y);
      depth++;
      this.stats.transitions++;
      this.stats.merged++;
      if (fp) add_footprint(fp, f);
      if (y.result.violations.length) return { depth, violations: y.result.violations, short: false };
    }
    return { depth, violations: NONE, short: false };
  }

  /** Queue the answer vectors that differ from this one first after `prefix`. */
  private alternatives(n: Node, prefix: readonly number[], asked: readonly number[], used_faults: number): void {
    let j = prefix.length;
    while (j < asked.length && asked[j]! <= 1) j++;
    if (j === asked.length) return;
    this.stats.choices++;
    if (used_faults + 1 > this.o.faults) return;
    for (; j < asked.length; j++) {
      for (let v = 1; v < asked[j]!; v++) {
        const p = prefix.slice();
        while (p.length < j) p.push(0);
        p.push(v);
        n.work.push(p);
      }
    }
  }
}

/**
 * The split depth: the smallest depth at which the search above it meets
 * at least `want` items (or the tree ends). It depends only on the
 * scenario, the bounds and `want`.
 */
export function split_depth(make: () => Sim, o: Omit<DfsOptions, 'split' | 'owns' | 'first' | 'budget'>, want: number): number {
  if (want <= 1) return 0;
  let prev = -1;
  for (let d = 1; d <= Math.min(o.depth, 64); d++) {
    const dfs = new Dfs(make(), { ...o, budget: Infinity, split: d, owns: () => false, first: true, item_limit: 0 });
    // Count the items without exploring below them.
    dfs.run();
    if (dfs.items >= want) return d;
    if (dfs.items === prev && dfs.stats.max_depth < d) return d; // the tree ended above d
    prev = dfs.items;
  }
  return Math.min(o.depth, 64);
}
