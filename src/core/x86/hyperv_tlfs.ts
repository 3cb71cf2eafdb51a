// include/hyperv/hvgdk_mini.h (v6.18; include/asm-generic/hyperv-tlfs.h and
// arch/x86/include/asm/hyperv-tlfs.h before): the Hyper-V Top Level
// Functional Specification constants the TLB flush hypercalls use. Values as
// in the kernel headers.

// Hypercall codes.
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE = 0x0002;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST = 0x0003;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 0x0013;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 0x0014;

export const HVCALL_NAMES: Record<number, string> = {
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE]: 'HvFlushVirtualAddressSpace',
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST]: 'HvFlushVirtualAddressList',
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX]: 'HvFlushVirtualAddressSpaceEx',
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX]: 'HvFlushVirtualAddressListEx',
};

export function hvcall_name(code: number): string {
  return HVCALL_NAMES[code] ?? `hypercall 0x${code.toString(16)}`;
}

export function is_tlb_flush_hcall(code: number): boolean {
  return code in HVCALL_NAMES;
}

// Flags of struct hv_tlb_flush / hv_tlb_flush_ex.
export const HV_FLUSH_ALL_PROCESSORS = 1 << 0;
export const HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES = 1 << 1;
export const HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY = 1 << 2;
export const HV_FLUSH_USE_EXTENDED_RANGE_FORMAT = 1 << 3;

// enum HV_GENERIC_SET_FORMAT
export const HV_GENERIC_SET_SPARSE_4K = 0;
export const HV_GENERIC_SET_ALL = 1;

export const HV_VCPUS_PER_SPARSE_BANK = 64;
export const HV_MAX_SPARSE_VCPU_BANKS = 64;
/**
 * KVM_HV_MAX_SPARSE_VCPU_SET_BITS = DIV_ROUND_UP(KVM_MAX_VCPUS, 64): 16 with
 * the default CONFIG_KVM_MAX_NR_VCPUS (1024), 64 with MAXSMP (4096), which
 * the model takes; with the model's few vCPUs only bank 0 is ever used.
 */
export const KVM_HV_MAX_SPARSE_VCPU_SET_BITS = 64;
/** HV_HYPERCALL_MAX_XMM_REGISTERS: XMM0-5 carry fast hypercall input. */
export const HV_HYPERCALL_MAX_XMM_REGISTERS = 6;

// The hypercall input value (RCX on x86-64).
export const HV_HYPERCALL_FAST_BIT = 1n << 16n;
export const HV_HYPERCALL_VARHEAD_OFFSET = 17n;
export const HV_HYPERCALL_VARHEAD_MASK = 0x3ffn << 17n; // GENMASK_ULL(26, 17)
export const HV_HYPERCALL_RSVD0_MASK = 0x1fn << 27n; // GENMASK_ULL(31, 27)
export const HV_HYPERCALL_REP_COMP_OFFSET = 32n;
export const HV_HYPERCALL_RSVD1_MASK = 0xfn << 44n; // GENMASK_ULL(47, 44)
export const HV_HYPERCALL_REP_START_OFFSET = 48n;
export const HV_HYPERCALL_RSVD2_MASK = 0xfn << 60n; // GENMASK_ULL(63, 60)
export const HV_HYPERCALL_RSVD_MASK = HV_HYPERCALL_RSVD0_MASK | HV_HYPERCALL_RSVD1_MASK | HV_HYPERCALL_RSVD2_MASK;

// Hypercall status codes (the low 16 bits of the result).
export const HV_STATUS_SUCCESS = 0;
export const HV_STATUS_INVALID_HYPERCALL_CODE = 2;
export const HV_STATUS_INVALID_HYPERCALL_INPUT = 3;

export const HV_STATUS_NAMES: Record<number, string> = {
  [HV_STATUS_SUCCESS]: 'HV_STATUS_SUCCESS',
  [HV_STATUS_INVALID_HYPERCALL_CODE]: 'HV_STATUS_INVALID_HYPERCALL_CODE',
  [HV_STATUS_INVALID_HYPERCALL_INPUT]: 'HV_STATUS_INVALID_HYPERCALL_INPUT',
};

/** Build the 64-bit hypercall input value from its fields. */
export function hv_hypercall_param(f: { code: number; fast?: boolean; var_cnt?: number; rep_cnt?: number; rep_idx?: number }): bigint {
  return (
    BigInt(f.code & 0xffff) |
    (f.fast ? HV_HYPERCALL_FAST_BIT : 0n) |
    (BigInt((f.var_cnt ?? 0) & 0x3ff) << HV_HYPERCALL_VARHEAD_OFFSET) |
    (BigInt((f.rep_cnt ?? 0) & 0xfff) << HV_HYPERCALL_REP_COMP_OFFSET) |
    (BigInt((f.rep_idx ?? 0) & 0xfff) << HV_HYPERCALL_REP_START_OFFSET)
  );
}

/** popcount of a u64. */
export function hweight64(x: bigint): number {
  let n = 0;
  for (let v = BigInt.asUintN(64, x); v; v &= v - 1n) n++;
  return n;
}

export function u64(x: unknown): bigint {
  if (typeof x === 'bigint') return BigInt.asUintN(64, x);
  if (typeof x === 'number') return BigInt.asUintN(64, BigInt(x));
  if (typeof x === 'string') return BigInt.asUintN(64, BigInt(x.replace(/_/g, '')));
  return 0n;
}

export function hex(x: bigint | number): string {
  return `0x${(typeof x === 'bigint' ? x : BigInt(x)).toString(16)}`;
}
