import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash_value } from '../../src/core/machine/hash.js';
import { Session } from '../../src/debugger/session.js';
import { test_world, type WorldSpec } from './worlds.js';

const spec_arb: fc.Arbitrary<WorldSpec> = fc.record({
  threads: fc.array(fc.record({ write: fc.boolean(), times: fc.integer({ min: 1, max: 10 }) }), { minLength: 1, maxLength: 3 }),
  policy: fc.constantFrom('rr' as const, 'random' as const),
  seed: fc.integer({ min: 0, max: 1000 }),
});

type Op =
  | { op: 'step'; n: number }
  | { op: 'back'; n: number }
  | { op: 'goto'; at: number }
  | { op: 'force'; thread: number }
  | { op: 'bump'; n: number }
  | { op: 'variant'; on: boolean };

const op_arb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('step' as const), n: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('back' as const), n: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('goto' as const), at: fc.nat(80) }),
  fc.record({ op: fc.constant('force' as const), thread: fc.nat(2) }),
  fc.record({ op: fc.constant('bump' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('variant' as const), on: fc.boolean() }),
);

const hash = (s: Session) => hash_value(s.world, ['events']);

/** Redo a session's history forward only, from a fresh Session: the oracle. */
function straight(spec: WorldSpec, s: Session): Session {
  const r = new Session({ world: () => test_world(spec), interval: 1_000_000 });
  const picks = s.schedule().picks;
  const forced = new Set(s.forced_steps());
  const pokes = s.pokes();
  let p = 0;
  const apply = (step: number) => {
    while (p < pokes.length && pokes[p]!.step === step) {
      const k = pokes[p++]!;
      r.poke(k.name, structuredClone(k.args), k.text);
    }
  };
  apply(0);
  for (let step = 1; step <= s.step_no; step++) {
    if (forced.has(step)) r.step(1, r.world.threads[picks[step - 1]!]!.name);
    else r.step(1);
    apply(step);
  }
  return r;
}

describe('pokes and forced steps under time travel', () => {
  it('any mix of steps, reverse steps, gotos, forced threads and pokes equals redoing the history forward', () => {
    fc.assert(
      fc.property(spec_arb, fc.array(op_arb, { maxLength: 25 }), fc.integer({ min: 1, max: 20 }), (spec, ops, interval) => {
        const s = new Session({ world: () => test_world(spec), interval, max_checkpoints: 5, event_window: 32, slice: 7 });
        for (const o of ops) {
          switch (o.op) {
            case 'step':
              s.step(o.n);
              break;
            case 'back':
              s.reverseStep(o.n);
              break;
            case 'goto':
              s.goto(o.at);
              break;
            case 'force': {
              const t = s.world.threads[o.thread % s.world.threads.length]!;
              try {
                s.step(1, t.name);
              } catch (e) {
                expect((e as { code?: string }).code).toBe('EBUSY');
              }
              break;
            }
            case 'bump':
              s.poke('test.bump', { n: o.n }, `bump ${o.n}`);
              break;
            case 'variant':
              s.poke('variant', { name: 'dbg.quiet', on: o.on }, `variant dbg.quiet ${o.on ? 'on' : 'off'}`);
              break;
          }
        }
        const r = straight(spec, s);
        expect(r.step_no).toBe(s.step_no);
        expect(hash(s)).toBe(hash(r));
        expect(JSON.stringify(s.events(1e9))).toBe(JSON.stringify(r.events(1e9)));
      }),
      { numRuns: 200 },
    );
  });
});
