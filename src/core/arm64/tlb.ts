// The stage-2 TLB and its maintenance: arch/arm64/kvm/hyp/vhe/tlb.c
// (__kvm_tlb_flush_vmid, __kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid_ipa_nsh,
// __kvm_tlb_flush_vmid_range) and hyp/pgtable.c kvm_tlb_flush_vmid_range(),
// over a model of the per-CPU TLBs, and the hardware stage-2 walk that fills
// them. Version: the v6.17 shape (vhe/tlb.c with enter_vmid_context();
// pgtable.c at e6157256ee1a).
//
// Each physical CPU has a TLB of stage-2 entries tagged with a VMID: an IPA
// range (one page or block) -> PA, with the level of the leaf and its
// permissions. A guest access looks the TLB up first; on a miss the hardware
// walks the live tables from the root in one step (atomic w.r.t. the model)
// and fills the TLB. Entries leave only by TLBI (or capacity eviction,
// which the architecture allows at any time).
//
// TLBI semantics. A TLBI here is the "TLBI ...; DSB" pair, atomic in the
// model: when the function returns, the instruction has *retired* and every
// CPU's TLB (the issuing CPU's only, for the non-shareable _nsh form) has
// dropped the matching entries. A TLBI by IPA may carry a level hint (TTL,
// ARMv8.4): __tlbi_level() sends one for levels 0..3 and none for
// TLBI_TTL_UNKNOWN. When the hint names a level and an entry covering the
// IPA was cached from a leaf at another level, the architecture does not
// require that entry to be invalidated; the model keeps it (the worst case)
// and marks it stale. Range TLBIs (__kvm_tlb_flush_vmid_range) carry no
// hint since 0f0ff097bf77.
//
// Break-before-make is checked here too: when stage2_make_pte() publishes a
// new value (break-before-make complete), no CPU may still cache a
// translation from the entry it replaced; the model marks any such entry
// stale (the TLBI between break and make missed it). A guest access served
// by a stale entry, or a fill that overlaps one, is the `tlb.stale_entry`
// violation. A TLB entry that no longer matches the tables but that no TLBI
// or completed break-before-make has covered yet is legal (the window
// between a PTE clear and its TLBI) and is not reported.
//
// Left out: stage 1 and combined entries (guest accesses are IPAs), so the
// VMALLE1IS that follows each IPA TLBI has nothing to remove; walk caches
// (intermediate entries); VMID rollover; the ARM64_WORKAROUND_* sequences;
// MAX_TLBI_RANGE_PAGES chunking (one range operation covers any size).
import { emit, type Event } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import type { Thread, World } from '../machine/world.js';
import { metric_add } from '../machine/world.js';
import { mmu_by_id } from './kvm_host.js';
import { KVM_PGTABLE_LAST_LEVEL, TLBI_TTL_UNKNOWN, align_down, system_supports_tlb_range, kvm_granule_size, kvm_pgd_page_idx, pgt_pa_page, type PgtPage, type kvm_pgtable } from './kvm_pgtable.js';
import { define_history } from '../machine/history.js';

export interface TlbEntry {
  vmid: number;
  /** IPA of the start of the page or block. */
  ipa: number;
  pa: number;
  level: number;
  r: boolean;
  w: boolean;
  x: boolean;
  fill_step: number;
  /** Step of a retired TLBI that covered this entry but did not remove it (TTL mismatch); -1 if none. */
  stale_since: number;
  stale_by: string;
}

export interface TlbState {
  /** Per physical CPU, oldest entry first. */
  cpus: TlbEntry[][];
  /** Entries per CPU; the oldest is evicted beyond it. */
  capacity: number;
}

declare module '../machine/world.js' {
  interface World {
    tlb?: TlbState;
  }
}

export const TLB_DEFAULT_CAPACITY = 64;

export function tlb_state(w: World): TlbState {
  return (w.tlb ??= { cpus: [], capacity: TLB_DEFAULT_CAPACITY });
}

export function cpu_tlb(w: World, cpu: number): TlbEntry[] {
  const s = tlb_state(w);
  while (s.cpus.length <= cpu) s.cpus.push([]);
  return s.cpus[cpu]!;
}

