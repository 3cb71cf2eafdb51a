// The nested stage-2 reverse map proposed by Wei-Lin Chang (Arm), "KVM:
// arm64: nv: Implement nested stage-2 reverse map" (v1 Mar 2026 .. v6 Sep
// 2026): per shadow MMU, a maple tree from canonical IPA range to the
// nested IPA that maps it, so that a canonical invalidation unmaps only the
// shadow ranges it names instead of every shadow in full. The patch bodies
// were not readable (shared/docs/kernel-model.md section 3): this follows
// the idea as described - a store that meets a different record marks the
// whole span polluted (UNKNOWN_IPA), an allocation failure (GFP_NOWAIT,
// under mmu_lock) marks the map broken, and both fall back to the full
// unmap. Records are not dropped when a guest TLBI removes shadow entries;
// the `revmap_stale_records` metric counts what that leaves behind.
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { GFP_NOWAIT } from '../maple/constants.js';
import { mt_init_flags, mtree_destroy, type MapleTree } from '../maple/tree.js';
import { mt_entries } from '../maple/api.js';
import { sim_mt_ranges, sim_mtree_erase, sim_mtree_store_range } from '../maple/sim.js';
import { lockdep_assert_held_write } from '../kvm/rwlock.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { arm64, kvm_s2_mmu_valid, mmu_by_id, type kvm_s2_mmu } from './kvm_host.js';
import { count_shadow_leaves, entries_read, nested_unmap_done } from './nested.js';
import { kvm_pgtable_get_leaf } from './pgtable.js';

export const NV_REVMAP = define_variant({
  name: 'nv.revmap',
  description:
    'a per-shadow reverse map (maple tree) from canonical IPA ranges to nested IPAs: a canonical invalidation unmaps only the shadow ranges it names, and falls back to a full unmap when the map is polluted or broken (upstream unmaps every shadow in full)',
  source: 'posting: Wei-Lin Chang, "KVM: arm64: nv: Avoid full shadow s2 unmap", kvmarm, Apr 2026 (not merged)',
  breaks: 'nothing by itself; cuts nested_unmap_walk_steps per canonical invalidation (the soft lockups Ampere reported)',
  arch: 'arm64',
});

export const NV_REVMAP_OVERWRITE = define_variant({
  name: 'nv.revmap_overwrite',
  description:
    'on top of nv.revmap: a canonical range backing several nested IPAs keeps only the last record (the range store overwrites the earlier one), so the invalidation misses the other alias',
  source:
    'posting: Ganapatrao Kulkarni, "[PATCH v2] KVM: arm64: nv: Optimize unmapping of shadow S2-MMU tables", kvmarm, 13 Oct 2025 (not merged; Marc Zyngier\'s review, 23 Oct 2025)',
  breaks: 'mmu.stale_mapping',
  arch: 'arm64',
});

/** The value for "several nested IPAs, unknown": xa_mk_value(all ones), never a real nested gfn. */
export const UNKNOWN_IPA = 2 ** 52 - 1;
const xa_mk_value = (v: number) => v * 2 + 1;
const hexrange = (first: number, last: number) => `0x${first.toString(16)}-0x${last.toString(16)}`;
const xa_to_value = (e: number) => (e - 1) / 2;

export interface Revmap {
  mt: MapleTree;
  /** An allocation failed: the map may be missing records; full unmaps until the MMU is recycled. */
  broken: boolean;
}

declare module './kvm_host.js' {
  interface kvm_s2_mmu {
    revmap: Revmap | null;
  }
}

export function revmap_enabled(w: World): boolean {
  return (variant_on(w, NV_REVMAP.name) || variant_on(w, NV_REVMAP_OVERWRITE.name)) && arm64(w).nested_mmus_size > 0;
}

function revmap_of(mmu: kvm_s2_mmu): Revmap {
  return (mmu.revmap ??= { mt: mt_init_flags(0), broken: false });
}

/** After a full unmap the map restarts empty (mtree_destroy + init). */
export function revmap_reset(mmu: kvm_s2_mmu): void {
  if (!mmu.revmap) return;
  mtree_destroy(mmu.revmap.mt);
  mmu.revmap.broken = false;
}

/**
 * Record that shadow `mmu` maps nested [nested_ipa, +size) to canonical
 * [ipa, +size). Runs after the shadow map, under mmu_lock for read and the
 * tree's own lock; allocations are GFP_NOWAIT.
 */
