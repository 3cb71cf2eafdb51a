import { describe, expect, it } from 'vitest';
import { define_invariant } from '../../src/core/machine/invariants.js';
import { parse_filter } from '../../src/debugger/breakpoints.js';
import { Session, type Stop } from '../../src/debugger/session.js';
import { small_world } from './worlds.js';

// Fires whenever a write bumps the counter to a multiple of 5 (test-only).
define_invariant({
  name: 'dbg.seq_multiple_of_5',
  description: 'test: mmu_invalidate_seq is never a multiple of 5 after a request',
  on: ['request.make'],
  check: (w, ev) => (w.kvm.mmu_invalidate_seq % 5 === 0 ? { message: `seq=${w.kvm.mmu_invalidate_seq}`, thread: ev!.thread, values: {} } : null),
});

const session = (seed = 1, times = 20) => new Session({ world: () => small_world(seed, times), interval: 10, max_checkpoints: 6, event_window: 64 });

/** Every stop of a forward run to the end. */
function stops(s: Session): Stop[] {
  const out: Stop[] = [];
  for (;;) {
    const r = s.continue();
    if (r.reason === 'end' || r.reason === 'deadlock') return out;
    out.push(r);
  }
}

describe('breakpoints', () => {
  it('stop on an event kind with field filters, numbers compared numerically', () => {
    const s = session();
    s.breakpoints.add_catch('dbg.seq_multiple_of_5', 'false');
    const bp = s.breakpoints.add_break({ kind: 'request.make', filters: [parse_filter('req=NESTED_S2_UNMAP'), parse_filter('target=0x1')] });
    const all = stops(s);
    expect(all.length).toBeGreaterThan(2);
    for (const st of all) {
      expect(st).toMatchObject({ reason: 'breakpoint', breakpoint: bp.id });
      expect(st.event).toMatchObject({ kind: 'request.make', req: 'NESTED_S2_UNMAP', target: 1 });
      expect(st.event!.step).toBe(st.step);
    }
    expect(bp.hits).toBe(all.length);
    // The same stops, counted from the event log.
    const made = s.events(1e9, (e) => e.kind === 'request.make' && e['req'] === 'NESTED_S2_UNMAP');
    expect(made.map((e) => e.step)).toEqual(all.map((x) => x.step));
  });

  it('ignore counts skip hits; temporary breakpoints go after their first stop', () => {
    const s = session();
    s.breakpoints.add_catch(null, 'false');
    const ref = session();
    ref.breakpoints.add_catch(null, 'false');
    const retries = (() => {
      ref.continue();
      return ref.events(1e9, (e) => e.kind === 'fault.retry').map((e) => e.step);
    })();
    expect(retries.length).toBeGreaterThan(4);
    const bp = s.breakpoints.add_break({ kind: 'fault.retry' });
    s.breakpoints.set_ignore(bp.id, 2);
    expect(s.continue().step).toBe(retries[2]);
    expect(bp.hits).toBe(3);
    s.breakpoints.delete([bp.id]);
    const t = s.breakpoints.add_break({ kind: 'fault.retry', temporary: true });
    expect(s.continue()).toMatchObject({ reason: 'breakpoint', breakpoint: t.id, step: retries[3] });
    expect(s.breakpoints.all().some((b) => b.id === t.id)).toBe(false);
    expect(['end', 'deadlock']).toContain(s.continue().reason);
  });

  it('conditions see the event and a read-only World; one that throws stops with an error', () => {
    const s = session();
    s.breakpoints.add_catch(null, 'false');
    const ok = s.breakpoints.add_break({ kind: 'fault.retry', cond: "e.reason === 'seq' && w.threads.length === 3" });
    const st = s.continue();
    expect(st).toMatchObject({ reason: 'breakpoint', breakpoint: ok.id });
    expect(st.event!['reason']).toBe('seq');
    s.breakpoints.delete([ok.id]);
    const bad = s.breakpoints.add_break({ kind: 'fault.retry', cond: 'w.nope.deeper === 1' });
    const err = s.continue();
    expect(err).toMatchObject({ reason: 'breakpoint', breakpoint: bad.id });
    expect(err.error).toMatch(/Error in testing condition for breakpoint \d+: .*deeper/);
    s.breakpoints.delete([bad.id]);
    const writer = s.breakpoints.add_break({ kind: 'fault.retry', cond: '(w.kvm.mmu_invalidate_seq = 99)' });
    const ro = s.continue();
    expect(ro).toMatchObject({ reason: 'breakpoint', breakpoint: writer.id });
    expect(ro.error).toMatch(/read-only/);
    expect(s.world.kvm.mmu_invalidate_seq).not.toBe(99);
  });

  it('a syntax error in a condition is refused when the breakpoint is made', () => {
    const s = session();
    expect(() => s.breakpoints.add_break({ kind: 'fault.retry', cond: 'e.reason ===' })).toThrow(/cannot parse/);
    expect(() => s.breakpoints.add_break({ kind: 'fault.nope' })).toThrow(/unknown event kind/);
    expect(() => s.breakpoints.add_break({ kind: 'fault.retry', filters: [parse_filter('bogus=1')] })).toThrow(/no field "bogus"/);
  });

  it('dprintf prints and does not stop', () => {
    const s = session();
    s.breakpoints.add_catch(null, 'false');
    s.breakpoints.add_break({ kind: 'request.make', format: '"req %s to vcpu%d seq=%x", e.req, e.target, w.kvm.mmu_invalidate_seq' });
    const st = s.continue();
    expect(['end', 'deadlock']).toContain(st.reason);
    expect(st.printed!.length).toBeGreaterThan(3);
    expect(st.printed![0]).toMatch(/^req (TLB_FLUSH|NESTED_S2_UNMAP) to vcpu[01] seq=[0-9a-f]+$/);
  });

  it('catch violation stops on the named invariant, and every violation stops while there is no catchpoint', () => {
    const s = session();
    const first = s.continue();
    expect(first).toMatchObject({ reason: 'violation' });
    expect(first.violation!.invariant).toBe('dbg.seq_multiple_of_5');
    const c = s.breakpoints.add_catch('dbg.seq_multiple_of_5', 'w.kvm.mmu_invalidate_seq >= 10');
    const st = s.continue();
    expect(st).toMatchObject({ reason: 'violation', breakpoint: c.id });
    expect(s.world.kvm.mmu_invalidate_seq).toBeGreaterThanOrEqual(10);
    s.breakpoints.enable([c.id], false);
    expect(['end', 'deadlock']).toContain(s.continue().reason);
  });

  it('watchpoints stop on change forwards and, in reverse, at the same steps in the other order', () => {
    const s = session(3, 8);
    s.breakpoints.add_catch(null, 'false');
    const wp = s.watch('w.kvm.mmu_invalidate_seq');
    const fwd = stops(s);
    expect(fwd.length).toBeGreaterThan(3);
    for (const st of fwd) {
      expect(st).toMatchObject({ reason: 'watchpoint', breakpoint: wp.id });
      expect(st.watch!.new).not.toBe(st.watch!.old);
    }
    const back: Stop[] = [];
    for (;;) {
      const r = s.reverseContinue();
      if (r.reason === 'start') break;
      back.push(r);
    }
    expect(back.map((x) => x.step)).toEqual(fwd.map((x) => x.step).reverse());
    for (const st of back) expect(st.watch!.old).not.toEqual(st.watch!.new);
    // A watch over an object compares by value.
    const s2 = session(3, 8);
    s2.breakpoints.add_catch(null, 'false');
    s2.watch('w.locks.mmu_lock.readers');
    const r = s2.continue();
    expect(r.reason).toBe('watchpoint');
    expect(r.watch!.old).toEqual([]);
  });

  it('reverse-continue stops at the previous breakpoint hit', () => {
    const s = session();
    s.breakpoints.add_catch(null, 'false');
    const bp = s.breakpoints.add_break({ kind: 'fault.retry' });
    const fwd = stops(s);
    const back: number[] = [];
    for (;;) {
      const r = s.reverseContinue();
      if (r.reason === 'start') break;
      expect(r).toMatchObject({ reason: 'breakpoint', breakpoint: bp.id });
      back.push(r.step);
    }
    expect(back).toEqual(fwd.map((x) => x.step).reverse());
  });

  it('twenty breakpoints on kinds that never happen change nothing', () => {
    const a = session(5);
    const b = session(5);
    const kinds = ['tlbi', 'hv.flush', 'rcu.free', 'pte.make', 'vcpu.enter', 'fault.map', 'mt.store', 's2mmu.recycle', 'nested.unmap', 'pending_unmap.set'];
    for (const k of kinds) {
      b.breakpoints.add_break({ kind: k });
      b.breakpoints.add_break({ kind: k, cond: 'e.step > 0' });
    }
    expect(b.breakpoints.index.size).toBe(10);
    expect(b.continue()).toEqual(a.continue());
  });
});
