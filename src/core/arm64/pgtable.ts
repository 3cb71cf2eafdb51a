// arch/arm64/kvm/hyp/pgtable.c: the guest stage-2 walkers (map, unmap,
// relax_perms, wrprotect, free_unlinked) and break-before-make, over the
// stepped walker in pgtable_walk.ts. Version: the v6.17 shape (pgtable.c at
// e6157256ee1a, read for this model).
//
// Break-before-make on a live entry is three steps, as on hardware:
//   1. stage2_try_break_pte(): cmpxchg (shared walk) or WRITE_ONCE
//      (exclusive walk) of the old value to KVM_INVALID_PTE_LOCKED; a shared
//      walker that finds LOCKED, or loses the cmpxchg, backs off: -EAGAIN.
//   2. the TLBI for what the old value mapped, unless SKIP_BBM_TLBI: for a
//      table, kvm_tlb_flush_vmid_range() over the table's span (since
//      defc8cc7abf0, the address aligned down since 4c36a1567388; the whole
//      VMID without FEAT_TLBIRANGE); for a valid leaf, the IPA at the leaf's
//      level; and the put_page() of the old entry's reference on its page;
//   3. stage2_make_pte(): get_page() for the new entry, smp_store_release().
// A table replaced by a block (TABLE_PRE) is handed to the mm_ops'
// free_unlinked_table(childp, level) with the level of the entry that
// pointed to it (mmu_stage2.ts: call_rcu, so walkers still inside it under
// rcu_read_lock() finish first). The unmap walker clears valid entries and
// invalidates a table entry by IPA with no level hint (TLBI_TTL_UNKNOWN,
// 36e008323926, never deferred: f62d4c3eb687) and a leaf at its level, or,
// with FEAT_TLBIRANGE and FWB, defers the leaves to one range TLBI after the
// walk (stage2_unmap_defer_tlb_flush). Cache maintenance (CMOs) is not
// modelled: it has no ordering effect the model can observe.
//
// Left out: set_owner (pKVM annotations), the hyp stage-1 walkers,
// mkyoung/test_clear_young, kvm_pgtable_stage2_split /
// create_unlinked (eager page splitting), kvm_pgtable_stage2_flush, the
// MAX_TLBI_RANGE_PAGES chunking of kvm_tlb_flush_vmid_range().
import { run_now } from '../machine/machine.js';
import { emit, type Event } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import { call, model_fn, ret, type Next } from '../machine/model.js';
import { define_variant } from '../machine/variants.js';
import type { Locals, Thread, World } from '../machine/world.js';
import { metric_add, variant_on } from '../machine/world.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { mmu_by_id } from './kvm_host.js';
import {
  EAGAIN,
  EINVAL,
  ENOMEM,
  KVM_INVALID_PTE_LOCKED,
  KVM_PGTABLE_LAST_LEVEL,
  KVM_PGTABLE_PROT_R,
  KVM_PGTABLE_PROT_W,
  KVM_PGTABLE_PROT_X,
  KVM_PGTABLE_S2_IDMAP,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_LEAF,
  KVM_PGTABLE_WALK_SHARED,
  KVM_PGTABLE_WALK_TABLE_POST,
  KVM_PGTABLE_WALK_TABLE_PRE,
  KVM_PGTABLE_WALK_SKIP_BBM_TLBI,
  TLBI_TTL_UNKNOWN,
  stage2_has_fwb,
  system_supports_tlb_range,
  type kvm_pgtable,
  KVM_PTE_LEAF_ATTR_HI,
  KVM_PTE_LEAF_ATTR_HI_S2_XN,
  KVM_PTE_LEAF_ATTR_HI_SW,
  KVM_PTE_LEAF_ATTR_LO,
  KVM_PTE_LEAF_ATTR_LO_S2_AF,
  KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R,
  KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W,
  PTRS_PER_PTE,
  align_down,
  hex64,
  is_aligned,
  kvm_granule_size,
  kvm_init_invalid_leaf_owner,
  kvm_init_table_pte,
  kvm_init_valid_leaf_pte,
  kvm_level_supports_block_mapping,
  kvm_pgd_page_idx,
  kvm_pte_describe,
  kvm_pte_table,
  kvm_pte_to_phys,
  kvm_pte_valid,
  parse_ptep,
  pgt_alloc_page,
  pgt_pa_page,
  pgt_page,
  pgt_pages,
  pte_get,
  pte_set,
  ptep_name,
  stage2_pte_is_counted,
  stage2_pte_is_locked,
  stage2_pte_needs_update,
  stage2_set_prot_attr,
  type PgtPage,
  type kvm_pgtable_prot,
  type kvm_pte_t,
} from './kvm_pgtable.js';
import { define_visitor_fast_path, kvm_pgtable_walk, kvm_pgtable_walk_shared, type VisitCtx, type VisitResult } from './pgtable_walk.js';
import { __kvm_tlb_flush_vmid_ipa, __kvm_tlb_flush_vmid_ipa_nsh, kvm_tlb_flush_vmid_range, tlb_bbm_complete } from './tlb.js';

export const NO_BBM = define_variant({
  name: 'pgtable.no_bbm',
  description:
    'stage2_map_walker_try_leaf() writes a new valid descriptor straight over a valid one (a table by a block, a block by another mapping) ' +
    'with stage2_try_set_pte(), skipping stage2_try_break_pte() and its TLBI',
  source:
    'hypothetical: the stage-2 map walker has replaced live valid entries by break-before-make since hyp/pgtable.c was written ' +
    '(Arm ARM "TLB maintenance requirements and the TLB conflict abort"); it shows why stage2_try_break_pte() exists: a TLB may ' +
    'then hold both translations for one IPA',
  breaks: 'pgtable.break_before_make',
  arch: 'arm64',
});

