// `mt`: maple trees. new, store, insert, erase, alloc-range, alloc-rrange,
// dup and destroy are pokes (recorded in the history); load, find (--rev),
// prev, empty-area, validate, dump, list and xa-mk-value only look.
// Indices and values are unsigned 64-bit, exactly; JSON prints them as
// "0x..." strings.
import {
  MA_STATE,
  MT_FOUND,
  MT_NEAR,
  ULONG_MAX,
  mas_find_rev,
  mas_walk,
  mt_dump,
  mt_find,
  mt_height,
  mt_is_reserved,
  mt_nr_nodes,
  mt_prev,
  mt_validate,
  mtree_load,
  ul_add,
  ul_arg,
  ul_dec,
  ul_hex,
  ul_of_big,
  xa_is_advanced,
  xa_mk_value,
  xa_mk_value_loses,
  xa_to_value,
  type MapleTree,
  type ulong,
} from '../core/maple/index.js';
import { DebugError } from '../debugger/errors.js';
import type { Session } from '../debugger/session.js';
import { mt_empty_area, tree_named, tree_names } from '../debugger/trees.js';
import { usage, type Args, type Command, type Ctx } from './command.js';
import { u64 } from './parse.js';
import { table } from './text.js';

function num(s: string | undefined, what: string): ulong {
  return ul_of_big(u64(s, what));
}

/**
 * A value to store. mtree_store_range() refuses only xa_is_advanced()
 * entries (internal, <= XA_RETRY_ENTRY 0x402): EINVAL here too. The other
 * reserved values (internal, below 4096: XA_ZERO_ENTRY 0x406 and up) are
 * stored, as the kernel stores them.
 */
function value(s: string | undefined, what = 'VALUE'): ulong {
  const v = num(s, what);
  if (xa_is_advanced(v)) {
    throw new DebugError('EINVAL', `${what} ${ul_hex(v)} is an advanced entry (internal, low bits 10, at most XA_RETRY_ENTRY 0x402): mtree_store_range refuses it with -EINVAL`);
  }
  return v;
}

const ix = (i: ulong) => ul_hex(i);
const val = (v: ulong) => (v === 0 ? null : ul_hex(v));

const complete_tree = (s: Session, words: string[]) => (words.length === 0 ? tree_names(s.world) : []);

function tree(s: Session, name: string | undefined): MapleTree {
  if (name === undefined) throw new DebugError('EINVAL', 'a tree name is needed');
  return tree_named(s.world, name);
}

/** A found entry as the reply of find / prev: {first, last, value} or null. */
function found(v: ulong, first: ulong, last: ulong): { json: unknown; text: string } {
  if (v === 0) return { json: null, text: 'NULL' };
  const r = { first: ix(first), last: ix(last), value: ix(v) };
  return { json: r, text: `[${r.first}, ${r.last}] ${r.value}` };
}

function flag(a: Args, name: string): [boolean, string[]] {
  return [a.words.includes(name), a.words.filter((x) => x !== name)];
}

function sub(name: string): Command {
  return MT_SUB.find((c) => c.name === name)!;
}

function store(insert: boolean): (ctx: Ctx, a: Args) => { json: unknown; text: string } {
  return (ctx, a) => {
    const c = sub(insert ? 'insert' : 'store');
    if (a.words.length !== 4) usage(c);
    const v = value(a.words[3]);
    const args = { tree: a.words[0]!, first: ul_arg(num(a.words[1], 'FIRST')), last: ul_arg(num(a.words[2], 'LAST')), value: ul_arg(v), insert };
    ctx.s.poke('mt.store', args, a.line.trim());
    const note = mt_is_reserved(v) ? `stored; ${ix(v)} is a reserved value (internal, below 4096): mtree_alloc_range would refuse it, and mt_find/mt_for_each skip XA_ZERO_ENTRY` : '';
    return { json: {}, text: note };
  };
}

function alloc(rev: boolean): (ctx: Ctx, a: Args) => { json: unknown; text: string } {
  return (ctx, a) => {
    const c = sub(rev ? 'alloc-rrange' : 'alloc-range');
    if (a.words.length !== 5) usage(c);
    const w = a.words;
    const args = {
      tree: w[0]!,
      min: ul_arg(num(w[1], 'MIN')),
      max: ul_arg(num(w[2], 'MAX')),
      size: ul_arg(num(w[3], 'SIZE')),
      value: ul_arg(num(w[4], 'VALUE')),
      rev,
    };
    const r = ctx.s.poke('mt.alloc', args, a.line.trim()) as { first: ulong; size: ulong };
    const first = r.first;
    const last = ul_add(first, ul_dec(r.size));
    return { json: { first: ix(first), last: ix(last) }, text: `[${ix(first)}, ${ix(last)}]` };
  };
}

