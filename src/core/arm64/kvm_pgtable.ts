// arch/arm64/include/asm/kvm_pgtable.h, the descriptor bits private to
// arch/arm64/kvm/hyp/pgtable.c, and the page-table pages themselves.
//
// Version modelled: the v6.17 shape of the code (hyp/pgtable.c at
// e6157256ee1a and asm/kvm_pgtable.h at 0e89ca13ee5f, Aug-Sept 2025:
// LPA2-aware s8 levels, SKIP_BBM_TLBI/SKIP_CMO walk flags, range TLBIs).
// 4K granule without LPA2: levels 0..3 (KVM_PGTABLE_FIRST_LEVEL is -1, for
// LPA2 only), a single-bit S2 XN at bit 54, leaf HI attributes 63:50, the
// break-before-make marker KVM_INVALID_PTE_LOCKED at bit 10. Left out: 16K/64K granules, LPA2 and
// 52-bit PAs, the hyp stage-1 bits, pKVM ownership annotations beyond the
// owner-id field, the 2-bit XN field of later kernels (its "XN" value is the
// same bit 54, so the model's descriptors are those kernels' too).
//
// How descriptors are stored. A descriptor is 64 bits and must stay exact,
// but JS numbers hold 53. Each table page keeps its 512 entries in one
// Uint32Array of 1024 words: word 2*i is bits 31:0 of entry i ("lo": valid,
// type, MemAttr, S2AP, SH, AF, OA 31:12), word 2*i+1 is bits 63:32 ("hi": OA
// 47:32, XN, the SW bits). The hardware walk (tlb.ts) and the printers read
// the words directly, with no allocation; the kernel-shaped model code reads
// and writes whole descriptors as bigint (kvm_pte_t), which is exact and
// plain data (locals and events can hold it). A typed array clones with
// structuredClone and hashes as 32-bit words, so a page costs 4 KiB in a
// checkpoint, like the real page.
import type { World } from '../machine/world.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { define_history } from '../machine/history.js';

/** kvm_pte_t */
export type kvm_pte_t = bigint;

export const PTRS_PER_PTE = 512;
export const KVM_PGTABLE_MAX_LEVELS = 4;
/** 4K granule: the largest block is a 1G block at level 1. */
export const KVM_PGTABLE_MIN_BLOCK_LEVEL = 1;
export const KVM_PGTABLE_LAST_LEVEL = KVM_PGTABLE_MAX_LEVELS - 1;

// enum kvm_pgtable_walk_flags
export const KVM_PGTABLE_WALK_LEAF = 1 << 0;
export const KVM_PGTABLE_WALK_TABLE_PRE = 1 << 1;
export const KVM_PGTABLE_WALK_TABLE_POST = 1 << 2;
export const KVM_PGTABLE_WALK_SHARED = 1 << 3;
export const KVM_PGTABLE_WALK_HANDLE_FAULT = 1 << 4;
/** Update entries without break-before-make's TLBI (tables not yet linked: kvm_pgtable_stage2_create_unlinked). */
export const KVM_PGTABLE_WALK_SKIP_BBM_TLBI = 1 << 5;
/** Update entries without cache maintenance. */
export const KVM_PGTABLE_WALK_SKIP_CMO = 1 << 6;

/** TLBI_TTL_UNKNOWN (asm/tlbflush.h): no level hint (INT_MAX). */
export const TLBI_TTL_UNKNOWN = 0x7fff_ffff;

const WALK_FLAG_NAMES: [number, string][] = [
  [KVM_PGTABLE_WALK_LEAF, 'LEAF'],
  [KVM_PGTABLE_WALK_TABLE_PRE, 'TABLE_PRE'],
  [KVM_PGTABLE_WALK_TABLE_POST, 'TABLE_POST'],
  [KVM_PGTABLE_WALK_SHARED, 'SHARED'],
  [KVM_PGTABLE_WALK_HANDLE_FAULT, 'HANDLE_FAULT'],
  [KVM_PGTABLE_WALK_SKIP_BBM_TLBI, 'SKIP_BBM_TLBI'],
  [KVM_PGTABLE_WALK_SKIP_CMO, 'SKIP_CMO'],
];

export function walk_flags_name(flags: number): string {
  const names = WALK_FLAG_NAMES.filter(([b]) => flags & b).map(([, n]) => n);
  return names.length ? names.join('|') : '0';
}

