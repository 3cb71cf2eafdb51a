// History fields (src/core/machine/history.ts) must not decide anything:
// a run whose history fields are overwritten between steps (stamps set to
// 0, the start of time, keeping their -1 sentinels; counts to 0 or to 1000)
// must take the same schedule, with the same runnable threads, the same
// events (history fields compared by class) and the same violations, as
// the run left alone. That is what lets the explorer's state key hash them
// by class (track.ts). The last test declares a field the model does
// branch on and checks that the comparison sees it.
import { describe, expect, it } from 'vitest';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import { history_fields, stamp_class, type HistoryKind } from '../../src/core/machine/history.js';
import type { World } from '../../src/core/machine/world.js';

const NOT_STATE = new Set(['step', 'seq', 'events', 'metrics', 'sched', 'violations']);

/** Overwrite every history field in `v` (deadlines are left: the explorer keys on them). */
function perturb(v: unknown, fields: ReadonlyMap<string, HistoryKind>, count: number): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const h = fields.get(k);
    if (h === 'stamp') o[k] = stamp_class(o[k]);
    else if (h === 'count' && typeof o[k] === 'number') o[k] = count;
    else perturb(o[k], fields, count);
  }
}

function perturb_world(w: World, fields: ReadonlyMap<string, HistoryKind>, count: number): void {
  const o = w as unknown as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!NOT_STATE.has(k)) perturb(o[k], fields, count);
}

/** An event as the model acts on it: history fields by class, no counters. */
function event_class(e: object, fields: ReadonlyMap<string, HistoryKind>): string {
  return JSON.stringify(e, (k, v: unknown) => {
    if (k === 'seq' || k === 'step') return undefined;
    const h = fields.get(k);
    if (h === 'stamp') return stamp_class(v);
    if (h === 'count') return undefined;
    return typeof v === 'bigint' ? v.toString() : v;
  });
}

/**
 * Run `path` with `seed` twice, the second time replaying the first's
 * schedule with the history fields overwritten after every step; the first
 * step at which the two differ, or null.
 */
function diverges(path: string, variants: string[], seed: number, fields: ReadonlyMap<string, HistoryKind>, steps = 4000): string | null {
  const cfg = load_scenario(path, { seed, variants }).config;
  const a = new Machine(create_world(cfg));
  const trace: string[] = [];
  for (let i = 0; i < steps; i++) {
    const r = a.step();
    if (r.status !== 'ok') break;
    trace.push(`${a.runnable().join(',')}|${r.events.map((e) => event_class(e, fields)).join(';')}|${r.violations.map((v) => v.invariant).join(',')}`);
  }
  const b = new Machine(create_world(cfg));
  b.replay = { s: a.schedule, pick: 0, choice: 0 };
  for (let i = 0; i < trace.length; i++) {
    let r;
    try {
      r = b.step();
    } catch (e) {
      return `step ${i + 1}: ${(e as Error).message}`;
    }
    const got = `${b.runnable().join(',')}|${r.events.map((e) => event_class(e, fields)).join(';')}|${r.violations.map((v) => v.invariant).join(',')}`;
    if (got !== trace[i]) return `step ${i + 1}: ${trace[i]} became ${got}`;
    perturb_world(b.w, fields, i % 2 ? 1000 : 0);
  }
  return null;
}

/** Variants that break something, on the scenario that shows it: their violating paths carry history fields too. */
const VARIANTS: Record<string, string[]> = {
  'parallel-walk-rcu': ['pgtable.free_unlinked_sync', 'pgtable.no_table_tlbi'],
  'hv-tlb-flush-inhibit': ['hv.no_srcu_sync'],
  'numa-invalidate-retry': ['mmu.no_notifier_flush'],
  'fault-vs-invalidate': ['mmu.no_retry_check'],
  'nv-s2-recycle': ['nv.no_unmap_request'],
};

const SEEDS = [1, 2, 3, 4, 5, 6];

describe('history fields decide nothing', () => {
  it('the model declares the fields the explorer abstracts', () => {
    const f = history_fields();
    for (const name of ['fill_step', 'stale_since', 'freed_seq', 'changed_step', 'section_start', 'done_step', 'nobjs', 'until']) expect(f.has(name), name).toBe(true);
  });

  for (const s of bundled_scenarios()) {
    for (const variants of [[], ...(VARIANTS[s.id] ?? []).map((v) => [v])]) {
      it(`${s.id}${variants.length ? ` with ${variants[0]}` : ''}: overwriting them between steps changes no run (seeds ${SEEDS[0]}-${SEEDS[SEEDS.length - 1]})`, () => {
        for (const seed of SEEDS) expect(diverges(s.path, variants, seed, history_fields()), `seed ${seed}`).toBeNull();
      });
    }
  }

  it('a field the model branches on is caught: RCU gp_seq taken for a stamp changes parallel-walk-rcu', () => {
    const s = bundled_scenarios().find((x) => x.id === 'parallel-walk-rcu')!;
    const wrong = new Map(history_fields());
    wrong.set('gp_seq', 'stamp');
    const found = SEEDS.map((seed) => diverges(s.path, [], seed, wrong)).filter((d) => d !== null);
    expect(found.length).toBeGreaterThan(0);
  });
});
