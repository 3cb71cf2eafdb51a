// HYPOTHETICAL, not a posted patch: user_mem_abort() snapshots
// kvm->mmu_invalidate_seq after __kvm_faultin_pfn() instead of before it.
//
//   kvmdbg explore fault-vs-invalidate --patch patches/examples/mmu-seq-after-faultin.ts
//
// arch/arm64/kvm/mmu.c, user_mem_abort(): upstream reads mmu_seq under
// mmap_read_lock(), before __kvm_faultin_pfn() looks the page up
// (mmap_read_unlock() is the implicit smp_rmb() that pairs with the
// smp_wmb() in kvm_mmu_invalidate_end()). The order matters: an invalidation that starts and ends while the page is
// looked up bumps the sequence count, and mmu_invalidate_retry() under
// kvm_fault_lock() sees the bump and retries. Read the count after the
// lookup and that invalidation is already in the snapshot: the check
// passes and the fault maps the pfn the invalidation took away
// (mmu.stale_mapping). Instructive because each line of the change looks
// harmless; only the order carries the guarantee.
import { emit, patch_fn, type StepFn } from 'kvmdbg/model';

interface Uma {
  mmu_seq: number;
}

patch_fn<Uma>(
  'user_mem_abort',
  {
    // Still the upstream step, but it no longer leads to the map: the snapshot comes between.
    faultin_pfn: (w, t, l, original) => {
      (original as StepFn<Uma>)(w, t, l);
      return 'late_snapshot';
    },
    // The moved read: whatever the `snapshot` step read is overwritten here.
    late_snapshot: (w, t, l) => {
      l.mmu_seq = w.kvm.mmu_invalidate_seq;
      emit(w, t, 'fault.seq_snapshot', { mmu_seq: l.mmu_seq });
      return 'lock';
    },
  },
  { insert: ['late_snapshot'] },
);
