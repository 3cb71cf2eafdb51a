// The REPL's whole-history queries: explain, hits, why-not, last-write.
// They answer without moving, and agree with what stepping shows.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/debugger/session.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { load_world } from '../../src/repl/main.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';

function interp(id: string, variant: string[], seed: number): Interpreter {
  const path = bundled_scenarios().find((s) => s.id === id)!.path;
  const lw = load_world(path, { variant, seed });
  return new Interpreter({ session: new Session({ world: lw.world }), load: (p) => load_world(p, {}), scenario: { name: lw.name, path: lw.path } }, {});
}

function ok(i: Interpreter, line: string) {
  const o = i.exec(line)!;
  expect(o.ok, `${line}: ${o.error?.message}`).toBe(true);
  return o;
}

describe('REPL whole-history queries', () => {
  // fault-vs-invalidate with the retry check gone: seed 1 maps a stale page at step 101.
  const i = interp('fault-vs-invalidate', ['mmu.no_retry_check'], 1);
  const stop = ok(i, 'continue');
  const at = (stop.result as { step: number }).step;

  it('the run stops at the violation', () => {
    expect((stop.result as { stopped: { reason: string; violation?: { invariant: string } } }).stopped.violation?.invariant).toBe('mmu.stale_mapping');
  });

  it('explain: the diagram of the violation, within 80x40, without moving', () => {
    const o = ok(i, 'explain');
    const r = o.result as { target: number; text: string; slice: number[]; steps: { step: number; lines: string[] }[] };
    expect(r.target).toBe(at);
    const lines = r.text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^${at} mmu.stale_mapping: `));
    expect(o.text).toBe(r.text);
    // The fault's map and the invalidation's begin are shown.
    const said = r.steps.flatMap((s) => s.lines).join('\n');
    expect(said).toMatch(/map 0x8000\d000 -> 0x1000\d000/);
    expect(said).toMatch(/kvm_mmu_invalidate_begin/);
    expect(ok(i, 'print w.step').text).toBe(String(at));
    expect(ok(i, 'explain --markdown').text).toContain('```');
  });

  it('explain STEP slices from any step; a bad step is EINVAL and the REPL goes on', () => {
    const o = ok(i, 'explain 10');
    expect((o.result as { target: number; violation: unknown }).target).toBe(10);
    expect((o.result as { violation: unknown }).violation).toBeNull();
    const bad = i.exec('explain 100000')!;
    expect(bad.ok).toBe(false);
    expect(bad.error!.code).toBe('EINVAL');
    expect(bad.error!.message).toMatch(/step 100000: expected a step from 1 to \d+/);
    expect(ok(i, 'print 1').text).toBe('1');
  });

  it('at step 0 there is nothing to explain or to look back on', () => {
    const fresh = interp('default', [], 1);
    const o = fresh.exec('explain')!;
    expect(o.ok).toBe(false);
    expect(o.error!.message).toMatch(/nothing has run yet/);
    expect((ok(fresh, 'hits vcpu.enter').result as { hits: unknown[] }).hits).toEqual([]);
    expect((ok(fresh, 'last-write w.step').result as { step: number | null }).step).toBeNull();
  });

  it('hits lists every matching event of the history, as `events` shows them', () => {
    const o = ok(i, 'hits fault.map');
    const r = o.result as { hits: { step: number; thread: string; event: Record<string, unknown> }[]; candidates: number };
    const ev = ok(i, 'events --last 100000 fault.map');
    const steps = (ev.result as { events: { step: number }[] }).events.map((e) => e.step);
    expect(r.hits.map((h) => h.step)).toEqual(steps);
    expect(r.candidates).toBe(steps.length);
    // Filters and conditions narrow it; a condition sees the event.
    const f = ok(i, `hits fault.map thread=${r.hits[0]!.thread}`).result as { hits: { thread: string }[] };
    expect(f.hits.every((h) => h.thread === r.hits[0]!.thread)).toBe(true);
    const c = ok(i, `hits fault.map if e.step > ${r.hits[0]!.step}`).result as { hits: unknown[] };
    expect(c.hits.length).toBe(r.hits.length - 1);
    expect(i.exec('hits no.such.kind')!.ok).toBe(false);
  });

  it('why-not: no event of the kind; filters that never matched; the condition at the closest candidates', () => {
    ok(i, 'break request.make req=NESTED_S2_UNMAP');
    const id1 = (ok(i, 'info breakpoints').result as { breakpoints: { id: number }[] }).breakpoints.at(-1)!.id;
    const a = ok(i, `why-not ${id1}`).result as { reason: string; candidates: number };
    expect(a.candidates).toBe(0);
    expect(a.reason).toMatch(/no request.make event happened/);
    ok(i, 'break fault.map thread=nosuch');
    const id2 = id1 + 1;
    const b = ok(i, `why-not ${id2}`).result as { candidates: number; passed_filters: number; closest: { failed: { filter: string; got: unknown }[] }[] };
    expect(b.candidates).toBeGreaterThan(0);
    expect(b.passed_filters).toBe(0);
    expect(b.closest[0]!.failed[0]!.filter).toBe('thread=nosuch');
    ok(i, 'break fault.map if e.level == 9');
    const c = ok(i, `why-not ${id2 + 1}`).result as { passed_filters: number; closest: { cond: unknown }[]; reason: string };
    expect(c.passed_filters).toBe(b.candidates);
    expect(c.closest[0]!.cond).toBe(false);
    expect(c.reason).toMatch(/was false at every one/);
    expect(i.exec('why-not 99')!.error!.code).toBe('ENOENT');
  });

  it('last-write names the step that last changed a value, and what it was before', () => {
    const o = ok(i, 'last-write w.kvm.mmu_invalidate_in_progress');
    const r = o.result as { step: number | null; value: unknown; before: unknown; thread: string };
    expect(r.step).not.toBeNull();
    // Going there shows the change.
    const now = ok(i, 'print w.kvm.mmu_invalidate_in_progress').text;
    expect(String(r.value)).toBe(now);
    ok(i, `goto ${r.step! - 1}`);
    expect(ok(i, 'print w.kvm.mmu_invalidate_in_progress').text).toBe(String(r.before));
    ok(i, `goto ${r.step!}`);
    expect(ok(i, 'print w.kvm.mmu_invalidate_in_progress').text).toBe(now);
    ok(i, `goto ${at}`);
    const never = ok(i, 'last-write w.arch').result as { step: number | null };
    expect(never.step).toBeNull();
  });
});
