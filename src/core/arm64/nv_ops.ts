// Scenario ops of a guest hypervisor (L1) and its L2 guests under NV:
// enter L2 with a VTTBR, take an exception back to vEL2, edit L1's own
// stage-2 tables (in guest memory), and issue stage-2 TLBIs.
import { define_op, S } from '../machine/ops.js';
import type { Thread, World } from '../machine/world.js';
import { arm64, get_vmid, vttbr_baddr } from './kvm_host.js';
import { arch_vcpu } from './nested.js';
import { tlbi_operand, type TlbiOp } from './sys_regs.js';

const u64 = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number | string));
const PAGE = 4096;

function require_ctxt(w: World, t: Thread, ctxt: 'vel2' | 'l2', op: string): void {
  const v = arch_vcpu(w, t);
  if (arm64(w).nested_mmus_size === 0) throw new Error(`${t.name}: ${op} needs a VM with nested_mmus (NV)`);
  if (v.ctxt !== ctxt) throw new Error(`${t.name}: ${op} runs in ${ctxt === 'vel2' ? 'vEL2 (the guest hypervisor)' : 'an L2 guest'}, but the vCPU is in ${v.ctxt}`);
}

define_op({
  name: 'eret_l2',
  threads: ['vcpu'],
  summary: 'the guest hypervisor sets VTTBR_EL2 (and VTCR_EL2, HCR_EL2.VM) and ERETs into an L2 guest',
  arch: 'arm64',
  schema: {
    type: 'object',
    properties: { vttbr: S.u64, vtcr: S.u64, s2: S.bool },
    required: ['vttbr'],
    additionalProperties: false,
  },
  in_guest: (w, t, a) => {
    require_ctxt(w, t, 'vel2', 'eret_l2');
    const v = arch_vcpu(w, t);
    v.vttbr = u64(a['vttbr']);
    // Default VTCR_EL2: 4K granule, T0SZ 24 (40-bit IPA), SL0 1, inner-shareable WBWA, PS 40-bit.
    v.vtcr = a['vtcr'] === undefined ? 0x8002_3558n : u64(a['vtcr']);
    v.hcr_vm = a['s2'] !== false;
    return { exit: 'eret' };
  },
});

define_op({
  name: 'exit_l2',
  threads: ['vcpu'],
  summary: 'the L2 guest takes an exception to the guest hypervisor (back to vEL2)',
  arch: 'arm64',
  schema: { type: 'object', additionalProperties: false },
  in_guest: (w, t) => {
    require_ctxt(w, t, 'l2', 'exit_l2');
    return { exit: 'l2_trap' };
  },
});

/**
 * Record that L1 changed the entry of its stage-2 holding nested_ipa (a page,
 * or the 2M block it was part of): shadow translations for it may be stale
 * until a TLBI covering any part of that entry retires.
 */
function mark_dirty(w: World, vttbr: bigint, nested_ipa: number, level: number): void {
  const dirty = arm64(w).l1_s2_dirty;
  const vmid = get_vmid(vttbr);
  const size = level === 2 ? 2 ** 21 : PAGE;
  const start = Math.floor(nested_ipa / size) * size;
  if (!dirty.some((d) => d.vmid === vmid && d.start === start && d.size === size)) dirty.push({ vmid, start, size });
}

function l1_table(w: World, vttbr: bigint) {
  const a = arm64(w);
  return (a.l1_s2[vttbr_baddr(vttbr)] ??= {});
}

define_op({
  name: 'l1_map',
  threads: ['vcpu'],
  summary: "the guest hypervisor maps nested IPA -> IPA in its own stage-2 (a store to guest memory, no trap)",
  arch: 'arm64',
  schema: {
    type: 'object',
    properties: { vttbr: S.u64, nested_ipa: S.addr, ipa: S.addr, size: S.size, writable: S.bool },
    required: ['vttbr', 'nested_ipa', 'ipa'],
    additionalProperties: false,
  },
  in_guest: (w, t, a) => {
    require_ctxt(w, t, 'vel2', 'l1_map');
    const size = (a['size'] as number | undefined) ?? PAGE;
    const level = size >= 2 ** 21 ? 2 : 3;
    const table = l1_table(w, u64(a['vttbr']));
    const nested = a['nested_ipa'] as number;
    const ipa = a['ipa'] as number;
    for (let off = 0; off < size; off += PAGE) {
      const old = table[(nested + off) / PAGE];
      // Changing a live entry (without unmapping it first) also needs a TLBI before L1 may rely on it.
      if (old && (old.ipa !== ipa + off || old.level !== level || old.writable !== (a['writable'] !== false))) mark_dirty(w, u64(a['vttbr']), nested + off, old.level);
      table[(nested + off) / PAGE] = { ipa: ipa + off, level, writable: a['writable'] !== false };
    }
    return { done: true };
  },
});

define_op({
  name: 'l1_unmap',
  threads: ['vcpu'],
  summary: 'the guest hypervisor unmaps a nested IPA range from its own stage-2 (it must then issue a TLBI)',
  arch: 'arm64',
  schema: {
    type: 'object',
    properties: { vttbr: S.u64, nested_ipa: S.addr, size: S.size },
    required: ['vttbr', 'nested_ipa'],
    additionalProperties: false,
  },
  in_guest: (w, t, a) => {
    require_ctxt(w, t, 'vel2', 'l1_unmap');
    const size = (a['size'] as number | undefined) ?? PAGE;
    const vttbr = u64(a['vttbr']);
    const table = l1_table(w, vttbr);
    const nested = a['nested_ipa'] as number;
    for (let off = 0; off < size; off += PAGE) {
      const e = table[(nested + off) / PAGE];
      if (!e) continue;
      delete table[(nested + off) / PAGE];
      mark_dirty(w, vttbr, nested + off, e.level);
    }
    return { done: true };
  },
});

define_op({
  name: 'tlbi',
  threads: ['vcpu'],
  summary: 'a stage-2 TLBI from the guest hypervisor for the VMID in VTTBR_EL2 (or `vttbr`): alle1is, vmalls12e1is, ipas2e1is {ipa, ttl}, ripas2e1is {ipa, pages}, or a raw operand; trapped and emulated',
  arch: 'arm64',
  schema: {
    type: 'object',
    properties: {
      op: { enum: ['alle1is', 'vmalls12e1is', 'ipas2e1is', 'ripas2e1is'] },
      ipa: S.addr,
      ttl: { type: 'integer', minimum: 0, maximum: 15 },
      pages: { type: 'integer', minimum: 1 },
      operand: S.u64,
      vttbr: S.u64,
    },
    required: ['op'],
    additionalProperties: false,
  },
  in_guest: (w, t, a) => {
    require_ctxt(w, t, 'vel2', 'tlbi');
    // A guest hypervisor points VTTBR_EL2 at the VMID it wants to invalidate first.
    if (a['vttbr'] !== undefined) arch_vcpu(w, t).vttbr = u64(a['vttbr']);
    const op = a['op'] as TlbiOp;
    const val = a['operand'] !== undefined ? u64(a['operand']) : tlbi_operand(op, a as { ipa?: number; ttl?: number; pages?: number });
    arch_vcpu(w, t).sysreg_trap = { op, val: `0x${val.toString(16)}` };
    return { exit: 'sysreg' };
  },
});

