// Maple trees the debugger can name: scratch trees the user makes (`mt
// new`, `mt dup`), kept in the World (w.trees) so checkpoints copy them,
// and each nested MMU's reverse map (`nested[I].revmap`) once the NV layer
// has one. The `mt` pokes (new, store, insert, erase, alloc, dup, destroy)
// are recorded like every other state change. Their arguments are plain
// data: an index or entry is a number up to 2^53-1 and a bigint above
// (recordings write bigints as {"$bigint": "0x.."}).
import type { World } from '../core/machine/world.js';
import {
  EBUSY,
  EEXIST,
  EINVAL,
  ENOMEM,
  MA_STATE,
  MT_FLAGS_ALLOC_RANGE,
  __mt_dup,
  mas_empty_area,
  mas_empty_area_rev,
  mt_init_flags,
  mt_nr_nodes,
  mtree_alloc_range,
  mtree_alloc_rrange,
  mtree_destroy,
  mtree_erase,
  mtree_insert_range,
  mtree_store_range,
  ul_or_throw,
  type MapleTree,
  type ulong,
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
};

/** A negative errno from the maple API as a DebugError: `mtree_insert_range: -EEXIST (...)`. */
export function maple_error(r: number, what: string): DebugError {
  const [code, msg] = ERRNO[-r] ?? ['EFAULT', `error ${r}`];
  return new DebugError(code, `${what}: -${code} (${msg})`);
}

/** A recorded integer argument back as a ulong. */
function arg(x: unknown, what: string): ulong {
  try {
    return ul_or_throw(x, what);
  } catch (e) {
    throw new DebugError('EINVAL', (e as Error).message);
  }
}

function check_new_name(w: World, name: string): void {
  if (!/^[A-Za-z_][\w.-]*$/.test(name) || REVMAP.test(name)) throw new DebugError('EINVAL', `"${name}" is not a tree name (letters, digits, _ . -)`);
  if (w.trees?.[name]) throw new DebugError('EEXIST', `tree ${name} exists`);
}

function add_tree(w: World, name: string, flags: number): MapleTree {
  const trees = (w.trees ??= {});
  const mt = mt_init_flags(flags, Object.keys(trees).length + 1);
  trees[name] = mt;
  return mt;
}

define_poke<{ name: string; alloc: boolean }>({
  name: 'mt.new',
  check: (w, a) => check_new_name(w, a.name),
  apply: (w, a) => {
    add_tree(w, a.name, a.alloc ? MT_FLAGS_ALLOC_RANGE : 0);
    return {};
  },
});

type U = number | bigint;

define_poke<{ tree: string; first: U; last: U; value: U; insert: boolean }>({
  name: 'mt.store',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const mt = tree_named(w, a.tree);
    const r = (a.insert ? mtree_insert_range : mtree_store_range)(mt, arg(a.first, 'FIRST'), arg(a.last, 'LAST'), arg(a.value, 'VALUE'));
    if (r < 0) throw maple_error(r, a.insert ? 'mtree_insert_range' : 'mtree_store_range');
    return {};
  },
});

define_poke<{ tree: string; index: U }>({
  name: 'mt.erase',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const e = mtree_erase(tree_named(w, a.tree), arg(a.index, 'INDEX'));
    return { value: e === 0 ? null : e };
  },
});

/** `mt alloc-range` / `alloc-rrange`: mtree_alloc_range / mtree_alloc_rrange; the area stored. */
define_poke<{ tree: string; min: U; max: U; size: U; value: U; rev: boolean }>({
  name: 'mt.alloc',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const mt = tree_named(w, a.tree);
    const start = { value: 0 as ulong };
    const size = arg(a.size, 'SIZE');
    const fn = a.rev ? mtree_alloc_rrange : mtree_alloc_range;
    const r = fn(mt, start, arg(a.value, 'VALUE'), size, arg(a.min, 'MIN'), arg(a.max, 'MAX'));
    if (r < 0) throw maple_error(r, a.rev ? 'mtree_alloc_rrange' : 'mtree_alloc_range');
    return { first: start.value, size };
  },
});

/** `mt dup SRC NEW`: a new scratch tree with SRC's flags, filled by __mt_dup(). */
define_poke<{ src: string; name: string }>({
  name: 'mt.dup',
  check: (w, a) => {
    tree_named(w, a.src);
    check_new_name(w, a.name);
  },
  apply: (w, a) => {
    const src = tree_named(w, a.src);
    const dst = add_tree(w, a.name, src.ma_flags & ~0x7c);
    const r = __mt_dup(src, dst);
    if (r < 0) {
      delete w.trees![a.name];
      throw maple_error(r, '__mt_dup');
    }
    return { nodes: mt_nr_nodes(dst) };
  },
});

/** `mt destroy TREE`: mtree_destroy(); the tree stays, empty, with its flags. */
define_poke<{ tree: string }>({
  name: 'mt.destroy',
  check: (w, a) => void tree_named(w, a.tree),
  apply: (w, a) => {
    const mt = tree_named(w, a.tree);
    const nodes = mt_nr_nodes(mt);
    mtree_destroy(mt);
    return { nodes };
  },
});

/** mas_empty_area(_rev): the free range [first, last] of `size` indices within [min, max]. */
export function mt_empty_area(w: World, tree: string, min: ulong, max: ulong, size: ulong, rev: boolean): { first: ulong; last: ulong } {
  const mas = MA_STATE(tree_named(w, tree), 0, 0);
  const r = (rev ? mas_empty_area_rev : mas_empty_area)(mas, min, max, size);
  if (r < 0) throw maple_error(r, rev ? 'mas_empty_area_rev' : 'mas_empty_area');
  return { first: mas.index, last: mas.last };
}
