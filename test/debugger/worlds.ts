// Hand-built Worlds for the debugger's tests: worker threads that loop over
// mmu_lock (read or write, with cond_resched drops the scheduler chooses)
// and bump counters, emitting lock, fault.retry and request.make events.
import { emit } from '../../src/core/machine/events.js';
import { RETURN, call, has_fn, model_fn } from '../../src/core/machine/model.js';
import { spawn_thread } from '../../src/core/machine/thread.js';
import type { World } from '../../src/core/machine/world.js';
import { metric_add, variant_on } from '../../src/core/machine/world.js';
import { define_variant, variant_named } from '../../src/core/machine/variants.js';
import { define_poke } from '../../src/debugger/pokes.js';
import '../../src/core/machine/sched_invariants.js';
import { cond_resched_rwlock_write, lock_read, lock_write, read_unlock, write_unlock } from '../../src/core/kvm/rwlock.js';
import { sched_init } from '../../src/core/machine/scheduler.js';
import { world_base } from '../../src/core/world_init.js';

/** The generic machine and KVM parts of a World, nothing arch-specific. */
export function base_world(opts: { cpus: number; policy: 'rr' | 'random'; seed: number }): World {
  return world_base('arm64', sched_init(opts.policy, opts.seed), opts.cpus);
}

interface L {
  n: number;
  times: number;
  write: boolean;
}

if (!variant_named('dbg.quiet')) {
  define_variant({ name: 'dbg.quiet', description: 'test workers stop emitting fault.retry', source: 'test', breaks: 'nothing' });
  // A test poke: add to a counter the workers read.
  define_poke<{ n: number }>({ name: 'test.bump', apply: (w, a) => (w.kvm.mmu_invalidate_seq += a.n) });
}

if (!has_fn('dbg_worker')) {
  model_fn<L>('dbg_worker', {
    top: (_w, _t, l) => (l.n < l.times ? (l.write ? 'wlock' : 'rlock') : RETURN),
    rlock: (w, t) => lock_read(w, t, 'mmu_lock', 'rwork'),
    rwork: (w, t, l) => {
      metric_add(w, `reads_${t.name}`);
      if (l.n % 3 === 1 && !variant_on(w, 'dbg.quiet')) emit(w, t, 'fault.retry', { reason: l.n % 2 ? 'seq' : 'in_progress' });
      return 'runlock';
    },
    runlock: (w, t, l) => {
      read_unlock(w, t, 'mmu_lock');
      l.n++;
      return 'top';
    },
    wlock: (w, t) => lock_write(w, t, 'mmu_lock', 'wwork'),
    wwork: (w, t, l) => {
      metric_add(w, 'writes');
      w.kvm.mmu_invalidate_seq += w.kvm.mmu_invalidate_seq % 7 === 3 ? 2 : 1;
      emit(w, t, 'request.make', { req: l.n % 2 ? 'NESTED_S2_UNMAP' : 'TLB_FLUSH', bit: l.n % 2 ? 16 : 0, flags: 0, target: l.n % 2 });
      return call(cond_resched_rwlock_write, { lock: 'mmu_lock' }, 'wunlock');
    },
    wunlock: (w, t, l) => {
      write_unlock(w, t, 'mmu_lock');
      l.n++;
      return 'top';
    },
  });
}

export interface WorldSpec {
  threads: { write: boolean; times: number }[];
  policy: 'rr' | 'random';
  seed: number;
}

export function test_world(spec: WorldSpec): World {
  const w = base_world({ policy: spec.policy, seed: spec.seed, cpus: spec.threads.length });
  spec.threads.forEach((th, i) => spawn_thread(w, `t${i}`, 'vmm', { cpu: i, root: 'dbg_worker', args: { n: 0, times: th.times, write: th.write } }));
  return w;
}

/** Three threads: two readers, one writer. */
export function small_world(seed = 1, times = 20): World {
  return test_world({ threads: [{ write: false, times }, { write: true, times }, { write: false, times }], policy: 'random', seed });
}
