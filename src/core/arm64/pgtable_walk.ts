// arch/arm64/kvm/hyp/pgtable.c: the generic walker (kvm_pgtable_walk,
// _kvm_pgtable_walk, __kvm_pgtable_walk, __kvm_pgtable_visit) and
// asm/kvm_pgtable.h kvm_pgtable_walk_begin/end, as one model function.
// Version: the v6.17 shape (pgtable.c at e6157256ee1a); the walker has not
// changed in substance since v6.3.
//
// The kernel walk is recursive; here the path is an explicit stack of
// frames (one per table page being iterated), so a walk is plain data and
// every entry visit is one thread step: READ_ONCE(*ptep), then the
// visitor's callback (a model function of its own, whose cmpxchg, TLBI and
// release store are further steps), then the reload READ_ONCE after the
// callback. Two walkers under the read lock therefore interleave entry by
// entry. A visitor gets a VisitCtx (ptep, old, addr, end, level, flags,
// visit kind, the walker's arg `data`) and returns {r, data}.
//
// Steps: each READ_ONCE of an entry is a step; the bookkeeping around it
// (leaving finished tables, moving to the next pgd page) runs in the step of
// the read before. Shared walks (KVM_PGTABLE_WALK_SHARED) run inside
// rcu_read_lock(), taken in kvm_pgtable_walk_begin() and dropped in
// kvm_pgtable_walk_end(), each a step of its own; exclusive walks rely on
// the write lock, take no RCU read lock, and so begin with their first
// visit and end with their last. A visitor may answer some visits without
// touching memory (define_visitor_fast_path: the unmap walker on an empty
// entry); an exclusive walk then takes the answer in the visit step, which
// keeps a full-range unmap of an empty 1 TiB stage-2 at ~4 steps per 1G
// chunk. -EAGAIN from a visitor ends a HANDLE_FAULT walk; other walks carry
// on (kvm_pgtable_walk_continue()); any other error ends every walk.
//
// Left out: the hyp's kvm_pgtable_walk_begin() refusing shared walks
// (-EPERM), the WARN_ON_ONCE(level) range check (the model's tables cannot
// hold a table pointer at level 3), KVM_PGTABLE_WALK_PRE_FAULT.
import { emit } from '../machine/events.js';
import { call, model_fn, ret, type Next } from '../machine/model.js';
import type { Locals, Thread, World } from '../machine/world.js';
import { metric_add } from '../machine/world.js';
import { rcu_read_lock, rcu_read_unlock } from '../rcu/tree.js';
import { PAGE_SIZE } from '../kvm/kvm_host.js';
import { mmu_by_id, mmu_name } from './kvm_host.js';
import {
  EAGAIN,
  EINVAL,
  ERANGE,
  KVM_PGTABLE_WALK_HANDLE_FAULT,
  KVM_PGTABLE_WALK_LEAF,
  KVM_PGTABLE_WALK_SHARED,
  KVM_PGTABLE_WALK_TABLE_POST,
  KVM_PGTABLE_WALK_TABLE_PRE,
  PTRS_PER_PTE,
  align_down,
  kvm_granule_size,
  kvm_pgd_page_idx,
  kvm_pgtable_idx,
  kvm_pte_table,
  kvm_pte_to_phys,
  pgt_pa_page,
  pgt_page,
  pte_get,
  ptep_name,
  type PgtPage,
  walk_flags_name,
  type kvm_pte_t,
} from './kvm_pgtable.js';

export type VisitKind = 'pre' | 'leaf' | 'post';

/** struct kvm_pgtable_visit_ctx, plus the walker's arg and the MMU. */
export interface VisitCtx<D = unknown> {
  mmu: number;
  /** ptep: entry `idx` of table page `page`. */
  page: number;
  idx: number;
  old: kvm_pte_t;
  start: number;
  addr: number;
  end: number;
  level: number;
  flags: number;
  visit: VisitKind;
  data: D;
}

