// Maple-tree benchmarks: the kernel's own workloads from lib/test_maple_tree.c
// (bench_load, bench_walk, bench_node_store, bench_mt_for_each, bench_awalk,
// bench_forking) run on src/core/maple and, doing the same work in the same
// process, on sorted-btree, @flatten-js/interval-tree and js-sdsl's
// OrderedMap used as range maps (key = first index, value = [last, entry]).
// Each row shows ns/op beside the fastest peer (x > 1: we are faster). The
// 64-bit rows (indices and entries over the full unsigned long range) have
// no peer: the peer libraries key on numbers.
import { pathToFileURL } from 'node:url';
import btreeModule from 'sorted-btree';
import IntervalTree, { type IntervalBase } from '@flatten-js/interval-tree';
import { OrderedMap } from 'js-sdsl';
import { ns_per_op, print_rows, type Row } from './harness.js';
import * as M from '../src/core/maple/index.js';

// sorted-btree is CommonJS with `exports.default`; under Node's ESM loader the
// default import is the exports object, whose `default` is the class.
const BTree = btreeModule.default;
type BT = InstanceType<typeof BTree<number, [number, number]>>;
type OM = OrderedMap<number, [number, number]>;
type IT = IntervalTree<number>;

let sink = 0;

// ---- the peers as range maps with the maple tree's overwrite semantics ------

interface Peer {
  name: string;
  make(): unknown;
  store(t: unknown, first: number, last: number, v: number): void;
  load(t: unknown, i: number): number;
  /** Entry and range at i (0 when free); returns first+last+entry to sink. */
  walk(t: unknown, i: number): number;
  /** Visit entries meeting [min, max] in order; returns the count. */
  each(t: unknown, min: number, max: number): number;
  /** Highest free [x, x+size-1] inside [min, max]; returns x or -1. */
  rev_area?(t: unknown, min: number, max: number, size: number): number;
  copy(t: unknown): unknown;
  copy_note: string;
}

const bt: Peer = {
  name: 'sorted-btree',
  make: () => new BTree<number, [number, number]>(),
  store(tt, first, last, v) {
    const t = tt as BT;
    const p = t.getPairOrNextLower(first);
    if (p && p[0] < first && p[1][0] >= first) {
      t.set(p[0], [first - 1, p[1][1]]);
      if (p[1][0] > last) t.set(last + 1, [p[1][0], p[1][1]]);
    }
    const q = t.getPairOrNextLower(last);
    let tail: [number, number] | null = null;
    if (q && q[0] >= first && q[1][0] > last) tail = [q[1][0], q[1][1]];
    t.deleteRange(first, last, true);
    if (tail) t.set(last + 1, tail);
    if (v) t.set(first, [last, v]);
  },
  load(tt, i) {
    const p = (tt as BT).getPairOrNextLower(i);
    return p && p[1][0] >= i ? p[1][1] : 0;
  },
  walk(tt, i) {
    const p = (tt as BT).getPairOrNextLower(i);
    return p && p[1][0] >= i ? p[0] + p[1][0] + p[1][1] : 0;
  },
  each(tt, min, max) {
    let n = 0;
    const t = tt as BT;
    const p = t.getPairOrNextLower(min);
    if (p && p[0] < min && p[1][0] >= min) n++;
    t.forRange(min, max, true, (_k, val) => {
      sink += val[1];
      n++;
    });
    return n;
  },
  rev_area(tt, min, max, size) {
    const t = tt as BT;
    let hi = max;
    let p = t.getPairOrNextLower(max);
    for (;;) {
      const lo = p ? Math.max(p[1][0] + 1, min) : min;
      if (hi - lo + 1 >= size) return hi - size + 1;
      if (!p || p[0] <= min) return -1;
      hi = p[0] - 1;
      p = t.nextLowerPair(p[0]);
    }
  },
  copy: (tt) => (tt as BT).greedyClone(),
  copy_note: 'greedyClone()',
};

