import { describe, expect, it } from 'vitest';
import { spawn_thread } from '../../src/core/machine/thread.js';
import { model_fn, RETURN } from '../../src/core/machine/model.js';
import {
  kvm_mmu_invalidate_begin,
  kvm_mmu_invalidate_end,
  kvm_mmu_invalidate_range_add,
  mmu_invalidate_retry,
  mmu_invalidate_retry_gfn,
  mmu_invalidate_retry_gfn_unsafe,
} from '../../src/core/kvm/mmu_invalidate.js';
import { INVALID_GPA } from '../../src/core/kvm/kvm_host.js';
import { bare_world } from '../helpers/bare_world.js';

const idle = model_fn('test_retry_idle', { x: () => RETURN });

function world() {
  const w = bare_world();
  const t = spawn_thread(w, 'mm', 'mm', { cpu: 0, root: idle.name });
  return { w, t };
}

describe('MMU-notifier invalidation bookkeeping', () => {
  it('begin resets the range on the first invalidation; range_add widens to the union; end bumps seq before dropping in_progress', () => {
    const { w, t } = world();
    kvm_mmu_invalidate_begin(w, t);
    expect(w.kvm.mmu_invalidate_range_start).toBe(INVALID_GPA);
    kvm_mmu_invalidate_range_add(w, t, 0x100, 0x110);
    kvm_mmu_invalidate_begin(w, t); // a second, nested invalidation keeps the range
    kvm_mmu_invalidate_range_add(w, t, 0x80, 0x90);
    expect([w.kvm.mmu_invalidate_range_start, w.kvm.mmu_invalidate_range_end]).toEqual([0x80, 0x110]);
    expect(w.kvm.mmu_invalidate_in_progress).toBe(2);
    kvm_mmu_invalidate_end(w, t);
    expect([w.kvm.mmu_invalidate_seq, w.kvm.mmu_invalidate_in_progress]).toEqual([1, 1]);
    // The range stays until the next first begin.
    expect(w.kvm.mmu_invalidate_range_start).toBe(0x80);
    kvm_mmu_invalidate_end(w, t);
    kvm_mmu_invalidate_begin(w, t);
    expect(w.kvm.mmu_invalidate_range_start).toBe(INVALID_GPA);
  });

  it('range_add with nothing in progress is a kernel WARN', () => {
    const { w, t } = world();
    expect(() => kvm_mmu_invalidate_range_add(w, t, 1, 2)).toThrow(/WARN/);
  });

  it('end below zero is a KVM_BUG_ON', () => {
    const { w, t } = world();
    expect(() => kvm_mmu_invalidate_end(w, t)).toThrow(/KVM_BUG_ON/);
  });
});

describe('the fault path retry checks', () => {
  // [in_progress, range, seq moved, gfn inside range] -> outcomes of the three checks
  const cases: { name: string; in_progress: boolean; range: [number, number] | null; seq_moved: boolean; gfn: number; retry: string | null; gfn_check: string | null; unsafe: string | null }[] = [
    { name: 'quiet', in_progress: false, range: null, seq_moved: false, gfn: 0x105, retry: null, gfn_check: null, unsafe: null },
    { name: 'seq moved', in_progress: false, range: null, seq_moved: true, gfn: 0x105, retry: 'seq', gfn_check: 'seq', unsafe: 'seq' },
    { name: 'in progress, gfn inside', in_progress: true, range: [0x100, 0x110], seq_moved: false, gfn: 0x105, retry: 'in_progress', gfn_check: 'range', unsafe: 'range' },
    { name: 'in progress, gfn outside', in_progress: true, range: [0x100, 0x110], seq_moved: false, gfn: 0x110, retry: 'in_progress', gfn_check: null, unsafe: null },
    { name: 'in progress, gfn outside, seq moved', in_progress: true, range: [0x100, 0x110], seq_moved: true, gfn: 0x200, retry: 'in_progress', gfn_check: 'seq', unsafe: 'seq' },
    { name: 'in progress, range not yet added', in_progress: true, range: null, seq_moved: false, gfn: 0x105, retry: 'in_progress', gfn_check: 'in_progress', unsafe: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { w, t } = world();
      const snap = w.kvm.mmu_invalidate_seq;
      if (c.seq_moved) {
        kvm_mmu_invalidate_begin(w, t);
        kvm_mmu_invalidate_range_add(w, t, 0x1000, 0x1001);
        kvm_mmu_invalidate_end(w, t);
      }
      if (c.in_progress) {
        kvm_mmu_invalidate_begin(w, t);
        if (c.range) kvm_mmu_invalidate_range_add(w, t, c.range[0], c.range[1]);
      }
      expect(mmu_invalidate_retry(w, snap)).toBe(c.retry);
      expect(mmu_invalidate_retry_gfn(w, snap, c.gfn)).toBe(c.gfn_check);
      expect(mmu_invalidate_retry_gfn_unsafe(w, snap, c.gfn)).toBe(c.unsafe);
    });
  }
});
