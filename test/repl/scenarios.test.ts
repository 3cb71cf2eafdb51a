// A scripted session per bundled scenario: breakpoints on vCPU requests,
// TLBIs, pending_unmap and fault retries stop exactly where a straight run
// says those events happen; reverse-step and continue land on the same
// stops again; asserts check the state there.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/debugger/session.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { load_world } from '../../src/repl/main.js';

const KINDS = new Set(['request.make', 'tlbi', 'pending_unmap.set', 'fault.retry']);

describe.each(bundled_scenarios().map((s) => [s.id, s.path] as const))('scenario %s', (_id, path) => {
  it('stops on requests, TLBIs, pending_unmap and retries where they happen, forwards and back', () => {
    const lw = load_world(path, {});
    // The reference: one straight run, every event and violation.
    const ref = new Session({ world: lw.world, event_window: 1_000_000 });
    ref.breakpoints.add_catch(null, 'false');
    const end = ref.continue();
    const events = ref.events(1e9, (e) => KINDS.has(e.kind));
    const violation_steps = ref.world.violations.map((v) => v.step);
    const want = [...new Set([...events.map((e) => e.step), ...violation_steps])].sort((a, b) => a - b);

    const i = new Interpreter({ session: new Session({ world: lw.world, interval: 50 }), scenario: { name: lw.name, path: lw.path } }, { json: true });
    const ok = (line: string) => {
      const o = i.exec(line)!;
      expect(o.ok, `${line}: ${o.text}`).toBe(true);
      return o.result as { step: number; stopped: { reason: string; event?: { kind: string; step: number } } };
    };
    ok('break request');
    ok('break tlbi');
    ok('break pending_unmap');
    ok('break retry');
    const got: number[] = [];
    for (let n = 0; ; n++) {
      const r = ok('continue');
      if (r.stopped.reason === 'end' || r.stopped.reason === 'deadlock') {
        expect(r.step).toBe(end.step);
        break;
      }
      expect(['breakpoint', 'violation']).toContain(r.stopped.reason);
      if (r.stopped.event) {
        expect(KINDS.has(r.stopped.event.kind)).toBe(true);
        expect(r.stopped.event.step).toBe(r.step);
      }
      got.push(r.step);
      ok(`assert w.step === ${r.step}`);
      if (n < 4) {
        // Back one step and forward again: the same stop.
        expect(ok('reverse-step').step).toBe(r.step - 1);
        ok(`assert w.step === ${r.step - 1}`);
        expect(ok('continue').step).toBe(r.step);
      }
    }
    expect(got).toEqual(want);
    // From the end, reverse-continue finds the same stops in reverse.
    const back: number[] = [];
    for (;;) {
      const r = ok('reverse-continue');
      if (r.stopped.reason === 'start') break;
      back.push(r.step);
    }
    expect(back).toEqual([...want].reverse());
  });
});
