// arch/arm64/kvm/sys_regs.c (and asm/kvm_nested.h decode_range_tlbi):
// emulation of the guest hypervisor's stage-2 TLBIs. Each unmaps the shadow
// stage-2s that may hold the invalidated translations, under the write lock
// with may_block = true (79cc6cdb932a explains why rescheduling is allowed).
// The TLBI retires when the vCPU next enters the guest. Left out: EL1
// TLBIs (handle_tlbi_el1 / VNCR), the nXS and OS forms, feature checks that
// UNDEF, TTL on RIPAS2E1IS (ignored, as the kernel does).
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn } from '../machine/model.js';
import { lock_write, write_unlock } from '../kvm/rwlock.js';
import { arm64, get_vmid } from './kvm_host.js';
import { kvm_decode_nested_level } from './kvm_pgtable.js';
import { kvm_pgtable_get_leaf } from './pgtable.js';
import { revmap_enabled, revmap_stale_records } from './nested_revmap.js';
import type { Thread, World } from '../machine/world.js';
import { arch_vcpu, kvm_nested_s2_unmap, kvm_s2_mmu_iterate_by_vmid } from './nested.js';

export type TlbiOp = 'alle1is' | 'vmalls12e1is' | 'ipas2e1is' | 'ripas2e1is';

const bits = (v: bigint, hi: number, lo: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));

/** __TLBI_RANGE_PAGES(num, scale) */
export const tlbi_range_pages = (num: number, scale: number) => (num + 1) * 2 ** (5 * scale + 1);

/** decode_range_tlbi(): TG 47:46, SCALE 45:44, NUM 43:39, BaseADDR 36:0. */
export function decode_range_tlbi(val: bigint): { base: number; size: number; tg: number; scale: number; num: number } {
  const tg = bits(val, 47, 46);
  const shift = tg === 1 ? 12 : tg === 2 ? 14 : 16; // IMPDEF: tg 0 as 64K
  const scale = bits(val, 45, 44);
  const num = bits(val, 43, 39);
  return { base: bits(val, 36, 0) * 2 ** shift, size: tlbi_range_pages(num, scale) * 2 ** shift, tg, scale, num };
}

/** ttl_to_size() for the 4K granule (TTL 47:44: granule 3:2, level 1:0). */
export function ttl_to_size(ttl: number): number {
  if (((ttl >> 2) & 3) !== 1) return 0;
  return [0, 2 ** 30, 2 ** 21, 2 ** 12][ttl & 3]!;
}

/**
 * s2_mmu_unmap_ipa(): IPAS2E1IS base = Xt[35:0] << 12; size from TTL, else
 * the guest level the shadow leaf recorded (KVM_NV_GUEST_MAP_SZ), else the
 * largest block (1G for 4K); base aligned down to it.
 */
export function ipas2_range(val: bigint, guest_level: number | null): { base: number; size: number; ttl: number } {
  const ttl = bits(val, 47, 44);
  let size = ttl_to_size(ttl);
  if (!size && guest_level !== null) size = ttl_to_size((1 << 2) | guest_level);
  if (!size) size = 2 ** 30;
  const base = Math.floor((bits(val, 35, 0) * 4096) / size) * size;
  return { base, size, ttl };
}

/** Build an operand from friendlier scenario arguments. */
export function tlbi_operand(op: TlbiOp, a: { ipa?: number; ttl?: number; pages?: number }): bigint {
  if (op === 'ipas2e1is') return (BigInt(Math.floor((a.ipa ?? 0) / 4096)) & 0xf_ffff_ffffn) | (BigInt(a.ttl ?? 0) << 44n);
  if (op === 'ripas2e1is') {
    // The smallest SCALE/NUM pair covering the pages, 4K granule.
    const pages = a.pages ?? 1;
    for (let scale = 0; scale < 4; scale++) {
      for (let num = 0; num < 32; num++) {
        if (tlbi_range_pages(num, scale) >= pages) {
          return (1n << 46n) | (BigInt(scale) << 44n) | (BigInt(num) << 39n) | BigInt(Math.floor((a.ipa ?? 0) / 4096));
        }
      }
    }
    throw new Error(`ripas2e1is: ${pages} pages exceed the largest range`);
  }
  return 0n;
}