// enum kvm_pgtable_prot. The low flags are plain numbers; the software bits
// sit at 58:55 and are only exact as bigint (a prot may be either).
export const KVM_PGTABLE_PROT_X = 1 << 0;
export const KVM_PGTABLE_PROT_W = 1 << 1;
export const KVM_PGTABLE_PROT_R = 1 << 2;
export const KVM_PGTABLE_PROT_DEVICE = 1 << 3;
/** v6.9+ (KVM_PGTABLE_PROT_NORMAL_NC): Normal non-cacheable. */
export const KVM_PGTABLE_PROT_NORMAL_NC = 1 << 4;
export const KVM_PGTABLE_PROT_RW = KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W;
export const KVM_PGTABLE_PROT_RWX = KVM_PGTABLE_PROT_RW | KVM_PGTABLE_PROT_X;
export const KVM_PGTABLE_PROT_SW0 = 1n << 55n;
export const KVM_PGTABLE_PROT_SW1 = 1n << 56n;
export const KVM_PGTABLE_PROT_SW2 = 1n << 57n;
export const KVM_PGTABLE_PROT_SW3 = 1n << 58n;
export type kvm_pgtable_prot = number | bigint;

/** NV (nested.c): a shadow leaf remembers the guest's mapping level in SW1|SW0. */
export const KVM_NV_GUEST_MAP_SZ = KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0;
export function kvm_encode_nested_level(level: number): bigint {
  return (BigInt(level) << 55n) & KVM_NV_GUEST_MAP_SZ;
}
export function kvm_decode_nested_level(pte: kvm_pte_t): number {
  return Number((pte & KVM_NV_GUEST_MAP_SZ) >> 55n);
}

// enum kvm_pgtable_stage2_flags
export const KVM_PGTABLE_S2_NOFWB = 1 << 0;
export const KVM_PGTABLE_S2_IDMAP = 1 << 1;

// Descriptor fields (asm/kvm_pgtable.h, hyp/pgtable.c).
export const KVM_PTE_VALID = 1n << 0n;
export const KVM_PTE_TYPE = 1n << 1n;
export const KVM_PTE_TYPE_BLOCK = 0n;
export const KVM_PTE_TYPE_PAGE = 1n;
export const KVM_PTE_TYPE_TABLE = 1n;
/** Output address, GENMASK(47, PAGE_SHIFT). */
export const KVM_PTE_ADDR_MASK = 0x0000_ffff_ffff_f000n;
export const KVM_PTE_LEAF_ATTR_LO = 0xffcn; // GENMASK(11, 2)
export const KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR = 0x3cn; // GENMASK(5, 2)
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R = 1n << 6n;
export const KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W = 1n << 7n;
export const KVM_PTE_LEAF_ATTR_LO_S2_SH = 0x300n; // GENMASK(9, 8)
export const KVM_PTE_LEAF_ATTR_LO_S2_SH_IS = 3n;
export const KVM_PTE_LEAF_ATTR_LO_S2_AF = 1n << 10n;
export const KVM_PTE_LEAF_ATTR_HI = 0xfffc_0000_0000_0000n; // GENMASK(63, 50) (bit 50: the stage-1 GP bit)
export const KVM_PTE_LEAF_ATTR_HI_SW = 0x0780_0000_0000_0000n; // GENMASK(58, 55)
export const KVM_PTE_LEAF_ATTR_HI_S2_XN = 1n << 54n;
export const KVM_PTE_LEAF_ATTR_S2_PERMS = KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN;
export const KVM_INVALID_PTE_OWNER_MASK = 0x3fcn; // GENMASK(9, 2)
export const KVM_MAX_OWNER_ID = 1;
/** A break-before-make is in progress on this (invalid) entry. */
export const KVM_INVALID_PTE_LOCKED = 1n << 10n;
export const KVM_PHYS_INVALID = -1;

// Stage-2 MemAttr[3:0] (asm/memory.h), placed at bits 5:2 by PTE_S2_MEMATTR().
// Without FWB the value combines with stage 1 (0xf: Normal outer/inner WB);
// with FWB (ARMv8.4 stage-2 forced write-back) the encoding differs: 6 forces
// Normal WB.
export const MT_S2_NORMAL = 0xf;
export const MT_S2_NORMAL_NC = 0x5;
export const MT_S2_DEVICE_nGnRE = 0x1;
export const MT_S2_FWB_NORMAL = 6;
export const MT_S2_FWB_NORMAL_NC = 5;
export const MT_S2_FWB_DEVICE_nGnRE = 1;

