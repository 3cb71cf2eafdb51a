// SRCU (src/core/rcu/srcu.ts): a grace period waits for the reader sections
// that began before it, and only for those.
import { describe, expect, it } from 'vitest';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import { RETURN, call, model_fn } from '../../src/core/machine/model.js';
import { spawn_thread } from '../../src/core/machine/thread.js';
import type { Thread, World } from '../../src/core/machine/world.js';
import { KVM_SRCU, srcu_named, srcu_read_lock, srcu_read_unlock, synchronize_srcu } from '../../src/core/rcu/srcu.js';
import { x86_config } from './helpers.js';

// A reader: lock, one step inside, unlock.
model_fn<{ idx: number }>('test_srcu_reader', {
  lock: (w, t, l) => {
    l.idx = srcu_read_lock(w, t, KVM_SRCU);
    return 'inside';
  },
  inside: () => 'unlock',
  unlock: (w, t, l) => {
    srcu_read_unlock(w, t, KVM_SRCU, l.idx);
    return RETURN;
  },
});
model_fn('test_srcu_syncer', {
  sync: () => call(synchronize_srcu, { srcu: KVM_SRCU }, 'done'),
  done: () => RETURN,
});
model_fn('test_srcu_atomic_syncer', {
  off: (_w, t) => {
    t.preempt_count++;
    return call(synchronize_srcu, { srcu: KVM_SRCU }, 'done');
  },
  done: () => RETURN,
});

function world(threads: [string, string][]): { m: Machine; w: World; t: Record<string, Thread> } {
  const w = create_world(x86_config(1, {}));
  const t: Record<string, Thread> = {};
  for (const [name, root] of threads) t[name] = spawn_thread(w, name, 'vmm', { cpu: w.cpus.length, root });
  while (w.cpus.length < w.threads.length) w.cpus.push({ id: w.cpus.length, ipi_pending: false });
  // vcpu0 has nothing to do; finish it so it holds no reader section.
  w.threads[0]!.done = true;
  return { m: new Machine(w), w, t };
}