/** What a visitor returns (with ret()). */
export interface VisitResult<D = unknown> {
  r: number;
  data: D;
}

interface WalkFrame {
  page: number;
  level: number;
  idx: number;
  /** The parent entry as last read, and the address at which it was visited (for TABLE_POST). */
  up_old: kvm_pte_t;
  up_addr: number;
}

export interface WalkArgs {
  mmu: number;
  addr: number;
  size: number;
  flags: number;
  /** Visitor model function (walker->cb). */
  cb: string;
  /** walker->arg */
  data: Locals;
}

interface WalkLocals extends WalkArgs {
  start: number;
  end: number;
  pgd_idx: number;
  frames: WalkFrame[];
  ret: number;
}

/**
 * A visitor may say, for some visits, what its callback returns without
 * touching memory (the unmap walker on an empty entry). In an exclusive walk
 * the walker then takes that answer in the visit step itself: no callback
 * steps and no reload (nobody else writes the tables). Returns null when the
 * callback has work to do.
 */
export type VisitorFastPath = (w: World, c: VisitCtx) => number | null;
const fast_paths = new Map<string, VisitorFastPath>();

export function define_visitor_fast_path(cb: string, fn: VisitorFastPath): void {
  fast_paths.set(cb, fn);
}

/** kvm_pgtable_walk_continue() */
export function kvm_pgtable_walk_continue(flags: number, r: number): boolean {
  if (r === -EAGAIN) return !(flags & KVM_PGTABLE_WALK_HANDLE_FAULT);
  return r === 0;
}

export function kvm_pgtable_walk_shared(flags: number): boolean {
  return (flags & KVM_PGTABLE_WALK_SHARED) !== 0;
}

function ctx(l: WalkLocals, f: WalkFrame, old: kvm_pte_t, addr: number, visit: VisitKind): Locals {
  return { mmu: l.mmu, page: f.page, idx: f.idx, old, start: l.start, addr, end: l.end, level: f.level, flags: l.flags, visit, data: l.data };
}

/** After the visit of the current entry: advance past a leaf or descend into a table. */
function proceed(w: World, l: WalkLocals, f: WalkFrame, old: kvm_pte_t, table: boolean): string {
  if (!table) {
    const g = kvm_granule_size(f.level);
    l.addr = align_down(l.addr, g) + g;
    f.idx++;
    return 'visit';
  }
  const child = pgt_pa_page(w, kvm_pte_to_phys(old));
  if (child < 0) {
    // A table descriptor pointing outside the table pool: WARN, -EINVAL.
    l.ret = -EINVAL;
    return 'bad';
  }
  l.frames.push({ page: child, level: f.level + 1, idx: kvm_pgtable_idx(l.addr, f.level + 1), up_old: old, up_addr: l.addr });
  return 'visit';
}