const om: Peer = {
  name: 'js-sdsl OrderedMap',
  make: () => new OrderedMap<number, [number, number]>(),
  store(tt, first, last, v) {
    const t = tt as OM;
    const it = t.reverseLowerBound(first);
    if (!it.equals(t.rEnd())) {
      const [k, [l, pv]] = it.pointer;
      if (k < first && l >= first) {
        t.setElement(k, [first - 1, pv]);
        if (l > last) t.setElement(last + 1, [l, pv]);
      }
    }
    const doomed: number[] = [];
    let tail: [number, number] | null = null;
    for (let j = t.lowerBound(first); !j.equals(t.end()); j.next()) {
      const [k, [l, pv]] = j.pointer;
      if (k > last) break;
      doomed.push(k);
      if (l > last) tail = [l, pv];
    }
    for (const k of doomed) t.eraseElementByKey(k);
    if (tail) t.setElement(last + 1, tail);
    if (v) t.setElement(first, [last, v]);
  },
  load(tt, i) {
    const t = tt as OM;
    const it = t.reverseLowerBound(i);
    if (it.equals(t.rEnd())) return 0;
    const p = it.pointer;
    return p[1][0] >= i ? p[1][1] : 0;
  },
  walk(tt, i) {
    const t = tt as OM;
    const it = t.reverseLowerBound(i);
    if (it.equals(t.rEnd())) return 0;
    const p = it.pointer;
    return p[1][0] >= i ? p[0] + p[1][0] + p[1][1] : 0;
  },
  each(tt, min, max) {
    const t = tt as OM;
    let n = 0;
    let it = t.reverseLowerBound(min);
    if (it.equals(t.rEnd()) || it.pointer[1][0] < min) it = t.lowerBound(min);
    else it = t.lowerBound(it.pointer[0]);
    const end = t.end();
    for (; !it.equals(end); it.next()) {
      const p = it.pointer;
      if (p[0] > max) break;
      sink += p[1][1];
      n++;
    }
    return n;
  },
  rev_area(tt, min, max, size) {
    const t = tt as OM;
    let hi = max;
    // A forward iterator at the last key <= max, walked back with pre().
    const it = t.reverseLowerBound(max);
    const begin = t.begin();
    let p: [number, [number, number]] | null = it.equals(t.end()) ? null : it.pointer;
    for (;;) {
      const lo = p ? Math.max(p[1][0] + 1, min) : min;
      if (hi - lo + 1 >= size) return hi - size + 1;
      if (!p || p[0] <= min) return -1;
      hi = p[0] - 1;
      if (it.equals(begin)) p = null;
      else {
        it.pre();
        p = it.pointer;
      }
    }
  },
  copy: (tt) => new OrderedMap<number, [number, number]>(tt as OM),
  copy_note: 'new OrderedMap(old)',
};

const itv: Peer = {
  name: '@flatten-js/interval-tree',
  make: () => new IntervalTree<number>(),
  store(tt, first, last, v) {
    const t = tt as IT;
    const hits = t.search([first, last], (val: number, key: IntervalBase) => [key.low as number, key.high as number, val] as const);
    for (const [lo, hi, val] of hits) {
      t.remove([lo, hi], val);
      if (lo < first) t.insert([lo, first - 1], val);
      if (hi > last) t.insert([last + 1, hi], val);
    }
    if (v) t.insert([first, last], v);
  },
  load(tt, i) {
    const r = (tt as IT).search([i, i]);
    return r.length ? r[0]! : 0;
  },
  walk(tt, i) {
    const r = (tt as IT).search([i, i], (val: number, key: IntervalBase) => (key.low as number) + (key.high as number) + val);
    return r.length ? r[0]! : 0;
  },
  each(tt, min, max) {
    let n = 0;
    for (const val of (tt as IT).iterate([min, max])) {
      sink += val;
      n++;
    }
    return n;
  },
  copy(tt) {
    const c = new IntervalTree<number>();
    (tt as IT).forEach((key: IntervalBase, val: number) => {
      c.insert([key.low as number, key.high as number], val);
    });
    return c;
  },
  copy_note: 'rebuild by insert',
};

const PEERS: Peer[] = [bt, om, itv];

// ---- workloads ----------------------------------------------------------------

