// The nested stage-2 reverse map proposed by Wei-Lin Chang (Arm), "KVM:
// arm64: nv: Avoid full shadow s2 unmap" (patch 3 of "KVM: arm64: nv:
// Implement nested stage-2 reverse map", v2, kvmarm, 11 Apr 2026; not
// merged): per shadow MMU, a maple tree from canonical IPA range to the
// nested IPA that maps it, so that a canonical invalidation unmaps only the
// shadow ranges it names instead of every shadow in full.
//
// The payload is stored as posted (the raw value, not xa_mk_value()):
//   VALID_ENTRY  bit 63       set in every record
//   nested IPA   bits 55:12   the nested page that maps the canonical range
//   UNKNOWN_IPA  bit 0        several nested IPAs back the range: unknown
// A range that meets a different record is rewritten as one ambiguous
// record (VALID_ENTRY | UNKNOWN_IPA) over the union; an allocation failure
// (GFP_NOWAIT, under mmu_lock) sets the MMU's nested_revmap_broken. Either
// makes the next canonical invalidation of that MMU a full unmap.
//
// Reserved values: with VALID_ENTRY set a payload is never NULL and never
// below 4096 (so never mt_is_reserved()), and bit 1 is always clear, so its
// low bits are 00 or 01, never an internal entry (10): mtree_store_range()
// takes it. Marc Zyngier's review asked exactly this: whether the payload
// can collide with the tree's reserved values, and pointed out that
// encoding it with xa_mk_value() would shift bit 63 out (the kernel WARNs
// on (long)v < 0); he also suggested a pointer to the tree, freed under
// RCU, instead of a tree embedded in struct kvm_s2_mmu. `mt store` and
// `mt xa-mk-value` show both points in the REPL (README).
// Verified: the v3 cover letter (10 May 2026, lkml.iu.edu) lists the v2
// link (11 Apr 2026) and, as changes from v2, "Removed polluted
// terminology", xa_{mk,to}_value() for storing and retrieving values,
// "Avoid using the 63rd bit ... so that xa_{mk,to}_value() does not lose us
// a bit", and reverse-map removal on TLBI. UNVERIFIED (the v2 patch body
// and the review were not in the search corpora; taken from
// shared/docs/kernel-model.md): the bit positions 55:12 and 0, the name
// nested_revmap_broken, and the RCU-pointer suggestion.
// Left out: records are not dropped when a guest TLBI removes shadow
// entries (v2 did not; v3 does): the `revmap_stale_records` metric counts
// what that leaves behind.
import { emit } from '../machine/events.js';
import { call, model_fn } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { GFP_NOWAIT } from '../maple/constants.js';
import { mt_init_flags, mtree_destroy, type MapleTree } from '../maple/tree.js';
import { mt_entries } from '../maple/api.js';
import { type ulong, ul_big, ul_of_big } from '../maple/ulong.js';
import { sim_mt_ranges, sim_mtree_erase, sim_mtree_store_range } from '../maple/sim.js';
import { lockdep_assert_held_write } from '../kvm/rwlock.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { arm64, kvm_s2_mmu_valid, mmu_by_id, type kvm_s2_mmu } from './kvm_host.js';
import { count_shadow_leaves, entries_read, nested_unmap_done } from './nested.js';
import { kvm_pgtable_get_leaf } from './pgtable.js';