export function revmap_add(w: World, t: Thread, mmu: kvm_s2_mmu, ipa: number, nested_ipa: number, size: number): void {
  const rm = revmap_of(mmu);
  if (rm.broken) return;
  const first = Math.floor(ipa / size) * size;
  const last = first + size - 1;
  const value = xa_mk_value(Math.floor(nested_ipa / PAGE_SIZE));
  let lo = first;
  let hi = last;
  let entry = value;
  if (!variant_on(w, NV_REVMAP_OVERWRITE.name)) {
    const hits = sim_mt_ranges(rm.mt, first, last);
    if (hits.length === 1 && hits[0]!.entry === value && hits[0]!.first <= first && hits[0]!.last >= last) return;
    if (hits.length) {
      // Another nested IPA (or a polluted span) already backs part of this range: pollute the union.
      lo = Math.min(lo, ...hits.map((h) => h.first));
      hi = Math.max(hi, ...hits.map((h) => h.last));
      entry = xa_mk_value(UNKNOWN_IPA);
    }
  }
  const r = sim_mtree_store_range(w, t, rm.mt, lo, hi, entry, GFP_NOWAIT);
  if (r !== 0) {
    rm.broken = true;
    metric_add(w, 'revmap_broken');
    emit(w, t, 'revmap.invalid', { mmu: mmu.index, reason: r === -12 ? 'ENOMEM (GFP_NOWAIT under mmu_lock)' : `store failed: ${r}` });
    return;
  }
  if (entry !== value) emit(w, t, 'revmap.invalid', { mmu: mmu.index, reason: `polluted [0x${lo.toString(16)}, 0x${hi.toString(16)}]` });
  emit(w, t, 'revmap.add', { mmu: mmu.index, canon_range: hexrange(first, last), nested_ipa: Math.floor(nested_ipa / PAGE_SIZE) * PAGE_SIZE });
}

/**
 * kvm_nested_s2_unmap_range(kvm, start, end, may_block) (W-lock held): the
 * reverse-map replacement for kvm_nested_s2_unmap() on a canonical
 * invalidation of gfns [start, end).
 */
export const kvm_nested_s2_unmap_range = model_fn<{ start: number; end: number; may_block: boolean; i: number; todo: [number, number][]; steps0: number }>(
  'kvm_nested_s2_unmap_range',
  {
    start: (w, t, l) => {
      lockdep_assert_held_write(w, t, 'mmu_lock');
      l.i = 0;
      l.todo = [];
      l.steps0 = entries_read(w);
      return 'mmu';
    },
    // Next valid shadow: decide what to unmap from it.
    mmu: (w, t, l) => {
      const a = arm64(w);
      while (l.i < a.nested_mmus_size && !kvm_s2_mmu_valid(a.nested_mmus[l.i]!)) l.i++;
      if (l.i >= a.nested_mmus_size) return nested_unmap_done(w, t, l.steps0);
      const mmu = a.nested_mmus[l.i++]!;
      const rm = revmap_of(mmu);
      const first = l.start * PAGE_SIZE;
      const last = l.end * PAGE_SIZE - 1;
      const hits = rm.broken ? [] : sim_mt_ranges(rm.mt, first, last);
      emit(w, t, 'revmap.lookup', {
        mmu: mmu.index,
        range: hexrange(first, last),
        hits: hits.map((h) => `${hexrange(h.first, h.last)}=>${xa_to_value(h.entry) === UNKNOWN_IPA ? 'UNKNOWN_IPA' : `0x${(xa_to_value(h.entry) * PAGE_SIZE).toString(16)}`}`),
      });
      if (rm.broken || hits.some((h) => xa_to_value(h.entry) === UNKNOWN_IPA)) {
        metric_add(w, 'revmap_full_unmaps');
        emit(w, t, 'nested.unmap', { index: mmu.index, start: 0, size: 2 ** a.ipa_bits, may_block: l.may_block });
        l.todo = [];
        count_shadow_leaves(w, mmu.index, 0, 2 ** a.ipa_bits);
        return call('kvm_stage2_unmap_range', { mmu: mmu.index, start: 0, size: 2 ** a.ipa_bits, may_block: l.may_block }, 'full_done');
      }
      // Each record: unmap the nested range that backs the invalidated part, then drop the record.
      l.todo = hits.map((h) => {
        const lo = Math.max(h.first, first);
        const hi = Math.min(h.last, last);
        sim_mtree_erase(w, t, rm.mt, h.first, [h.first, h.last]);
        return [xa_to_value(h.entry) * PAGE_SIZE + (lo - h.first), hi - lo + 1];
      });
      return 'range';
    },
    range: (w, t, l) => {
      const next = l.todo.shift();
      if (!next) return 'mmu';
      const id = l.i - 1;
      emit(w, t, 'nested.unmap', { index: id, start: next[0], size: next[1], may_block: l.may_block });
      metric_add(w, 'revmap_range_unmaps');
      count_shadow_leaves(w, id, next[0], next[1]);
      return call('kvm_stage2_unmap_range', { mmu: id, start: next[0], size: next[1], may_block: l.may_block }, 'range');
    },
    full_done: (w, _t, l) => {
      revmap_reset(mmu_by_id(w, l.i - 1));
      return 'mmu';
    },
  },
);

/** Records whose nested page no longer has a shadow mapping (left behind by guest TLBIs). */
export function revmap_stale_records(w: World, mmu: kvm_s2_mmu): number {
  if (!mmu.revmap) return 0;
  let n = 0;
  for (const { entry } of mt_entries(mmu.revmap.mt)) {
    const v = xa_to_value(entry);
    if (v === UNKNOWN_IPA) continue;
    if (!(kvm_pgtable_get_leaf(w, mmu.index, v * PAGE_SIZE).pte & 1n)) n++;
  }
  return n;
}