function maple_tree(ranges: Array<[number, number]>, flags = M.MT_FLAGS_ALLOC_RANGE): M.MapleTree {
  const mt = M.mt_init_flags(flags);
  for (const [a, b] of ranges) M.mtree_store_range(mt, a, b, M.xa_mk_value(a));
  return mt;
}
function peer_tree(p: Peer, ranges: Array<[number, number]>): unknown {
  const t = p.make();
  for (const [a, b] of ranges) p.store(t, a, b, M.xa_mk_value(a) as number);
  return t;
}
function ranges_of(step: number, width: number, end: number): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (let i = 0; i < end; i += step) r.push([i, i + width]);
  return r;
}

/** One row: ours beside the fastest peer, every peer in the note. */
function row(name: string, ours: number, peers: Array<[string, number]>, unit = 'ns/op', extra = ''): Row {
  const live = peers.filter(([, x]) => Number.isFinite(x));
  live.sort((a, b) => a[1] - b[1]);
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const note = live.map(([n, x]) => `${n} ${fmt(x)}`).join(', ') + (extra ? `; ${extra}` : '');
  const best = live[0];
  return best
    ? { name, value: ours, unit, peer: best[0], peer_value: best[1], note: `[${note}]` }
    : { name, value: ours, unit, note: extra };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench_maple: peer disagrees on ${what}`);
}

/** Run every workload, or only those whose row name contains one of `only`. */
export async function bench_maple(only: string[] = []): Promise<void> {
  const rows: Row[] = [];
  const REPS = 1000;
  const want = (name: string) => only.length === 0 || only.some((o) => name.includes(o));

  // bench_load: 250 ranges [i, i+5] for i = 0, 10, ..., 2490; load 1470.
  if (want('bench_load')) {
    const r = ranges_of(10, 5, 2500);
    const mt = maple_tree(r);
    const ours = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) sink += M.mtree_load(mt, 1470) as number;
    }, REPS);
    const peers = PEERS.map((p): [string, number] => {
      const t = peer_tree(p, r);
      check(p.load(t, 1470) === M.mtree_load(mt, 1470), `${p.name} load`);
      return [p.name, ns_per_op(() => {
        for (let i = 0; i < REPS; i++) sink += p.load(t, 1470);
      }, REPS)];
    });
    rows.push(row('bench_load: mtree_load(1470), 250 ranges', ours, peers));
  }

  // bench_walk: the same tree, mas_walk + mas_reset (entry and its range).
  if (want('bench_walk')) {
    const r = ranges_of(10, 5, 2500);
    const mt = maple_tree(r);
    const mas = M.MA_STATE(mt, 1470, 1470);
    const ours = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) {
        sink += (M.mas_walk(mas) as number) + (mas.index as number) + (mas.last as number);
        M.mas_reset(mas);
      }
    }, REPS);
    const peers = PEERS.map((p): [string, number] => {
      const t = peer_tree(p, r);
      return [p.name, ns_per_op(() => {
        for (let i = 0; i < REPS; i++) sink += p.walk(t, 1470);
      }, REPS)];
    });
    rows.push(row('bench_walk: mas_walk(1470) + range', ours, peers));
  }

  // bench_node_store: ranges [i, i+5] for i < 240 step 10, then overwrite
  // [o, o+15] for o cycling 76..130 step 5 (each store trims two ranges).
  if (want('bench_node_store')) {
    const r = ranges_of(10, 5, 240);
    const mt = maple_tree(r);
    let o = 76;
    const ours = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) {
        M.mtree_store_range(mt, o, o + 15, M.xa_mk_value(o));
        o += 5;
        if (o >= 135) o = 76;
      }
    }, REPS);
    const peers = PEERS.map((p): [string, number] => {
      const t = peer_tree(p, r);
      let po = 76;
      const x = ns_per_op(() => {
        for (let i = 0; i < REPS; i++) {
          p.store(t, po, po + 15, M.xa_mk_value(po) as number);
          po += 5;
          if (po >= 135) po = 76;
        }
      }, REPS);
      // Same deterministic sequence on fresh trees: same contents.
      const t2 = peer_tree(p, r);
      const m2 = maple_tree(r);
      for (let i = 0, q = 76; i < 37; i++, q = q + 5 >= 135 ? 76 : q + 5) {
        p.store(t2, q, q + 15, M.xa_mk_value(q) as number);
        M.mtree_store_range(m2, q, q + 15, M.xa_mk_value(q));
      }
      for (let i = 0; i < 240; i++) check(p.load(t2, i) === M.mtree_load(m2, i), `${p.name} store_range at ${i}`);
      return [p.name, x];
    });
    rows.push(row('bench_node_store: mtree_store_range overwrite', ours, peers));
    if (M.mt_validate(mt).length) throw new Error('bench_node_store left an invalid tree');
  }

  // Building a tree: 1000 appended ranges [i*10, i*10+5] from empty.
  if (want('build')) {
    const r = ranges_of(10, 5, 10000);
    const ours = ns_per_op(() => {
      sink += maple_tree(r).height;
    }, r.length, 5);
    const peers = PEERS.map((p): [string, number] => [p.name, ns_per_op(() => {
      sink += peer_tree(p, r) ? 1 : 0;
    }, r.length, 5)]);
    rows.push(row('build: 1000 appended ranges, per store', ours, peers));
  }

  // bench_mt_for_each: 500 ranges [i, i+4] step 5 up to 2500, visit all.
  if (want('bench_mt_for_each')) {
    const r = ranges_of(5, 4, 2500);
    const mt = maple_tree(r);
    let count = 0;
    const ours = ns_per_op(() => {
      count = 0;
      M.mt_for_each(mt, 0, 2500, (e) => {
        sink += e as number;
        count++;
      });
    }, r.length);
    check(count === 500, 'mt_for_each count');
    const peers = PEERS.map((p): [string, number] => {
      const t = peer_tree(p, r);
      check(p.each(t, 0, 2500) === 500, `${p.name} iteration count`);
      return [p.name, ns_per_op(() => {
        sink += p.each(t, 0, 2500);
      }, r.length)];
    });
    rows.push(row('bench_mt_for_each: per entry, 500 ranges', ours, peers));
  }

  // bench_awalk: 250 ranges, [1470, 1475] erased, mas_empty_area_rev(0, 2000, 10).
  if (want('bench_awalk')) {
    const r = ranges_of(10, 5, 2500);
    const mt = maple_tree(r);
    M.mtree_store_range(mt, 1470, 1475, 0);
    const mas = M.MA_STATE(mt, 1470, 1470);
    const ours = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) {
        M.mas_empty_area_rev(mas, 0, 2000, 10);
        sink += mas.index as number;
        M.mas_reset(mas);
      }
    }, REPS);
    check(mas.index === 1470, 'mas_empty_area_rev result');
    const peers = PEERS.filter((p) => p.rev_area).map((p): [string, number] => {
      const t = peer_tree(p, r);
      p.store(t, 1470, 1475, 0);
      check(p.rev_area!(t, 0, 2000, 10) === 1470, `${p.name} reverse gap search`);
      return [p.name, ns_per_op(() => {
        for (let i = 0; i < REPS; i++) sink += p.rev_area!(t, 0, 2000, 10);
      }, REPS)];
    });
    rows.push(row('bench_awalk: mas_empty_area_rev', ours, peers, 'ns/op', 'interval-tree has no ordered gap walk'));
  }

  // bench_forking: copy a 135-range tree.
  if (want('bench_forking')) {
    const r: Array<[number, number]> = [];
    for (let i = 0; i <= 134; i++) r.push([i * 10, i * 10 + 5]);
    const mt = maple_tree(r);
    const clone = ns_per_op(() => {
      sink += M.mt_clone(mt).nr_nodes;
    }, 1);
    const sclone = ns_per_op(() => {
      sink += structuredClone(mt).nr_nodes;
    }, 1);
    const dup = ns_per_op(() => {
      const d = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
      M.mtree_dup(mt, d);
      sink += d.nr_nodes;
    }, 1);
    const rebuild = ns_per_op(() => {
      const d = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
      const nm = M.MA_STATE(d, 0, 0);
      M.mt_for_each(mt, 0, M.ULONG_MAX, (e, f, l) => {
        nm.index = f;
        nm.last = l;
        M.mas_store(nm, e);
      });
      sink += d.height;
    }, 1);
    const peers = PEERS.map((p): [string, number] => {
      const t = peer_tree(p, r);
      return [`${p.name} ${p.copy_note}`, ns_per_op(() => {
        sink += p.copy(t) ? 1 : 0;
      }, 1)];
    });
    const lazy = ns_per_op(() => {
      sink += (peer_tree(bt, r.slice(0, 1)) as BT).clone().size;
    }, 1);
    rows.push(row('bench_forking: copy 135 ranges (mt_clone)', clone, peers, 'ns', `${M.mt_nr_nodes(mt)} nodes`));
    rows.push({ name: 'bench_forking: structuredClone(tree)', value: sclone, unit: 'ns', note: 'what a World checkpoint pays' });
    rows.push({ name: 'bench_forking: mtree_dup', value: dup, unit: 'ns' });
    rows.push({ name: 'bench_forking: rebuild by mas_store (kernel loop)', value: rebuild, unit: 'ns' });
    rows.push({ name: '(sorted-btree lazy clone(), O(1), for scale)', value: lazy, unit: 'ns', note: 'shares nodes copy-on-write' });
  }

  // Indices over the full 64 bits (after the others, so their JIT feedback
  // is not mixed with bigints). No peer runs these: sorted-btree,
  // @flatten-js/interval-tree and js-sdsl take number keys, exact only to
  // 2^53; a bigint-keyed peer would be a different workload.
  const NOPEER = 'no peer: the peers key on numbers, exact to 2^53';
  if (want('64-bit')) {
    // 256 ranges of 4K, one per 2^56, with 64-bit entries (VALID_ENTRY-style payloads).
    const spread = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    const first = (i: number) => (BigInt(i) << 56n) | 0x40001000n;
    for (let i = 0; i < 256; i++) M.mtree_store_range(spread, first(i), first(i) + 0xfffn, (1n << 63n) | first(i));
    const key = first(147) + 0x800n;
    if (M.mtree_load(spread, key) !== ((1n << 63n) | first(147))) throw new Error('bench_maple: 64-bit load');
    const load = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) sink += M.mtree_load(spread, key) === 0 ? 0 : 1;
    }, REPS);
    let count = 0;
    const each = ns_per_op(() => {
      count = 0;
      M.mt_for_each(spread, 0, M.ULONG_MAX, () => {
        count++;
      });
    }, 256);
    if (count !== 256) throw new Error('bench_maple: 64-bit mt_for_each count');
    // bench_node_store's pattern around 0x8000000040001000: every index and entry above 2^63.
    const C = 0x8000000040001000n;
    const dense = M.mt_init_flags(M.MT_FLAGS_ALLOC_RANGE);
    for (let i = 0n; i < 240n; i += 10n) M.mtree_store_range(dense, C + i, C + i + 5n, C + i);
    let o = 76n;
    const store = ns_per_op(() => {
      for (let i = 0; i < REPS; i++) {
        M.mtree_store_range(dense, C + o, C + o + 15n, C + o);
        o += 5n;
        if (o >= 135n) o = 76n;
      }
    }, REPS);
    if (M.mt_validate(dense).length || M.mt_validate(spread).length) throw new Error('bench_maple: 64-bit trees invalid');
    rows.push({ name: '64-bit: mtree_load, 256 ranges over 2^64', value: load, unit: 'ns/op', note: NOPEER });
    rows.push({ name: '64-bit: mtree_store_range overwrite at 2^63', value: store, unit: 'ns/op', note: NOPEER });
    rows.push({ name: '64-bit: mt_for_each per entry, 256 ranges', value: each, unit: 'ns/op', note: NOPEER });
  }

  print_rows('maple tree (lib/test_maple_tree.c workloads) vs range maps on peer libraries', rows);
  if (sink === 0.5) console.log(sink);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bench_maple(process.argv.slice(2));
}
