// arch/arm64/kvm/sys_regs.c (and asm/kvm_nested.h decode_range_tlbi):
// emulation of the guest hypervisor's stage-2 TLBIs. Each unmaps the shadow
// stage-2s that may hold the invalidated translations, under the write lock
// with may_block = true (79cc6cdb932a explains why rescheduling is allowed).
// The IPAS2E1IS range is computed per shadow, under the lock, inside
// kvm_s2_mmu_iterate_by_vmid() (nested.ts). The TLBI retires when the vCPU
// next enters the guest. Left out: EL1 TLBIs (handle_tlbi_el1 / VNCR), the
// nXS and OS forms, feature checks that UNDEF, TTL on RIPAS2E1IS (ignored,
// as the kernel does).
import { emit } from '../machine/events.js';
import { RETURN, call, model_fn } from '../machine/model.js';
import { lock_write, write_unlock } from '../kvm/rwlock.js';
import { arm64, get_vmid } from './kvm_host.js';
import { revmap_enabled, revmap_stale_records } from './nested_revmap.js';
import type { Thread, World } from '../machine/world.js';
import { arch_vcpu, kvm_nested_s2_unmap, kvm_s2_mmu_iterate_by_vmid, ttl_to_size, type TlbiInfo } from './nested.js';

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

/** The emulated TLBI, run from the sysreg trap; retires on the next entry. */
export const kvm_handle_s2_tlbi = model_fn<{ op: TlbiOp; val: string }>('kvm_handle_s2_tlbi', {
  decode: (w, t, l) => {
    const v = arch_vcpu(w, t);
    // vcpu_read_sys_reg(vcpu, VTTBR_EL2): the VMID to invalidate.
    const vmid = get_vmid(v.vttbr);
    const val = BigInt(l.val);
    const whole = 2 ** arm64(w).ipa_bits;
    let ev = { base: 0, size: whole, ttl: 0, tg: 0, scale: 0, num: 0 };
    let info: TlbiInfo = { kind: 'range', start: 0, size: 0 };
    if (l.op === 'ipas2e1is') {
      // The range is each shadow's own: see s2_mmu_unmap_ipa() in kvm_s2_mmu_iterate_by_vmid().
      const ttl = bits(val, 47, 44);
      ev = { ...ev, base: bits(val, 35, 0) * 4096, size: ttl_to_size(ttl), ttl };
      info = { kind: 'ipa', val: l.val };
    } else if (l.op === 'ripas2e1is') {
      const r = decode_range_tlbi(val);
      ev = { ...ev, ...r };
      info = { kind: 'range', start: r.base, size: r.size };
    }
    emit(w, t, 'tlbi', { op: l.op.toUpperCase(), operand: val, vmid, ...ev });
    v.tlbi_retiring = tlbi_scope(l.op, vmid, ev.base, ev.size);
    if (l.op === 'alle1is') return 'alle1is';
    return call(kvm_s2_mmu_iterate_by_vmid, { vmid, info }, 'done');
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

/**
 * What the guest's TLBI invalidates architecturally, whatever KVM unmaps:
 * IPAS2E1IS any entry of the VMID whose translation contains the address,
 * RIPAS2E1IS any that overlaps the range, VMALLS12E1IS the whole VMID,
 * ALLE1IS everything (vmid -1).
 */
function tlbi_scope(op: TlbiOp, vmid: number, base: number, size: number): { vmid: number; start: number; size: number } {
  if (op === 'alle1is') return { vmid: -1, start: 0, size: Number.MAX_SAFE_INTEGER };
  if (op === 'vmalls12e1is') return { vmid, start: 0, size: Number.MAX_SAFE_INTEGER };
  if (op === 'ipas2e1is') return { vmid, start: Math.floor(base / 4096) * 4096, size: 4096 };
  return { vmid, start: base, size };
}

export const handle_exit_sysreg = model_fn<Record<string, never>>('handle_exit_sysreg', {
  trap: (w, t) => {
    const trap = arch_vcpu(w, t).sysreg_trap!;
    arch_vcpu(w, t).sysreg_trap = null;
    return call(kvm_handle_s2_tlbi, { op: trap.op as TlbiOp, val: trap.val }, 'done');
  },
  done: () => RETURN,
});

/** At guest entry: the vCPU's last emulated TLBI retires (PC advanced, ERET); L1's stage-2 edits it covered are now invalidated. */
export function tlbi_retire(w: World, t: Thread): void {
  const v = arch_vcpu(w, t);
  const r = v.tlbi_retiring;
  if (!r) return;
  v.tlbi_retiring = null;
  const a = arm64(w);
  // Each record is one entry of L1's stage-2 (a page or a block): any overlap invalidates it.
  a.l1_s2_dirty = a.l1_s2_dirty.filter((d) => !((r.vmid === -1 || d.vmid === r.vmid) && d.start < r.start + r.size && r.start < d.start + d.size));
}