export function PAGE_S2_MEMATTR(kind: 'NORMAL' | 'NORMAL_NC' | 'DEVICE_nGnRE', has_fwb: boolean): bigint {
  const t = has_fwb
    ? { NORMAL: MT_S2_FWB_NORMAL, NORMAL_NC: MT_S2_FWB_NORMAL_NC, DEVICE_nGnRE: MT_S2_FWB_DEVICE_nGnRE }[kind]
    : { NORMAL: MT_S2_NORMAL, NORMAL_NC: MT_S2_NORMAL_NC, DEVICE_nGnRE: MT_S2_DEVICE_nGnRE }[kind];
  return BigInt(t) << 2n;
}

export const EINVAL = 22;
export const ENOMEM = 12;
export const EAGAIN = 11;
export const ERANGE = 34;
export const E2BIG = 7;
export const EPERM = 1;

// Granules: ARM64_HW_PGTABLE_LEVEL_SHIFT(n) = (PAGE_SHIFT - 3) * (4 - n) + 3.
export function kvm_granule_shift(level: number): number {
  return 9 * (4 - level) + 3;
}
export function kvm_granule_size(level: number): number {
  return 2 ** kvm_granule_shift(level);
}
export function kvm_level_supports_block_mapping(level: number): boolean {
  return level >= KVM_PGTABLE_MIN_BLOCK_LEVEL;
}
export function align_down(x: number, a: number): number {
  return x - (x % a);
}
export function is_aligned(x: number, a: number): boolean {
  return x % a === 0;
}
/** Index of `addr` in a table at `level` (kvm_pgtable_idx). Exact for addr < 2^53. */
export function kvm_pgtable_idx(addr: number, level: number): number {
  return Math.floor(addr / kvm_granule_size(level)) % PTRS_PER_PTE;
}

/**
 * struct kvm_pgtable (stage 2). `pgd` names the entry-level table pages: more
 * than one when the hardware concatenates tables at the start level
 * (kvm_pgd_pages). The pgt->mmu back-pointer is not kept: every walker is
 * given its MMU id.
 */
export interface kvm_pgtable {
  ia_bits: number;
  start_level: number;
  pgd: number[];
  /** enum kvm_pgtable_stage2_flags */
  flags: number;
  /** ARM64_HAS_STAGE2_FWB on the simulated CPUs. */
  fwb_cap: boolean;
  /** system_supports_tlb_range() (FEAT_TLBIRANGE) on the simulated CPUs; absent: true. */
  tlb_range_cap?: boolean;
}

/** system_supports_tlb_range() */
export function system_supports_tlb_range(pgt: kvm_pgtable): boolean {
  return pgt.tlb_range_cap !== false;
}

/** stage2_has_fwb() */
export function stage2_has_fwb(pgt: kvm_pgtable): boolean {
  return pgt.fwb_cap && !(pgt.flags & KVM_PGTABLE_S2_NOFWB);
}

/**
 * stage2_pgtable_levels(ipa) = ARM64_HW_PGTABLE_LEVELS(ipa - 4): up to 16
 * tables concatenate at the entry level, resolving 4 more bits there; KVM
 * uses at least 2 levels (kvm_get_vtcr). ia_bits 40 gives 3 levels, start
 * level 1 and 2 concatenated pgd pages.
 */
export function stage2_pgtable_levels(ia_bits: number): number {
  return Math.max(2, Math.floor((ia_bits - 4 - 4) / 9));
}
export function stage2_start_level(ia_bits: number): number {
  return KVM_PGTABLE_MAX_LEVELS - stage2_pgtable_levels(ia_bits);
}
/** __kvm_pgd_page_idx(): which concatenated pgd page holds addr. */
export function kvm_pgd_page_idx(ia_bits: number, start_level: number, addr: number): number {
  const shift = kvm_granule_shift(start_level - 1); // may "underflow" to 48: always 0 then
  return Math.floor((addr % 2 ** ia_bits) / 2 ** shift);
}
/** kvm_pgd_pages() */
export function kvm_pgd_pages(ia_bits: number, start_level: number): number {
  return kvm_pgd_page_idx(ia_bits, start_level, 2 ** ia_bits - 1) + 1;
}
/** kvm_mmu_cache_min_pages(): table pages one fault may need below the pgd. */
export function kvm_mmu_cache_min_pages(pgt: kvm_pgtable): number {
  return KVM_PGTABLE_MAX_LEVELS - pgt.start_level - 1;
}