const GRAN = [kvm_granule_size(0), kvm_granule_size(1), kvm_granule_size(2), kvm_granule_size(3)];

function covers(e: TlbEntry, ipa: number): boolean {
  return ipa >= e.ipa && ipa < e.ipa + GRAN[e.level]!;
}

function overlaps(e: TlbEntry, start: number, size: number): boolean {
  return e.ipa < start + size && start < e.ipa + GRAN[e.level]!;
}

export type HwWalk =
  | { ok: true; level: number; oa: number; lo: number; hi: number; page: number; idx: number }
  | { ok: false; kind: 'translation'; level: number };

/**
 * The hardware's stage-2 walk of `pgt` for `ipa`: the live tables, root to
 * leaf, reading descriptor words directly. Reserved encodings (a block at
 * level 0, type 0 at level 3) and table pointers outside the table pool
 * are translation faults.
 */
export function hw_walk(w: World, pgt: kvm_pgtable, ipa: number): HwWalk {
  if (ipa < 0 || ipa >= 2 ** pgt.ia_bits) return { ok: false, kind: 'translation', level: pgt.start_level };
  const pages = w.pgt_pages!;
  let page: PgtPage = pages[pgt.pgd[kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, ipa)]!]!;
  for (let level = pgt.start_level; level <= KVM_PGTABLE_LAST_LEVEL; level++) {
    const idx = Math.floor(ipa / GRAN[level]!) % 512;
    const lo = page.ent[2 * idx] ?? 0;
    const hi = page.ent[2 * idx + 1] ?? 0;
    if (!(lo & 1)) return { ok: false, kind: 'translation', level };
    const oa = (hi & 0xffff) * 0x1_0000_0000 + ((lo & 0xffff_f000) >>> 0);
    if (level < KVM_PGTABLE_LAST_LEVEL && lo & 2) {
      const id = pgt_pa_page(w, oa);
      if (id < 0) return { ok: false, kind: 'translation', level };
      page = pages[id]!;
      continue;
    }
    if (level === KVM_PGTABLE_LAST_LEVEL ? !(lo & 2) : level < 1) return { ok: false, kind: 'translation', level };
    return { ok: true, level, oa, lo, hi, page: page.id, idx };
  }
  return { ok: false, kind: 'translation', level: KVM_PGTABLE_LAST_LEVEL };
}

export type Translation =
  | { ok: true; pa: number; level: number; via: 'tlb' | 'walk' }
  | { ok: false; kind: 'translation' | 'permission' | 'access_flag'; level: number };

const S2AP_R = 1 << 6;
const S2AP_W = 1 << 7;
const AF = 1 << 10;
const XN_HI = 1 << (54 - 32);

function perms_str(e: { r: boolean; w: boolean; x: boolean }): string {
  return (e.r ? 'R' : '-') + (e.w ? 'W' : '-') + (e.x ? 'X' : '-');
}

/**
 * A guest access to `ipa` through stage-2 MMU `mmu_id` on t's CPU, as the
 * hardware does it: the TLB, else a walk that fills the TLB on success. One
 * call, no steps. Permission faults come from the TLB entry when one hits.
 * Emits tlb.hit / tlb.fill (the caller emits guest.access).
 */
