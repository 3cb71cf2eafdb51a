// The stage-2 tables the debugger can name and poke: `s2` is the VM's
// canonical stage-2 (kvm->arch.mmu), `nested[I]` is
// kvm->arch.nested_mmus[I]. The `pt` pokes (map, unmap, set) run the
// pgtable layer's own walkers outside the scheduler and are recorded like
// every other state change.
import type { World } from '../core/machine/world.js';
import { mmu_by_id, type kvm_s2_mmu } from '../core/arm64/kvm_host.js';
import {
  KVM_PGTABLE_LAST_LEVEL,
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_PROT_X,
  type kvm_pgtable_prot,
} from '../core/arm64/kvm_pgtable.js';
import { kvm_pgtable_walk_levels, pgtable_map_now, pgtable_set_raw, pgtable_unmap_now } from '../core/arm64/pgtable.js';
import { DebugError } from './errors.js';
import { define_poke } from './pokes.js';

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 11: 'EAGAIN', 12: 'ENOMEM', 17: 'EEXIST', 22: 'EINVAL', 34: 'ERANGE', 7: 'E2BIG' };

/** The MMU id (-1 for s2) of an MMU name. */
export function mmu_id(w: World, name: string): number {
  if (!w.arm64) throw new DebugError('ENOSYS', 'no stage-2 page tables in this World (no arm64 VM state)');
  if (name === 's2' || name === 'mmu') return -1;
  const m = /^nested\[(\d+)\]$/.exec(name);
  if (!m) throw new DebugError('EINVAL', `"${name}" is not an MMU; expected s2 or nested[I]`);
  const i = Number(m[1]);
  if (i >= w.arm64.nested_mmus.length) throw new DebugError('ENOENT', `no nested[${i}]: this VM has ${w.arm64.nested_mmus.length} nested MMUs`);
  return i;
}

export function mmu_names(w: World): string[] {
  return w.arm64 ? ['s2', ...w.arm64.nested_mmus.map((_, i) => `nested[${i}]`)] : [];
}

export function mmu_of(w: World, name: string): kvm_s2_mmu {
  return mmu_by_id(w, mmu_id(w, name));
}

/** `r`, `rw`, `rwx`, `x`... as KVM_PGTABLE_PROT_* bits. */
export function parse_perm(s: string): number {
  if (!/^[rwx]+$/i.test(s)) throw new DebugError('EINVAL', `"${s}" is not a permission; expected letters from r, w, x (like rw)`);
  let p = 0;
  for (const c of s.toLowerCase()) p |= c === 'r' ? KVM_PGTABLE_PROT_R : c === 'w' ? KVM_PGTABLE_PROT_W : KVM_PGTABLE_PROT_X;
  return p;
}

function check_range(w: World, mmu: number, ipa: number, size: number): void {
  const bits = mmu_by_id(w, mmu).pgt.ia_bits;
  if (ipa % 4096 || size % 4096 || size === 0) throw new DebugError('EINVAL', 'IPA and size must be multiples of 4K (and size > 0)');
  if (ipa + size > 2 ** bits) throw new DebugError('EINVAL', `[0x${ipa.toString(16)}, 0x${(ipa + size).toString(16)}) is beyond the ${bits}-bit IPA space`);
}

function walker_result(r: number, what: string): void {
  if (r < 0) throw new DebugError(r === -22 ? 'EINVAL' : r === -12 ? 'ENOMEM' : 'EBUSY', `${what}: -${ERRNO_NAMES[-r] ?? -r}`);
}

define_poke<{ mmu: string; ipa: number; pa: number; size: number; prot: kvm_pgtable_prot }>({
  name: 'pt.map',
  check: (w, a) => {
    check_range(w, mmu_id(w, a.mmu), a.ipa, a.size);
    if (a.pa % 4096) throw new DebugError('EINVAL', 'PA must be a multiple of 4K');
  },
  apply: (w, a) => {
    walker_result(pgtable_map_now(w, mmu_id(w, a.mmu), a.ipa, a.pa, a.size, a.prot), 'kvm_pgtable_stage2_map');
    return {};
  },
});

define_poke<{ mmu: string; ipa: number; size: number }>({
  name: 'pt.unmap',
  check: (w, a) => check_range(w, mmu_id(w, a.mmu), a.ipa, a.size),
  apply: (w, a) => {
    walker_result(pgtable_unmap_now(w, mmu_id(w, a.mmu), a.ipa, a.size), 'kvm_pgtable_stage2_unmap');
    return {};
  },
});

define_poke<{ mmu: string; ipa: number; level: number; raw: bigint }>({
  name: 'pt.set',
  check: (w, a) => {
    const id = mmu_id(w, a.mmu);
    if (!Number.isInteger(a.level) || a.level < 0 || a.level > KVM_PGTABLE_LAST_LEVEL) throw new DebugError('EINVAL', `level ${a.level}: expected 0 to ${KVM_PGTABLE_LAST_LEVEL}`);
    const { levels } = kvm_pgtable_walk_levels(w, id, a.ipa);
    if (!levels.some((l) => l.level === a.level)) {
      const top = levels.length ? levels[levels.length - 1]!.level : '-';
      throw new DebugError('ENOENT', `no table at level ${a.level} on the path of IPA 0x${a.ipa.toString(16)} (the walk stops at level ${top}); map something there first`);
    }
  },
  apply: (w, a) => {
    pgtable_set_raw(w, mmu_id(w, a.mmu), a.ipa, a.level, a.raw);
    return {};
  },
});