/** get_guest_mapping_ttl(): the guest level the shadow leaf recorded in its SW bits, if mapped. */
function guest_level_of(w: World, mmu_id: number, ipa: number): number | null {
  const { pte } = kvm_pgtable_get_leaf(w, mmu_id, ipa);
  if (!(pte & 1n)) return null;
  return kvm_decode_nested_level(pte) || null;
}

/** The emulated TLBI, run from the sysreg trap; retires on the next entry. */
export const kvm_handle_s2_tlbi = model_fn<{ op: TlbiOp; val: string }>('kvm_handle_s2_tlbi', {
  decode: (w, t, l) => {
    const v = arch_vcpu(w, t);
    const vmid = get_vmid(v.vttbr);
    const val = BigInt(l.val);
    const whole = 2 ** arm64(w).ipa_bits;
    let base = 0;
    let size = whole;
    let ttl = 0;
    let tg = 0;
    let scale = 0;
    let num = 0;
    if (l.op === 'ipas2e1is') {
      const hw = arm64(w).nested_mmus.find((m) => get_vmid(m.tlb_vttbr) === vmid);
      ({ base, size, ttl } = ipas2_range(val, hw ? guest_level_of(w, hw.index, bits(val, 35, 0) * 4096) : null));
    } else if (l.op === 'ripas2e1is') {
      ({ base, size, tg, scale, num } = decode_range_tlbi(val));
    }
    emit(w, t, 'tlbi', { op: l.op.toUpperCase(), operand: val, vmid, base, size, ttl, tg, scale, num });
    v.tlbi_retiring = { vmid: l.op === 'alle1is' ? -1 : vmid, start: base, size };
    if (l.op === 'alle1is') return 'alle1is';
    return call(kvm_s2_mmu_iterate_by_vmid, { vmid, start: base, size: l.op === 'vmalls12e1is' ? 0 : size }, 'done');
  },
  // handle_alle1is(): every shadow, in full.
  alle1is: (w, t) => lock_write(w, t, 'mmu_lock', 'alle1is_unmap'),
  alle1is_unmap: () => call(kvm_nested_s2_unmap, { may_block: true }, 'alle1is_unlock'),
  alle1is_unlock: (w, t) => {
    write_unlock(w, t, 'mmu_lock');
    return 'done';
  },
  // How many reverse-map records now name nested pages the TLBI took out of the shadow (Marc Zyngier's accuracy question).
  done: (w, t) => {
    t.ip++;
    if (revmap_enabled(w)) {
      const stale = arm64(w).nested_mmus.reduce((n, m) => n + revmap_stale_records(w, m), 0);
      w.metrics['revmap_stale_records'] = stale;
    }
    return RETURN;
  },
});

export const handle_exit_sysreg = model_fn<Record<string, never>>('handle_exit_sysreg', {
  trap: (w, t) => {
    const trap = arch_vcpu(w, t).sysreg_trap!;
    arch_vcpu(w, t).sysreg_trap = null;
    return call(kvm_handle_s2_tlbi, { op: trap.op as TlbiOp, val: trap.val }, 'done');
  },
  done: () => RETURN,
});

/** At guest entry: the vCPU's last emulated TLBI retires; L1's stage-2 edits it covered are now invalidated. */
export function tlbi_retire(w: World, t: Thread): void {
  const v = arch_vcpu(w, t);
  const r = v.tlbi_retiring;
  if (!r) return;
  v.tlbi_retiring = null;
  const a = arm64(w);
  a.l1_s2_dirty = a.l1_s2_dirty.filter((d) => !((r.vmid === -1 || d.vmid === r.vmid) && d.start >= r.start && d.start + d.size <= r.start + r.size));
}