const MT_SUB: Command[] = [
  {
    name: 'new',
    usage: 'mt new NAME [--alloc]',
    summary: 'a scratch maple tree (MT_FLAGS_ALLOC_RANGE with --alloc)',
    run: (ctx, a) => {
      const [alloc_flag, names] = flag(a, '--alloc');
      if (names.length !== 1) usage(sub('new'));
      ctx.s.poke('mt.new', { name: names[0]!, alloc: alloc_flag }, a.line.trim());
      return { json: {}, text: `Tree ${names[0]} (flags ${alloc_flag ? 'MT_FLAGS_ALLOC_RANGE' : '0'}).` };
    },
  },
  { name: 'store', usage: 'mt store TREE FIRST LAST VALUE', summary: 'mtree_store_range (VALUE 0 erases)', complete: complete_tree, run: store(false) },
  { name: 'insert', usage: 'mt insert TREE FIRST LAST VALUE', summary: 'mtree_insert_range (EEXIST on overlap)', complete: complete_tree, run: store(true) },
  {
    name: 'load',
    usage: 'mt load TREE INDEX',
    summary: 'mtree_load',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(sub('load'));
      const v = mtree_load(tree(ctx.s, a.words[0]), num(a.words[1], 'INDEX'));
      return { json: { value: val(v) }, text: v === 0 ? 'NULL' : ix(v) };
    },
  },
  {
    name: 'erase',
    usage: 'mt erase TREE INDEX',
    summary: 'mtree_erase: removes the whole range containing INDEX',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(sub('erase'));
      const t = a.words[0]!;
      const i = num(a.words[1], 'INDEX');
      // Nothing there: nothing to record (a stored XA_ZERO_ENTRY is erased though).
      const mt = tree(ctx.s, t);
      if (mas_walk(MA_STATE(mt, i, i)) === 0) return { json: { value: null }, text: 'NULL' };
      const r = ctx.s.poke('mt.erase', { tree: t, index: ul_arg(i) }, a.line.trim()) as { value: ulong | null };
      return { json: { value: r.value === null ? null : ix(r.value) }, text: r.value === null ? 'NULL' : ix(r.value) };
    },
  },
  {
    name: 'find',
    usage: 'mt find TREE START [LIMIT] [--rev]',
    summary: 'mt_find: the first entry at or after START up to LIMIT; --rev: mas_find_rev, the first at or below START down to LIMIT',
    complete: complete_tree,
    run: (ctx, a) => {
      const [rev, w] = flag(a, '--rev');
      if (w.length < 2 || w.length > 3) usage(sub('find'));
      const mt = tree(ctx.s, w[0]);
      const start = num(w[1], 'START');
      if (rev) {
        const min = w[2] === undefined ? 0 : num(w[2], 'LIMIT');
        const mas = MA_STATE(mt, start, start);
        const v = mas_find_rev(mas, min);
        return found(v, mas.index, mas.last);
      }
      const max = w[2] === undefined ? ULONG_MAX : num(w[2], 'LIMIT');
      const v = mt_find(mt, { value: start }, max);
      return found(v, MT_FOUND.first, MT_FOUND.last);
    },
  },
  {
    name: 'prev',
    usage: 'mt prev TREE INDEX [MIN]',
    summary: 'mt_prev: the entry before the one at INDEX, down to MIN',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length < 2 || a.words.length > 3) usage(sub('prev'));
      const mt = tree(ctx.s, a.words[0]);
      const min = a.words[2] === undefined ? 0 : num(a.words[2], 'MIN');
      const v = mt_prev(mt, num(a.words[1], 'INDEX'), min);
      return found(v, MT_NEAR.first, MT_NEAR.last);
    },
  },
  {
    name: 'empty-area',
    usage: 'mt empty-area TREE MIN MAX SIZE [--rev]',
    summary: 'mas_empty_area (mas_empty_area_rev with --rev): a gap of SIZE indices',
    complete: complete_tree,
    run: (ctx, a) => {
      const [rev, w] = flag(a, '--rev');
      if (w.length !== 4) usage(sub('empty-area'));
      tree(ctx.s, w[0]);
      const r = mt_empty_area(ctx.s.world, w[0]!, num(w[1], 'MIN'), num(w[2], 'MAX'), num(w[3], 'SIZE'), rev);
      return { json: { first: ix(r.first), last: ix(r.last) }, text: `[${ix(r.first)}, ${ix(r.last)}]` };
    },
  },
  {
    name: 'alloc-range',
    usage: 'mt alloc-range TREE MIN MAX SIZE VALUE',
    summary: 'mtree_alloc_range: store VALUE in the lowest free SIZE indices of [MIN, MAX]',
    help: 'Only MT_FLAGS_ALLOC_RANGE trees (`mt new NAME --alloc`); a reserved VALUE (internal, below 4096) is -EINVAL.',
    complete: complete_tree,
    run: alloc(false),
  },
  {
    name: 'alloc-rrange',
    usage: 'mt alloc-rrange TREE MIN MAX SIZE VALUE',
    summary: 'mtree_alloc_rrange: store VALUE in the highest free SIZE indices of [MIN, MAX]',
    complete: complete_tree,
    run: alloc(true),
  },
  {
    name: 'dup',
    usage: 'mt dup TREE NEW',
    summary: '__mt_dup: NEW, a scratch tree with the same flags and contents',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(sub('dup'));
      const r = ctx.s.poke('mt.dup', { src: a.words[0]!, name: a.words[1]! }, a.line.trim()) as { nodes: number };
      return { json: { nodes: r.nodes }, text: `Tree ${a.words[1]}: a copy of ${a.words[0]} (${r.nodes} nodes).` };
    },
  },
  {
    name: 'destroy',
    usage: 'mt destroy TREE',
    summary: 'mtree_destroy: free every node; the tree stays, empty',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(sub('destroy'));
      const r = ctx.s.poke('mt.destroy', { tree: a.words[0]! }, a.line.trim()) as { nodes: number };
      return { json: { nodes: r.nodes }, text: `${a.words[0]}: ${r.nodes} nodes freed.` };
    },
  },
  {
    name: 'validate',
    usage: 'mt validate TREE',
    summary: "mt_validate: the kernel's checks (pivots, limits, gaps, occupancy); the problems found",
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(sub('validate'));
      const mt = tree(ctx.s, a.words[0]);
      const errors = mt_validate(mt);
      const json = { valid: errors.length === 0, errors, height: mt_height(mt), nodes: mt_nr_nodes(mt) };
      return { json, text: errors.length ? errors.join('\n') : `valid (height ${json.height}, ${json.nodes} nodes)` };
    },
  },
  {
    name: 'dump',
    usage: 'mt dump TREE [--dec]',
    summary: "node by node, in the kernel's mt_dump shape (hex; --dec for decimal)",
    complete: complete_tree,
    run: (ctx, a) => {
      const [dec, w] = flag(a, '--dec');
      if (w.length !== 1) usage(sub('dump'));
      const text = mt_dump(tree(ctx.s, w[0]), dec ? 'dec' : 'hex');
      return { json: { dump: text.split('\n') }, text };
    },
  },
  {
    name: 'list',
    usage: 'mt list',
    summary: "every tree: scratch trees and each nested MMU's reverse map",
    run: (ctx, a) => {
      if (a.words.length) usage(sub('list'));
      const w = ctx.s.world;
      const rows = tree_names(w).map((name) => {
        const mt = tree_named(w, name);
        let n = 0;
        const ref = { value: 0 as ulong };
        while (mt_find(mt, ref, ULONG_MAX) !== 0) {
          n++;
          if (ref.value === 0) break;
        }
        return { name, kind: name.includes('.revmap') ? 'revmap' : 'scratch', flags: ix(mt.ma_flags), height: mt_height(mt), entries: n };
      });
      return {
        json: { trees: rows },
        text: rows.length ? table(['NAME', 'KIND', 'FLAGS', 'HEIGHT', 'ENTRIES'], rows.map((r) => [r.name, r.kind, r.flags, String(r.height), String(r.entries)])) : 'No trees; `mt new NAME` makes one.',
      };
    },
  },
  {
    name: 'xa-mk-value',
    usage: 'mt xa-mk-value V',
    summary: "xa_mk_value(V) = V << 1 | 1: the value entry, and the bit 63 it loses (the kernel's WARN)",
    run: (_ctx, a) => {
      if (a.words.length !== 1) usage(sub('xa-mk-value'));
      const v = num(a.words[0], 'V');
      const e = xa_mk_value(v);
      const lost = xa_mk_value_loses(v);
      const json = { entry: ix(e), value: ix(xa_to_value(e)), lost: lost ? '0x' + lost.toString(16) : null };
      const text = `xa_mk_value(${ix(v)}) = ${json.entry}; xa_to_value gives back ${json.value}` + (lost ? `: bit 63 is lost (the kernel WARNs: (long)v < 0)` : '');
      return { json, text };
    },
  },
];

export const MT_COMMAND: Command = {
  name: 'mt',
  usage: 'mt new|store|insert|load|erase|find|prev|empty-area|alloc-range|alloc-rrange|dup|destroy|validate|dump|list|xa-mk-value ...',
  summary: 'maple trees: scratch trees and nested[I].revmap',
  sub: MT_SUB,
};