// ---------------------------------------------------------------------------
// Table pages. Page ids are never reused, so a freed page stays visible (its
// stale contents included) and any later touch is caught as a use-after-free.

export interface PgtPage {
  id: number;
  /** Level of the entries this page holds. */
  level: number;
  /** page_count(): 1 + the counted (non-zero) entries while linked. */
  refcount: number;
  /** Entry i: ent[2i] = bits 31:0, ent[2i+1] = bits 63:32. */
  ent: Uint32Array;
  freed: boolean;
  /** Who freed it and when, for the use-after-free report (-1: live). */
  freed_step: number;
  freed_seq: number;
  freed_by: string;
  freed_how: string;
}

declare module '../machine/world.js' {
  interface World {
    /** The stage-2 table-page pool: page id -> page. */
    pgt_pages?: PgtPage[];
  }
}

/**
 * Table pages live in a physical range of their own so a table descriptor's
 * output address names the page: PA = KVM_PGT_POOL_PA + id * 4K.
 */
export const KVM_PGT_POOL_PA = 0x80_0000_0000;
const POOL_PAGES = 2 ** 24;

export function pgt_pages(w: World): PgtPage[] {
  return (w.pgt_pages ??= []);
}

export function pgt_page(w: World, id: number): PgtPage {
  const p = w.pgt_pages?.[id];
  if (!p) throw new Error(`no stage-2 table page ${id}`);
  return p;
}

/** A zeroed table page with refcount 1 (what zalloc_page returns). */
export function pgt_alloc_page(w: World, level: number): PgtPage {
  const pages = pgt_pages(w);
  const p: PgtPage = {
    id: pages.length,
    level,
    refcount: 1,
    ent: new Uint32Array(2 * PTRS_PER_PTE),
    freed: false,
    freed_step: -1,
    freed_seq: -1,
    freed_by: '',
    freed_how: '',
  };
  pages.push(p);
  return p;
}

export function pgt_page_pa(id: number): number {
  return KVM_PGT_POOL_PA + id * PAGE_SIZE;
}

/** The table page at physical address pa, or -1 when pa is not in the pool. */
export function pgt_pa_page(w: World, pa: number): number {
  if (pa < KVM_PGT_POOL_PA || pa % PAGE_SIZE !== 0) return -1;
  const id = (pa - KVM_PGT_POOL_PA) / PAGE_SIZE;
  return id < POOL_PAGES && w.pgt_pages && id < w.pgt_pages.length ? id : -1;
}

export function pte_get(p: PgtPage, idx: number): kvm_pte_t {
  return (BigInt(p.ent[2 * idx + 1] ?? 0) << 32n) | BigInt(p.ent[2 * idx] ?? 0);
}

export function pte_set(p: PgtPage, idx: number, v: kvm_pte_t): void {
  p.ent[2 * idx] = Number(v & 0xffff_ffffn);
  p.ent[2 * idx + 1] = Number((v >> 32n) & 0xffff_ffffn);
}

/** "pt7[26]": entry 26 of table page 7, the name events and printers use for a ptep. */
export function ptep_name(page: number, idx: number): string {
  return `pt${page}[${idx}]`;
}

export function parse_ptep(s: string): { page: number; idx: number } | null {
  const m = /^pt(\d+)\[(\d+)\]$/.exec(s);
  return m ? { page: Number(m[1]), idx: Number(m[2]) } : null;
}

// ---------------------------------------------------------------------------
// Descriptor helpers (kvm_pte_*).

export function kvm_pte_valid(pte: kvm_pte_t): boolean {
  return (pte & KVM_PTE_VALID) !== 0n;
}

export function kvm_pte_to_phys(pte: kvm_pte_t): number {
  return Number(pte & KVM_PTE_ADDR_MASK);
}

