import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash_value } from '../../src/core/machine/hash.js';
import { Session } from '../../src/debugger/session.js';
import { test_world, type WorldSpec } from './worlds.js';

const spec_arb: fc.Arbitrary<WorldSpec> = fc.record({
  threads: fc.array(fc.record({ write: fc.boolean(), times: fc.integer({ min: 1, max: 12 }) }), { minLength: 1, maxLength: 4 }),
  policy: fc.constantFrom('rr' as const, 'random' as const),
  seed: fc.integer({ min: 0, max: 1000 }),
});

const opts_arb = fc.record({
  interval: fc.integer({ min: 1, max: 40 }),
  max_checkpoints: fc.integer({ min: 4, max: 8 }),
  event_window: fc.integer({ min: 16, max: 200 }),
  slice: fc.integer({ min: 1, max: 64 }),
});

const hash = (s: Session) => hash_value(s.world, ['events']);
const all_events = (s: Session) => JSON.stringify(s.events(1e9));

describe('time travel', () => {
  it('forward to N, back to M, forward again equals a straight run (hashes and event streams)', () => {
    fc.assert(
      fc.property(spec_arb, opts_arb, fc.nat(200), fc.nat(200), fc.nat(100), (spec, opts, a, b, extra) => {
        const straight = new Session({ world: () => test_world(spec), ...opts });
        straight.continue();
        const end = straight.step_no;
        const n = Math.min(a, end);
        const m = Math.min(b, n);
        const p = Math.min(n + extra, end);

        const ref = new Session({ world: () => test_world(spec) });
        ref.goto(n);
        const h_n = hash(ref);
        const ev_n = all_events(ref);
        ref.goto(p);
        const h_p = hash(ref);
        const ev_p = all_events(ref);

        const s = new Session({ world: () => test_world(spec), ...opts });
        s.step(n);
        expect(s.step_no).toBe(n);
        s.reverseStep(n - m);
        expect(s.step_no).toBe(m);
        s.step(n - m);
        expect(hash(s)).toBe(h_n);
        expect(all_events(s)).toBe(ev_n);
        // Past the history recorded so far, the scheduler takes over from the same World.
        s.goto(m);
        s.continue(p - m);
        expect(s.step_no).toBe(p);
        expect(hash(s)).toBe(h_p);
        expect(all_events(s)).toBe(ev_p);
        // Thinning keeps the checkpoints bounded.
        expect(s.checkpoint_info().steps.length).toBeLessThanOrEqual(opts.max_checkpoints);
      }),
      { numRuns: 150 },
    );
  });

  it('reverse-step to 0 reports the start, and goto past the end runs the scheduler to the end', () => {
    const spec: WorldSpec = { threads: [{ write: true, times: 3 }, { write: false, times: 3 }], policy: 'random', seed: 7 };
    const s = new Session({ world: () => test_world(spec), interval: 5 });
    expect(s.step(10).step).toBe(10);
    expect(s.reverseStep(100)).toMatchObject({ reason: 'start', step: 0 });
    const r = s.goto(1_000_000);
    expect(r.reason).toBe('end');
    const end = r.step;
    expect(s.goto(end - 3)).toMatchObject({ reason: 'limit', step: end - 3 });
    expect(s.end_step).toBe(end);
  });

  it('forcing a different thread in the past starts a new timeline', () => {
    const spec: WorldSpec = { threads: [{ write: false, times: 5 }, { write: false, times: 5 }], policy: 'rr', seed: 1 };
    const s = new Session({ world: () => test_world(spec), interval: 3 });
    s.step(10);
    const end_before = s.end_step;
    s.goto(4);
    const next = s.world.threads.find((t) => t.id !== s.last_thread!.id)!;
    // rr alternates: force the thread that just ran instead of the other one.
    s.step(1, s.last_thread!.name);
    expect(s.step_no).toBe(5);
    expect(s.end_step).toBe(5);
    expect(end_before).toBe(10);
    expect(s.forced_steps()).toEqual([5]);
    // The new timeline replays: back and forth gives the same state.
    const h = hash(s);
    s.step(3);
    s.goto(5);
    expect(hash(s)).toBe(h);
    void next;
  });

  it('a thread that cannot run is EBUSY', () => {
    const spec: WorldSpec = { threads: [{ write: true, times: 2 }, { write: true, times: 2 }], policy: 'rr', seed: 1 };
    const s = new Session({ world: () => test_world(spec) });
    s.step(2, 't0'); // t0 takes the write lock
    s.step(2, 't1'); // t1 spins
    expect(() => s.step(1, 't1')).toThrow(/blocked/);
    expect(() => s.step(1, 'nope')).toThrow(/no thread nope/);
  });

  it('user checkpoints survive a change of timeline', () => {
    const spec: WorldSpec = { threads: [{ write: false, times: 6 }, { write: true, times: 6 }], policy: 'random', seed: 3 };
    const s = new Session({ world: () => test_world(spec), interval: 4 });
    s.step(20);
    const h20 = hash(s);
    const cp = s.checkpoint();
    s.goto(6);
    s.step(1, s.world.threads.find((t) => s.world.threads.length > 1 && t.id !== s.last_thread?.id && !t.done)!.name);
    s.step(5);
    expect(s.end_step).toBeLessThan(20);
    s.restart(cp.id);
    expect(s.step_no).toBe(20);
    expect(hash(s)).toBe(h20);
  });

  it('events older than the window are regenerated from checkpoints', () => {
    const spec: WorldSpec = { threads: [{ write: true, times: 30 }, { write: false, times: 30 }], policy: 'random', seed: 11 };
    const big = new Session({ world: () => test_world(spec), event_window: 1_000_000 });
    big.continue();
    const small = new Session({ world: () => test_world(spec), event_window: 16, interval: 7, max_checkpoints: 5 });
    small.continue();
    expect(JSON.stringify(small.events(1e9))).toBe(JSON.stringify(big.events(1e9)));
    const keep = (e: { kind: string }) => e.kind === 'fault.retry';
    expect(JSON.stringify(small.events(5, keep))).toBe(JSON.stringify(big.events(5, keep)));
    expect(small.events(5, keep)).toHaveLength(5);
  });
});

describe('following a recorded schedule', () => {
  it('a Session given another one\'s schedule reaches the same states, also after going back and forth', () => {
    const spec: WorldSpec = { threads: [{ write: true, times: 8 }, { write: false, times: 8 }, { write: true, times: 8 }], policy: 'random', seed: 5 };
    const a = new Session({ world: () => test_world(spec), interval: 9 });
    a.breakpoints.add_catch(null, 'false');
    a.step(20);
    for (const t of ['t2', 't1', 't0']) {
      try {
        a.step(3, t);
        break;
      } catch {
        // blocked now: another one
      }
    }
    expect(a.forced_steps().length).toBeGreaterThan(0);
    a.continue();
    // A different seed: only the schedule can make b run like a.
    const b = new Session({ world: () => test_world({ ...spec, seed: 99 }), interval: 7, schedule: a.schedule() });
    b.breakpoints.add_catch(null, 'false');
    const state = (s: Session) => hash_value(s.world, ['events', 'sched', 'step', 'seq', 'metrics', 'violations']);
    for (const n of [15, 40, 23, 5, 60, 31]) {
      a.goto(n);
      b.goto(n);
      expect(state(b)).toBe(state(a));
    }
    b.goto(1e9);
    a.goto(1e9);
    expect(b.step_no).toBe(a.step_no);
    expect(state(b)).toBe(state(a));
  });
});
