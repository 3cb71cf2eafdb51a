// include/asm-generic/qrwlock.h and kernel/locking/qrwlock.c: a spinning
// reader-writer lock (kvm->mmu_lock on arm64 and x86) where a waiting
// writer keeps new readers out, and include/linux/sched.h
// cond_resched_rwlock_write(). Left out: interrupt-context readers (which
// may pass a waiting writer) and lock debugging.
import { emit } from '../machine/events.js';
import { BLOCKED, RETURN, block, call, has_fn, model_fn, wait_kind } from '../machine/model.js';
import { might_sleep } from '../machine/machine.js';
import { choose, define_choice } from '../machine/scheduler.js';
import type { Thread, World } from '../machine/world.js';

export interface RwLock {
  name: string;
  /** Thread ids holding it for read, in acquisition order. */
  readers: number[];
  /** Thread id holding it for write, -1 if none. */
  writer: number;
  /** Writers queued (thread ids, FIFO): while any waits, readers queue too. */
  waiting_writers: number[];
  /** Readers spinning in the slow path (they hold the wait_lock in turn). */
  waiting_readers: number[];
}

declare module '../machine/world.js' {
  interface World {
    locks: Record<string, RwLock>;
  }
}

export function rwlock_init(name: string): RwLock {
  return { name, readers: [], writer: -1, waiting_writers: [], waiting_readers: [] };
}

function lock_named(w: World, name: string): RwLock {
  const l = w.locks[name];
  if (!l) throw new Error(`no lock ${name}`);
  return l;
}

function can_read(l: RwLock): boolean {
  return l.writer < 0 && l.waiting_writers.length === 0;
}

function can_write(l: RwLock, id: number): boolean {
  return l.writer < 0 && l.readers.length === 0 && (l.waiting_writers.length === 0 || l.waiting_writers[0] === id);
}

wait_kind('rwlock', false, (w, t, wait) => {
  const l = lock_named(w, wait['lock'] as string);
  return wait['mode'] === 'read' ? can_read(l) : can_write(l, t.id);
});

/** read_lock(): true when taken, else the thread spins (returns false; the caller returns BLOCKED). */
export function read_trylock_or_spin(w: World, t: Thread, name: string): boolean {
  const l = lock_named(w, name);
  if (!can_read(l)) {
    if (!l.waiting_readers.includes(t.id)) l.waiting_readers.push(t.id);
    block(t, { kind: 'rwlock', lock: name, mode: 'read' });
    emit(w, t, 'lock.contend', { lock: name, mode: 'read' });
    return false;
  }
  const q = l.waiting_readers.indexOf(t.id);
  if (q >= 0) l.waiting_readers.splice(q, 1);
  l.readers.push(t.id);
  t.preempt_count++;
  emit(w, t, 'lock.acquire', { lock: name, mode: 'read' });
  return true;
}

export function write_trylock_or_spin(w: World, t: Thread, name: string): boolean {
  const l = lock_named(w, name);
  if (!can_write(l, t.id)) {
    if (!l.waiting_writers.includes(t.id)) l.waiting_writers.push(t.id);
    block(t, { kind: 'rwlock', lock: name, mode: 'write' });
    emit(w, t, 'lock.contend', { lock: name, mode: 'write' });
    return false;
  }
  if (l.waiting_writers[0] === t.id) l.waiting_writers.shift();
  l.writer = t.id;
  t.preempt_count++;
  emit(w, t, 'lock.acquire', { lock: name, mode: 'write' });
  return true;
}

export function read_unlock(w: World, t: Thread, name: string): void {
  const l = lock_named(w, name);
  const i = l.readers.indexOf(t.id);
  if (i < 0) throw new Error(`${t.name} read_unlock(${name}) without holding it`);
  l.readers.splice(i, 1);
  t.preempt_count--;
  emit(w, t, 'lock.release', { lock: name, mode: 'read' });
}

export function write_unlock(w: World, t: Thread, name: string): void {
  const l = lock_named(w, name);
  if (l.writer !== t.id) throw new Error(`${t.name} write_unlock(${name}) without holding it`);
  l.writer = -1;
  t.preempt_count--;
  emit(w, t, 'lock.release', { lock: name, mode: 'write' });
}

export function lockdep_assert_held_write(w: World, t: Thread, name: string): void {
  if (lock_named(w, name).writer !== t.id) throw new Error(`${t.name}: ${name} not held for write`);
}

/** queued_rwlock_is_contended(): someone spins in the slow path. */
export function rwlock_is_contended(l: RwLock): boolean {
  return l.waiting_writers.length > 0 || l.waiting_readers.length > 0;
}

/** Models: one label that takes the lock, spinning until it can. */
export const lock_read = (w: World, t: Thread, name: string, next: string) =>
  read_trylock_or_spin(w, t, name) ? next : BLOCKED;
export const lock_write = (w: World, t: Thread, name: string, next: string) =>
  write_trylock_or_spin(w, t, name) ? next : BLOCKED;

export const COND_RESCHED = define_choice({
  name: 'cond_resched',
  n: 2,
  description: 'cond_resched_rwlock_write() finds should_resched() true and drops the lock',
  p_random: 0.25,
});

/**
 * cond_resched_rwlock_write(lock): drop and retake the write lock when it is
 * contended (rwlock_needbreak) or the scheduler wants the CPU (a choice).
 */
export const cond_resched_rwlock_write = model_fn<{ lock: string }>('cond_resched_rwlock_write', {
  check: (w, t, l) => {
    // __might_resched(PREEMPT_LOCK_OFFSET): the write lock itself is allowed.
    might_sleep(w, t, 'cond_resched_rwlock_write', 1);
    const resched = choose(w, t, COND_RESCHED) === 1;
    const dropped = resched || rwlock_is_contended(lock_named(w, l.lock));
    emit(w, t, 'lock.cond_resched', { lock: l.lock, dropped });
    if (!dropped) return RETURN;
    write_unlock(w, t, l.lock);
    // should_resched(): a vCPU thread is scheduled out (its preempt notifiers run).
    return resched && t.kind === 'vcpu' && has_fn('kvm_preempt') ? call('kvm_preempt', { steps: 64 }, 'relock') : 'relock';
  },
  relock: (w, t, l) => lock_write(w, t, l.lock, RETURN),
});
