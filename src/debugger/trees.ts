// Maple trees the debugger can name: scratch trees the user makes (`mt
// new`), kept in the World (w.trees) so checkpoints copy them, and each
// nested MMU's reverse map (`nested[I].revmap`) once the NV layer has one.
// The `mt` pokes (new, store, insert, erase) are recorded like every other
// state change.
import type { World } from '../core/machine/world.js';
import {
  EBUSY,
  EEXIST,
  EINVAL,
  ENOMEM,
  ERANGE,
  MA_STATE,
  MT_FLAGS_ALLOC_RANGE,
  mas_empty_area,
  mas_empty_area_rev,
  mt_init_flags,
  mtree_erase,
  mtree_insert_range,
  mtree_store_range,
  type MapleTree,
} from '../core/maple/index.js';
import { DebugError, type ErrorCode } from './errors.js';
import { define_poke } from './pokes.js';

declare module '../core/machine/world.js' {
  interface World {
    /** Scratch maple trees made with `mt new`, by name. */
    trees?: Record<string, MapleTree>;
  }
}

const REVMAP = /^nested\[(\d+)\]\.revmap$/;

function is_tree(x: unknown): x is MapleTree {
  return !!x && typeof x === 'object' && 'arena' in x && 'ma_root' in x;
}

/** The tree called `name` (ENOENT when there is none). */
export function tree_named(w: World, name: string): MapleTree {
  const m = REVMAP.exec(name);
  if (m) {
    const mmu = w.arm64?.nested_mmus[Number(m[1])];
    if (!mmu) throw new DebugError('ENOENT', `no nested_mmus[${m[1]}] in this World`);
    const t = mmu.revmap?.mt;
    if (!is_tree(t)) throw new DebugError('ENOENT', `nested[${m[1]}] has no reverse map yet (one is kept only with the nv.revmap variant, from the first shadow mapping on)`);
    return t;
  }
  const t = w.trees?.[name];
  if (!t) throw new DebugError('ENOENT', `no tree ${name}; make one with \`mt new ${name}\`${tree_names(w).length ? ` (trees: ${tree_names(w).join(', ')})` : ''}`);
  return t;
}

/** Every tree's name: scratch trees, then reverse maps. */
export function tree_names(w: World): string[] {
  const out = Object.keys(w.trees ?? {}).sort();
  (w.arm64?.nested_mmus ?? []).forEach((m, i) => {
    if (is_tree(m.revmap?.mt)) out.push(`nested[${i}].revmap`);
  });
  return out;
}

const ERRNO: Record<number, [ErrorCode, string]> = {
  [EINVAL]: ['EINVAL', 'invalid argument'],
  [EEXIST]: ['EEXIST', 'a range overlaps an existing entry'],
  [ENOMEM]: ['ENOMEM', 'out of memory'],
  [EBUSY]: ['EBUSY', 'no gap that large'],
  [ERANGE]: ['ERANGE', 'not representable'],
};

/** A negative errno from the maple API as a DebugError: `mtree_insert_range: -EEXIST (...)`. */
export function maple_error(r: number, what: string): DebugError {
  const [code, msg] = ERRNO[-r] ?? ['EFAULT', `error ${r}`];
  return new DebugError(code, `${what}: -${code} (${msg})`);
}

define_poke<{ name: string; alloc: boolean }>({
  name: 'mt.new',
  check: (w, a) => {
    if (!/^[A-Za-z_][\w.-]*$/.test(a.name) || REVMAP.test(a.name)) throw new DebugError('EINVAL', `"${a.name}" is not a tree name (letters, digits, _ . -)`);
    if (w.trees?.[a.name]) throw new DebugError('EEXIST', `tree ${a.name} exists`);
  },
  apply: (w, a) => {
    const trees = (w.trees ??= {});
    trees[a.name] = mt_init_flags(a.alloc ? MT_FLAGS_ALLOC_RANGE : 0, Object.keys(trees).length + 1);
    return {};
  },
});

define_poke<{ tree: string; first: number; last: number; value: number; insert: boolean }>({
  name: 'mt.store',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const mt = tree_named(w, a.tree);
    const r = (a.insert ? mtree_insert_range : mtree_store_range)(mt, a.first, a.last, a.value);
    if (r < 0) throw maple_error(r, a.insert ? 'mtree_insert_range' : 'mtree_store_range');
    return {};
  },
});

define_poke<{ tree: string; index: number }>({
  name: 'mt.erase',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const e = mtree_erase(tree_named(w, a.tree), a.index);
    return { value: e === 0 ? null : e };
  },
});

/** mas_empty_area(_rev): the free range [first, last] of `size` indices within [min, max]. */
export function mt_empty_area(w: World, tree: string, min: number, max: number, size: number, rev: boolean): { first: number; last: number } {
  const mas = MA_STATE(tree_named(w, tree), 0, 0);
  const r = (rev ? mas_empty_area_rev : mas_empty_area)(mas, min, max, size);
  if (r < 0) throw maple_error(r, rev ? 'mas_empty_area_rev' : 'mas_empty_area');
  return { first: mas.index, last: mas.last };
}
