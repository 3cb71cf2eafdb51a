// The x86 TDP fault path (kvm_mmu_faultin_pfn, kvm_tdp_mmu_page_fault) and
// its unmap (kvm_unmap_gfn_range_x86 -> tdp_mmu_zap_leafs), driven step by
// step against a NUMA-balancing invalidation.
import { describe, expect, it } from 'vitest';
import { tdp_spte } from '../../src/core/x86/tdp_mmu.js';
import { host_pte } from '../../src/core/kvm/host_mm.js';
import { drive, finish, machine_for, of_kind, saw } from './helpers.js';

/** One vCPU writes page 1 of a 16K slot; the mm runs one NUMA scan over the slot. */
const RACE = `arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  vcpu0:
    - access_gpa: {gpa: 0x8000_1000, write: true}
  mm:
    - numa_protect: {gpa: 0x8000_0000, size: 16K}
`;

/** The race, driven by events: vcpu0 to its pfn lookup (fault.faultin), the whole scan, vcpu0 to a map or a retry. */
function race_driven(variants: string[]) {
  const d = machine_for(RACE, variants);
  drive(d, 'vcpu0', saw('fault.faultin'));
  drive(d, 'mm', saw('thread.exit'));
  drive(d, 'vcpu0', (evs) => evs.some((e) => e.kind === 'fault.map' || e.kind === 'fault.retry'));
  return d;
}