export const NO_TABLE_TLBI = define_variant({
  name: 'pgtable.no_table_tlbi',
  description:
    'stage2_try_break_pte() skips kvm_tlb_flush_vmid_range() over the span of a table entry it breaks (the TABLE_PRE collapse of a ' +
    'table into a block): the page translations cached under the old table survive stage2_make_pte()',
  source:
    'hypothetical: a broken table entry has been invalidated since hyp/pgtable.c was written (the whole VMID, a range since ' +
    'defc8cc7abf0 "KVM: arm64: Invalidate the table entries upon a range"); it checks that the TLB model catches a missing ' +
    'invalidation: the next access or fill meets the stale 4K translation',
  breaks: 'tlb.stale_entry',
  arch: 'arm64',
});

// ---------------------------------------------------------------------------
// Page references and the mm_ops (kvm_s2_mm_ops lives in mmu_stage2.ts).

/**
 * Memcache argument of the map walker: a vCPU id (its memory cache), -1
 * for none (zalloc fails: -ENOMEM), or MEMCACHE_DIRECT for the model's own
 * pokes (`pt map`, test setup), which allocate table pages directly.
 */
export const MEMCACHE_NONE = -1;
export const MEMCACHE_DIRECT = -2;

export interface S2MmOps {
  /** zalloc_page(memcache): a zeroed page for entries at `level`, or -1. */
  zalloc_page(w: World, t: Thread, memcache: number, level: number): number;
  /** free_unlinked_table(childp, level): `level` is that of the entry that pointed to the table (its entries are at level + 1). */
  free_unlinked_table(w: World, t: Thread, page: number, level: number): void;
}

let s2_mm_ops: S2MmOps = {
  zalloc_page: (w, t, mc, level) => (mc === MEMCACHE_NONE ? -1 : alloc_table_page(w, t, level)),
  free_unlinked_table: (w, t, page, level) => kvm_pgtable_stage2_free_unlinked(w, t, page, level, 'free_unlinked'),
};

export function set_s2_mm_ops(ops: S2MmOps): void {
  s2_mm_ops = ops;
}

export function alloc_table_page(w: World, t: Thread | null, level: number): number {
  const p = pgt_alloc_page(w, level);
  emit(w, t, 'table.alloc', { page: p.id, level });
  return p.id;
}

export function get_page(w: World, id: number): void {
  pgt_page(w, id).refcount++;
}

function free_page(w: World, t: Thread | null, p: PgtPage, how: string): void {
  p.freed = true;
  p.freed_step = w.step;
  p.freed_seq = w.seq; // the seq of the table.free event below
  p.freed_by = t?.name ?? '-';
  p.freed_how = how;
  // Back to the page allocator: the contents are gone (a late walker reads
  // zeros, after pgtable.use_after_free has reported it), and checkpoints
  // no longer carry 4 KiB per freed table.
  p.ent = new Uint32Array(0);
  emit(w, t, 'table.free', { page: p.id, level: p.level, how });
  metric_add(w, 'tables_freed');
}

/** put_page(): the last reference frees the page. */
export function put_page(w: World, t: Thread | null, id: number, how: string): void {
  const p = pgt_page(w, id);
  p.refcount--;
  if (p.refcount === 0) free_page(w, t, p, how);
  else if (p.refcount < 0) emit(w, t, 'table.free', { page: p.id, level: p.level, how: 'put_page of a freed page' });
}

/**
 * put_page() of a table page nobody else ever saw (the split path's fresh
 * table when the break lost the race). The page allocator hands the page
 * it was given last out first (the per-CPU free lists are LIFO), so when no
 * other page was allocated since, the pool forgets it: a vCPU retrying the
 * same fault then comes back to the same state instead of growing the pool
 * by one freed page per retry.
 */
function put_unlinked_page(w: World, t: Thread, id: number): void {
  put_page(w, t, id, 'put_page');
  const pages = pgt_pages(w);
  if (pages[id]!.refcount === 0 && id === pages.length - 1) pages.pop();
}

/** The table page a table descriptor points to (kvm_pte_follow), or -1. */
export function kvm_pte_follow(w: World, pte: kvm_pte_t): number {
  return pgt_pa_page(w, kvm_pte_to_phys(pte));
}

/**
 * kvm_pgtable_stage2_free_unlinked(mm_ops, pgtable, level): tear down an
 * unlinked subtree whose root was pointed to by an entry at `level` (a
 * LEAF|TABLE_POST walk of its entries at level + 1, stage2_free_walker
 * dropping each counted entry's reference and each child table's), WARN
 * unless the root is down to its own reference, free it. Runs in one step:
 * nothing else can reach the subtree any more.
 */