export const NV_REVMAP = define_variant({
  name: 'nv.revmap',
  description:
    'a per-shadow reverse map (maple tree) from canonical IPA ranges to nested IPAs, the payload stored as posted (VALID_ENTRY bit 63 | nested IPA bits 55:12, UNKNOWN_IPA bit 0): a canonical invalidation unmaps only the shadow ranges it names, and falls back to a full unmap on an UNKNOWN_IPA record or nested_revmap_broken (upstream unmaps every shadow in full)',
  source: 'posting: Wei-Lin Chang, "KVM: arm64: nv: Avoid full shadow s2 unmap" (v2 3/3 of "KVM: arm64: nv: Implement nested stage-2 reverse map"), kvmarm, 11 Apr 2026 (not merged)',
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

export const VALID_ENTRY = 1n << 63n;
export const UNKNOWN_IPA = 1n;
/** GENMASK(55, 12): the nested IPA in a payload. */
export const NESTED_IPA_MASK = ((1n << 56n) - 1n) & ~((1n << 12n) - 1n);

/** The record for "nested IPA `nested_ipa` maps this canonical range". */
export function revmap_payload(nested_ipa: number): ulong {
  return ul_of_big(VALID_ENTRY | (BigInt(nested_ipa) & NESTED_IPA_MASK));
}
/** The ambiguous record: several nested IPAs back the range. */
export const REVMAP_UNKNOWN: ulong = ul_of_big(VALID_ENTRY | UNKNOWN_IPA);

export function payload_is_unknown(e: ulong): boolean {
  return (ul_big(e) & UNKNOWN_IPA) !== 0n;
}
export function payload_nested_ipa(e: ulong): number {
  return Number(ul_big(e) & NESTED_IPA_MASK);
}

const hex = (x: number | bigint) => `0x${x.toString(16)}`;
const hexrange = (first: number, last: number) => `${hex(first)}-${hex(last)}`;

export interface Revmap {
  mt: MapleTree;
  /** An allocation failed: the map may be missing records; full unmaps until the MMU is recycled. */
  nested_revmap_broken: boolean;
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
  return (mmu.revmap ??= { mt: mt_init_flags(0), nested_revmap_broken: false });
}

/** After a full unmap the map restarts empty (mtree_destroy + init). */
export function revmap_reset(mmu: kvm_s2_mmu): void {
  if (!mmu.revmap) return;
  mtree_destroy(mmu.revmap.mt);
  mmu.revmap.nested_revmap_broken = false;
}

/**
 * Record that shadow `mmu` maps nested [nested_ipa, +size) to canonical
 * [ipa, +size). Runs after the shadow map, under mmu_lock for read and the
 * tree's own lock; allocations are GFP_NOWAIT.
 */
export function revmap_add(w: World, t: Thread, mmu: kvm_s2_mmu, ipa: number, nested_ipa: number, size: number): void {
  const rm = revmap_of(mmu);
  if (rm.nested_revmap_broken) return;
  const first = Math.floor(ipa / size) * size;
  const last = first + size - 1;
  const value = revmap_payload(nested_ipa);
  let lo = first;
  let hi = last;
  let entry = value;
  if (!variant_on(w, NV_REVMAP_OVERWRITE.name)) {
    const hits = sim_mt_ranges(rm.mt, first, last);
    if (hits.length === 1 && hits[0]!.entry === value && hits[0]!.first <= first && hits[0]!.last >= last) return;
    if (hits.length) {
      // Another nested IPA (or an ambiguous span) already backs part of this range: one ambiguous record over the union.
      lo = Math.min(lo, ...hits.map((h) => Number(h.first)));
      hi = Math.max(hi, ...hits.map((h) => Number(h.last)));
      entry = REVMAP_UNKNOWN;
    }
  }
  const r = sim_mtree_store_range(w, t, rm.mt, lo, hi, entry, GFP_NOWAIT);
  if (r !== 0) {
    rm.nested_revmap_broken = true;
    metric_add(w, 'revmap_broken');
    emit(w, t, 'revmap.invalid', { mmu: mmu.index, reason: r === -12 ? 'ENOMEM (GFP_NOWAIT under mmu_lock): nested_revmap_broken' : `store failed: ${r}` });
    return;
  }
  if (entry !== value) emit(w, t, 'revmap.invalid', { mmu: mmu.index, reason: `UNKNOWN_IPA [${hex(lo)}, ${hex(hi)}]` });
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
      const hits = rm.nested_revmap_broken ? [] : sim_mt_ranges(rm.mt, first, last).map((h) => ({ first: Number(h.first), last: Number(h.last), entry: h.entry }));
      emit(w, t, 'revmap.lookup', {
        mmu: mmu.index,
        range: hexrange(first, last),
        hits: hits.map((h) => `${hexrange(h.first, h.last)}=>${payload_is_unknown(h.entry) ? 'UNKNOWN_IPA' : hex(payload_nested_ipa(h.entry))}`),
      });
      if (rm.nested_revmap_broken || hits.some((h) => payload_is_unknown(h.entry))) {
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
        return [payload_nested_ipa(h.entry) + (lo - h.first), hi - lo + 1];
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
    if (payload_is_unknown(entry)) continue;
    if (!(kvm_pgtable_get_leaf(w, mmu.index, payload_nested_ipa(entry)).pte & 1n)) n++;
  }
  return n;
}
