// `mt`: maple trees. new, store, insert and erase are pokes (recorded in
// the history); load, find, empty-area, dump and list only look.
import { ULONG_MAX, index_to_bigint, mt_dump, mt_find, mt_height, mt_is_reserved, parse_entry, parse_index, MT_FOUND } from '../core/maple/index.js';
import { mtree_load } from '../core/maple/index.js';
import type { MapleTree } from '../core/maple/index.js';
import { DebugError } from '../debugger/errors.js';
import type { Session } from '../debugger/session.js';
import { mt_empty_area, tree_named, tree_names } from '../debugger/trees.js';
import { usage, type Command } from './command.js';
import { hex } from './format.js';
import { u64 } from './parse.js';
import { table } from './text.js';

function index(s: string | undefined, what: string): number {
  try {
    return parse_index(u64(s, what));
  } catch (e) {
    if (e instanceof RangeError) throw new DebugError('ERANGE', `${what}: ${e.message}`);
    throw e;
  }
}

/** A value to store: 0..2^53-1; internal entries (low bits 10) below 4096 are refused as mtree_store_range refuses them. */
function value(s: string | undefined): number {
  let v: number;
  try {
    v = parse_entry(u64(s, 'VALUE'));
  } catch (e) {
    if (e instanceof RangeError) throw new DebugError('ERANGE', `VALUE: ${e.message}`);
    throw e;
  }
  if (mt_is_reserved(v)) throw new DebugError('EINVAL', `VALUE ${hex(v)} is an internal entry (low bits 10, below 4096): mtree_store_range refuses it with -EINVAL`);
  return v;
}

const ix = (i: number) => hex(index_to_bigint(i));
const val = (v: number) => (v === 0 ? null : hex(v));

const complete_tree = (s: Session, words: string[]) => (words.length === 0 ? tree_names(s.world) : []);

function store(insert: boolean): Command['run'] {
  return (ctx, a) => {
    const c = insert ? MT_SUB[2]! : MT_SUB[1]!;
    if (a.words.length !== 4) usage(c);
    const args = { tree: a.words[0]!, first: index(a.words[1], 'FIRST'), last: index(a.words[2], 'LAST'), value: value(a.words[3]), insert };
    ctx.s.poke('mt.store', args, a.line.trim());
    return { json: {}, text: '' };
  };
}

function tree(s: Session, name: string | undefined): MapleTree {
  if (name === undefined) throw new DebugError('EINVAL', 'a tree name is needed');
  return tree_named(s.world, name);
}

const MT_SUB: Command[] = [
  {
    name: 'new',
    usage: 'mt new NAME [--alloc]',
    summary: 'a scratch maple tree (MT_FLAGS_ALLOC_RANGE with --alloc)',
    run: (ctx, a) => {
      const alloc = a.words.includes('--alloc');
      const names = a.words.filter((w) => w !== '--alloc');
      if (names.length !== 1) usage(MT_SUB[0]!);
      ctx.s.poke('mt.new', { name: names[0]!, alloc }, a.line.trim());
      return { json: {}, text: `Tree ${names[0]} (flags ${alloc ? 'MT_FLAGS_ALLOC_RANGE' : '0'}).` };
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
      if (a.words.length !== 2) usage(MT_SUB[3]!);
      const v = mtree_load(tree(ctx.s, a.words[0]), index(a.words[1], 'INDEX'));
      return { json: { value: val(v) }, text: v === 0 ? 'NULL' : hex(v) };
    },
  },
  {
    name: 'erase',
    usage: 'mt erase TREE INDEX',
    summary: 'mtree_erase: removes the whole range containing INDEX',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(MT_SUB[4]!);
      const t = a.words[0]!;
      const i = index(a.words[1], 'INDEX');
      // Nothing there: nothing to record.
      if (mtree_load(tree(ctx.s, t), i) === 0) return { json: { value: null }, text: 'NULL' };
      const r = ctx.s.poke('mt.erase', { tree: t, index: i }, a.line.trim()) as { value: number | null };
      return { json: { value: r.value === null ? null : hex(r.value) }, text: r.value === null ? 'NULL' : hex(r.value) };
    },
  },
  {
    name: 'find',
    usage: 'mt find TREE START [MAX]',
    summary: 'mt_find: the first entry at or after START',
    complete: complete_tree,
    run: (ctx, a) => {
      if (a.words.length < 2 || a.words.length > 3) usage(MT_SUB[5]!);
      const mt = tree(ctx.s, a.words[0]);
      const ref = { value: index(a.words[1], 'START') };
      const max = a.words[2] === undefined ? ULONG_MAX : index(a.words[2], 'MAX');
      const v = mt_find(mt, ref, max);
      if (v === 0) return { json: null, text: 'NULL' };
      const r = { first: ix(MT_FOUND.first), last: ix(MT_FOUND.last), value: hex(v) };
      return { json: r, text: `[${r.first}, ${r.last}] ${r.value}` };
    },
  },
  {
    name: 'empty-area',
    usage: 'mt empty-area TREE MIN MAX SIZE [--rev]',
    summary: 'mas_empty_area (mas_empty_area_rev with --rev): a gap of SIZE indices',
    complete: complete_tree,
    run: (ctx, a) => {
      const rev = a.words.includes('--rev');
      const w = a.words.filter((x) => x !== '--rev');
      if (w.length !== 4) usage(MT_SUB[6]!);
      tree(ctx.s, w[0]);
      const r = mt_empty_area(ctx.s.world, w[0]!, index(w[1], 'MIN'), index(w[2], 'MAX'), index(w[3], 'SIZE'), rev);
      return { json: { first: ix(r.first), last: ix(r.last) }, text: `[${ix(r.first)}, ${ix(r.last)}]` };
    },
  },
  {
    name: 'dump',
    usage: 'mt dump TREE [--dec]',
    summary: "node by node, in the kernel's mt_dump shape (hex; --dec for decimal)",
    complete: complete_tree,
    run: (ctx, a) => {
      const dec = a.words.includes('--dec');
      const w = a.words.filter((x) => x !== '--dec');
      if (w.length !== 1) usage(MT_SUB[7]!);
      const text = mt_dump(tree(ctx.s, w[0]), dec ? 'dec' : 'hex');
      return { json: { dump: text.split('\n') }, text };
    },
  },
  {
    name: 'list',
    usage: 'mt list',
    summary: "every tree: scratch trees and each nested MMU's reverse map",
    run: (ctx, a) => {
      if (a.words.length) usage(MT_SUB[8]!);
      const w = ctx.s.world;
      const rows = tree_names(w).map((name) => {
        const mt = tree_named(w, name);
        let n = 0;
        const ref = { value: 0 };
        while (mt_find(mt, ref, ULONG_MAX) !== 0) {
          n++;
          if (ref.value === 0) break;
        }
        return { name, kind: name.includes('.revmap') ? 'revmap' : 'scratch', flags: hex(mt.ma_flags), height: mt_height(mt), entries: n };
      });
      return {
        json: { trees: rows },
        text: rows.length ? table(['NAME', 'KIND', 'FLAGS', 'HEIGHT', 'ENTRIES'], rows.map((r) => [r.name, r.kind, r.flags, String(r.height), String(r.entries)])) : 'No trees; `mt new NAME` makes one.',
      };
    },
  },
];

export const MT_COMMAND: Command = {
  name: 'mt',
  usage: 'mt new|store|insert|load|erase|find|empty-area|dump|list ...',
  summary: 'maple trees: scratch trees and nested[I].revmap',
  sub: MT_SUB,
};