export function kvm_pgtable_stage2_free_unlinked(w: World, t: Thread | null, page: number, level: number, how: string): void {
  const walk = (id: number, lvl: number): void => {
    const p = pgt_page(w, id);
    // The model's pages know their level; the kernel's only get it passed down.
    if (p.level !== lvl) metric_add(w, 'warn_free_unlinked_level');
    for (let idx = 0; idx < PTRS_PER_PTE; idx++) {
      const old = pte_get(p, idx);
      if (!stage2_pte_is_counted(old)) continue;
      if (kvm_pte_table(old, lvl)) {
        const child = kvm_pte_follow(w, old);
        if (child >= 0) walk(child, lvl + 1);
        put_page(w, t, id, how);
        if (child >= 0) put_page(w, t, child, how);
      } else {
        put_page(w, t, id, how);
      }
    }
  };
  walk(page, level + 1);
  const root = pgt_page(w, page);
  if (root.refcount !== 1) metric_add(w, 'warn_free_unlinked_refcount');
  put_page(w, t, page, how);
}

// ---------------------------------------------------------------------------
// Entry updates.

function stage2_try_set_pte(w: World, t: Thread, c: VisitCtx, nw: kvm_pte_t): boolean {
  const p = pgt_page(w, c.page);
  const ptep = ptep_name(c.page, c.idx);
  if (!kvm_pgtable_walk_shared(c.flags)) {
    pte_set(p, c.idx, nw); // WRITE_ONCE
    emit(w, t, 'pte.store', { ptep, value: nw, release: false });
    return true;
  }
  const ok = pte_get(p, c.idx) === c.old;
  if (ok) pte_set(p, c.idx, nw);
  emit(w, t, 'pte.cmpxchg', { ptep, old: c.old, new: nw, ok });
  return ok;
}

/** stage2_try_break_pte(), first half: the entry becomes LOCKED (the TLBI and put_page follow in the next step). */
function stage2_try_break_pte(w: World, t: Thread, c: VisitCtx): boolean {
  const ptep = ptep_name(c.page, c.idx);
  if (stage2_pte_is_locked(c.old)) {
    // Never seen by an exclusive walker (the kernel WARNs if it is).
    if (!kvm_pgtable_walk_shared(c.flags)) metric_add(w, 'warn_exclusive_saw_locked');
    emit(w, t, 'pte.break', { ptep, level: c.level, old: c.old, ok: false });
    emit(w, t, 'walk.eagain', { ptep, reason: 'entry is LOCKED by another walker' });
    return false;
  }
  if (!stage2_try_set_pte(w, t, c, KVM_INVALID_PTE_LOCKED)) {
    emit(w, t, 'pte.break', { ptep, level: c.level, old: c.old, ok: false });
    emit(w, t, 'walk.eagain', { ptep, reason: 'lost the cmpxchg to another walker' });
    return false;
  }
  emit(w, t, 'pte.break', { ptep, level: c.level, old: c.old, ok: true });
  if (kvm_pte_table(c.old, c.level)) emit(w, t, 'table.unlink', { page: kvm_pte_follow(w, c.old), level: c.level + 1 });
  return true;
}

/** stage2_try_break_pte(), second half: TLBI for the evicted value (unless SKIP_BBM_TLBI), drop its reference. */
function stage2_break_tlbi(w: World, t: Thread, c: VisitCtx): void {
  if (!(c.flags & KVM_PGTABLE_WALK_SKIP_BBM_TLBI)) {
    if (kvm_pte_table(c.old, c.level)) {
      if (!variant_on(w, NO_TABLE_TLBI.name)) {
        const size = kvm_granule_size(c.level);
        kvm_tlb_flush_vmid_range(w, t, c.mmu, align_down(c.addr, size), size);
      }
    } else if (kvm_pte_valid(c.old)) {
      __kvm_tlb_flush_vmid_ipa(w, t, c.mmu, c.addr, c.level);
    }
  }
  if (stage2_pte_is_counted(c.old)) put_page(w, t, c.page, 'put_page');
}

/**
 * stage2_make_pte(): the entry must still be LOCKED; publish with a release
 * store. Break-before-make of a valid entry is complete: the TLB model checks
 * nothing still caches what the old value mapped.
 */
function stage2_make_pte(w: World, t: Thread, c: VisitCtx, nw: kvm_pte_t): void {
  const p = pgt_page(w, c.page);
  const ptep = ptep_name(c.page, c.idx);
  if (!stage2_pte_is_locked(pte_get(p, c.idx))) metric_add(w, 'warn_make_pte_not_locked');
  if (stage2_pte_is_counted(nw)) get_page(w, c.page);
  pte_set(p, c.idx, nw); // smp_store_release
  emit(w, t, 'pte.store', { ptep, value: nw, release: true });
  emit(w, t, 'pte.make', { ptep, new: nw });
  if (kvm_pte_valid(c.old) && !(c.flags & KVM_PGTABLE_WALK_SKIP_BBM_TLBI)) {
    const size = kvm_granule_size(c.level);
    tlb_bbm_complete(w, mmu_by_id(w, c.mmu).vmid, align_down(c.addr, size), size, `stage2_make_pte() on ${ptep} (level ${c.level})`);
  }
}

/** A live valid entry rewritten in place (permission changes; pgtable.no_bbm). */
function stage2_replace_pte(w: World, t: Thread, c: VisitCtx, nw: kvm_pte_t): boolean {
  if (!stage2_try_set_pte(w, t, c, nw)) return false;
  emit(w, t, 'pte.replace', { ptep: ptep_name(c.page, c.idx), level: c.level, old: c.old, new: nw });
  return true;
}

// ---------------------------------------------------------------------------
// The map walker.

export interface MapData {
  phys: number;
  attr: kvm_pte_t;
  memcache: number;
  force_pte: boolean;
  owner_id: number;
  /** The walk only updates owner_id (set_owner; never set by the model's callers). */
  annotation: boolean;
}

