// Nested stage-2 MMUs (scenarios/nv-s2-recycle.yaml): each variant from the
// kvmarm-fixes-6.12 series reaches the violation its fix prevents; the
// current code reaches none.
import { describe, expect, it } from 'vitest';
import { find_violation, run_seed } from '../helpers/seeds.js';

const FILE = 'scenarios/nv-s2-recycle.yaml';

describe('nested stage-2 recycling', () => {
  it('nv.no_unmap_request: a vCPU enters the guest on a recycled MMU that still has pending_unmap', () => {
    const { r } = find_violation(FILE, ['nv.no_unmap_request'], 'nv.entry_with_pending_unmap');
    expect(r.violation!.message).toMatch(/^vcpu\d entered the guest with nested_mmus\[\d\]\.pending_unmap = true: the recycled MMU still holds the previous context's mappings \(request NESTED_S2_UNMAP was not pending\)$/);
  });

  it('nv.unmap_on_recycle: the inline unmap reschedules on the vcpu_load path (sleeping in atomic context)', () => {
    const { r } = find_violation(FILE, ['nv.unmap_on_recycle'], 'sched.sleep_in_atomic');
    const m = r.violation!.message;
    expect(m).toMatch(/^BUG: sleeping function called from invalid context: vcpu\d may sleep \(cond_resched_rwlock_write\)/);
    // The stack shows the recycling inside vcpu_load / the nested ERET, with preemption off.
    expect(m).toMatch(/get_s2_mmu_nested <- kvm_vcpu_load_hw_mmu <- kvm_arch_vcpu_load/);
    expect(r.violation!.values['preempt_count']).toBeGreaterThan(0);
  });

  it('nv.put_drops_ref: an MMU is recycled while a scheduled-out vCPU still works on it', () => {
    const { r } = find_violation(FILE, ['nv.put_drops_ref'], 'nv.recycled_in_use', 300);
    expect(r.violation!.message).toMatch(
      /^vcpu\d recycled nested_mmus\[\d\] \(refcnt 0\) while vcpu\d \(scheduled out\) is still (unmapping it in check_nested_vcpu_requests\(\)|handling a stage-2 fault for it in user_mem_abort\(\)): its reference was dropped at vcpu_put$/,
    );
  });

  it('the same seeds are clean without the variants, and the recycling really happens', () => {
    for (const [variant, inv] of [
      ['nv.no_unmap_request', 'nv.entry_with_pending_unmap'],
      ['nv.put_drops_ref', 'nv.recycled_in_use'],
    ] as const) {
      const { seed } = find_violation(FILE, [variant], inv, 300);
      const clean = run_seed(FILE, seed);
      expect(clean.violation).toBeNull();
      expect(clean.status).toBe('end');
    }
  });

  it('2,000 seeded random runs of the current code find nothing', { timeout: 600_000 }, () => {
    const bad: string[] = [];
    let recycled = 0;
    let pending = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = run_seed(FILE, seed);
      if (r.violation || r.status !== 'end') bad.push(`${seed}: ${r.violation?.invariant ?? r.status}`);
      recycled += r.metrics['nv_recycles'] ?? 0;
      pending += r.metrics['nv_pending_unmaps'] ?? 0;
    }
    expect(bad).toEqual([]);
    expect(recycled).toBeGreaterThan(0);
    expect(pending).toBeGreaterThan(0);
  });
});
