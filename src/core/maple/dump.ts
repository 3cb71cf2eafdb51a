// mt_dump(), mt_dump_node(), mt_dump_range64(), mt_dump_arange64(),
// mt_dump_entry() and mt_dump_range() of lib/maple_tree.c, as text.
// Pointers are synthetic and deterministic: node i of a tree with id k sits
// at 0xffff888100000000 + k*2^32 + i*256, the tree itself at
// 0xffff888010000000 + k*0x1000. They are printed the way userspace %p
// does ("0x..." and "(nil)"), with the kernel's encodings: an internal slot
// or the root holds node | type << 3 | 4 (| 2 for the root), a node's
// parent is parent | slot << 3 | 6, or tree | 1 for the root. As in the
// kernel, slot 15 of a range node that is not full shows its metadata (the
// data end), and gaps are the kernel's even where the model saturates a gap
// that runs to ULONG_MAX (bignode.ts).
// Left out: maple_dense nodes and the "last > max" error lines (mt_validate
// reports those).

import {
  MAPLE_RANGE64_SLOTS,
  MAPLE_ARANGE64_SLOTS,
  mt_is_reserved,
  xa_is_value,
  xa_is_zero,
  xa_to_internal,
  xa_to_value,
} from './constants.js';
import {
  type MapleTree,
  aget,
  nend,
  ngapoff,
  ntype,
  slot_base,
} from './tree.js';
import { type ulong, ul_big, ul_inc } from './ulong.js';

// Local copies of shared constants: V8 does not constant-fold imported
// bindings, and these sit in hot loops.
const GAP_A = 20;
const NODE_WORDS = 32;
const PIV = 1;
const ULONG_MAX = Infinity;
const maple_arange_64 = 3;
const maple_leaf_64 = 1;

export type MtDumpFormat = 'hex' | 'dec';

const NODE_BASE = 0xffff888100000000n;
const TREE_BASE = 0xffff888010000000n;

export function mt_tree_addr(mt: MapleTree): bigint {
  return TREE_BASE + BigInt(mt.id) * 0x1000n;
}
export function mt_node_addr(mt: MapleTree, n: number): bigint {
  return NODE_BASE + (BigInt(mt.id) << 32n) + BigInt(n) * 256n;
}
function enode(mt: MapleTree, n: number): bigint {
  return mt_node_addr(mt, n) | (BigInt(ntype(mt.arena, n)) << 3n) | 4n;
}

function p(x: bigint): string {
  return x === 0n ? '(nil)' : '0x' + x.toString(16);
}
function lu(x: ulong): string {
  return ul_big(x).toString();
}
function lx(x: ulong): string {
  return ul_big(x).toString(16);
}

function range(min: ulong, max: ulong, depth: number, fmt: MtDumpFormat): string {
  const pad = ' '.repeat(Math.min(depth, 16) * 2);
  const f = fmt === 'hex' ? lx : lu;
  return min === max ? `${pad}${f(min)}: ` : `${pad}${f(min)}-${f(max)}: `;
}

function entry_text(entry: ulong): string {
  if (xa_is_value(entry)) {
    const v = ul_big(xa_to_value(entry));
    return `value ${v} (0x${v.toString(16)}) [${p(ul_big(entry))}]`;
  }
  if (xa_is_zero(entry)) return `zero (${ul_big(xa_to_internal(entry))})`;
  if (mt_is_reserved(entry)) return `UNKNOWN ENTRY (${p(ul_big(entry))})`;
  return p(ul_big(entry));
}

/** The kernel's largest gap below node n (ULONG_MAX - pivot where the model saturates). */
function exact_gap(mt: MapleTree, n: number, min: ulong, max: ulong): bigint {
  const a = mt.arena;
  const t = ntype(a, n);
  const base = n * NODE_WORDS;
  const end = nend(a, n);
  let g = 0n;
  let lo = min;
  for (let i = 0; i <= end; i++) {
    const hi = i < end ? aget(mt, base + PIV + i) : max;
    let v: bigint;
    if (t === maple_leaf_64) {
      v = a[base + 16 + i] === 0 ? ul_big(hi) - ul_big(lo) + 1n : 0n;
    } else {
      const gi = aget(mt, base + GAP_A + i);
      v = gi === ULONG_MAX ? exact_gap(mt, a[base + slot_base(t) + i]!, lo, hi) : ul_big(gi);
    }
    if (v > g) g = v;
    lo = ul_inc(hi);
  }
  return g;
}

