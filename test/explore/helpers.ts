// Shared by the explorer's tests: bundled scenarios by id, fixtures, and a
// quiet explore() (one worker unless told, no progress).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/core/world_init.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario, type LoadedScenario } from '../../src/scenario/load.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/explore/explore.js';
import type { World } from '../../src/core/machine/world.js';
import { Dfs } from '../../src/explore/dfs.js';
import { Sim } from '../../src/explore/sim.js';
import { learn_facts, Ownership, type Breach } from '../../src/explore/facts.js';
import { merge_shards, write_shard } from '../../src/explore/report.js';
import { VisitedTable, visited_buffer } from '../../src/explore/visited.js';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

export function bundled(id: string, variants: string[] = []): LoadedScenario {
  const s = bundled_scenarios().find((x) => x.id === id);
  if (!s) throw new Error(`no bundled scenario ${id}`);
  return load_scenario(s.path, { variants });
}

export function fixture(name: string, variants: string[] = []): LoadedScenario {
  return load_scenario(join(FIXTURES, `${name}.yaml`), { variants });
}

export function run(loaded: LoadedScenario, o: Partial<ExploreOptions> & Pick<ExploreOptions, 'strategy'>): Promise<ExploreResult> {
  return explore(loaded, { variants: loaded.config.variants }, { workers: 1, ...o });
}

/** Shards 1..n of one search (shard k on `workers(k)` workers), their result files written in `dir`, and the merge of those files. */
export async function run_shards(loaded: LoadedScenario, n: number, o: Partial<ExploreOptions> & Pick<ExploreOptions, 'strategy'>, dir: string, tag: string, workers: (k: number) => number = () => 1) {
  const shards: ExploreResult[] = [];
  const files: string[] = [];
  for (let k = 1; k <= n; k++) {
    const r = await run(loaded, { ...o, shard: { k, n }, workers: workers(k) });
    const f = join(dir, `${tag}.shard-${k}-of-${n}.json`);
    write_shard(f, loaded, r, null);
    shards.push(r);
    files.push(f);
  }
  return { shards, files, merged: merge_shards(files).result };
}

// ---------------------------------------------------------------------------
// What a search reaches, to compare a reduction with the search without it.
// End states are compared without the model's step stamps (changed_step,
// fill_step, section_start...): reordering steps renumbers them, and the
// model only compares stamps by order (src/explore/sim.ts key53()).

const CLOCK = /(step|seq|since|until|section_start)$/i;
const BOOKKEEPING = new Set(['events', 'metrics', 'sched', 'violations', 'steps']);

/** The World as a string, without bookkeeping and step stamps. */
export function end_state(w: World): string {
  return JSON.stringify(w, (k, v: unknown) =>
    BOOKKEEPING.has(k) || CLOCK.test(k) ? undefined : typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v,
  );
}

/** Small scenarios the reductions are checked on: fixture, variants, preemption bound (null: none, sleep sets on). */
export const REDUCTION_CASES: [string, string[], number | null][] = [
  ['coarse-race', [], 1],
  ['coarse-race', ['mmu.no_retry_check'], 1],
  ['coarse-request', [], 1],
  ['coarse-request', ['kvm.exit_request_before_mode'], 1],
  ['coarse-x86', [], 1],
  ['coarse-x86', ['mmu.no_retry_check'], 1],
  ['kick2', [], null],
  ['inval', [], null],
];

export interface Reach {
  ends: Set<string>;
  violations: Set<string>;
  states: number;
  merged: number;
  /** Steps run to see whether they were local and undone (dfs.ts extend()). */
  unmerged: number;
  revisits: number;
  cut: boolean;
  complete: boolean;
  breach: Breach | null;
}

export interface ReachOptions {
  preemptions: number | null;
  coarse?: boolean;
  por?: boolean;
  /** The step and event counters in the state key (the key before it left them out). */
  key_counters?: boolean;
  /** Every answer of every choice, `exhaustive` or not. */
  all_answers?: boolean;
  /** History fields (core/machine/history.ts) keyed by their exact values. */
  exact_history?: boolean;
  faults?: number;
  depth?: number;
  /** Learned ownership (facts.ts): from this many random runs, or these facts. */
  facts?: number | Ownership;
  /** With learned facts: keep the labels learned never local (Facts.never_local; default true). */
  never_local?: boolean;
  /**
   * Keys that collide on purpose: every state's key53() is 0, and
   * key_check() numbers the states by their full key ('check') or is 0 too
   * ('both').
   */
  collide?: 'check' | 'both';
  /** Visits go to a shared VisitedTable (as with workers) instead of the search's own map. */
  table?: boolean;
}

/**
 * Search fixture `name` to the end (past violations) and collect its end
 * states and violations. With learned facts, a breach is learned and the
 * search started again, as explore() does (`restarts` counts them), unless
 * `o.facts` is an Ownership (then the breach is returned).
 */
export function reach(name: string, variants: string[], o: ReachOptions): Reach & { restarts: number } {
  const l = fixture(name, variants);
  let facts = o.facts === undefined ? null : typeof o.facts === 'number' ? learn_facts(l.config, 1, o.depth ?? 400, o.faults ?? 0, o.facts) : o.facts;
  if (facts && o.never_local === false) facts = new Ownership({ ...facts.facts, never_local: [] });
  for (let restarts = 0; ; restarts++) {
    const r = reach_once(l.config, o, facts);
    if (!r.breach || typeof o.facts !== 'number') return { ...r, restarts };
    facts!.learn_breach(r.breach);
  }
}

function reach_once(config: LoadedScenario['config'], o: ReachOptions, facts: Ownership | null): Reach {
  const sim = new Sim(config, { undo: true, key_counters: o.key_counters ?? false, all_answers: o.all_answers ?? false, exact_history: o.exact_history ?? false });
  if (o.collide) {
    const numbers = new Map<string, number>();
    const number = (k: string) => numbers.get(k) ?? (numbers.set(k, numbers.size + 1), numbers.size);
    sim.key53 = () => 0;
    sim.key_check = o.collide === 'check' ? () => number(sim.key()) : () => 0;
  }
  const ends = new Set<string>();
  const violations = new Set<string>();
  const dfs = new Dfs(sim, {
    depth: o.depth ?? 400,
    preemptions: o.preemptions,
    faults: o.faults ?? 0,
    por: o.por ?? true,
    coarse: o.coarse ?? true,
    facts,
    budget: Infinity,
    split: 0,
    owns: () => true,
    first: true,
    visited: o.table ? new VisitedTable(visited_buffer(1 << 16)) : undefined,
    collect: { end: () => ends.add(end_state(sim.w)), violation: (v) => v.forEach((x) => violations.add(x)) },
  });
  const status = dfs.run();
  return { ends, violations, states: dfs.states.size, merged: dfs.stats.merged, unmerged: dfs.stats.unmerged, revisits: dfs.stats.revisits, cut: dfs.stats.cut, complete: status === 'done', breach: dfs.breach };
}