interface MapLocals extends VisitCtx<MapData> {
  nw: kvm_pte_t;
  /** The table page replaced by a block (TABLE_PRE), else -1. */
  unlink: number;
  /** The fresh table page of a split (LEAF, -E2BIG), else -1. */
  childp: number;
}

/** stage2_map_walker_phys_addr(): the PA for how far the walk has got. */
function stage2_map_walker_phys_addr(c: VisitCtx<MapData>): number {
  return c.data.phys + (c.addr - c.start);
}

function kvm_block_mapping_supported(c: VisitCtx, phys: number): boolean {
  const granule = kvm_granule_size(c.level);
  if (!kvm_level_supports_block_mapping(c.level)) return false;
  if (granule > c.end - c.addr) return false;
  if (!is_aligned(phys, granule)) return false;
  return is_aligned(c.addr, granule);
}

function stage2_leaf_mapping_allowed(c: VisitCtx<MapData>): boolean {
  if (c.data.force_pte && c.level < KVM_PGTABLE_LAST_LEVEL) return false;
  if (c.data.annotation) return true;
  return kvm_block_mapping_supported(c, stage2_map_walker_phys_addr(c));
}

function visit_done(t: Thread, l: VisitCtx, r: number): Next {
  return ret(t, { r, data: l.data } satisfies VisitResult);
}

/** After a successful break: the TLBI step when the old value was valid, else straight to make. */
function after_break(w: World, t: Thread, l: MapLocals): Next {
  if (kvm_pte_valid(l.old)) return 'tlbi';
  if (stage2_pte_is_counted(l.old)) put_page(w, t, l.page, 'put_page');
  return 'make';
}

/** stage2_map_walker_try_leaf(), up to the break (or the direct store under pgtable.no_bbm). */
function try_leaf(w: World, t: Thread, l: MapLocals): Next {
  const nw = l.data.annotation ? kvm_init_invalid_leaf_owner(l.data.owner_id) : kvm_init_valid_leaf_pte(stage2_map_walker_phys_addr(l), l.data.attr, l.level);
  if (!stage2_pte_needs_update(l.old, nw)) {
    // Same mapping, or only the permissions differ: the relax_perms path's job.
    emit(w, t, 'walk.eagain', { ptep: ptep_name(l.page, l.idx), reason: 'mapping already present (at most the permissions differ)' });
    return visit_done(t, l, -EAGAIN);
  }
  l.nw = nw;
  // Only software bits change (exclusive walks): store them and go.
  if (!kvm_pgtable_walk_shared(l.flags) && ((l.old ^ nw) & ~KVM_PTE_LEAF_ATTR_HI_SW) === 0n) {
    const p = pgt_page(w, l.page);
    if (stage2_pte_is_counted(l.old) !== stage2_pte_is_counted(nw)) {
      if (stage2_pte_is_counted(l.old)) put_page(w, t, l.page, 'put_page');
      else get_page(w, l.page);
    }
    pte_set(p, l.idx, nw);
    emit(w, t, 'pte.store', { ptep: ptep_name(l.page, l.idx), value: nw, release: false });
    return l.unlink >= 0 ? 'free' : visit_done(t, l, 0);
  }
  return replace_or_break(w, t, l);
}

function replace_or_break(w: World, t: Thread, l: MapLocals): Next {
  if (variant_on(w, NO_BBM.name) && kvm_pte_valid(l.old)) {
    if (!stage2_replace_pte(w, t, l, l.nw)) return visit_done(t, l, -EAGAIN);
    if (kvm_pte_table(l.old, l.level)) emit(w, t, 'table.unlink', { page: kvm_pte_follow(w, l.old), level: l.level + 1 });
    return l.unlink >= 0 ? 'free' : visit_done(t, l, 0);
  }
  if (!stage2_try_break_pte(w, t, l)) {
    // The split path's fresh table goes back (stage2_map_walk_leaf).
    if (l.childp >= 0) put_unlinked_page(w, t, l.childp);
    return visit_done(t, l, -EAGAIN);
  }
  return after_break(w, t, l);
}

/**
 * stage2_map_walker(): TABLE_PRE replaces a table by a block when one fits
 * (stage2_map_walk_table_pre); LEAF installs the leaf, or splits: a fresh
 * table from the memcache replaces the entry and the walk descends into it
 * (stage2_map_walk_leaf).
 */
export const stage2_map_walker = model_fn<MapLocals>('stage2_map_walker', {
  start: (w, t, l) => {
    l.unlink = -1;
    l.childp = -1;
    if (l.visit === 'pre') {
      if (!stage2_leaf_mapping_allowed(l)) return visit_done(t, l, 0);
      l.unlink = kvm_pte_follow(w, l.old);
      return try_leaf(w, t, l);
    }
    if (l.visit !== 'leaf') return visit_done(t, l, -EINVAL);
    if (stage2_leaf_mapping_allowed(l)) return try_leaf(w, t, l);
    // -E2BIG: replace whatever is here (nothing, or a block) by a table.
    if (l.level === KVM_PGTABLE_LAST_LEVEL) return visit_done(t, l, -EINVAL);
    if (l.data.memcache === MEMCACHE_NONE) return visit_done(t, l, -ENOMEM);
    const childp = s2_mm_ops.zalloc_page(w, t, l.data.memcache, l.level + 1);
    if (childp < 0) return visit_done(t, l, -ENOMEM);
    l.childp = childp;
    l.nw = kvm_init_table_pte(childp);
    return replace_or_break(w, t, l);
  },
  tlbi: (w, t, l) => {
    stage2_break_tlbi(w, t, l);
    return 'make';
  },
  make: (w, t, l) => {
    stage2_make_pte(w, t, l, l.nw);
    return l.unlink >= 0 ? 'free' : visit_done(t, l, 0);
  },
  // mm_ops->free_unlinked_table(childp, ctx->level)
  free: (w, t, l) => {
    s2_mm_ops.free_unlinked_table(w, t, l.unlink, l.level);
    return visit_done(t, l, 0);
  },
});