function dump_node(
  mt: MapleTree,
  out: string[],
  n: number,
  min: ulong,
  max: ulong,
  depth: number,
  parent: bigint,
  fmt: MtDumpFormat,
): void {
  const a = mt.arena;
  const t = ntype(a, n);
  const base = n * NODE_WORDS;
  const end = nend(a, n);
  const sb = base + slot_base(t);
  const leaf = t === maple_leaf_64;
  const addr = mt_node_addr(mt, n);
  let line = range(min, max, depth, fmt) + `node ${p(addr)} depth ${depth} type ${t} parent ${p(parent)} contents: `;
  const slot_text = (i: number): string => {
    const s = aget(mt, sb + i);
    if (s === 0) return '(nil)';
    return leaf ? p(ul_big(s)) : p(enode(mt, a[sb + i]!));
  };
  const piv_text = (i: number): string => {
    const v = aget(mt, base + PIV + i);
    return fmt === 'hex' ? lx(v).toUpperCase() : lu(v);
  };
  if (t === maple_arange_64) {
    for (let i = 0; i < MAPLE_ARANGE64_SLOTS; i++) {
      const g = aget(mt, base + GAP_A + i);
      const gv = g === ULONG_MAX ? exact_gap(mt, a[sb + i]!, i > 0 ? ul_inc(aget(mt, base + PIV + i - 1)) : min, i < end ? aget(mt, base + PIV + i) : max) : ul_big(g);
      line += (fmt === 'hex' ? gv.toString(16) : gv.toString()) + ' ';
    }
    const hex2 = (x: number) => x.toString(16).toUpperCase().padStart(2, '0');
    line += `| ${hex2(end)} ${hex2(ngapoff(a, n))}| `;
    for (let i = 0; i < MAPLE_ARANGE64_SLOTS - 1; i++) line += `${slot_text(i)} ${piv_text(i)} `;
    line += slot_text(MAPLE_ARANGE64_SLOTS - 1);
  } else {
    for (let i = 0; i < MAPLE_RANGE64_SLOTS - 1; i++) line += `${slot_text(i)} ${piv_text(i)} `;
    // slot[15] overlays the metadata (data end, gap offset 0) when not full.
    line += end < MAPLE_RANGE64_SLOTS - 1 ? p(BigInt(end)) : slot_text(MAPLE_RANGE64_SLOTS - 1);
  }
  out.push(line);
  const nslot = t === maple_arange_64 ? MAPLE_ARANGE64_SLOTS : MAPLE_RANGE64_SLOTS;
  let first = min;
  for (let i = 0; i < nslot; i++) {
    let last = max;
    if (i < nslot - 1) last = aget(mt, base + PIV + i);
    else if (a[sb + i] === 0 && (t === maple_arange_64 || max !== ULONG_MAX)) break;
    if (last === 0 && i > 0) break;
    const s = i <= end ? aget(mt, sb + i) : 0;
    if (leaf) {
      out.push(range(first, last, depth + 1, fmt) + entry_text(s));
    } else if (s !== 0) {
      dump_node(mt, out, a[sb + i]!, first, last, depth + 1, addr | (BigInt(i) << 3n) | 6n, fmt);
    }
    if (last === max) break;
    first = ul_inc(last);
  }
}

/** mt_dump(): the kernel's dump, one string with one line per row. */
export function mt_dump(mt: MapleTree, format: MtDumpFormat = 'dec'): string {
  const out: string[] = [];
  const root = mt.root_is_node ? enode(mt, mt.ma_root as number) | 2n : ul_big(mt.ma_root);
  out.push(`maple_tree(${p(mt_tree_addr(mt))}) flags ${mt.ma_flags.toString(16).toUpperCase()}, height ${mt.height} root ${p(root)}`);
  if (mt.root_is_node) {
    dump_node(mt, out, mt.ma_root as number, 0, ULONG_MAX, 0, mt_tree_addr(mt) | 1n, format);
  } else if (mt.ma_root !== 0) {
    out.push(range(0, 0, 0, format) + entry_text(mt.ma_root));
  } else {
    out.push('(empty)');
  }
  return out.join('\n');
}
