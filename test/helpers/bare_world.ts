// A World with only the generic machine and KVM parts, for unit tests of
// those layers with hand-written driver threads.
import { sched_init } from '../../src/core/machine/scheduler.js';
import type { World } from '../../src/core/machine/world.js';
import { INVALID_GPA } from '../../src/core/kvm/kvm_host.js';
import { rwlock_init } from '../../src/core/kvm/rwlock.js';

export function bare_world(opts: { cpus?: number; policy?: 'rr' | 'random' | 'script'; seed?: number; script?: string[] } = {}): World {
  return {
    arch: 'arm64',
    step: 0,
    seq: 0,
    threads: [],
    sched: sched_init(opts.policy ?? 'rr', opts.seed ?? 1, opts.script ?? []),
    variants: {},
    events: [],
    metrics: {},
    violations: [],
    kvm: {
      vcpus: [],
      memslots: [],
      mmu_invalidate_seq: 0,
      mmu_invalidate_in_progress: 0,
      mmu_invalidate_range_start: INVALID_GPA,
      mmu_invalidate_range_end: INVALID_GPA,
      mn_active_invalidate_count: 0,
      vm_dead: false,
    },
    cpus: Array.from({ length: opts.cpus ?? 4 }, (_, id) => ({ id, ipi_pending: false })),
    locks: { mmu_lock: rwlock_init('mmu_lock') },
    mm: { ptes: {}, next_pfn: 0x10000 },
  };
}