export interface MapArgs {
  mmu: number;
  addr: number;
  size: number;
  phys: number;
  prot: kvm_pgtable_prot;
  flags: number;
  /** vCPU id whose memcache feeds new tables; MEMCACHE_NONE, MEMCACHE_DIRECT. */
  memcache: number;
  /** pgt->force_pte_cb said so: page mappings only. */
  force_pte?: boolean;
}

/** kvm_pgtable_stage2_map(): returns 0, -EAGAIN, -ENOMEM or -EINVAL. */
export const kvm_pgtable_stage2_map = model_fn<MapArgs>('kvm_pgtable_stage2_map', {
  start: (w, t, l) => {
    const pgt = mmu_by_id(w, l.mmu).pgt;
    if (pgt.flags & KVM_PGTABLE_S2_IDMAP && l.addr !== l.phys) return ret(t, -EINVAL);
    const attr = stage2_set_prot_attr(pgt, l.prot);
    if (typeof attr === 'number') return ret(t, attr);
    const data: MapData = {
      phys: align_down(l.phys, PAGE_SIZE),
      attr,
      memcache: l.memcache ?? MEMCACHE_NONE,
      force_pte: l.force_pte ?? false,
      owner_id: 0,
      annotation: false,
    };
    return call(
      kvm_pgtable_walk,
      { mmu: l.mmu, addr: l.addr, size: l.size, flags: l.flags | KVM_PGTABLE_WALK_TABLE_PRE | KVM_PGTABLE_WALK_LEAF, cb: stage2_map_walker.name, data },
      'done',
    );
  },
  // dsb(ishst)
  done: (_w, t) => ret(t, (t.retval as VisitResult).r),
});

// ---------------------------------------------------------------------------
// The unmap walker (exclusive: the caller holds mmu_lock for write).

interface UnmapLocals extends VisitCtx<Record<string, never>> {
  childp: number;
}

export const stage2_unmap_walker = model_fn<UnmapLocals>('stage2_unmap_walker', {
  start: (w, t, l) => {
    l.childp = -1;
    const p = pgt_page(w, l.page);
    if (!kvm_pte_valid(l.old)) {
      if (stage2_pte_is_counted(l.old)) {
        pte_set(p, l.idx, 0n);
        emit(w, t, 'pte.store', { ptep: ptep_name(l.page, l.idx), value: 0n, release: false });
        put_page(w, t, l.page, 'put_page');
      }
      return visit_done(t, l, 0);
    }
    if (kvm_pte_table(l.old, l.level)) {
      const child = kvm_pte_follow(w, l.old);
      if (child < 0 || pgt_page(w, child).refcount !== 1) return visit_done(t, l, 0);
      l.childp = child;
    }
    // stage2_unmap_put_pte(): kvm_clear_pte(), then the TLBI in the next
    // step; a leaf's TLBI may be deferred to the end of the walk.
    pte_set(p, l.idx, 0n);
    emit(w, t, 'pte.store', { ptep: ptep_name(l.page, l.idx), value: 0n, release: false });
    if (l.childp >= 0) emit(w, t, 'table.unlink', { page: l.childp, level: l.level + 1 });
    if (l.childp < 0 && stage2_unmap_defer_tlb_flush(mmu_by_id(w, l.mmu).pgt)) return unmap_put(w, t, l);
    return 'tlbi';
  },
  tlbi: (w, t, l) => {
    // A table entry: no level hint (36e008323926); a leaf: its level.
    __kvm_tlb_flush_vmid_ipa(w, t, l.mmu, l.addr, l.childp >= 0 ? TLBI_TTL_UNKNOWN : l.level);
    return unmap_put(w, t, l);
  },
});

function unmap_put(w: World, t: Thread, l: UnmapLocals): Next {
  put_page(w, t, l.page, 'put_page');
  // An empty child table is freed at once: exclusive walk, TLBI done.
  if (l.childp >= 0) put_page(w, t, l.childp, 'put_page');
  return visit_done(t, l, 0);
}

/**
 * stage2_unmap_defer_tlb_flush(): with FEAT_TLBIRANGE and FWB (no CMOs
 * needed) the unmap walker leaves the leaves' TLBIs to one range TLBI after
 * the walk.
 */
export function stage2_unmap_defer_tlb_flush(pgt: kvm_pgtable): boolean {
  return system_supports_tlb_range(pgt) && stage2_has_fwb(pgt);
}

/** The deferred TLB invalidation at the end of kvm_pgtable_stage2_unmap(). */
export function stage2_unmap_deferred_flush(w: World, t: Thread, mmu: number, addr: number, size: number): void {
  if (stage2_unmap_defer_tlb_flush(mmu_by_id(w, mmu).pgt)) kvm_tlb_flush_vmid_range(w, t, mmu, addr, size);
}