describe('synchronize_srcu()', () => {
  it('waits for a reader that began before it', () => {
    const { m, w, t } = world([
      ['r', 'test_srcu_reader'],
      ['s', 'test_srcu_syncer'],
    ]);
    m.step(t['r']!.id); // lock
    m.step(t['s']!.id); // call
    m.step(t['s']!.id); // start: flips the index
    m.step(t['s']!.id); // wait: blocks
    expect(t['s']!.wait?.kind).toBe('srcu_gp');
    expect(m.runnable()).not.toContain(t['s']!.id);
    m.step(t['r']!.id); // inside
    m.step(t['r']!.id); // unlock
    expect(m.runnable()).toContain(t['s']!.id);
    const r = m.step(t['s']!.id);
    expect(r.events.map((e) => [e.kind, e['phase']])).toContainEqual(['srcu.sync', 'end']);
    expect(srcu_named(w, KVM_SRCU).gp_seq).toBe(1);
  });

  it('does not wait for a reader that began after it, which gets the other index', () => {
    const { m, w, t } = world([
      ['s', 'test_srcu_syncer'],
      ['r1', 'test_srcu_reader'],
      ['r2', 'test_srcu_reader'],
    ]);
    const r1 = m.step(t['r1']!.id); // a reader before the grace period: idx 0
    expect(r1.events[0]).toMatchObject({ kind: 'srcu.read_lock', idx: 0 });
    m.step(t['s']!.id);
    m.step(t['s']!.id); // start
    const r2 = m.step(t['r2']!.id); // a reader after it started: idx 1
    expect(r2.events[0]).toMatchObject({ kind: 'srcu.read_lock', idx: 1 });
    m.step(t['s']!.id); // blocked on r1 only
    m.step(t['r1']!.id);
    m.step(t['r1']!.id);
    expect(m.runnable()).toContain(t['s']!.id);
    m.step(t['s']!.id);
    expect(t['s']!.done || t['s']!.stack.length === 1).toBe(true);
    expect(srcu_named(w, KVM_SRCU).readers.map((x) => x.thread)).toEqual([t['r2']!.id]);
  });

  it('two grace periods in flight each wait for the sections open when it started', () => {
    const { m, w, t } = world([
      ['s1', 'test_srcu_syncer'],
      ['s2', 'test_srcu_syncer'],
      ['r1', 'test_srcu_reader'],
      ['r2', 'test_srcu_reader'],
    ]);
    m.step(t['r1']!.id); // r1 enters
    m.step(t['s1']!.id);
    m.step(t['s1']!.id); // s1 starts: r1 holds it up
    m.step(t['r2']!.id); // r2 enters
    m.step(t['s2']!.id);
    m.step(t['s2']!.id); // s2 starts: r1 and r2 hold it up
    m.step(t['s1']!.id);
    m.step(t['s2']!.id); // both block
    expect([t['s1']!.wait?.kind, t['s2']!.wait?.kind]).toEqual(['srcu_gp', 'srcu_gp']);
    m.step(t['r1']!.id);
    m.step(t['r1']!.id); // r1 leaves: s1 may end, s2 still waits for r2
    expect(m.runnable()).toContain(t['s1']!.id);
    expect(m.runnable()).not.toContain(t['s2']!.id);
    m.step(t['r2']!.id);
    m.step(t['r2']!.id);
    expect(m.runnable()).toContain(t['s2']!.id);
    expect(srcu_named(w, KVM_SRCU).readers).toEqual([]);
  });

  it('a reader section leaves the domain as it found it, so a retry loop comes back to a state met before', () => {
    // With a counter of sections (a ticket per reader) every vCPU re-entry changed the World, and the
    // explorer's search of numa-invalidate-retry ran a spinning fault retry to its depth bound.
    const { m, w, t } = world([
      ['s', 'test_srcu_syncer'],
      ['r1', 'test_srcu_reader'],
    ]);
    const before = structuredClone(srcu_named(w, KVM_SRCU));
    m.step(t['r1']!.id);
    expect(srcu_named(w, KVM_SRCU).readers).toHaveLength(1);
    m.step(t['r1']!.id);
    m.step(t['r1']!.id);
    expect(srcu_named(w, KVM_SRCU)).toEqual(before);
    // A grace period changes it for good only by its own count and the index flip.
    m.step(t['s']!.id);
    m.step(t['s']!.id);
    m.step(t['s']!.id);
    expect(srcu_named(w, KVM_SRCU)).toEqual({ ...before, srcu_idx: before.srcu_idx + 1, gp_seq: before.gp_seq + 1 });
  });

  it('is a sleeping wait: calling it with preemption off is a sleep_in_atomic violation', () => {
    const { m, t } = world([['a', 'test_srcu_atomic_syncer']]);
    m.step(t['a']!.id);
    const r = m.step(t['a']!.id);
    expect(r.violations.map((v) => v.invariant)).toEqual(['sched.sleep_in_atomic']);
  });

  it('refuses to run inside its own reader section, and an unlock must match its lock', () => {
    const w = create_world(x86_config(1, {}));
    const me = w.threads[0]!;
    const idx = srcu_read_lock(w, me, KVM_SRCU);
    expect(() => srcu_read_unlock(w, me, KVM_SRCU, idx ^ 1)).toThrow(/entered with idx/);
    const other = { ...me, id: 99, name: 'x' };
    expect(() => srcu_read_unlock(w, other, KVM_SRCU, idx)).toThrow(/outside a reader section/);
  });
});

describe('kvm->srcu and the x86 vCPU', () => {
  it('a vCPU holds kvm->srcu in KVM_RUN except in the guest', () => {
    const w = create_world(x86_config(1, { vcpu0: [['access_gva', { gva: 0x1000 }]] }));
    const m = new Machine(w);
    const held: boolean[] = [];
    m.subscribe((e) => {
      if (e.kind === 'vcpu.enter') held.push(srcu_named(w, KVM_SRCU).readers.length > 0);
      if (e.kind === 'vcpu.exit') held.push(srcu_named(w, KVM_SRCU).readers.length > 0);
    });
    while (m.step().status === 'ok');
    expect(held).toEqual([false, false]); // dropped before entry; retaken one step after the exit
    expect(srcu_named(w, KVM_SRCU).readers).toEqual([]);
  });
});