export function kvm_phys_to_pte(pa: number): kvm_pte_t {
  return BigInt(pa) & KVM_PTE_ADDR_MASK;
}

/** A table descriptor: valid, and type 1 at a level that can hold tables. */
export function kvm_pte_table(pte: kvm_pte_t, level: number): boolean {
  if (level === KVM_PGTABLE_LAST_LEVEL) return false;
  if (!kvm_pte_valid(pte)) return false;
  return (pte & KVM_PTE_TYPE) !== 0n;
}

export function kvm_init_table_pte(page: number): kvm_pte_t {
  return kvm_phys_to_pte(pgt_page_pa(page)) | KVM_PTE_TYPE | KVM_PTE_VALID;
}

export function kvm_init_valid_leaf_pte(pa: number, attr: kvm_pte_t, level: number): kvm_pte_t {
  let pte = kvm_phys_to_pte(pa);
  pte |= attr & (KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI);
  if (level === KVM_PGTABLE_LAST_LEVEL) pte |= KVM_PTE_TYPE; // page; a block keeps type 0
  return pte | KVM_PTE_VALID;
}

export function kvm_init_invalid_leaf_owner(owner_id: number): kvm_pte_t {
  return (BigInt(owner_id) << 2n) & KVM_INVALID_PTE_OWNER_MASK;
}

/** stage2_pte_is_counted(): every non-zero entry holds a reference on its page. */
export function stage2_pte_is_counted(pte: kvm_pte_t): boolean {
  return pte !== 0n;
}

export function stage2_pte_is_locked(pte: kvm_pte_t): boolean {
  return !kvm_pte_valid(pte) && (pte & KVM_INVALID_PTE_LOCKED) !== 0n;
}

/** stage2_pte_needs_update(): anything but the permission bits differs. */
export function stage2_pte_needs_update(old: kvm_pte_t, nw: kvm_pte_t): boolean {
  if (!kvm_pte_valid(old) || !kvm_pte_valid(nw)) return true;
  return ((old ^ nw) & ~KVM_PTE_LEAF_ATTR_S2_PERMS) !== 0n;
}

export function stage2_pte_cacheable(pgt: kvm_pgtable, pte: kvm_pte_t): boolean {
  return (pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) === PAGE_S2_MEMATTR('NORMAL', stage2_has_fwb(pgt));
}

export function stage2_pte_executable(pte: kvm_pte_t): boolean {
  return (pte & KVM_PTE_LEAF_ATTR_HI_S2_XN) === 0n;
}

function prot_big(prot: kvm_pgtable_prot): bigint {
  return typeof prot === 'bigint' ? prot : BigInt(prot);
}

/**
 * stage2_set_prot_attr(): the leaf attributes for a prot, or -EINVAL
 * (executable device memory, device and NC together).
 */
export function stage2_set_prot_attr(pgt: kvm_pgtable, prot: kvm_pgtable_prot): kvm_pte_t | number {
  const p = prot_big(prot);
  const device = (p & BigInt(KVM_PGTABLE_PROT_DEVICE)) !== 0n;
  const nc = (p & BigInt(KVM_PGTABLE_PROT_NORMAL_NC)) !== 0n;
  if (device && nc) return -EINVAL;
  const fwb = stage2_has_fwb(pgt);
  let attr = PAGE_S2_MEMATTR(device ? 'DEVICE_nGnRE' : nc ? 'NORMAL_NC' : 'NORMAL', fwb);
  if (!(p & BigInt(KVM_PGTABLE_PROT_X))) attr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
  else if (device) return -EINVAL;
  if (p & BigInt(KVM_PGTABLE_PROT_R)) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
  if (p & BigInt(KVM_PGTABLE_PROT_W)) attr |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_SH_IS << 8n;
  attr |= KVM_PTE_LEAF_ATTR_LO_S2_AF;
  attr |= p & KVM_PTE_LEAF_ATTR_HI_SW;
  return attr;
}

/** kvm_pgtable_stage2_pte_prot(): prot flags of a leaf (SW bits as bigint when set). */
export function kvm_pgtable_stage2_pte_prot(pte: kvm_pte_t): kvm_pgtable_prot {
  const sw = pte & KVM_PTE_LEAF_ATTR_HI_SW;
  let prot = 0;
  if (kvm_pte_valid(pte)) {
    if (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R) prot |= KVM_PGTABLE_PROT_R;
    if (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W) prot |= KVM_PGTABLE_PROT_W;
    if (!(pte & KVM_PTE_LEAF_ATTR_HI_S2_XN)) prot |= KVM_PGTABLE_PROT_X;
  }
  return sw ? BigInt(prot) | sw : prot;
}