export function guest_translate(w: World, t: Thread, mmu_id: number, ipa: number, write: boolean): Translation {
  const mmu = mmu_by_id(w, mmu_id);
  const vmid = mmu.vmid;
  const tlb = cpu_tlb(w, t.cpu);
  for (const e of tlb) {
    if (e.vmid !== vmid || !covers(e, ipa)) continue;
    const pa = e.pa + (ipa - e.ipa);
    emit(w, t, 'tlb.hit', { vmid, ipa, pa, level: e.level, stale_since: e.stale_since });
    if (write ? !e.w : !e.r) return { ok: false, kind: 'permission', level: e.level };
    return { ok: true, pa, level: e.level, via: 'tlb' };
  }
  const r = hw_walk(w, mmu.pgt, ipa);
  if (!r.ok) return r;
  if (!(r.lo & AF)) return { ok: false, kind: 'access_flag', level: r.level };
  const e: TlbEntry = {
    vmid,
    ipa: ipa - (ipa % GRAN[r.level]!),
    pa: r.oa,
    level: r.level,
    r: (r.lo & S2AP_R) !== 0,
    w: (r.lo & S2AP_W) !== 0,
    x: (r.hi & XN_HI) === 0,
    fill_step: w.step,
    stale_since: -1,
    stale_by: '',
  };
  if (write ? !e.w : !e.r) return { ok: false, kind: 'permission', level: r.level };
  // Another entry of this VMID inside the new entry's range: two translations
  // for one IPA (a TLB conflict abort, architecturally).
  let conflicts = 0;
  for (const o of tlb) if (o.vmid === vmid && overlaps(o, e.ipa, GRAN[e.level]!)) conflicts++;
  tlb.push(e);
  if (tlb.length > tlb_state(w).capacity) tlb.shift();
  emit(w, t, 'tlb.fill', { vmid, ipa: e.ipa, pa: e.pa, level: e.level, perms: perms_str(e), conflicts });
  metric_add(w, 'tlb_fills');
  return { ok: true, pa: e.pa + (ipa - e.ipa), level: e.level, via: 'walk' };
}

// TLB invalidation primitives (the NV layer calls these for emulated TLBIs).

function drop_on(tlb: TlbEntry[], keep: (e: TlbEntry) => boolean): number {
  let n = 0;
  let j = 0;
  for (let i = 0; i < tlb.length; i++) {
    const e = tlb[i]!;
    if (keep(e)) tlb[j++] = e;
    else n++;
  }
  tlb.length = j;
  return n;
}

function drop(w: World, keep: (e: TlbEntry) => boolean): number {
  let n = 0;
  for (const tlb of tlb_state(w).cpus) n += drop_on(tlb, keep);
  return n;
}

/** TLBI VMALLS12E1IS for `vmid`: every entry of the VMID on every CPU. */
export function tlbi_vmid(w: World, vmid: number): number {
  return drop(w, (e) => e.vmid !== vmid);
}

/** The TTL hint __tlbi_level() sends for `level`: levels 0..3, else none (TLBI_TTL_UNKNOWN). */
export function tlbi_ttl_level(level: number): number | null {
  return level >= 0 && level <= KVM_PGTABLE_LAST_LEVEL ? level : null;
}

/** Keep-predicate of a TLBI by IPA with level hint `level`: a wrong hint spares an entry, marked stale. */
function ipa_keep(w: World, vmid: number, ipa: number, level: number, what: string): (e: TlbEntry) => boolean {
  const hint = tlbi_ttl_level(level);
  return (e) => {
    if (e.vmid !== vmid || !covers(e, ipa)) return true;
    if (hint !== null && e.level !== hint) {
      if (e.stale_since < 0) {
        e.stale_since = w.step;
        e.stale_by = `${what} ipa=0x${ipa.toString(16)} TTL level ${hint} (entry is level ${e.level})`;
      }
      return true;
    }
    return false;
  };
}

/**
 * TLBI IPAS2E1IS for `vmid` at `ipa` with level hint `level` (TLBI_TTL_UNKNOWN:
 * none). Entries covering the IPA go, except those a wrong hint spares: they
 * stay, marked stale.
 */
export function tlbi_ipa(w: World, vmid: number, ipa: number, level: number): number {
  return drop(w, ipa_keep(w, vmid, ipa, level, 'TLBI IPAS2E1IS'));
}

/** TLBI IPAS2E1 (non-shareable): as tlbi_ipa, on CPU `cpu` only. */
export function tlbi_ipa_local(w: World, cpu: number, vmid: number, ipa: number, level: number): number {
  return drop_on(cpu_tlb(w, cpu), ipa_keep(w, vmid, ipa, level, 'TLBI IPAS2E1'));
}

/** TLBI RIPAS2E1IS for `vmid` over [start, start+size): every entry overlapping it (no hint). */
export function tlbi_range(w: World, vmid: number, start: number, size: number): number {
  return drop(w, (e) => e.vmid !== vmid || !overlaps(e, start, size));
}

/** TLBI ALLE1IS: everything. */
export function tlbi_all(w: World): number {
  return drop(w, () => false);
}

