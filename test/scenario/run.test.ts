// The runner with the real model layers: bundled scenarios load and run,
// runs are deterministic, and the stale-mapping race shows with its variant.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { compare_expect, run_scenario } from '../../src/scenario/run.js';
import { event_to_json, to_json } from '../../src/repl/format.js';

const path = (id: string) => bundled_scenarios().find((s) => s.id === id)!.path;

describe('run_scenario', () => {
  it('every bundled scenario loads', () => {
    const all = bundled_scenarios();
    expect(all.map((s) => s.id)).toEqual(expect.arrayContaining(['default', 'fault-vs-invalidate']));
    for (const s of all) expect(() => load_scenario(s.path), s.id).not.toThrow();
  });

  it('default runs to the end without a violation, as it expects', () => {
    const l = load_scenario(path('default'));
    const r = run_scenario(l);
    expect(r.status).toBe('end');
    expect(r.violation).toBeNull();
    expect(r.steps).toBeGreaterThan(0);
    expect(r.events.length).toBeGreaterThan(0);
    expect(r.events.every((e) => e.step >= 1 && e.step <= r.steps)).toBe(true);
    expect(compare_expect(l, r)).toEqual({ met: true, text: 'as expected, no violation' });
  });

  it('is deterministic: same scenario, variants and seed give the same events and hash', () => {
    const once = () => {
      const r = run_scenario(load_scenario(path('default'), { seed: 42 }));
      return { hash: r.hash, events: r.events.map((e) => to_json(event_to_json(e))), picks: r.schedule.picks };
    };
    expect(once()).toEqual(once());
  });

  it('different seeds give different schedules', () => {
    const picks = new Set<string>();
    for (const seed of [1, 2, 3, 4]) picks.add(run_scenario(load_scenario(path('default'), { seed })).schedule.picks.join(','));
    expect(picks.size).toBeGreaterThan(1);
  });

  it('stops at the step limit', () => {
    const r = run_scenario(load_scenario(path('default')), { steps: 5, keep_events: false });
    expect(r.status).toBe('limit');
    expect(r.steps).toBe(5);
    expect(r.events).toEqual([]);
  });

  it('streams events to on_event', () => {
    const seen: string[] = [];
    const r = run_scenario(load_scenario(path('default')), { on_event: (e) => seen.push(e.kind) });
    expect(seen).toEqual(r.events.map((e) => e.kind));
  });

  it('fault-vs-invalidate: mmu.no_retry_check lets a fault install a stale mapping for some seed; not without it', () => {
    let found: number | null = null;
    for (let seed = 1; seed <= 300 && found === null; seed++) {
      const r = run_scenario(load_scenario(path('fault-vs-invalidate'), { seed, variants: ['mmu.no_retry_check'] }), { keep_events: false });
      if (r.violation) {
        expect(r.violation.invariant).toBe('mmu.stale_mapping');
        expect(r.status).toBe('violation');
        found = seed;
      }
    }
    expect(found).not.toBeNull();
    for (let seed = 1; seed <= 300; seed++) {
      const r = run_scenario(load_scenario(path('fault-vs-invalidate'), { seed }), { keep_events: false });
      expect(r.violation, `seed ${seed}`).toBeNull();
    }
  });
});
