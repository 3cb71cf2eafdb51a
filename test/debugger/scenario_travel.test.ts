// Time travel on the bundled scenarios (the whole arm64/x86 stack): random
// seeds, random moves back and forth, and pokes of maple trees and page
// tables in the past, against redoing the same history forward only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash_value } from '../../src/core/machine/hash.js';
import { Session } from '../../src/debugger/session.js';
import '../../src/debugger/trees.js';
import '../../src/debugger/pagetables.js';
import { load_world } from '../../src/repl/main.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { to_json } from '../../src/repl/format.js';

const SCENARIOS = bundled_scenarios().map((s) => s.path);
const hash = (s: Session) => hash_value(s.world, ['events']);

type Move = { op: 'step' | 'back' | 'goto'; n: number } | { op: 'mt'; n: number } | { op: 'pt'; n: number };

const move: fc.Arbitrary<Move> = fc.oneof(
  fc.record({ op: fc.constantFrom('step' as const, 'back' as const, 'goto' as const), n: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant('mt' as const), n: fc.nat(1000) }),
  fc.record({ op: fc.constant('pt' as const), n: fc.nat(7) }),
);

describe('time travel on the bundled scenarios', () => {
  it('moves and pokes in any order equal a forward-only redo of the same history', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCENARIOS), fc.integer({ min: 0, max: 50 }), fc.array(move, { maxLength: 12 }), (path, seed, moves) => {
        const lw = load_world(path, { seed });
        const s = new Session({ world: lw.world, interval: 37, max_checkpoints: 6, event_window: 100 });
        s.breakpoints.add_catch(null, 'false');
        s.poke('mt.new', { name: 't', alloc: false }, 'mt new t');
        for (const m of moves) {
          if (m.op === 'step') s.step(m.n);
          else if (m.op === 'back') s.reverseStep(m.n);
          else if (m.op === 'goto') s.goto(m.n * 3);
          else if (m.op === 'mt') s.poke('mt.store', { tree: 't', first: m.n * 16, last: m.n * 16 + 15, value: m.n * 4 + 1, insert: false }, `mt store t ${m.n * 16} ${m.n * 16 + 15} ${m.n * 4 + 1}`);
          else if (s.world.arm64) s.poke('pt.map', { mmu: 's2', ipa: 0x4000_0000 + m.n * 0x20_0000, pa: 0x9000_0000 + m.n * 0x1000, size: 4096, prot: 6 }, `pt map s2 ...${m.n}`);
        }
        // Forward only, from a fresh Session: the pokes at their steps, the same picks.
        const r = new Session({ world: lw.world, interval: 1_000_000 });
        r.breakpoints.add_catch(null, 'false');
        const pokes = s.pokes();
        let p = 0;
        const apply = (step: number) => {
          while (p < pokes.length && pokes[p]!.step === step) {
            const k = pokes[p++]!;
            r.poke(k.name, structuredClone(k.args), k.text);
          }
        };
        apply(0);
        const at = s.step_no;
        for (let step = 1; step <= at; step++) {
          r.step(1);
          apply(step);
        }
        expect(r.step_no).toBe(at);
        expect(hash(s)).toBe(hash(r));
        expect(to_json(s.events(300))).toBe(to_json(r.events(300)));
        // The recorded future (pokes made before going back included), then the scheduler to the end.
        for (let step = at + 1; step <= s.end_step; step++) {
          r.step(1);
          apply(step);
        }
        s.goto(1e9);
        r.goto(1e9);
        expect(r.step_no).toBe(s.step_no);
        expect(hash(s)).toBe(hash(r));
      }),
      { numRuns: 40 },
    );
  });
});