/** __kvm_tlb_flush_vmid(mmu): the whole VMID. */
export function __kvm_tlb_flush_vmid(w: World, t: Thread, mmu_id: number): void {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t, 'tlbi.hyp', { scope: 'vmid', vmid, ipa: 0, level: TLBI_TTL_UNKNOWN, size: 0 });
  metric_add(w, 'tlbi_vmid');
  tlbi_vmid(w, vmid);
}

/** __kvm_tlb_flush_vmid_ipa(mmu, ipa, level): one IPA, broadcast, with a level hint (TLBI_TTL_UNKNOWN: none). */
export function __kvm_tlb_flush_vmid_ipa(w: World, t: Thread, mmu_id: number, ipa: number, level: number): void {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t, 'tlbi.hyp', { scope: 'ipa', vmid, ipa, level, size: 0 });
  metric_add(w, 'tlbi_ipa');
  tlbi_ipa(w, vmid, ipa, level);
}

/** __kvm_tlb_flush_vmid_ipa_nsh(mmu, ipa, level): one IPA, this CPU only (a spurious fault's stale local entry). */
export function __kvm_tlb_flush_vmid_ipa_nsh(w: World, t: Thread, mmu_id: number, ipa: number, level: number): void {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t, 'tlbi.hyp', { scope: 'ipa_nsh', vmid, ipa, level, size: 0 });
  metric_add(w, 'tlbi_ipa_nsh');
  tlbi_ipa_local(w, t.cpu, vmid, ipa, level);
}

/** __kvm_tlb_flush_vmid_range(mmu, start, pages): a range TLBI, no level hint (FEAT_TLBIRANGE). */
export function __kvm_tlb_flush_vmid_range(w: World, t: Thread, mmu_id: number, start: number, size: number): void {
  const vmid = mmu_by_id(w, mmu_id).vmid;
  emit(w, t, 'tlbi.hyp', { scope: 'range', vmid, ipa: start, level: TLBI_TTL_UNKNOWN, size });
  metric_add(w, 'tlbi_range');
  tlbi_range(w, vmid, start, size);
}

/**
 * kvm_tlb_flush_vmid_range(mmu, addr, size) (pgtable.c): a range TLBI when
 * the CPUs have FEAT_TLBIRANGE (system_supports_tlb_range()), else the
 * whole VMID.
 */
export function kvm_tlb_flush_vmid_range(w: World, t: Thread, mmu_id: number, addr: number, size: number): void {
  if (!system_supports_tlb_range(mmu_by_id(w, mmu_id).pgt)) return __kvm_tlb_flush_vmid(w, t, mmu_id);
  __kvm_tlb_flush_vmid_range(w, t, mmu_id, align_down(addr, 4096), size);
}

/**
 * Break-before-make has completed on the entry that mapped [start,
 * start+size) (stage2_make_pte): every CPU's entries of `vmid` in that range
 * come from the replaced value, and a TLBI between break and make should
 * have removed them. Any left are marked stale.
 */
export function tlb_bbm_complete(w: World, vmid: number, start: number, size: number, what: string): void {
  for (const tlb of tlb_state(w).cpus) {
    for (const e of tlb) {
      if (e.vmid !== vmid || e.stale_since >= 0 || !overlaps(e, start, size)) continue;
      e.stale_since = w.step;
      e.stale_by = `${what} completed break-before-make with no TLBI covering this entry`;
    }
  }
}

/** The entries of one CPU's TLB, for `info tlb`. */
export function tlb_entries(w: World, cpu: number): readonly TlbEntry[] {
  return w.tlb?.cpus[cpu] ?? [];
}

export function tlb_entry_describe(e: TlbEntry): string {
  const size = { 1: '1G', 2: '2M', 3: '4K' }[e.level] ?? `L${e.level}`;
  const stale = e.stale_since >= 0 ? ` STALE since step ${e.stale_since} (${e.stale_by})` : '';
  return `vmid ${e.vmid} IPA 0x${e.ipa.toString(16)} -> PA 0x${e.pa.toString(16)} ${size} ${perms_str(e)} (filled at step ${e.fill_step})${stale}`;
}

