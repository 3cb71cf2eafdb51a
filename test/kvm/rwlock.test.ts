import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/core/machine/machine.js';
import { RETURN, call, model_fn } from '../../src/core/machine/model.js';
import { spawn_thread } from '../../src/core/machine/thread.js';
import '../../src/core/machine/sched_invariants.js';
import { cond_resched_rwlock_write, lock_read, lock_write, read_unlock, write_unlock } from '../../src/core/kvm/rwlock.js';
import { bare_world } from '../helpers/bare_world.js';

// Driver threads: take the lock, hold it for `hold` steps, release.
const reader = model_fn<{ n: number }>('test_rw_reader', {
  lock: (w, t) => lock_read(w, t, 'mmu_lock', 'hold'),
  hold: (_w, _t, l) => ((l.n = (l.n ?? 0) + 1) < 3 ? 'hold' : 'unlock'),
  unlock: (w, t) => {
    read_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});
const writer = model_fn<{ n: number }>('test_rw_writer', {
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'hold'),
  hold: (_w, _t, l) => ((l.n = (l.n ?? 0) + 1) < 3 ? 'hold' : 'unlock'),
  unlock: (w, t) => {
    write_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});
const resched_writer = model_fn<Record<string, never>>('test_rw_resched_writer', {
  lock: (w, t) => lock_write(w, t, 'mmu_lock', 'resched'),
  resched: () => call(cond_resched_rwlock_write, { lock: 'mmu_lock' }, 'unlock'),
  unlock: (w, t) => {
    write_unlock(w, t, 'mmu_lock');
    return RETURN;
  },
});

function setup(roots: string[], script: string[]) {
  const w = bare_world({ policy: 'script', script });
  roots.forEach((root, i) => spawn_thread(w, `t${i}`, 'vmm', { cpu: i, root }));
  return { w, m: new Machine(w) };
}

function run(m: Machine) {
  const kinds: string[] = [];
  for (let i = 0; i < 100; i++) {
    const r = m.step();
    if (r.status !== 'ok') break;
    for (const e of r.events) if (e.kind.startsWith('lock.')) kinds.push(`${e.thread}:${e.kind}:${e['mode']}`);
  }
  return kinds;
}

describe('mmu_lock as a queued rwlock', () => {
  it('readers share the lock', () => {
    const { w, m } = setup([reader.name, reader.name], ['t0', 't1']);
    m.step();
    m.step();
    expect(w.locks['mmu_lock']!.readers).toEqual([0, 1]);
  });

  it('a writer excludes readers and other writers', () => {
    const { w, m } = setup([writer.name, reader.name, writer.name], ['t0', 't1', 't2']);
    m.step();
    m.step();
    m.step();
    expect(w.locks['mmu_lock']!.writer).toBe(0);
    expect(w.locks['mmu_lock']!.readers).toEqual([]);
    expect(w.threads[1]!.wait).toMatchObject({ kind: 'rwlock', mode: 'read' });
    expect(w.threads[2]!.wait).toMatchObject({ kind: 'rwlock', mode: 'write' });
    expect(m.runnable()).toEqual([0]);
  });

  it('a waiting writer keeps new readers out', () => {
    // t0 reads; t1 (writer) queues; t2 (reader) must not pass t1.
    const { w, m } = setup([reader.name, writer.name, reader.name], ['t0', 't1', 't2']);
    m.step();
    m.step();
    m.step();
    expect(w.locks['mmu_lock']!.waiting_writers).toEqual([1]);
    expect(w.locks['mmu_lock']!.readers).toEqual([0]);
    const order = run(m);
    const acquires = order.filter((k) => k.includes('lock.acquire'));
    expect(acquires).toEqual(['t1:lock.acquire:write', 't2:lock.acquire:read']);
  });

  it('cond_resched_rwlock_write drops and retakes the lock when a reader waits', () => {
    const { w, m } = setup([resched_writer.name, reader.name], ['t0', 't1', 't0', 't1', 't1', 't1', 't1', 't0']);
    const order = run(m);
    // The reader got in between the drop and the retake.
    expect(order).toEqual([
      't0:lock.acquire:write',
      't1:lock.contend:read',
      't0:lock.cond_resched:undefined',
      't0:lock.release:write',
      't1:lock.acquire:read',
      't0:lock.contend:write',
      't1:lock.release:read',
      't0:lock.acquire:write',
      't0:lock.release:write',
    ]);
    expect(w.violations).toEqual([]);
  });

  it('cond_resched_rwlock_write keeps the lock when uncontended and the scheduler says no', () => {
    const { m } = setup([resched_writer.name], ['t0', 't0', 't0', 'cond_resched=0']);
    const r = [] as string[];
    for (let i = 0; i < 10; i++) {
      const s = m.step();
      if (s.status !== 'ok') break;
      for (const e of s.events) if (e.kind === 'lock.cond_resched') r.push(String(e['dropped']));
    }
    expect(r).toEqual(['false']);
  });

  it('cond_resched_rwlock_write can be told to drop (scripted choice)', () => {
    // Choice tokens follow the pick of the step that asks for them.
    const { m } = setup([resched_writer.name], ['t0', 't0', 't0', 'cond_resched=1']);
    const order = run(m).filter((k) => !k.includes('cond_resched'));
    expect(order).toEqual(['t0:lock.acquire:write', 't0:lock.release:write', 't0:lock.acquire:write', 't0:lock.release:write']);
  });
});