/** One entry visit: pop finished tables (running TABLE_POST), then READ_ONCE the next entry. */
function visit_step(w: World, t: Thread, l: WalkLocals, after_read = false): Next {
  const pgt = mmu_by_id(w, l.mmu).pgt;
  const shared = kvm_pgtable_walk_shared(l.flags);
  const fast = shared ? undefined : fast_paths.get(l.cb);
  // After this step's READ_ONCE the loop goes on only through bookkeeping
  // (finished tables, TABLE_POST calls, the end of an exclusive walk); the
  // next READ_ONCE is the next step.
  let read = after_read;
  for (;;) {
    const f = l.frames[l.frames.length - 1];
    if (!f) {
      // _kvm_pgtable_walk(): the next concatenated pgd page, while addr < end.
      if (l.addr >= l.end) return walk_end(w, t, l);
      l.pgd_idx++;
      l.frames.push({ page: pgt.pgd[l.pgd_idx]!, level: pgt.start_level, idx: kvm_pgtable_idx(l.addr, pgt.start_level), up_old: 0n, up_addr: 0 });
      continue;
    }
    if (l.addr >= l.end || f.idx >= PTRS_PER_PTE) {
      l.frames.pop();
      const parent = l.frames[l.frames.length - 1];
      if (!parent) continue;
      if (l.flags & KVM_PGTABLE_WALK_TABLE_POST) {
        const c = ctx(l, parent, f.up_old, f.up_addr, 'post');
        const r = fast ? fast(w, c as unknown as VisitCtx) : null;
        if (r === null) return call(l.cb, c, 'post_done');
        if (!kvm_pgtable_walk_continue(l.flags, r)) {
          l.ret = r;
          return walk_end(w, t, l);
        }
      }
      parent.idx++;
      continue;
    }
    const page = pgt_page(w, f.page);
    const old = pte_get(page, f.idx);
    // An exclusive walk holds mmu_lock for write, so nobody else can change
    // the table under it: a run of empty entries is read in the same step as
    // the entry before it (and not reported), instead of one step each.
    const folded = !shared && old === 0n;
    if (read && !folded) return 'visit';
    read = true;
    if (folded && skip_empty(w, l, f, page, fast)) continue;
    // The kernel's cost is one READ_ONCE per entry, folded or not.
    w.metrics['pgtable_entries_read'] = (w.metrics['pgtable_entries_read'] ?? 0) + 1;
    const table = kvm_pte_table(old, f.level);
    const pre = table && (l.flags & KVM_PGTABLE_WALK_TABLE_PRE) !== 0;
    const leaf = !table && (l.flags & KVM_PGTABLE_WALK_LEAF) !== 0;
    const visit = pre ? 'pre' : leaf ? 'leaf' : table ? 'table' : 'skip';
    if (!folded) emit(w, t, 'pte.visit', { ptep: ptep_name(f.page, f.idx), level: f.level, visit, old });
    if (pre || leaf) {
      const c = ctx(l, f, old, l.addr, pre ? 'pre' : 'leaf');
      const r = fast ? fast(w, c as unknown as VisitCtx) : null;
      if (r === null) return call(l.cb, c, 'reload');
      if (!kvm_pgtable_walk_continue(l.flags, r)) {
        l.ret = r;
        return walk_end(w, t, l);
      }
    }
    if (proceed(w, l, f, old, table) !== 'visit') return walk_end(w, t, l);
  }
}

/**
 * The run of empty entries from f.idx on that an exclusive walk folds into
 * the step, taken at once: each is counted as read, and its leaf visit (if
 * the walk visits leaves) is answered by the visitor's fast path, as the
 * entry-by-entry loop above would; the walk's address and index are written
 * once at the end. The first entry whose visit needs the callback, or ends
 * the walk, is left to that loop. Only the raw words of the table page are
 * read in the run, so a full-range unmap of a sparse stage-2 (thousands of
 * empty entries) costs no tracked access per entry. Whether any entry was
 * taken.
 */
function skip_empty(w: World, l: WalkLocals, f: WalkFrame, page: PgtPage, fast: VisitorFastPath | undefined): boolean {
  const leaf = (l.flags & KVM_PGTABLE_WALK_LEAF) !== 0;
  if (leaf && !fast) return false;
  const ent = page.ent;
  const { mmu, start, end, flags, data } = l;
  const { page: id, level } = f;
  const g = kvm_granule_size(level);
  let idx = f.idx;
  let addr = l.addr;
  // One context for the run (a fast path answers from it and keeps nothing).
  const c: VisitCtx = { mmu, page: id, idx, old: 0n, start, addr, end, level, flags, visit: 'leaf', data };
  while (idx < PTRS_PER_PTE && addr < end && ent[2 * idx] === 0 && ent[2 * idx + 1] === 0) {
    if (leaf) {
      c.idx = idx;
      c.addr = addr;
      if (fast!(w, c) !== 0) break;
    }
    addr = align_down(addr, g) + g;
    idx++;
  }
  const n = idx - f.idx;
  if (n === 0) return false;
  w.metrics['pgtable_entries_read'] = (w.metrics['pgtable_entries_read'] ?? 0) + n;
  l.addr = addr;
  f.idx = idx;
  return true;
}