function stale_reason(by: string, step: number): string {
  return by.startsWith('TLBI') ? `${by} retired at step ${step} without removing it` : `${by} (step ${step})`;
}

/** The entries on `cpu` other than the one just filled that overlap it, stale ones first. */
function fill_overlaps(w: World, e: Event & { vmid: number; ipa: number; level: number }): TlbEntry[] {
  const end = e.ipa + GRAN[e.level]!;
  const others = (w.tlb?.cpus[e.cpu] ?? []).filter((x) => x.vmid === e.vmid && !(x.ipa === e.ipa && x.level === e.level) && x.ipa < end && e.ipa < x.ipa + GRAN[x.level]!);
  return others.sort((a, b) => Number(b.stale_since >= 0) - Number(a.stale_since >= 0));
}

define_invariant({
  name: 'tlb.stale_entry',
  description:
    'a guest access is never served by, and no TLB fill overlaps, a TLB entry that a retired TLBI or a completed break-before-make covered (it should have been invalidated)',
  arch: 'arm64',
  on: ['tlb.hit', 'tlb.fill'],
  check(w, ev) {
    const e = ev as Event & { vmid: number; ipa: number; pa: number; level: number; stale_since?: number; conflicts?: number };
    if (e.kind === 'tlb.fill') {
      if (!e.conflicts) return null;
      const stale = fill_overlaps(w, e).find((x) => x.stale_since >= 0);
      if (!stale) return null;
      return {
        thread: e.thread,
        message:
          `${e.thread} on CPU ${e.cpu} filled a level-${e.level} entry for IPA 0x${e.ipa.toString(16)} (vmid ${e.vmid}) while the TLB still holds a stale entry ` +
          `for IPA 0x${stale.ipa.toString(16)} (level ${stale.level}, PA 0x${stale.pa.toString(16)}): ${stale_reason(stale.stale_by, stale.stale_since)}`,
        values: { cpu: e.cpu, vmid: e.vmid, ipa: stale.ipa, pa: stale.pa, level: stale.level, stale_since: stale.stale_since },
      };
    }
    if ((e.stale_since ?? -1) < 0) return null;
    const entry = (w.tlb?.cpus[e.cpu] ?? []).find((x) => x.vmid === e.vmid && covers(x, e.ipa));
    return {
      thread: e.thread,
      message:
        `${e.thread} on CPU ${e.cpu} accessed IPA 0x${e.ipa.toString(16)} through a stale TLB entry (vmid ${e.vmid}, ` +
        `level ${e.level}, PA 0x${e.pa.toString(16)}): ${stale_reason(entry?.stale_by ?? 'TLBI', e.stale_since!)}`,
      values: { cpu: e.cpu, vmid: e.vmid, ipa: e.ipa, pa: e.pa, level: e.level, stale_since: e.stale_since },
    };
  },
});

define_invariant({
  name: 'tlb.conflict',
  description: 'a CPU never holds two TLB entries of one VMID for the same IPA (a TLB conflict abort: the old translation was not invalidated before the new one was installed)',
  arch: 'arm64',
  on: ['tlb.fill'],
  check(w, ev) {
    const e = ev as Event & { vmid: number; ipa: number; pa: number; level: number; conflicts: number };
    if (e.conflicts <= 0) return null;
    const others = fill_overlaps(w, e);
    // An overlap with a stale entry is tlb.stale_entry's report.
    if (others.some((x) => x.stale_since >= 0)) return null;
    return {
      thread: e.thread,
      message:
        `TLB conflict on CPU ${e.cpu}: ${e.thread} filled a level-${e.level} entry for IPA 0x${e.ipa.toString(16)} (vmid ${e.vmid}) ` +
        `while the TLB still holds ${others.map(tlb_entry_describe).join('; ') || `${e.conflicts} overlapping entries`}`,
      values: { cpu: e.cpu, vmid: e.vmid, ipa: e.ipa, level: e.level, conflicts: e.conflicts },
    };
  },
});

// Stamps for messages and the REPL (machine/history.ts): only `stale_since >= 0` is read.
define_history('fill_step', 'stamp');
define_history('stale_since', 'stamp');