// The visits where stage2_unmap_walker() returns 0 without a store: an empty
// entry, a table still in use (page_count != 1).
define_visitor_fast_path(stage2_unmap_walker.name, (w, c) => {
  if (c.visit !== 'post') return c.old === 0n ? 0 : null;
  if (!kvm_pte_table(c.old, c.level)) return null;
  const child = kvm_pte_follow(w, c.old);
  return child >= 0 && pgt_page(w, child).refcount !== 1 ? 0 : null;
});

/** The walk kvm_pgtable_stage2_unmap() does (stage2_apply_range calls it directly). */
export function stage2_unmap_walk_args(mmu: number, addr: number, size: number): Locals {
  return { mmu, addr, size, flags: KVM_PGTABLE_WALK_LEAF | KVM_PGTABLE_WALK_TABLE_POST, cb: stage2_unmap_walker.name, data: {} };
}

/** kvm_pgtable_stage2_unmap() */
export const kvm_pgtable_stage2_unmap = model_fn<{ mmu: number; addr: number; size: number }>('kvm_pgtable_stage2_unmap', {
  start: (_w, _t, l) => call(kvm_pgtable_walk, stage2_unmap_walk_args(l.mmu, l.addr, l.size), 'done'),
  done: (w, t, l) => {
    stage2_unmap_deferred_flush(w, t, l.mmu, l.addr, l.size);
    return ret(t, (t.retval as VisitResult).r);
  },
});

// ---------------------------------------------------------------------------
// The attribute walker: relax_perms, wrprotect.

export interface AttrData {
  attr_set: kvm_pte_t;
  attr_clr: kvm_pte_t;
  pte: kvm_pte_t;
  level: number;
}

export const stage2_attr_walker = model_fn<VisitCtx<AttrData>>('stage2_attr_walker', {
  start: (w, t, l) => {
    if (!kvm_pte_valid(l.old)) {
      emit(w, t, 'walk.eagain', { ptep: ptep_name(l.page, l.idx), reason: 'no valid leaf to change' });
      return visit_done(t, l, -EAGAIN);
    }
    l.data.level = l.level;
    l.data.pte = l.old;
    const pte = (l.old & ~l.data.attr_clr) | l.data.attr_set;
    // Racing with the hardware setting AF is fine: worst case AF is lost.
    if (pte !== l.old && !stage2_replace_pte(w, t, l, pte)) {
      emit(w, t, 'walk.eagain', { ptep: ptep_name(l.page, l.idx), reason: 'lost the cmpxchg to another walker' });
      return visit_done(t, l, -EAGAIN);
    }
    return visit_done(t, l, 0);
  },
});

const ATTR_MASK = KVM_PTE_LEAF_ATTR_LO | KVM_PTE_LEAF_ATTR_HI;

function attr_walk(l: { mmu: number; addr: number; size: number }, set: kvm_pte_t, clr: kvm_pte_t, flags: number): Locals {
  const data: AttrData = { attr_set: set & ATTR_MASK, attr_clr: clr & ATTR_MASK, pte: 0n, level: -1 };
  return { mmu: l.mmu, addr: l.addr, size: l.size, flags: flags | KVM_PGTABLE_WALK_LEAF, cb: stage2_attr_walker.name, data };
}

/**
 * kvm_pgtable_stage2_relax_perms(): a shared fault-path walk, then, on
 * success or -EAGAIN, a local (non-shareable) TLBI of the IPA: the fault
 * was this CPU's. On -EAGAIN the kernel's `level` is never written
 * (stage2_update_leaf_attrs() returns early): the model sends no hint.
 */
export const kvm_pgtable_stage2_relax_perms = model_fn<{ mmu: number; addr: number; prot: kvm_pgtable_prot }>('kvm_pgtable_stage2_relax_perms', {
  start: (_w, t, l) => {
    const prot = typeof l.prot === 'bigint' ? l.prot : BigInt(l.prot);
    if (prot & KVM_PTE_LEAF_ATTR_HI_SW) return ret(t, -EINVAL);
    let set = 0n;
    let clr = 0n;
    if (prot & BigInt(KVM_PGTABLE_PROT_R)) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
    if (prot & BigInt(KVM_PGTABLE_PROT_W)) set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
    if (prot & BigInt(KVM_PGTABLE_PROT_X)) clr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
    return call(kvm_pgtable_walk, attr_walk({ mmu: l.mmu, addr: l.addr, size: 1 }, set, clr, KVM_PGTABLE_WALK_HANDLE_FAULT | KVM_PGTABLE_WALK_SHARED), 'tlbi');
  },
  tlbi: (w, t, l) => {
    const res = t.retval as VisitResult<AttrData>;
    if (res.r === 0 || res.r === -EAGAIN) __kvm_tlb_flush_vmid_ipa_nsh(w, t, l.mmu, l.addr, res.r === 0 ? res.data.level : TLBI_TTL_UNKNOWN);
    return ret(t, res.r);
  },
});

/** The walk kvm_pgtable_stage2_wrprotect() does (stage2_apply_range calls it directly). */
export function stage2_wrprotect_walk_args(mmu: number, addr: number, size: number, flags = 0): Locals {
  return attr_walk({ mmu, addr, size }, 0n, KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W, flags);
}

/** kvm_pgtable_stage2_wrprotect(): clear S2AP_W over a range (exclusive unless flags say). The caller flushes. */
export const kvm_pgtable_stage2_wrprotect = model_fn<{ mmu: number; addr: number; size: number; flags?: number }>('kvm_pgtable_stage2_wrprotect', {
  start: (_w, _t, l) => call(kvm_pgtable_walk, stage2_wrprotect_walk_args(l.mmu, l.addr, l.size, l.flags ?? 0), 'done'),
  done: (_w, t) => ret(t, (t.retval as VisitResult).r),
});