/** kvm_pgtable_walk_end(): a step of its own for shared walks (rcu_read_unlock); inline for exclusive ones. */
function walk_end(w: World, t: Thread, l: WalkLocals): Next {
  if (kvm_pgtable_walk_shared(l.flags)) return 'end';
  return end_step(w, t, l);
}

function end_step(w: World, t: Thread, l: WalkLocals): Next {
  if (kvm_pgtable_walk_shared(l.flags)) rcu_read_unlock(w, t);
  emit(w, t, 'walk.end', { ret: l.ret });
  if (l.ret === -EAGAIN) metric_add(w, 'walk_eagain');
  return ret(t, { r: l.ret, data: l.data } satisfies VisitResult);
}

/**
 * kvm_pgtable_walk(pgt, addr, size, walker) as a model function: locals
 * {mmu, addr, size, flags, cb, data}; returns {r, data} (VisitResult).
 */
export const kvm_pgtable_walk = model_fn<WalkLocals>('kvm_pgtable_walk', {
  // kvm_pgtable_walk_begin(): rcu_read_lock() for shared walks only.
  begin: (w, t, l) => {
    const pgt = mmu_by_id(w, l.mmu).pgt;
    if (kvm_pgtable_walk_shared(l.flags)) rcu_read_lock(w, t);
    l.start = align_down(l.addr, PAGE_SIZE);
    l.addr = l.start;
    l.end = Math.ceil((l.start + l.size) / PAGE_SIZE) * PAGE_SIZE;
    l.ret = 0;
    l.frames = [];
    emit(w, t, 'walk.begin', { pgt: mmu_name(l.mmu), start: l.start, end: l.end, flags: walk_flags_name(l.flags) });
    const limit = 2 ** pgt.ia_bits;
    if (l.addr > limit || l.end > limit) {
      l.ret = -ERANGE;
      return walk_end(w, t, l);
    }
    l.pgd_idx = kvm_pgd_page_idx(pgt.ia_bits, pgt.start_level, l.addr);
    if (l.addr < l.end) {
      l.frames.push({ page: pgt.pgd[l.pgd_idx]!, level: pgt.start_level, idx: kvm_pgtable_idx(l.addr, pgt.start_level), up_old: 0n, up_addr: 0 });
    }
    // A shared walk's begin is rcu_read_lock(), an interleaving point; an
    // exclusive walk's is bookkeeping, so its first visit is in this step.
    return kvm_pgtable_walk_shared(l.flags) ? 'visit' : visit_step(w, t, l);
  },
  visit: (w, t, l) => visit_step(w, t, l),
  // After a TABLE_PRE or LEAF callback: reload, so the walk descends into a
  // table the visitor just installed (or steps over one it replaced).
  reload: (w, t, l) => {
    const res = t.retval as VisitResult<Locals>;
    l.data = res.data;
    const f = l.frames[l.frames.length - 1]!;
    const old = pte_get(pgt_page(w, f.page), f.idx);
    emit(w, t, 'pte.visit', { ptep: ptep_name(f.page, f.idx), level: f.level, visit: 'reload', old });
    if (!kvm_pgtable_walk_continue(l.flags, res.r)) {
      l.ret = res.r;
      return walk_end(w, t, l);
    }
    if (proceed(w, l, f, old, kvm_pte_table(old, f.level)) !== 'visit') return walk_end(w, t, l);
    return visit_step(w, t, l, true);
  },
  // After TABLE_POST: the parent table's loop moves to its next entry.
  post_done: (w, t, l) => {
    const res = t.retval as VisitResult<Locals>;
    l.data = res.data;
    if (!kvm_pgtable_walk_continue(l.flags, res.r)) {
      l.ret = res.r;
      return walk_end(w, t, l);
    }
    l.frames[l.frames.length - 1]!.idx++;
    return visit_step(w, t, l);
  },
  // kvm_pgtable_walk_end()
  end: end_step,
});
