// A model function's caller reads what it returned from t->retval, the
// model's return register (model.ts ret()). A function that returns on
// some path without setting it leaves its caller reading whatever the
// previous callee returned: wrong, and a value that splits the explorer's
// states for nothing. Every bundled scenario, with every variant, over
// seeded random schedules: no step reads t.retval between a call and the
// callee's setting it.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/core/machine/machine.js';
import { all_variants } from '../../src/core/machine/variants.js';
import type { Thread } from '../../src/core/machine/world.js';
import { create_world } from '../../src/core/world_init.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';

const SEEDS = 8;
const STEPS = 20_000;

/** The labels (scenario: fn:pc) where a caller read t.retval its callee had not set, with a count. */
function unset_reads(id: string, path: string, variants: string[]): Map<string, number> {
  const out = new Map<string, number>();
  const l = load_scenario(path, { variants });
  for (let seed = 1; seed <= SEEDS; seed++) {
    const w = create_world({ ...l.config, sched: { ...l.config.sched, seed } });
    const unset = new Set<number>();
    // t.retval as an accessor: a read while unset is recorded at the reading frame's label.
    for (const t of w.threads as Thread[]) {
      let v = t.retval;
      Object.defineProperty(t, 'retval', {
        get() {
          if (unset.has(t.id)) {
            const f = t.stack[t.stack.length - 1];
            const k = `${id}: ${f ? `${f.fn}:${f.pc}` : '(done)'}`;
            out.set(k, (out.get(k) ?? 0) + 1);
          }
          return v;
        },
        set(x) {
          unset.delete(t.id);
          v = x;
        },
        enumerable: true,
        configurable: true,
      });
    }
    const m = new Machine(w, { invariants: false });
    for (let s = 0; s < STEPS; s++) {
      const r = m.runnable();
      if (r.length === 0) break;
      const tid = r[(s * 7919 + seed * 104729) % r.length]!;
      const t = w.threads[tid]!;
      const depth = t.stack.length;
      try {
        m.step(tid);
      } catch (e) {
        if (!String((e as Error).message).startsWith('BUG_ON')) throw e;
        break; // a BUG_ON a breaking variant reaches
      }
      if (t.stack.length > depth) unset.add(tid);
    }
  }
  return out;
}

describe('t.retval', () => {
  it('is set by every callee before its caller reads it (bundled scenarios, every variant)', () => {
    const found = new Map<string, number>();
    const scenarios = bundled_scenarios();
    let runs = 0;
    for (const b of scenarios) {
      const mine = all_variants().filter((v) => v.arch === undefined || v.arch === b.arch);
      for (const variants of [[], ...mine.map((v) => [v.name])]) {
        for (const [k, n] of unset_reads(b.id, b.path, variants)) found.set(k, (found.get(k) ?? 0) + n);
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(scenarios.length);
    expect([...found.keys()].sort()).toEqual([]);
  }, 300_000);
});