// ---------------------------------------------------------------------------
// Invariants.

const TOUCH_VERB: Record<string, string> = {
  'pte.visit': 'read',
  'pte.cmpxchg': 'cmpxchg on',
  'pte.store': 'wrote',
  'pte.break': 'broke',
  'pte.make': 'made',
  'pte.replace': 'replaced',
};

define_invariant({
  name: 'pgtable.use_after_free',
  description: 'a software walker never touches an entry of a stage-2 table page after the page was freed (and no page is freed twice)',
  arch: 'arm64',
  on: ['pte.visit', 'pte.cmpxchg', 'pte.store', 'pte.break', 'pte.make', 'pte.replace', 'table.free'],
  check(w, ev) {
    const e = ev as Event & { ptep?: string; page?: number; how?: string };
    if (e.kind === 'table.free') {
      const p = w.pgt_pages?.[e.page!];
      if (!p || p.refcount >= 0) return null;
      return {
        thread: e.thread,
        message: `double free: ${e.thread} dropped a reference on table page ${p.id} (level ${p.level}), which ${p.freed_by} freed at step ${p.freed_step} (${p.freed_how})`,
        values: { page: p.id, level: p.level, freed_step: p.freed_step, freed_by: p.freed_by, refcount: p.refcount },
      };
    }
    const at = parse_ptep(e.ptep ?? '');
    if (!at) return null;
    const p = w.pgt_pages?.[at.page];
    if (!p || !p.freed || e.seq <= p.freed_seq) return null;
    // One report per walker and page.
    if (w.violations.some((v) => v.invariant === 'pgtable.use_after_free' && v.thread === e.thread && v.values['page'] === p.id)) return null;
    return {
      thread: e.thread,
      message:
        `use-after-free: ${e.thread} ${TOUCH_VERB[e.kind] ?? 'touched'} ${e.ptep} in level-${p.level} table page ${p.id}, ` +
        `which ${p.freed_by} freed at step ${p.freed_step} (${p.freed_how}) while ${e.thread} was still walking it`,
      values: { page: p.id, level: p.level, ptep: e.ptep, freed_step: p.freed_step, freed_by: p.freed_by, how: p.freed_how, event: e.kind },
    };
  },
});

/** Bits a live valid leaf may change in place: permissions, AF, software bits. */
const BBM_EXEMPT = KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | KVM_PTE_LEAF_ATTR_HI_S2_XN | KVM_PTE_LEAF_ATTR_LO_S2_AF | KVM_PTE_LEAF_ATTR_HI_SW;

define_invariant({
  name: 'pgtable.break_before_make',
  description: 'a valid stage-2 descriptor is only replaced in place when nothing but its permissions, AF or software bits change; a new output address, size or type needs break-before-make (invalidate, TLBI, then write), or a TLB may hold two translations for one IPA',
  arch: 'arm64',
  on: ['pte.replace'],
  check(_w, ev) {
    const e = ev as Event & { ptep: string; level: number; old: bigint; new: bigint };
    if (!kvm_pte_valid(e.old) || !kvm_pte_valid(e.new)) return null;
    if (((e.old ^ e.new) & ~BBM_EXEMPT) === 0n) return null;
    return {
      thread: e.thread,
      message:
        `${e.thread} replaced the live descriptor at ${e.ptep} (level ${e.level}) without break-before-make: ` +
        `${hex64(e.old)} (${kvm_pte_describe(e.old, e.level)}) -> ${hex64(e.new)} (${kvm_pte_describe(e.new, e.level)}); ` +
        `a TLB may now hold translations from both`,
      values: { ptep: e.ptep, level: e.level, old: e.old, new: e.new },
    };
  },
});

// ---------------------------------------------------------------------------
// Inspection for printers (`pt walk`, `pt dump`) and checks.

export interface WalkLevel {
  level: number;
  page: number;
  index: number;
  descriptor: kvm_pte_t;
  type: string;
  text: string;
}

/** The software view of a walk for `ipa`: each level's entry, and the PA if a valid leaf maps it. */
export function kvm_pgtable_walk_levels(w: World, mmu_id: number, ipa: number): { levels: WalkLevel[]; pa: number | null } {
  const pgt = mmu_by_id(w, mmu_id).pgt;
  const levels: WalkLevel[] = [];
  if (ipa < 0 || ipa >= 2 ** pgt.ia_bits) return { levels, pa: null };
  let page = pgt.pgd[kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, ipa)]!;
  for (let level = pgt.start_level; level <= KVM_PGTABLE_LAST_LEVEL; level++) {
    const index = Math.floor(ipa / kvm_granule_size(level)) % PTRS_PER_PTE;
    const d = pte_get(pgt_page(w, page), index);
    const text = kvm_pte_describe(d, level);
    const table = kvm_pte_table(d, level);
    levels.push({ level, page, index, descriptor: d, type: !kvm_pte_valid(d) ? 'invalid' : table ? 'table' : level === KVM_PGTABLE_LAST_LEVEL ? 'page' : 'block', text });
    if (!kvm_pte_valid(d)) return { levels, pa: null };
    if (table) {
      page = kvm_pte_follow(w, d);
      if (page < 0) return { levels, pa: null };
      continue;
    }
    const g = kvm_granule_size(level);
    return { levels, pa: kvm_pte_to_phys(d) + (ipa % g) };
  }
  return { levels, pa: null };
}

