// include/linux/srcu.h, kernel/rcu/srcutree.c: sleepable RCU as KVM uses it
// for kvm->srcu. A reader section is srcu_read_lock() .. srcu_read_unlock();
// synchronize_srcu() sleeps until every reader section that began before it
// has ended. Readers that begin while it waits do not hold it up.
//
// The model keeps each open reader section as a record; a grace period, as
// it starts, adds its number to the record of every section open then, and
// waits until no record holds that number. (Not a ticket counter compared
// with a limit, which says the same but grows with every section: a vCPU
// that re-enters the guest in a retry loop would never bring the World back
// to a state the explorer has seen.) `idx` is the kernel's ->srcu_idx & 1,
// which a grace period flips; it is carried for display (the kernel pairs
// lock and unlock by it) and checked on unlock. Left out: the per-CPU
// counters and their summation, expedited grace periods, call_srcu(),
// srcu_barrier(), NMI-safe readers.
import { emit } from '../machine/events.js';
import { RETURN, block, model_fn, wait_kind } from '../machine/model.js';
import { might_sleep } from '../machine/machine.js';
import type { Thread, World } from '../machine/world.js';
import { define_history } from '../machine/history.js';

export interface SrcuReader {
  /** Thread id of the reader. */
  thread: number;
  /** ->srcu_idx & 1 when the section began (what srcu_read_lock() returned). */
  idx: number;
  /** Grace periods (their srcu_idx when they started) that began while this section was open: they wait for it. */
  holds: number[];
  /** Global step at which it began (for messages). */
  step: number;
}

export interface SrcuStruct {
  name: string;
  /** Bumped by every grace period; readers take its low bit. */
  srcu_idx: number;
  readers: SrcuReader[];
  /** Completed grace periods. */
  gp_seq: number;
}

declare module '../machine/world.js' {
  interface World {
    /** SRCU domains by name (kvm->srcu is "kvm->srcu"); absent until a layer creates one. */
    srcu?: Record<string, SrcuStruct>;
  }
}

export const KVM_SRCU = 'kvm->srcu';

/** init_srcu_struct(). */
export function srcu_init(w: World, name: string): SrcuStruct {
  const s: SrcuStruct = { name, srcu_idx: 0, readers: [], gp_seq: 0 };
  (w.srcu ??= {})[name] = s;
  return s;
}

export function srcu_named(w: World, name: string): SrcuStruct {
  const s = w.srcu?.[name];
  if (!s) throw new Error(`no SRCU domain ${name}`);
  return s;
}

/** srcu_read_lock(): enter a reader section; returns the index to unlock with. */
export function srcu_read_lock(w: World, t: Thread, name: string): number {
  const s = srcu_named(w, name);
  const idx = s.srcu_idx & 1;
  s.readers.push({ thread: t.id, idx, holds: [], step: w.step });
  emit(w, t, 'srcu.read_lock', { srcu: name, idx });
  return idx;
}

/** srcu_read_unlock(): leave the thread's innermost reader section taken with `idx`. */
export function srcu_read_unlock(w: World, t: Thread, name: string, idx: number): void {
  const s = srcu_named(w, name);
  for (let i = s.readers.length - 1; i >= 0; i--) {
    const r = s.readers[i]!;
    if (r.thread !== t.id) continue;
    if (r.idx !== idx) throw new Error(`${t.name}: srcu_read_unlock(${name}, ${idx}) but its section was entered with idx ${r.idx}`);
    s.readers.splice(i, 1);
    emit(w, t, 'srcu.read_unlock', { srcu: name, idx });
    return;
  }
  throw new Error(`${t.name}: srcu_read_unlock(${name}) outside a reader section`);
}

/** srcu_read_lock_held() (the lockdep check). */
export function srcu_read_lock_held(w: World, t: Thread, name: string): boolean {
  return srcu_named(w, name).readers.some((r) => r.thread === t.id);
}

/** The idx of the thread's innermost reader section, or -1. */
export function srcu_held_idx(w: World, t: Thread, name: string): number {
  const rs = srcu_named(w, name).readers;
  for (let i = rs.length - 1; i >= 0; i--) if (rs[i]!.thread === t.id) return rs[i]!.idx;
  return -1;
}

/** Reader sections that were open when grace period `gp` started and still are. */
export function srcu_blockers(s: SrcuStruct, gp: number): SrcuReader[] {
  return s.readers.filter((r) => r.holds.includes(gp));
}

wait_kind('srcu_gp', true, (w, _t, wait) => srcu_blockers(srcu_named(w, wait['srcu'] as string), wait['gp'] as number).length === 0);

/**
 * synchronize_srcu(ssp): flip the index, then sleep until every reader
 * section that was open when the grace period started has ended.
 */
export const synchronize_srcu = model_fn<{ srcu: string; gp: number }>('synchronize_srcu', {
  start: (w, t, l) => {
    const s = srcu_named(w, l.srcu);
    if (srcu_read_lock_held(w, t, l.srcu)) {
      // lockdep: "Illegal synchronize_srcu() in same-type SRCU read-side critical section"
      throw new Error(`${t.name}: synchronize_srcu(${l.srcu}) inside its own reader section would never end`);
    }
    might_sleep(w, t, 'synchronize_srcu');
    l.gp = s.srcu_idx++;
    for (const r of s.readers) r.holds.push(l.gp);
    emit(w, t, 'srcu.sync', { srcu: l.srcu, phase: 'start' });
    return 'wait';
  },
  wait: (w, t, l) => {
    const s = srcu_named(w, l.srcu);
    if (srcu_blockers(s, l.gp).length) return block(t, { kind: 'srcu_gp', srcu: l.srcu, gp: l.gp });
    s.gp_seq++;
    emit(w, t, 'srcu.sync', { srcu: l.srcu, phase: 'end' });
    return RETURN;
  },
});

// A reader's `step` (when it entered) is for the REPL.
define_history('step', 'stamp');
