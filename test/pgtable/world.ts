// A small arm64 World for the stage-2 page-table, TLB and RCU tests, with
// driver threads that run a list of model-function calls (optionally under
// mmu_lock), instead of the vCPU run loop.
import '../../src/core/arm64/mmu_stage2.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import { RETURN, call, model_fn } from '../../src/core/machine/model.js';
import { sched_init } from '../../src/core/machine/scheduler.js';
import { spawn_thread } from '../../src/core/machine/thread.js';
import type { Locals, Thread, World } from '../../src/core/machine/world.js';
import { INVALID_GPA, type KvmVcpu } from '../../src/core/kvm/kvm_host.js';
import { lock_read, lock_write, read_unlock, rwlock_init, write_unlock } from '../../src/core/kvm/rwlock.js';
import { kvm_pgtable_stage2_init, vcpu_memcache } from '../../src/core/arm64/mmu_stage2.js';
import { rcu_init } from '../../src/core/rcu/tree.js';
import { DEFAULT_HVA_BASE } from '../../src/core/world_init.js';

export interface Act {
  fn: string;
  args: Locals;
  lock?: 'read' | 'write';
}

/** Runs its acts in order; t.retval of each is pushed on `rets`. */
export const pgt_test_driver = model_fn<{ acts: Act[]; i: number; rets: unknown[] }>('pgt_test_driver', {
  next: (_w, _t, l) => {
    l.rets ??= [];
    l.i ??= 0;
    const a = l.acts[l.i];
    if (!a) return RETURN;
    return a.lock === 'read' ? 'rlock' : a.lock === 'write' ? 'wlock' : 'call';
  },
  rlock: (w, t) => lock_read(w, t, 'mmu_lock', 'call'),
  wlock: (w, t) => lock_write(w, t, 'mmu_lock', 'call'),
  call: (_w, _t, l) => {
    const a = l.acts[l.i]!;
    return call(a.fn, structuredClone(a.args), 'called');
  },
  called: (w, t, l) => {
    const a = l.acts[l.i]!;
    l.rets.push(t.retval);
    // The frame is gone when the thread ends: leave numeric results where tests can read them.
    if (typeof t.retval === 'number') w.metrics[`ret.${t.name}.${l.i}`] = t.retval;
    if (a.lock === 'read') read_unlock(w, t, 'mmu_lock');
    if (a.lock === 'write') write_unlock(w, t, 'mmu_lock');
    l.i++;
    return 'next';
  },
});

export interface WorldOpts {
  vcpus?: number;
  ipa_bits?: number;
  policy?: 'rr' | 'random' | 'script';
  seed?: number;
  variants?: string[];
  rcu?: boolean;
  fwb?: boolean;
}

export function pgt_world(o: WorldOpts = {}): World {
  const vcpus = o.vcpus ?? 2;
  const w: World = {
    arch: 'arm64',
    step: 0,
    seq: 0,
    threads: [],
    sched: sched_init(o.policy ?? 'rr', o.seed ?? 1),
    variants: Object.fromEntries((o.variants ?? []).map((v) => [v, true as const])),
    events: [],
    metrics: {},
    violations: [],
    kvm: {
      vcpus: [],
      memslots: [{ id: 0, base_gfn: 0x80000, npages: 0x80000, userspace_addr: 0x7f00_0000_0000 }],
      mmu_invalidate_seq: 0,
      mmu_invalidate_in_progress: 0,
      mmu_invalidate_range_start: INVALID_GPA,
      mmu_invalidate_range_end: INVALID_GPA,
      mn_active_invalidate_count: 0,
      vm_dead: false,
    },
    cpus: Array.from({ length: vcpus + 2 }, (_, id) => ({ id, ipi_pending: false })),
    locks: { mmu_lock: rwlock_init('mmu_lock') },
    mm: { ptes: {}, vpn0: DEFAULT_HVA_BASE / 4096 },
  } as World;
  const ipa_bits = o.ipa_bits ?? 40;
  const pgt = kvm_pgtable_stage2_init(w, -1, ipa_bits);
  if (o.fwb === false) pgt.fwb_cap = false;
  w.arm64 = {
    mmu: { index: -1, vmid: 1, pgt, tlb_vttbr: 1n, tlb_vtcr: 0n, nested_stage2_enabled: false, pending_unmap: false, refcnt: 0 },
    nested_mmus: [],
    nested_mmus_size: 0,
    nested_mmus_next: 0,
    ipa_bits,
    vcpus: [],
  } as unknown as World['arm64'];
  for (let i = 0; i < vcpus; i++) {
    w.kvm.vcpus.push({ vcpu_id: i, thread: -1, requests: 0, mode: 'OUTSIDE_GUEST_MODE', cpu: i, scheduled_out: false, requests_at_mode_in: 0, exit_reason: '', fault_ipa: 0, fault_write: false } as KvmVcpu);
    w.arm64!.vcpus.push({ hw_mmu: -1 } as never);
    vcpu_memcache(w, i).nobjs = 40;
  }
  if (o.rcu !== false) rcu_init(w, vcpus);
  return w;
}

/** A driver thread for vCPU `vcpu` (cpu = vcpu) running `acts`. */
export function driver(w: World, vcpu: number, acts: Act[]): Thread {
  const t = spawn_thread(w, `vcpu${vcpu}`, 'vcpu', { cpu: vcpu, vcpu, root: pgt_test_driver.name, args: { acts, i: 0, rets: [] } });
  w.kvm.vcpus[vcpu]!.thread = t.id;
  return t;
}

/** Run until the end (or `max` steps); `picks` replays a committed schedule first. */
export function run_all(w: World, opts: { max?: number; picks?: number[]; events?: boolean } = {}): { m: Machine; status: string; events: Event[] } {
  const m = new Machine(w);
  const events: Event[] = [];
  if (opts.events) m.subscribe((e) => events.push(e));
  if (opts.picks) m.replay = { s: { picks: opts.picks, choices: [] }, pick: 0, choice: 0 };
  for (let i = 0; i < (opts.max ?? 200_000); i++) {
    const r = m.step();
    if (r.status !== 'ok') return { m, status: r.status, events };
  }
  return { m, status: 'max', events };
}

export function ret_of(w: World, thread: string, i: number): number | undefined {
  return w.metrics[`ret.${thread}.${i}`];
}