/** kvm_pgtable_get_leaf(): the entry mapping `addr` and its level (an invalid entry if none). */
export function kvm_pgtable_get_leaf(w: World, mmu_id: number, addr: number): { pte: kvm_pte_t; level: number } {
  const { levels } = kvm_pgtable_walk_levels(w, mmu_id, addr);
  const last = levels[levels.length - 1];
  return last ? { pte: last.descriptor, level: last.level } : { pte: 0n, level: -1 };
}

export interface Leaf {
  ipa: number;
  level: number;
  pte: kvm_pte_t;
  pa: number;
  page: number;
  index: number;
}

/** Valid leaves overlapping [start, start+size), in IPA order (`pt dump`). */
export function kvm_pgtable_leaves(w: World, mmu_id: number, start = 0, size?: number): Leaf[] {
  const pgt = mmu_by_id(w, mmu_id).pgt;
  const end = Math.min(size === undefined ? 2 ** pgt.ia_bits : start + size, 2 ** pgt.ia_bits);
  const out: Leaf[] = [];
  const visit = (page: number, level: number, base: number): void => {
    const g = kvm_granule_size(level);
    const p = pgt_page(w, page);
    // The entries overlapping [start, end), read from the page's words (the invariants call this after every step).
    const ent = p.ent;
    const last = Math.min(PTRS_PER_PTE, Math.ceil((end - base) / g));
    for (let i = Math.max(0, Math.floor((start - base) / g)); i < last; i++) {
      const a = base + i * g;
      const lo = ent[2 * i] ?? 0;
      if (!(lo & 1)) continue;
      const d = pte_get(p, i);
      if (kvm_pte_table(d, level)) {
        const c = kvm_pte_follow(w, d);
        if (c >= 0) visit(c, level + 1, a);
      } else out.push({ ipa: a, level, pte: d, pa: kvm_pte_to_phys(d), page, index: i });
    }
  };
  const span = kvm_granule_size(pgt.start_level) * PTRS_PER_PTE;
  pgt.pgd.forEach((page, k) => visit(page, pgt.start_level, k * span));
  return out;
}

/**
 * The refcount rule over every live page reachable from `mmu_id`'s root:
 * page_count == 1 + counted entries, for pages with no LOCKED entry (a
 * break in progress has dropped its reference already). Returns the pages
 * that break it.
 */
export function pgtable_check_refcounts(w: World, mmu_id: number): { page: number; refcount: number; counted: number }[] {
  const pgt = mmu_by_id(w, mmu_id).pgt;
  const bad: { page: number; refcount: number; counted: number }[] = [];
  const visit = (id: number): void => {
    const p = pgt_page(w, id);
    let counted = 0;
    let locked = false;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const d = pte_get(p, i);
      if (!stage2_pte_is_counted(d)) continue;
      counted++;
      if (stage2_pte_is_locked(d)) locked = true;
      if (kvm_pte_table(d, p.level)) {
        const c = kvm_pte_follow(w, d);
        if (c >= 0) visit(c);
      }
    }
    if (!locked && p.refcount !== 1 + counted) bad.push({ page: id, refcount: p.refcount, counted });
  };
  for (const id of pgt.pgd) visit(id);
  return bad;
}

// ---------------------------------------------------------------------------
// Running a model function to completion outside the scheduler: `pt map`
// style pokes and test setup. Exclusive walks only (no RCU, no blocking).

export function pgtable_run_now(w: World, fn: string, args: Locals, opts: { thread?: string; keep_events?: boolean } = {}): unknown {
  return run_now(w, fn, args, opts);
}

/** Map [ipa, ipa+size) -> pa with an exclusive walk (tables allocated directly). Returns the walker's result. */
export function pgtable_map_now(w: World, mmu: number, ipa: number, pa: number, size: number, prot: kvm_pgtable_prot, opts: { force_pte?: boolean; keep_events?: boolean } = {}): number {
  const args: MapArgs = { mmu, addr: ipa, size, phys: pa, prot, flags: 0, memcache: MEMCACHE_DIRECT, force_pte: opts.force_pte ?? false };
  return pgtable_run_now(w, kvm_pgtable_stage2_map.name, args as unknown as Locals, { keep_events: opts.keep_events }) as number;
}

/** Unmap [ipa, ipa+size) with an exclusive walk. */
export function pgtable_unmap_now(w: World, mmu: number, ipa: number, size: number, opts: { keep_events?: boolean } = {}): number {
  return pgtable_run_now(w, kvm_pgtable_stage2_unmap.name, { mmu, addr: ipa, size }, opts) as number;
}

/** `pt set`: write a raw descriptor at `level` on the path of `ipa` (the tables above must exist). Refcounts follow the new value. */
export function pgtable_set_raw(w: World, mmu_id: number, ipa: number, level: number, raw: kvm_pte_t): void {
  const { levels } = kvm_pgtable_walk_levels(w, mmu_id, ipa);
  const at = levels.find((x) => x.level === level);
  if (!at) throw new Error(`no table at level ${level} on the path of IPA 0x${ipa.toString(16)}`);
  const p = pgt_page(w, at.page);
  const old = pte_get(p, at.index);
  if (stage2_pte_is_counted(old) && !stage2_pte_is_counted(raw)) p.refcount--;
  if (!stage2_pte_is_counted(old) && stage2_pte_is_counted(raw)) p.refcount++;
  pte_set(p, at.index, raw);
}