export type PteType = 'invalid' | 'locked' | 'owner' | 'table' | 'block' | 'page' | 'reserved';

export interface DecodedPte {
  raw: kvm_pte_t;
  level: number;
  type: PteType;
  valid: boolean;
  /** Output address (table, block or page), else null. */
  oa: number | null;
  /** Bytes one leaf at this level maps. */
  size: number;
  memattr: number;
  r: boolean;
  w: boolean;
  xn: boolean;
  sh: number;
  af: boolean;
  /** SW3..SW0 as a 4-bit number. */
  sw: number;
  /** Invalid entries: the owner id in 9:2. */
  owner: number;
  locked: boolean;
}

/** Decode a descriptor found at `level` (for printers: `pt walk`, `pt dump`). */
export function kvm_pte_decode(pte: kvm_pte_t, level: number): DecodedPte {
  const valid = kvm_pte_valid(pte);
  const type_bit = (pte & KVM_PTE_TYPE) !== 0n;
  let type: PteType;
  if (!valid) type = stage2_pte_is_locked(pte) ? 'locked' : pte === 0n ? 'invalid' : 'owner';
  else if (level === KVM_PGTABLE_LAST_LEVEL) type = type_bit ? 'page' : 'reserved';
  else if (type_bit) type = 'table';
  else type = kvm_level_supports_block_mapping(level) ? 'block' : 'reserved';
  return {
    raw: pte,
    level,
    type,
    valid,
    oa: valid && type !== 'reserved' ? kvm_pte_to_phys(pte) : null,
    size: kvm_granule_size(level),
    memattr: Number((pte & KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR) >> 2n),
    r: (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R) !== 0n,
    w: (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W) !== 0n,
    xn: (pte & KVM_PTE_LEAF_ATTR_HI_S2_XN) !== 0n,
    sh: Number((pte & KVM_PTE_LEAF_ATTR_LO_S2_SH) >> 8n),
    af: (pte & KVM_PTE_LEAF_ATTR_LO_S2_AF) !== 0n,
    sw: Number((pte & KVM_PTE_LEAF_ATTR_HI_SW) >> 55n),
    owner: valid ? 0 : Number((pte & KVM_INVALID_PTE_OWNER_MASK) >> 2n),
    locked: stage2_pte_is_locked(pte),
  };
}

export function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

export function hex64(v: bigint): string {
  return '0x' + v.toString(16).padStart(16, '0');
}

const SIZE_NAMES: Record<number, string> = { 0: '512G', 1: '1G', 2: '2M', 3: '4K' };
const SH_NAMES = ['NS', 'RES', 'OS', 'IS'];

/** One line for a descriptor, the way crash's vtop prints one ("2M block PA 0x... S2AP RW XN AF SH IS MemAttr 0x6"). */
export function kvm_pte_describe(pte: kvm_pte_t, level: number): string {
  const d = kvm_pte_decode(pte, level);
  switch (d.type) {
    case 'invalid':
      return 'invalid';
    case 'locked':
      return 'LOCKED (break-before-make in progress)';
    case 'owner':
      return `invalid, owner ${d.owner}`;
    case 'reserved':
      return 'reserved encoding (translation fault)';
    case 'table':
      return `table -> ${hex(d.oa!)}`;
    default: {
      const ap = (d.r ? 'R' : '-') + (d.w ? 'W' : '-');
      const parts = [`${SIZE_NAMES[level]} ${d.type}`, `PA ${hex(d.oa!)}`, `S2AP ${ap}`, d.xn ? 'XN' : 'X', d.af ? 'AF' : 'noAF', `SH ${SH_NAMES[d.sh]}`, `MemAttr ${hex(d.memattr)}`];
      if (d.sw) parts.push(`SW ${hex(d.sw)}`);
      return parts.join(' ');
    }
  }
}

// When a table page was freed (messages); `freed_seq` is compared only with events of the step that freed it.
define_history('freed_step', 'stamp');
define_history('freed_seq', 'stamp');
