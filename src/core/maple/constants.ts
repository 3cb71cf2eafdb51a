// Constants and entry helpers of include/linux/maple_tree.h and
// include/linux/xarray.h (xa_mk_value, internal entries, reserved range),
// plus the errno values the API returns.
// Left out: 32-bit layouts (only the 64-bit node geometry is modelled),
// maple_dense nodes (the kernel never creates them for these trees), and the
// lock-type flags beyond recording them in ma_flags.
//
// Number model: indices and entries are JS numbers. Integers 0..2^53-1 are
// exact; ULONG_MAX (2^64-1) is represented by Infinity. Anything strictly
// between 2^53-1 and ULONG_MAX cannot be represented and is refused.

/** ULONG_MAX, the top index. Represented by Infinity. */
export const ULONG_MAX = Infinity;
/** Largest exactly representable index or entry (2^53-1). */
export const MAPLE_MAX_EXACT = Number.MAX_SAFE_INTEGER;

// errno values (returned negated, as the kernel does).
export const EINVAL = 22;
export const EEXIST = 17;
export const ENOMEM = 12;
export const EBUSY = 16;
export const ERANGE = 34;

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

// ---- xarray entry encoding --------------------------------------------------

/** Largest value xa_mk_value accepts here (its result must stay <= 2^53-1). */
export const XA_VALUE_MAX = (MAPLE_MAX_EXACT - 1) / 2;

export function xa_mk_value(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > XA_VALUE_MAX) {
    throw new RangeError(`xa_mk_value(${v}): value must be an integer 0..2^52-1 to stay representable`);
  }
  return v * 2 + 1;
}
export function xa_to_value(entry: number): number {
  return Math.floor(entry / 2);
}
export function xa_is_value(entry: number): boolean {
  return entry % 2 === 1;
}
export function xa_mk_internal(v: number): number {
  return v * 4 + 2;
}
export function xa_to_internal(entry: number): number {
  return Math.floor(entry / 4);
}
export function xa_is_internal(entry: number): boolean {
  return entry % 4 === 2;
}
export const XA_RETRY_ENTRY = 1026; // xa_mk_internal(256)
export const XA_ZERO_ENTRY = 1030; // xa_mk_internal(257)
export function xa_is_zero(entry: number): boolean {
  return entry === XA_ZERO_ENTRY;
}
/** Internal entries the normal API must never be handed (<= XA_RETRY_ENTRY). */
export function xa_is_advanced(entry: number): boolean {
  return xa_is_internal(entry) && entry <= XA_RETRY_ENTRY;
}
/** Internal entries below MAPLE_RESERVED_RANGE are reserved by the tree. */
export function mt_is_reserved(entry: number): boolean {
  return entry < MAPLE_RESERVED_RANGE && xa_is_internal(entry);
}

// ---- representability -------------------------------------------------------

function hex_of(x: number | bigint): string {
  if (typeof x === 'bigint') return (x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16));
  if (Number.isFinite(x) && Number.isInteger(x)) return (x < 0 ? '-0x' + (-x).toString(16) : '0x' + x.toString(16));
  return String(x);
}

/**
 * Explain why `x` is not a usable index, or return null when it is:
 * integers 0..2^53-1 and ULONG_MAX (Infinity).
 */
export function mt_index_check(x: number): string | null {
  if (x === ULONG_MAX) return null;
  if (typeof x !== 'number' || Number.isNaN(x)) return `index ${String(x)} is not a number`;
  if (!Number.isInteger(x)) return `index ${x} is not an integer`;
  if (x < 0) return `index ${x} is negative`;
  if (x > MAPLE_MAX_EXACT) return `index ${hex_of(x)} is above 2^53 and not ULONG_MAX: not representable`;
  return null;
}

/** Same check for entries (values): 0..2^53-1; ULONG_MAX is not an entry. */
export function mt_entry_check(x: number): string | null {
  if (typeof x !== 'number' || Number.isNaN(x)) return `entry ${String(x)} is not a number`;
  if (x === Infinity) return 'entry ULONG_MAX is above 2^53: not representable';
  if (!Number.isInteger(x)) return `entry ${x} is not an integer`;
  if (x < 0) return `entry ${x} is negative`;
  if (x > MAPLE_MAX_EXACT) return `entry ${hex_of(x)} is above 2^53: not representable`;
  return null;
}

const TWO64_MINUS_1 = (1n << 64n) - 1n;

/** Convert a REPL integer to an index: 2^64-1 -> Infinity; throws RangeError. */
export function parse_index(x: bigint | number): number {
  if (typeof x === 'bigint') {
    if (x === TWO64_MINUS_1) return ULONG_MAX;
    if (x < 0n) throw new RangeError(`index ${hex_of(x)} is negative`);
    if (x > TWO64_MINUS_1) throw new RangeError(`index ${hex_of(x)} does not fit in 64 bits`);
    if (x > BigInt(MAPLE_MAX_EXACT)) {
      throw new RangeError(`index ${hex_of(x)} is above 2^53 and not ULONG_MAX: not representable`);
    }
    return Number(x);
  }
  const why = mt_index_check(x);
  if (why !== null) throw new RangeError(why);
  return x;
}

/** Convert a REPL integer to an entry (0..2^53-1); throws RangeError. */
export function parse_entry(x: bigint | number): number {
  if (typeof x === 'bigint') {
    if (x < 0n) throw new RangeError(`entry ${hex_of(x)} is negative`);
    if (x > BigInt(MAPLE_MAX_EXACT)) throw new RangeError(`entry ${hex_of(x)} is above 2^53: not representable`);
    return Number(x);
  }
  const why = mt_entry_check(x);
  if (why !== null) throw new RangeError(why);
  return x;
}

/** An index as a bigint (Infinity -> 2^64-1), for printing. */
export function index_to_bigint(x: number): bigint {
  return x === ULONG_MAX ? TWO64_MINUS_1 : BigInt(x);
}

/** Index check used by the API: 0 when fine, else -ERANGE or -EINVAL. */
export function index_errno(x: number): number {
  if (x === ULONG_MAX) return 0;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) return -EINVAL;
  if (x > MAPLE_MAX_EXACT) return -ERANGE;
  return 0;
}

export function entry_errno(x: number): number {
  if (typeof x !== 'number' || Number.isNaN(x) || x < 0 || (Number.isFinite(x) && !Number.isInteger(x))) return -EINVAL;
  if (x > MAPLE_MAX_EXACT) return -ERANGE;
  return 0;
}
