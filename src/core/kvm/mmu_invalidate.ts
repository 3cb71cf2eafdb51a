// virt/kvm/kvm_main.c kvm_mmu_invalidate_begin/_range_add/_end and
// include/linux/kvm_host.h mmu_invalidate_retry{,_gfn,_gfn_unsafe}: the
// sequence count and in-progress range that make a racing fault retry.
// Each function here runs inside one model step (the caller holds mmu_lock
// for write for begin/range_add/end, as the kernel does).
import { emit } from '../machine/events.js';
import type { Thread, World } from '../machine/world.js';
import { INVALID_GPA } from './kvm_host.js';

export function kvm_mmu_invalidate_begin(w: World, t: Thread): void {
  const kvm = w.kvm;
  kvm.mmu_invalidate_in_progress++;
  if (kvm.mmu_invalidate_in_progress === 1) {
    kvm.mmu_invalidate_range_start = INVALID_GPA;
    kvm.mmu_invalidate_range_end = INVALID_GPA;
  }
  emit(w, t, 'invalidate.begin', { in_progress: kvm.mmu_invalidate_in_progress });
}

/** Widen the in-progress gfn range [start, end) to cover this one. */
export function kvm_mmu_invalidate_range_add(w: World, t: Thread, start: number, end: number): void {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress <= 0) throw new Error('WARN: kvm_mmu_invalidate_range_add() with no invalidation in progress');
  const union = kvm.mmu_invalidate_range_start !== INVALID_GPA;
  if (!union) {
    kvm.mmu_invalidate_range_start = start;
    kvm.mmu_invalidate_range_end = end;
  } else {
    kvm.mmu_invalidate_range_start = Math.min(kvm.mmu_invalidate_range_start, start);
    kvm.mmu_invalidate_range_end = Math.max(kvm.mmu_invalidate_range_end, end);
  }
  emit(w, t, 'invalidate.range_add', { start, end, union });
}

/** seq++, smp_wmb(), in_progress--: a fault that snapshotted the old seq must retry. */
export function kvm_mmu_invalidate_end(w: World, t: Thread): void {
  const kvm = w.kvm;
  kvm.mmu_invalidate_seq++;
  kvm.mmu_invalidate_in_progress--;
  if (kvm.mmu_invalidate_in_progress < 0) throw new Error('KVM_BUG_ON: mmu_invalidate_in_progress < 0');
  emit(w, t, 'invalidate.end', { mmu_invalidate_seq: kvm.mmu_invalidate_seq, in_progress: kvm.mmu_invalidate_in_progress });
}

export type RetryReason = 'in_progress' | 'range' | 'seq' | null;

/** mmu_invalidate_retry(): any invalidation in progress, or the seq moved. */
export function mmu_invalidate_retry(w: World, mmu_seq: number): RetryReason {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress) return 'in_progress';
  if (kvm.mmu_invalidate_seq !== mmu_seq) return 'seq';
  return null;
}

/** mmu_invalidate_retry_gfn() (mmu_lock held): only an in-progress range covering gfn, or the seq moved. */
export function mmu_invalidate_retry_gfn(w: World, mmu_seq: number, gfn: number): RetryReason {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress) {
    // WARN_ON_ONCE: a begun invalidation must have added its range before mmu_lock was dropped.
    if (kvm.mmu_invalidate_range_start === INVALID_GPA || kvm.mmu_invalidate_range_end === INVALID_GPA) return 'in_progress';
    if (gfn >= kvm.mmu_invalidate_range_start && gfn < kvm.mmu_invalidate_range_end) return 'range';
  }
  if (kvm.mmu_invalidate_seq !== mmu_seq) return 'seq';
  return null;
}

/** mmu_invalidate_retry_gfn_unsafe(): lockless pre-check; may be wrong both ways, always followed by the locked check. */
export function mmu_invalidate_retry_gfn_unsafe(w: World, mmu_seq: number, gfn: number): RetryReason {
  const kvm = w.kvm;
  if (kvm.mmu_invalidate_in_progress && gfn >= kvm.mmu_invalidate_range_start && gfn < kvm.mmu_invalidate_range_end) return 'range';
  if (kvm.mmu_invalidate_seq !== mmu_seq) return 'seq';
  return null;
}

/** The fault path's `fault.check` event: what its locked retry check saw against its snapshot `mmu_seq`, and whether it retries. */
export function emit_fault_check(w: World, t: Thread, mmu_seq: number, reason: RetryReason): void {
  const k = w.kvm;
  emit(w, t, 'fault.check', {
    in_progress: k.mmu_invalidate_in_progress,
    seq_now: k.mmu_invalidate_seq,
    seq_snap: mmu_seq,
    range: [k.mmu_invalidate_range_start, k.mmu_invalidate_range_end],
    retry: reason !== null,
  });
}

export function describe_invalidation(w: World): string {
  const k = w.kvm;
  const range = k.mmu_invalidate_range_start === INVALID_GPA ? 'unset' : `gfn [0x${k.mmu_invalidate_range_start.toString(16)}, 0x${k.mmu_invalidate_range_end.toString(16)})`;
  return `mmu_invalidate_seq=${k.mmu_invalidate_seq} in_progress=${k.mmu_invalidate_in_progress} range=${range}`;
}