describe('kvm_mmu_faultin_pfn() and kvm_tdp_mmu_page_fault()', () => {
  it('an access to an unmapped gfn exits with an EPT violation, faults the pfn in under mmu_lock and completes on re-entry', () => {
    const d = machine_for(RACE.replace(/  mm:\n.*\n/, ''));
    finish(d);
    expect(d.violation).toBeNull();
    expect(of_kind(d.events, 'vcpu.exit').map((e) => e['reason'])).toEqual(['ept_violation', 'done']);
    const order = d.events
      .filter((e) => ['fault.start', 'fault.seq_snapshot', 'fault.faultin', 'fault.check', 'fault.map', 'guest.access'].includes(e.kind) || e['lock'] === 'mmu_lock')
      .map((e) => e.kind);
    expect(order).toEqual(['fault.start', 'fault.seq_snapshot', 'fault.faultin', 'lock.acquire', 'fault.check', 'fault.map', 'lock.release', 'guest.access']);
    const spte = tdp_spte(d.m.w, 0x80001)!;
    expect(spte.pfn).toBe(host_pte(d.m.w, 0x7f00_0000_1000)!.pfn);
    expect(d.m.w.metrics['faults_mapped']).toBe(1);
  });

  it('mmu.no_retry_check: the fault maps a pfn the NUMA scan made PROT_NONE in between (mmu.stale_mapping)', () => {
    const r = race_driven(['mmu.no_retry_check']);
    expect(r.violation!.invariant).toBe('mmu.stale_mapping');
    expect(r.violation!.message).toMatch(
      /^vcpu0 installed a SPTE for GPA 0x80001000 -> PA 0x[0-9a-f]+, but the host now maps hva 0x7f0000001000 to the same pfn but PROT_NONE .*looked up its pfn before an invalidation of this gfn and mapped it after \(mmu_seq snapshot 0, now mmu_invalidate_seq=1 .*is_page_fault_stale\(\) would have returned RET_PF_RETRY/,
    );
  });

  it('mmu.no_retry_precheck: the same interleaving sees the new sequence count under mmu_lock and retries; the refault maps the page again', () => {
    const d = race_driven(['mmu.no_retry_precheck']);
    finish(d);
    const r = { violation: d.violation, events: d.events, metrics: d.m.w.metrics, machine: d.m };
    expect(r.violation).toBeNull();
    const checks = of_kind(r.events, 'fault.check');
    expect(checks[0]).toMatchObject({ retry: true, seq_snap: 0, seq_now: 1, in_progress: 0 });
    expect(of_kind(r.events, 'fault.retry')[0]!['reason']).toBe('seq');
    expect(r.metrics['fault_retries.locked']).toBe(1);
    expect(r.metrics['faults_mapped']).toBe(1);
    // The refault went through GUP again, which took the NUMA-hinting fault: the PTE is accessible again.
    const pte = host_pte(r.machine.w, 0x7f00_0000_1000)!;
    expect(pte.prot_none).toBe(false);
  });

  it('upstream: the second lockless check catches it after __kvm_mmu_faultin_pfn, without taking mmu_lock', () => {
    const d = race_driven([]);
    expect(d.violation).toBeNull();
    const pre = of_kind(d.events, 'fault.precheck', 'vcpu0');
    expect(pre.map((e) => [e['where'], e['retry']])).toEqual([
      ['before_faultin', false],
      ['after_faultin', true],
    ]);
    expect(of_kind(d.events, 'lock.acquire', 'vcpu0').filter((e) => e['lock'] === 'mmu_lock')).toEqual([]);
    expect(d.m.w.metrics['fault_retries.precheck']).toBe(1);
    expect(d.m.w.metrics['fault_mmu_lock'] ?? 0).toBe(0);
    // mmu.no_retry_check skips the pre-checks too: the same interleaving maps the PROT_NONE page.
    expect(race_driven(['mmu.no_retry_check']).violation?.invariant).toBe('mmu.stale_mapping');
  });

  it('a fault on a gfn under invalidation: upstream retries before faulting in; mmu.no_retry_precheck contends for mmu_lock and retries under it', () => {
    const setup = (variants: string[]) => {
      // A pinned page populates the chunk, so the scan fires its notifier (and protects nothing).
      const d = machine_for(RACE.replace('  mm:\n', '  mm:\n    - dma_pin: {gpa: 0x8000_0000, size: 4K}\n'), variants);
      // The mm is inside kvm_handle_hva_range: the invalidation has begun, its range is set, it still holds mmu_lock.
      drive(d, 'mm', saw('invalidate.range_add'));
      return d;
    };
    const pre = setup([]);
    drive(pre, 'vcpu0', saw('fault.retry'));
    expect(of_kind(pre.events, 'fault.precheck', 'vcpu0')[0]).toMatchObject({ where: 'before_faultin', retry: true, in_progress: 1 });
    expect(of_kind(pre.events, 'fault.faultin', 'vcpu0')).toEqual([]);
    expect(of_kind(pre.events, 'lock.contend', 'vcpu0')).toEqual([]);
    expect(of_kind(pre.events, 'fault.retry', 'vcpu0')[0]!['reason']).toBe('range');

    const old = setup(['mmu.no_retry_precheck']);
    drive(old, 'vcpu0', saw('lock.contend'));
    expect(of_kind(old.events, 'fault.faultin', 'vcpu0')).toHaveLength(1);
    drive(old, 'mm', saw('lock.release'));
    drive(old, 'vcpu0', saw('fault.retry'));
    expect(of_kind(old.events, 'fault.retry', 'vcpu0')[0]!['reason']).toBe('range');
    expect(old.m.w.metrics['fault_mmu_lock.during_invalidation']).toBe(1);
  });
});

/** vcpu0 maps pages 0 and 1, then faults on page 2 while the mm zaps the slot (upstream: the whole range, pinned pages too). */
const ZAP = `arch: x86
vm: {vcpus: 1, memslots: [{gpa: 0x8000_0000, size: 16K}]}
threads:
  vcpu0:
    - access_gpa: {gpa: 0x8000_0000}
    - access_gpa: {gpa: 0x8000_1000}
    - access_gpa: {gpa: 0x8000_2000}
  mm:
    - dma_pin: {gpa: 0x8000_0000, size: 8K}
    - numa_protect: {gpa: 0x8000_0000, size: 16K}
`;

describe('the TDP MMU zap (kvm_unmap_gfn_range_x86)', () => {
  it('yields mmu_lock to a contending fault, flushing remote TLBs first, and the generic code flushes what is left', () => {
    // Without the pre-checks, so that the fault contends for mmu_lock and the zap yields to it.
    const d = machine_for(ZAP, ['mmu.no_retry_precheck']);
    drive(d, 'mm', saw('thread.op', (e) => e['op'] === 'numa_protect'));
    drive(d, 'vcpu0', (evs) => evs.some((e) => e.kind === 'fault.start' && e['gpa'] === 0x8000_2000));
    expect(tdp_spte(d.m.w, 0x80000)).toBeDefined();
    expect(tdp_spte(d.m.w, 0x80001)).toBeDefined();
    drive(d, 'mm', saw('spte.zap'));
    drive(d, 'vcpu0', saw('lock.contend'));
    drive(d, 'mm', saw('lock.release'));
    const mm = d.events.filter((e) => e.thread === 'mm').map((e) => e.kind);
    const y = mm.indexOf('tdp_mmu.yield');
    expect(y).toBeGreaterThan(mm.indexOf('spte.zap'));
    expect(of_kind(d.events, 'tdp_mmu.yield')[0]).toMatchObject({ gfn: 0x80001, flush: true, contended: true });
    // Flush before the lock is dropped (tdp_mmu_iter_cond_resched).
    expect(mm.indexOf('flush.remote', y)).toBeLessThan(mm.indexOf('lock.release', y));
    expect(of_kind(d.events, 'flush.remote')[0]!['reason']).toBe('tdp_mmu_iter_cond_resched');
    expect(of_kind(d.events, 'request.make_all')[0]).toMatchObject({ req: 'TLB_FLUSH', targets: [0] });
    // The fault gets the lock, sees the invalidation of its gfn, retries; the zap goes on and the generic code flushes at the end.
    drive(d, 'vcpu0', saw('fault.retry'));
    drive(d, 'vcpu0', saw('lock.release'));
    drive(d, 'mm', saw('invalidate.end'));
    expect(of_kind(d.events, 'spte.zap').map((e) => e['gpa'])).toEqual([0x8000_0000, 0x8000_1000]);
    expect(of_kind(d.events, 'flush.remote').map((e) => e['reason'])).toEqual(['tdp_mmu_iter_cond_resched', 'mmu_notifier']);
    expect(d.m.w.metrics['tdp_mmu_yields.contended']).toBe(1);
    finish(d);
    expect(d.violation).toBeNull();
  });

  it('numa.unmap_only_protected (the RFC) leaves the pinned pages mapped and flushes nothing', () => {
    const d = machine_for(ZAP, ['numa.unmap_only_protected']);
    drive(d, 'mm', saw('thread.op', (e) => e['op'] === 'numa_protect'));
    drive(d, 'vcpu0', (evs) => evs.some((e) => e.kind === 'fault.start' && e['gpa'] === 0x8000_2000));
    drive(d, 'mm', saw('thread.exit'));
    expect(of_kind(d.events, 'spte.zap')).toEqual([]);
    expect(of_kind(d.events, 'flush.remote')).toEqual([]);
    expect(tdp_spte(d.m.w, 0x80000)).toBeDefined();
    expect(tdp_spte(d.m.w, 0x80001)).toBeDefined();
    finish(d);
    expect(d.violation).toBeNull();
  });
});
