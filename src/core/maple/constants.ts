// Constants and entry helpers of include/linux/maple_tree.h and
// include/linux/xarray.h (xa_mk_value, internal entries, reserved range),
// plus the errno values the API returns.
// Left out: 32-bit layouts (only the 64-bit node geometry is modelled),
// maple_dense nodes (the kernel never creates them for these trees), and the
// lock-type flags beyond recording them in ma_flags.
//
// Indices and entries are unsigned longs, 0..2^64-1 exactly (ulong.ts).

import { type ulong, ul_big, ul_low2, ul_of_big, ul_shr } from './ulong.js';

export { type ulong, ULONG_MAX } from './ulong.js';

// errno values (returned negated, as the kernel does).
export const EINVAL = 22;
export const EEXIST = 17;
export const ENOMEM = 12;
export const EBUSY = 16;

// gfp flags (include/linux/gfp_types.h, 6.x values). Only "may it block"
// matters to the model: the allocation-failure hook is told which one.
export const __GFP_DIRECT_RECLAIM = 0x400;
export const __GFP_KSWAPD_RECLAIM = 0x800;
export const GFP_KERNEL = 0xcc0;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
export function gfpflags_allow_blocking(gfp: number): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

// Tree flags (maple_tree.h).
export const MT_FLAGS_ALLOC_RANGE = 0x01;
export const MT_FLAGS_USE_RCU = 0x02;
export const MT_FLAGS_HEIGHT_OFFSET = 0x02;
export const MT_FLAGS_HEIGHT_MASK = 0x7c;
export const MT_FLAGS_LOCK_MASK = 0x300;
export const MT_FLAGS_LOCK_IRQ = 0x100;
export const MT_FLAGS_LOCK_BH = 0x200;
export const MT_FLAGS_LOCK_EXTERN = 0x300;
export const MT_FLAGS_ALLOC_WRAPPED = 0x0800;
/** The flags of an mm's VMA tree (include/linux/mm_types.h). */
export const MM_MT_FLAGS = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN | MT_FLAGS_USE_RCU;

export const MAPLE_HEIGHT_MAX = 31;
export const MAPLE_RESERVED_RANGE = 4096;
export const MAPLE_NODE_SLOTS = 31;
export const MAPLE_RANGE64_SLOTS = 16;
export const MAPLE_ARANGE64_SLOTS = 10;
export const MAPLE_ALLOC_SLOTS = 30;

// enum maple_type.
export const maple_dense = 0;
export const maple_leaf_64 = 1;
export const maple_range_64 = 2;
export const maple_arange_64 = 3;
export const MAPLE_TYPE_NAMES = ['maple_dense', 'maple_leaf_64', 'maple_range_64', 'maple_arange_64'] as const;

/** mt_slots[], mt_pivots[], mt_min_slots[] indexed by maple_type. */
export const MT_SLOTS = [MAPLE_NODE_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_RANGE64_SLOTS, MAPLE_ARANGE64_SLOTS] as const;
export const MT_PIVOTS = [0, MAPLE_RANGE64_SLOTS - 1, MAPLE_RANGE64_SLOTS - 1, MAPLE_ARANGE64_SLOTS - 1] as const;
export const MT_MIN_SLOTS = [
  MAPLE_NODE_SLOTS / 2,
  MAPLE_RANGE64_SLOTS / 2 - 2,
  MAPLE_RANGE64_SLOTS / 2 - 2,
  MAPLE_ARANGE64_SLOTS / 2 - 1,
] as const;

// ---- xarray entry encoding (include/linux/xarray.h) --------------------------

/**
 * xa_mk_value(): v << 1 | 1. The kernel WARNs when v has bit 63 set
 * ((long)v < 0) and the bit is shifted out; so does this (see
 * xa_mk_value_loses()).
 */
export function xa_mk_value(v: ulong): ulong {
  if (typeof v === 'number' && v < 4503599627370496) return v * 2 + 1; // < 2^52: stays a number
  return ul_of_big(((ul_big(v) << 1n) | 1n) & 0xffffffffffffffffn);
}
/** The bits xa_mk_value(v) shifts out (bit 63 of v), 0 when none: the kernel's WARN_ON((long)v < 0). */
export function xa_mk_value_loses(v: ulong): bigint {
  return ul_big(v) & 0x8000000000000000n;
}
export function xa_to_value(entry: ulong): ulong {
  return ul_shr(entry, 1);
}
export function xa_is_value(entry: ulong): boolean {
  return (ul_low2(entry) & 1) === 1;
}
export function xa_mk_internal(v: number): number {
  return v * 4 + 2;
}
export function xa_to_internal(entry: ulong): ulong {
  return ul_shr(entry, 2);
}
export function xa_is_internal(entry: ulong): boolean {
  return ul_low2(entry) === 2;
}
export const XA_RETRY_ENTRY = 1026; // xa_mk_internal(256)
export const XA_ZERO_ENTRY = 1030; // xa_mk_internal(257)
export function xa_is_zero(entry: ulong): boolean {
  return entry === XA_ZERO_ENTRY;
}
/** Internal entries the normal API must never be handed (<= XA_RETRY_ENTRY). */
export function xa_is_advanced(entry: ulong): boolean {
  return xa_is_internal(entry) && entry <= XA_RETRY_ENTRY;
}
/** Internal entries below MAPLE_RESERVED_RANGE are reserved by the tree (mt_is_reserved()). */
export function mt_is_reserved(entry: ulong): boolean {
  return entry < MAPLE_RESERVED_RANGE && xa_is_internal(entry);
}
