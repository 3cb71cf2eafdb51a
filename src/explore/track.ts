// A tracked World for the explorer. The Machine runs on a Proxy of the
// World; the proxy records, for each step, which parts of the World the step
// touched (its footprint: the explorer's independence relation for partial-
// order reduction), logs how to undo it (depth-first search backtracks by
// undoing a step instead of copying the World), and keeps an incremental
// hash of the simulated state (the visited set's key) up to date by
// rehashing only the parts that changed.
//
// Locations. A location is a path from the World's root, cut at depth K
// (DEFAULT_DEPTH, deeper for a thread's own record and a vCPU's struct):
// objects above the cut are proxied, so reads of their primitive fields are
// reads and assignments are writes; an object at the cut (or a typed array
// anywhere) is handed out raw, because code may mutate it without any trap
// seeing it: the step reads it, and it is copied first, so that at the end
// of the step a change makes it a write (and an undo entry and a rehash)
// and no change leaves it a read. Structure counts too: enumerating keys
// reads `path/#keys`, adding or deleting a key writes it, and any change of
// an array's length writes the whole array. What the Machine itself looks
// at before the step (runnable(), wait predicates) is not the step's; the
// explorer records the thread's own enabledness reads separately (sim.ts).
//
// Clocks. `w.step` changes at every step and `w.seq` at every event. emit()
// reads `w.seq`, writes it back plus one, then reads `w.step`: that pattern
// is numbering transient events and is not a dependency. Any other read of
// either (model code stamping a step or seq into the World, the `preempted`
// wait, an invariant comparing with the current step) marks the footprint
// `clock`: such a step is dependent with every other step. The rule model
// code keeps so that the visited set may leave the clocks out: a stamp is
// a history field (core/machine/history.ts), read for its sign only, and
// the key hashes it so; a deadline in the future is a timed wait's
// `until`, which the key leaves out and Sim.key53() accounts for.
//
// Left out of footprints and of this key: the Machine's bookkeeping
// (`step`, `seq`, `events`, `metrics`, `sched`, `violations`), the same keys
// Machine.state_hash() leaves out (a copy of its list: keep them in step),
// and each thread's `steps` counter, which the model never reads. The model
// must not branch on them (only the clocks above are read, and those are
// handled). The explorer's visited-set key adds the time left on timed
// waits, whose deadlines are step numbers (Sim.key53() says why).
//
// Assumptions (core's rules, DESIGN.md "The simulation core"): the World is
// a tree of plain data with no aliasing, no module keeps a reference to a
// World object from one step to the next, and a step's behaviour is a
// function of what it reads. Tests compare the incremental key with a
// fresh computation and the undone World with the original.
import { Mixer, OMIT, type Canon } from '../core/machine/hash.js';
import { history_kind, stamp_class } from '../core/machine/history.js';
import type { World } from '../core/machine/world.js';

/** Cut depth of locations: objects at this depth are leaves (copied for undo, hashed whole). */
export const DEFAULT_DEPTH = 3;

/** Top-level keys that are history or bookkeeping, not simulated state (as Machine.state_hash). */
export const NOT_STATE: ReadonlySet<string> = new Set(['step', 'seq', 'events', 'metrics', 'sched', 'violations']);

const SEP = '\x01';

export interface Footprint {
  /** Locations read. */
  r: Set<string>;
  /** Locations written (or handed out raw, so possibly written). */
  w: Set<string>;
  /** Read the step or seq clock: dependent with everything. */
  clock: boolean;
}

export function new_footprint(): Footprint {
  return { r: new Set(), w: new Set(), clock: false };
}

function prefixes(loc: string, f: (p: string) => boolean): boolean {
  let i = loc.indexOf(SEP);
  while (i >= 0) {
    if (f(loc.slice(0, i))) return true;
    i = loc.indexOf(SEP, i + 1);
  }
  return false;
}

/** Whether `loc` overlaps any location of `set` (equal, or one a prefix of the other). */
function overlaps(loc: string, set: Set<string>, set_prefixes: Set<string>): boolean {
  if (set.has(loc) || set_prefixes.has(loc)) return true;
  return prefixes(loc, (p) => set.has(p));
}

/** Footprints with the prefix sets precomputed, for the dependence test. */
export interface IndexedFootprint extends Footprint {
  rp: Set<string>;
  wp: Set<string>;
}

export function index_footprint(fp: Footprint): IndexedFootprint {
  const rp = new Set<string>();
  const wp = new Set<string>();
  for (const l of fp.r) prefixes(l, (p) => (rp.add(p), false));
  for (const l of fp.w) prefixes(l, (p) => (wp.add(p), false));
  return { ...fp, rp, wp };
}

/** Two steps are dependent when one reads the clock or writes what the other reads or writes. */
export function dependent(a: IndexedFootprint, b: IndexedFootprint): boolean {
  if (a.clock || b.clock) return true;
  for (const l of a.w) if (overlaps(l, b.w, b.wp) || overlaps(l, b.r, b.rp)) return true;
  for (const l of b.w) if (overlaps(l, a.w, a.wp) || overlaps(l, a.r, a.rp)) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Plain-data copy and hash.

/** A deep copy of plain data (what structuredClone does, faster for small trees). */
export function copy_plain<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): T }).slice();
  if (Array.isArray(v)) {
    const n = v.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = copy_plain(v[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = copy_plain((v as Record<string, unknown>)[k]);
  return out as T;
}

const mix = new Mixer();
mix.strings = new Map();

/**
 * The state key is a sum (two 32-bit lanes) over the nodes of the World's
 * tree cut at depth K: each container above the cut adds a marker for its
 * path and kind, each leaf adds a hash of its path and value. A sum updates
 * in place: subtract a changed subtree, add it back.
 */
interface SNode {
  a: number;
  b: number;
  kids: Map<string, SNode> | null;
}

/**
 * Bookkeeping below the top level that is not state either: a thread's
 * `steps` (labels it has run; the model never reads it). Leaving it out lets
 * a spin loop that comes back to the same state be recognised as a cycle.
 */
export function is_bookkeeping(path: string): boolean {
  return path.startsWith('threads' + SEP) && path.endsWith(SEP + 'steps') && depth_of(path) === 2;
}

function is_container(v: unknown, depth: number, K: number): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && depth < K && !ArrayBuffer.isView(v);
}

/** The mixer's lanes after (depth, path), by path: paths recur, and hashing them char by char is a fifth of the rehash. */
const path_seeds = new Map<string, number[]>();

function start(path: string, depth: number): void {
  let seed = path_seeds.get(path);
  if (seed === undefined) {
    mix.reset(depth);
    mix.str(path);
    seed = [mix.a, mix.b];
    if (path_seeds.size > 1 << 20) path_seeds.clear();
    path_seeds.set(path, seed);
  }
  mix.a = seed[0]!;
  mix.b = seed[1]!;
}

/** Leaf hashing with history fields by their class (CANON), or exact (the key of tests that compare). */
const CANON: Canon = (k, v) => {
  const h = history_kind(k);
  return h === undefined ? v : h === 'stamp' ? stamp_class(v) : OMIT;
};

/**
 * The key node of `v` at `path`. With `hist`, history fields
 * (core/machine/history.ts) count by their class only: a stamp as its
 * sign, a count and a deadline not at all (sim.ts adds the time left).
 */
function build(path: string, v: unknown, depth: number, K: number, hist: boolean): SNode {
  if (is_container(v, depth, K)) {
    const kids = new Map<string, SNode>();
    start(path, depth);
    mix.word(Array.isArray(v) ? 21 : 22);
    mix.fin();
    let a = mix.a;
    let b = mix.b;
    for (const k of Object.keys(v)) {
      if (depth === 2 && k === 'steps' && is_bookkeeping(path + SEP + k)) continue;
      const h = hist ? history_kind(k) : undefined;
      if (h === 'count' || h === 'deadline') continue;
      const kid = h === 'stamp' ? stamp_leaf(path + SEP + k, v[k], depth + 1) : build(path + SEP + k, v[k], depth + 1, K, hist);
      kids.set(k, kid);
      a = (a + kid.a) >>> 0;
      b = (b + kid.b) >>> 0;
    }
    return { a, b, kids };
  }
  start(path, depth);
  if (ArrayBuffer.isView(v) && (v.byteOffset & 3) === 0 && (v.byteLength & 3) === 0) return words_leaf(v);
  mix.value(v, hist ? CANON : undefined);
  mix.fin();
  return { a: mix.a, b: mix.b, kids: null };
}

/**
 * A typed array's node (the mixer started on its path): a sum over its
 * non-zero 32-bit words of a hash of (path, index, word). A table page is
 * 1,024 words, most of them zero, hashed again after every step that
 * wrote it; skipping the zeros is what makes that cheap. The path goes
 * into every word's hash: with (index, word) alone, two arrays that swap
 * contents (table pages 4 and 8 on nv-revmap) left the key's sum as it
 * was, and the search took two Worlds with different futures for one
 * state (until 2026-12-05: which of them it met first changed the states
 * it counted, 1,327,596 or 1,327,476).
 */
function words_leaf(v: ArrayBufferView): SNode {
  const w = new Int32Array(v.buffer, v.byteOffset, v.byteLength >>> 2);
  mix.word(10);
  mix.word(w.length);
  mix.fin();
  let a = mix.a;
  let b = mix.b;
  const pa = a;
  const pb = b;
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    if (x === 0) continue;
    let h = Math.imul(x ^ Math.imul(i + 1, 0x9e3779b1) ^ pa, 0x85ebca6b);
    h ^= h >>> 13;
    let g = Math.imul((x + Math.imul(i + 1, 0x7feb352d)) ^ pb, 0xc2b2ae35);
    g ^= g >>> 16;
    a = (a + Math.imul(h ^ (h >>> 15), 0x27d4eb2d)) >>> 0;
    b = (b + Math.imul(g ^ (g >>> 15), 0x165667b1)) >>> 0;
  }
  return { a, b, kids: null };
}

/** A stamp field's node: its class, a leaf even when the field is a record of stamps. */
function stamp_leaf(path: string, v: unknown, depth: number): SNode {
  start(path, depth);
  mix.value(stamp_class(v));
  mix.fin();
  return { a: mix.a, b: mix.b, kids: null };
}

// ---------------------------------------------------------------------------
// The tracker.

const enum Phase {
  /** Between steps: nothing is recorded in a footprint. */
  Idle,
  /** The explorer evaluates whether the thread can run: reads count. */
  Enab,
  /** Machine.step() before the label runs (its own runnable()). */
  Pre,
  /** The label runs. */
  Exec,
  /** Invariants are checked. */
  Check,
}

/**
 * k 0: a property; k 1: an array's length; k 2: a leaf's contents, put back
 * into the same object. `d`: the depth of the property's value when it may
 * be a proxied object (putting it back moves proxied objects: their cached
 * proxies go), else -1.
 */
type Undo =
  | { k: 0; obj: Record<string, unknown>; key: string; had: boolean; old: unknown; d: number; top?: string }
  | { k: 1; arr: unknown[]; len: number; d: number }
  | { k: 2; v: object; old: unknown };

/** A raw object handed out at the cut in this step, with its copy from before. */
interface Leaf {
  v: object;
  old: unknown;
  loc: string;
  top: string;
  /** Index of its undo entry. */
  at: number;
}

/** Give leaf `v` back the contents of `old` (its copy from before the step), keeping its identity. */
function restore_in_place(v: object, old: unknown): void {
  if (ArrayBuffer.isView(v)) {
    (v as unknown as { set(a: ArrayLike<number> | ArrayLike<bigint>): void }).set(old as ArrayLike<number>);
    return;
  }
  if (Array.isArray(v)) {
    v.length = 0;
    for (const x of old as unknown[]) v.push(x);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) delete o[k];
  Object.assign(o, old as Record<string, unknown>);
}

/** Deep equality of plain data. */
export function same_plain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
    // memcmp: a table page's raw words are compared after every step that had the page.
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same_plain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || ArrayBuffer.isView(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same_plain((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * A change of the key tree: `parent`'s child `k` was `old` (undefined: none)
 * and the sums along `chain` (root to parent) moved by (da, db).
 */
interface KeyChange {
  parent: SNode;
  k: string;
  old: SNode | undefined;
  chain: SNode[];
  da: number;
  db: number;
}

interface KeyPath {
  path: string;
  parts: string[];
  /** The path ends at a stamp (a history field hashed by its sign). */
  stamp: boolean;
}

/** What one step changed: how to undo it in the World and in the key tree. */
export interface StepLog {
  undo: Undo[];
  keys: KeyChange[];
}

export interface TrackOptions {
  /** Cut depth (DEFAULT_DEPTH). */
  depth?: number;
  /** Keep an undo log (depth-first search); random walks do not need one. */
  undo?: boolean;
  /** Cut depth per top-level key (DEFAULT_DEPTHS). */
  depths?: Record<string, number>;
  /** Key history fields by their exact values (tests of the abstraction); by default by their class. */
  exact_history?: boolean;
  /** Keep the state key (default true); footprints alone (learning facts) need none. */
  key?: boolean;
}

/**
 * Deeper cuts where steps of different threads touch different fields of
 * one struct: a thread's own record, a vCPU's requests, a shadow MMU.
 */
export const DEFAULT_DEPTHS: Readonly<Record<string, number>> = { threads: 4, kvm: 4, arm64: 4, x86: 4 };

/** The low 11 bits of lane b, which key53_of() leaves out (Tracker.key_check()). */
export const CHECK_MASK = 0x7ff;

/** 53 bits of a key node's two lanes, as a number. */
function key53_of(n: SNode): number {
  return (n.a >>> 0) * 2097152 + (n.b >>> 11);
}

export class Tracker {
  /** The World the proxy works on. */
  raw: World;
  /** What the Machine holds. */
  readonly world: World;
  readonly K: number;
  readonly depths: Record<string, number>;
  readonly logging: boolean;
  /** History fields count by their class in the key (core/machine/history.ts). */
  private readonly hist: boolean;
  /** The key tree is kept up to date (TrackOptions.key). */
  private readonly keyed: boolean;
  private phase = Phase.Idle;
  private fp: Footprint | null = null;
  private undo_log: Undo[] = [];
  private dirty = new Set<string>();
  /** Raw leaves already copied for undo in this step. */
  private saved = new Set<object>();
  private cache = new WeakMap<object, object>();
  private readonly unwrap_map = new WeakMap<object, object>();
  private shadow: SNode;
  // Clock pattern of emit(): get seq, set seq, get step.
  private seq_read = false;
  private seq_written = false;

  constructor(w: World, opts: TrackOptions = {}) {
    this.raw = w;
    this.K = opts.depth ?? DEFAULT_DEPTH;
    this.depths = opts.depths ?? (opts.depth ? {} : { ...DEFAULT_DEPTHS });
    this.logging = opts.undo ?? true;
    this.hist = !(opts.exact_history ?? false);
    this.keyed = opts.key ?? true;
    this.shadow = this.fresh_shadow();
    this.world = this.make_root();
  }

  /** Start over on another World (a fresh copy of the initial one). */
  reset(w: World, shadow?: SNode): void {
    this.raw = w;
    this.shadow = shadow ? copy_shadow(shadow) : this.fresh_shadow();
    this.invalidate();
    this.undo_log = [];
    this.dirty.clear();
    this.saved.clear();
  }

  /** A copy of the current key tree (pass to reset() with a copy of this World). */
  snapshot_shadow(): SNode {
    return copy_shadow(this.shadow);
  }

  /** The state key: 16 hex digits. */
  key(): string {
    return hex8(this.shadow.a) + hex8(this.shadow.b);
  }

  /** 53 bits of the key, as a number (visited sets of numbers are compact). */
  key53(): number {
    return key53_of(this.shadow);
  }

  /** The key's 11 low bits that key53() leaves out (CHECK_MASK): with it, all 64. */
  key_check(): number {
    return this.shadow.b & CHECK_MASK;
  }

  /** 53 bits of the key of the subtree `top`.`key` (a thread's own record: 'threads', id), or -1. */
  subtree_key53(top: string, key: string): number {
    const n = this.shadow.kids?.get(top)?.kids?.get(key);
    return n ? key53_of(n) : -1;
  }

  /** The key computed from scratch (tests compare it with key()). */
  full_key(): string {
    const s = this.build_root();
    return hex8(s.a) + hex8(s.b);
  }

  /** Paths where the key tree and a fresh one differ (for tests and debugging). */
  diff_key(): string[] {
    const out: string[] = [];
    const walk = (a: SNode | undefined, b: SNode | undefined, path: string) => {
      if (a && b && a.a === b.a && a.b === b.b) return;
      if (!a || !b || !a.kids || !b.kids) {
        out.push(path.split(SEP).join('.') || '(root)');
        return;
      }
      for (const k of new Set([...a.kids.keys(), ...b.kids.keys()])) walk(a.kids.get(k), b.kids.get(k), path ? path + SEP + k : k);
    };
    walk(this.shadow, this.build_root(), '');
    return out;
  }

  /** The key tree of the World as it is (an empty one when no key is kept). */
  private fresh_shadow(): SNode {
    return this.keyed ? this.build_root() : { a: 0, b: 0, kids: new Map() };
  }

  private build_root(): SNode {
    const root: SNode = { a: 0, b: 0, kids: new Map() };
    for (const k of Object.keys(this.raw)) {
      if (NOT_STATE.has(k)) continue;
      const kid = build(k, (this.raw as unknown as Record<string, unknown>)[k], 1, this.depth_of_top(k), this.hist);
      root.kids!.set(k, kid);
      root.a = (root.a + kid.a) >>> 0;
      root.b = (root.b + kid.b) >>> 0;
    }
    return root;
  }

  // -- steps ---------------------------------------------------------------

  /** Begin a step: footprint `fp` (or none) collects what it touches. */
  begin(fp: Footprint | null): void {
    this.fp = fp;
    this.undo_log = [];
    this.dirty = new Set();
    this.saved.clear();
    this.leaves.length = 0;
    this.seq_read = this.seq_written = false;
  }

  /** Proxies carry their path: when objects move, the cached ones go. */
  private invalidate(): void {
    this.cache = new WeakMap();
  }

  /** Forget the cached proxies of `v` (at `depth` under `top`) and of the proxied objects below it. */
  private forget(v: unknown, depth: number, K: number): void {
    if (v === null || typeof v !== 'object' || depth >= K || ArrayBuffer.isView(v)) return;
    this.cache.delete(v);
    if (depth + 1 >= K) return;
    if (Array.isArray(v)) for (const x of v) this.forget(x, depth + 1, K);
    else for (const k in v) this.forget((v as Record<string, unknown>)[k], depth + 1, K);
  }

  /** The explorer is about to evaluate enabledness (reads count), then calls Machine.step. */
  enab(): void {
    this.phase = Phase.Enab;
  }

  /** Right before Machine.step(). */
  pre(): void {
    this.settle();
    this.phase = Phase.Pre;
  }

  /** End the step: update the key; returns how to undo it. */
  end(): StepLog {
    this.settle();
    this.phase = Phase.Idle;
    // Leaves the step handed out but did not change were only read: nothing to rehash or undo.
    if (this.leaves.length) {
      let dead = 0;
      for (const l of this.leaves) {
        if (same_plain(l.old, l.v)) {
          (this.undo_log[l.at] as { dead?: boolean }).dead = true;
          dead++;
        } else this.mark(l.loc, l.top);
      }
      if (dead) this.undo_log = this.undo_log.filter((e) => !(e as { dead?: boolean }).dead);
      this.leaves.length = 0;
    }
    this.fp = null;
    const keys: KeyChange[] = [];
    this.rehash([...this.dirty], this.logging ? keys : null);
    return { undo: this.undo_log, keys };
  }

  /** Undo a step (the most recent one not yet undone). */
  undo(log: StepLog): void {
    const u = log.undo;
    for (let i = u.length - 1; i >= 0; i--) {
      const e = u[i]!;
      if (e.k === 0) {
        if (e.d >= 0) {
          const K = this.depth_of_top(e.top!);
          this.forget(e.obj[e.key], e.d, K);
          this.forget(e.old, e.d, K);
        }
        if (e.had) e.obj[e.key] = e.old;
        else delete e.obj[e.key];
      } else if (e.k === 2) restore_in_place(e.v, e.old);
      else e.arr.length = e.len;
    }
    // Between steps the event buffer is empty (Machine.step drains it).
    (this.raw as { events: unknown[] }).events = [];
    // The World is as it was: so is the key tree once its changes are taken back (no rehashing).
    const ks = log.keys;
    for (let i = ks.length - 1; i >= 0; i--) {
      const c = ks[i]!;
      if (c.old) c.parent.kids!.set(c.k, c.old);
      else c.parent.kids!.delete(c.k);
      for (const n of c.chain) {
        n.a = (n.a - c.da) >>> 0;
        n.b = (n.b - c.db) >>> 0;
      }
    }
  }

  /** Bring the key tree up to date at the `dirty` paths, logging each change into `log`. */
  private rehash(dirty: string[], log: KeyChange[] | null): void {
    if (dirty.length === 0 || !this.keyed) return;
    if (dirty.length > 1) dirty.sort((x, y) => depth_of(x) - depth_of(y));
    const done = new Set<string>();
    for (const p of dirty) {
      if (prefixes(p, (q) => done.has(q)) || is_bookkeeping(p)) continue;
      done.add(p);
      this.rehash_path(p, log);
    }
  }

  /** Where a dirty path is in the key tree, by path (paths recur: splitting them was a fifth of rehashing). */
  private readonly key_paths = new Map<string, KeyPath | null>();

  /**
   * The key-tree path of `path`: with history fields hashed by class, a
   * path below a history field is that field (one leaf of the key, a
   * stamp) or nowhere (null: a count or a deadline is not in the key).
   */
  private key_path(path: string): KeyPath | null {
    let at = this.key_paths.get(path);
    if (at !== undefined) return at;
    let parts = path.split(SEP);
    at = { path, parts, stamp: false };
    if (this.hist) {
      for (let i = 1; i < parts.length; i++) {
        const h = history_kind(parts[i]!);
        if (h === undefined) continue;
        if (h !== 'stamp') at = null;
        else {
          if (i < parts.length - 1) parts = parts.slice(0, i + 1);
          at = { path: parts.join(SEP), parts, stamp: true };
        }
        break;
      }
    }
    if (this.key_paths.size > 1 << 18) this.key_paths.clear();
    this.key_paths.set(path, at);
    return at;
  }

  /** Recompute the key subtree at `path` from the World and add the difference up the tree. */
  private rehash_path(dirty: string, log: KeyChange[] | null): void {
    const at = this.key_path(dirty);
    if (at === null) return;
    const { path, parts, stamp } = at;
    const chain: SNode[] = [this.shadow];
    let v: unknown = this.raw;
    let present = true;
    let node: SNode | undefined = this.shadow;
    for (let i = 0; i < parts.length; i++) {
      const k = parts[i]!;
      if (present) {
        if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, k)) v = (v as Record<string, unknown>)[k];
        else present = false;
      }
      if (i < parts.length - 1) {
        node = node?.kids?.get(k);
        if (!node) {
          // The parent subtree is not in the key tree: it is (or will be) rehashed as a whole.
          if (!present) return;
          throw new Error(`explorer key tree out of step at ${path}`);
        }
        chain.push(node);
      }
    }
    const parent = chain[chain.length - 1]!;
    const k = parts[parts.length - 1]!;
    const old = parent.kids?.get(k);
    let da = 0;
    let db = 0;
    if (old) {
      da = -old.a;
      db = -old.b;
    }
    if (present) {
      if (!parent.kids) throw new Error(`explorer key tree: ${path} under a leaf`);
      const fresh = stamp ? stamp_leaf(path, v, parts.length) : build(path, v, parts.length, this.depth_of_top(parts[0]!), this.hist);
      parent.kids.set(k, fresh);
      da += fresh.a;
      db += fresh.b;
    } else if (old) parent.kids!.delete(k);
    else return;
    log?.push({ parent, k, old, chain, da, db });
    if (da === 0 && db === 0) return;
    for (const n of chain) {
      n.a = (n.a + da) >>> 0;
      n.b = (n.b + db) >>> 0;
    }
  }

  // -- the proxy -----------------------------------------------------------

  private read(loc: string, top: string): void {
    if (this.seq_read || this.seq_written) this.settle();
    const fp = this.fp;
    if (!fp || this.phase === Phase.Pre || this.phase === Phase.Idle || NOT_STATE.has(top)) return;
    fp.r.add(loc);
  }

  /**
   * A write of `loc` (`keys`: of the key set of the object at `loc`). It
   * goes into the footprint; the key tree is rehashed there unless `rehash`
   * is false (the key set has no node of its own; a store of the value
   * already there changes nothing; an array's shape changed, and only the
   * elements that came or went need rehashing: rehash_at() names them).
   */
  private write(loc: string, top: string, keys = false, rehash = !keys): void {
    if (this.phase === Phase.Idle) throw new Error(`explorer: the World was changed between steps (${loc.split(SEP).join('.')})`);
    if (this.seq_read || this.seq_written) this.settle();
    if (!is_state(loc, top)) return;
    if (keys) loc = loc === '' ? '#keys' : loc + SEP + '#keys';
    if (rehash) this.dirty.add(loc);
    const fp = this.fp;
    if (fp && this.phase !== Phase.Pre) fp.w.add(loc);
  }

  /** Rehash `loc` at the end of the step, with no write of it in the footprint (an array element that came or went). */
  private rehash_at(loc: string, top: string): void {
    if (!is_state(loc, top)) return;
    this.dirty.add(loc);
  }

  /** A pending clock read that was not emit()'s numbering. */
  private settle(): void {
    if (this.seq_read && this.fp && this.phase !== Phase.Pre) this.fp.clock = true;
    this.seq_read = this.seq_written = false;
  }

  private clock_read(): void {
    if (this.fp && this.phase !== Phase.Pre && this.phase !== Phase.Idle) this.fp.clock = true;
  }

  private unwrap(v: unknown): unknown {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
    const raw = this.unwrap_map.get(v);
    if (raw) return raw;
    // A fresh value may hold proxies it was built from: store raw data only.
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x !== null && typeof x === 'object') {
          const y = this.unwrap(x);
          if (y !== x) v[i] = y;
        }
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (x !== null && typeof x === 'object') {
          const y = this.unwrap(x);
          if (y !== x) o[k] = y;
        }
      }
    }
    return v;
  }

  /** A raw object handed out at the cut: copy it once per step so undo can put it back. */
  /**
   * A raw object handed out at the cut. Looking (between steps, the
   * Machine's runnable(), the explorer's enabledness check) only reads it.
   * A step may change it: with an undo log it is copied, and end() sees
   * whether it changed (a write) or not (a read); without one it counts as
   * changed.
   */
  private leaf(v: object, loc: string, top: string): void {
    const ph = this.phase;
    if (ph === Phase.Idle || ph === Phase.Pre) return;
    this.read(loc, top);
    if (ph === Phase.Enab) return;
    if (!this.logging) {
      this.write(loc, top);
      return;
    }
    if (this.saved.has(v)) return;
    this.saved.add(v);
    const old = copy_plain(v);
    this.leaves.push({ v, old, loc, top, at: this.undo_log.length });
    // Restored in place, not by putting the copy back where it was found: the leaf may move in a
    // later step (an array's shift), whose undo entries hold this very object and put it back.
    this.undo_log.push({ k: 2, v, old });
  }

  private readonly leaves: Leaf[] = [];

  /** A write found at the end of the step (a leaf that changed). */
  private mark(loc: string, top: string): void {
    if (!is_state(loc, top)) return;
    this.dirty.add(loc);
    if (this.fp) this.fp.w.add(loc);
  }

  /**
   * Log how to undo obj[key] = value (value undefined for a delete); the
   * property's value sits at depth `d` under `top`. Objects that come or go
   * there lose their cached proxies (their paths change).
   */
  private log_set(obj: Record<string, unknown>, key: string, value: unknown, d: number, top: string): void {
    const K = this.depth_of_top(top);
    const old = obj[key];
    const moves = d < K && (is_obj(value) || is_obj(old));
    if (moves) {
      this.forget(old, d, K);
      this.forget(value, d, K);
    }
    if (!this.logging) return;
    if (Array.isArray(obj)) this.undo_log.push({ k: 1, arr: obj, len: obj.length, d: -1 });
    const had = Object.prototype.hasOwnProperty.call(obj, key);
    this.undo_log.push(moves ? { k: 0, obj, key, had, old: had ? old : undefined, d, top } : { k: 0, obj, key, had, old: had ? old : undefined, d: -1 });
  }

  private make_root(): World {
    const t = this;
    const handler: ProxyHandler<Record<string, unknown>> = {
      get(_target, key) {
        const raw = t.raw as unknown as Record<string, unknown>;
        if (typeof key === 'symbol') return Reflect.get(raw, key);
        const v = raw[key];
        if (key === 'seq') {
          if (t.phase >= Phase.Exec) {
            if (t.seq_read || t.seq_written) t.settle();
            t.seq_read = true;
          } else if (t.phase === Phase.Enab) t.clock_read();
          return v;
        }
        if (key === 'step') {
          if (t.seq_written) t.seq_read = t.seq_written = false; // emit(): e.step = w.step
          else if (t.phase !== Phase.Pre) {
            if (t.seq_read) t.settle();
            t.clock_read();
          }
          return v;
        }
        if (key === 'events') return v;
        if (!Object.prototype.hasOwnProperty.call(raw, key)) {
          t.read(key, key);
          return v;
        }
        if (v === null || typeof v !== 'object') {
          t.read(key, key);
          return v;
        }
        if (ArrayBuffer.isView(v) || 1 >= t.depth_of_top(key)) {
          t.leaf(v, key, key);
          return v;
        }
        return t.proxy(v as Record<string, unknown>, key, 1, key);
      },
      set(_target, key, value) {
        const raw = t.raw as unknown as Record<string, unknown>;
        if (typeof key === 'symbol') return Reflect.set(raw, key, value);
        if (key === 'seq') {
          if (t.seq_read) {
            t.seq_read = false;
            t.seq_written = true;
          }
        } else if (key === 'step') {
          if (t.phase === Phase.Pre) t.phase = Phase.Exec;
        } else if (key === 'events') {
          // Machine.step has drained the buffer: the invariants run next.
          if (t.phase === Phase.Exec) {
            t.settle();
            t.phase = Phase.Check;
          }
          raw[key] = value;
          return true;
        }
        value = t.unwrap(value);
        t.log_set(raw, key, value, 1, key);
        // Bookkeeping (the clocks among it) is not state: no footprint, nothing to rehash.
        if (!NOT_STATE.has(key)) {
          if (!Object.prototype.hasOwnProperty.call(raw, key)) t.write('', key, true);
          t.write(key, key);
        }
        raw[key] = value;
        return true;
      },
      has(_target, key) {
        if (typeof key === 'string') t.read(key, key);
        return Reflect.has(t.raw, key);
      },
      ownKeys() {
        t.read('#keys', '#keys');
        return Reflect.ownKeys(t.raw);
      },
      getOwnPropertyDescriptor(_target, key) {
        if (typeof key === 'string') t.read(key, key);
        const d = Reflect.getOwnPropertyDescriptor(t.raw, key);
        if (d) d.configurable = true; // the proxy's target is a stand-in
        return d;
      },
      deleteProperty(_target, key) {
        const raw = t.raw as unknown as Record<string, unknown>;
        if (typeof key === 'symbol') return Reflect.deleteProperty(raw, key);
        t.log_set(raw, key, undefined, 1, key);
        t.write('', key, true);
        t.write(key, key);
        return delete raw[key];
      },
      defineProperty(_target, key, desc) {
        const raw = t.raw as unknown as Record<string, unknown>;
        if (typeof key === 'symbol' || !('value' in desc)) return Reflect.defineProperty(raw, key, desc);
        return handler.set!(raw, key, desc.value, raw);
      },
    };
    // The target is a stand-in so that the root can be re-pointed at another World.
    return new Proxy({} as Record<string, unknown>, handler) as unknown as World;
  }

  private proxy(obj: Record<string, unknown>, path: string, depth: number, top: string): object {
    const hit = this.cache.get(obj);
    if (hit) return hit;
    const p = new Proxy(obj, new Handler(this, path, depth, top, Array.isArray(obj)));
    this.cache.set(obj, p);
    this.unwrap_map.set(p, obj);
    return p;
  }

  /** Whether reads are recorded now (a footprint is being collected outside the Machine's own look). */
  reading(): boolean {
    return this.fp !== null && this.phase !== Phase.Pre && this.phase !== Phase.Idle;
  }

  /** Internal to Handler. */
  _read(loc: string, top: string): void {
    this.read(loc, top);
  }
  _write(loc: string, top: string, keys = false, rehash = !keys): void {
    this.write(loc, top, keys, rehash);
  }
  _rehash_at(loc: string, top: string): void {
    this.rehash_at(loc, top);
  }
  _leaf(v: object, loc: string, top: string): void {
    this.leaf(v, loc, top);
  }
  _log_set(obj: Record<string, unknown>, key: string, value: unknown, d: number, top: string): void {
    this.log_set(obj, key, value, d, top);
  }
  _unwrap(v: unknown): unknown {
    return this.unwrap(v);
  }
  _proxy(obj: Record<string, unknown>, path: string, depth: number, top: string): object {
    return this.proxy(obj, path, depth, top);
  }
  _pending(): boolean {
    return this.seq_read || this.seq_written;
  }
  _settle(): void {
    this.settle();
  }

  /** Cut depth under top-level key `top`. */
  depth_of_top(top: string): number {
    return this.depths[top] ?? this.K;
  }
}

/** The traps of one proxied object below the root: it knows its path, depth and top-level key. */
class Handler implements ProxyHandler<Record<string, unknown>> {
  /** Cut depth under `top`. */
  private readonly K: number;

  /** Location strings by key, made once: a string used again keeps its hash, so the footprint sets stay cheap. */
  private readonly locs = new Map<string, string>();

  private loc(key: string): string {
    let l = this.locs.get(key);
    if (l === undefined) this.locs.set(key, (l = this.path + SEP + key));
    return l;
  }

  constructor(
    private readonly t: Tracker,
    private readonly path: string,
    private readonly depth: number,
    private readonly top: string,
    private readonly arr: boolean,
  ) {
    this.K = t.depth_of_top(top);
  }

  get(target: Record<string, unknown>, key: string | symbol, receiver: unknown): unknown {
    if (typeof key === 'symbol') return Reflect.get(target, key, receiver);
    const t = this.t;
    if (!Object.prototype.hasOwnProperty.call(target, key)) {
      const inherited = target[key];
      if (inherited !== undefined) return inherited; // Array/Object prototype methods
      if (t.reading()) t._read(this.loc(key), this.top);
      else if (t._pending()) t._settle();
      return undefined;
    }
    const v = target[key];
    if (v === null || typeof v !== 'object') {
      if (t.reading()) t._read(this.loc(key), this.top);
      else if (t._pending()) t._settle();
      return v;
    }
    if (ArrayBuffer.isView(v) || this.depth + 1 >= this.K) {
      t._leaf(v, this.loc(key), this.top);
      return v;
    }
    return t._proxy(v as Record<string, unknown>, this.loc(key), this.depth + 1, this.top);
  }

  private put(target: Record<string, unknown>, key: string, value: unknown, define: PropertyDescriptor | null): boolean {
    const t = this.t;
    value = t._unwrap(value);
    const had = Object.prototype.hasOwnProperty.call(target, key);
    const old = target[key];
    if (had && define === null && Object.is(old, value) && (value === null || typeof value !== 'object')) {
      // The value already there (every step stores t->wait = NULL): a write all the same (another
      // thread's store of something else does not commute with it), but nothing to undo or rehash.
      t._write(this.arr && key === 'length' ? this.path : this.loc(key), this.top, false, false);
      return true;
    }
    t._log_set(target, key, value, this.depth + 1, this.top);
    if (this.arr && (key === 'length' || !had)) {
      // The array's shape: a write of all of it, but only the elements that came or went change the key.
      t._write(this.path, this.top, false, false);
      if (key !== 'length') t._rehash_at(this.loc(key), this.top);
      else for (let i = Number(value); i < (old as number); i++) t._rehash_at(this.path + SEP + i, this.top);
    } else {
      if (!had) t._write(this.path, this.top, true);
      t._write(this.loc(key), this.top);
    }
    if (define) return Reflect.defineProperty(target, key, { ...define, value });
    target[key] = value;
    return true;
  }

  set(target: Record<string, unknown>, key: string | symbol, value: unknown): boolean {
    if (typeof key === 'symbol') return Reflect.set(target, key, value);
    return this.put(target, key, value, null);
  }

  has(target: Record<string, unknown>, key: string | symbol): boolean {
    // An array's every()/some()/forEach() ask whether each index is there: that is the array's
    // shape (what a structural change writes, at the array's path), not the element's contents.
    if (typeof key === 'string') this.t._read(this.arr && is_index(key) ? this.loc('length') : this.loc(key), this.top);
    return Reflect.has(target, key);
  }

  ownKeys(target: Record<string, unknown>): (string | symbol)[] {
    this.t._read(this.arr ? this.loc('length') : this.loc('#keys'), this.top);
    return Reflect.ownKeys(target);
  }

  getOwnPropertyDescriptor(target: Record<string, unknown>, key: string | symbol): PropertyDescriptor | undefined {
    if (typeof key === 'string') this.t._read(this.loc(key), this.top);
    return Reflect.getOwnPropertyDescriptor(target, key);
  }

  deleteProperty(target: Record<string, unknown>, key: string | symbol): boolean {
    if (typeof key === 'symbol') return Reflect.deleteProperty(target, key);
    const t = this.t;
    t._log_set(target, key, undefined, this.depth + 1, this.top);
    if (this.arr) {
      t._write(this.path, this.top, false, false);
      t._rehash_at(this.loc(key), this.top);
    } else {
      t._write(this.path, this.top, true);
      t._write(this.loc(key), this.top);
    }
    return delete target[key];
  }

  defineProperty(target: Record<string, unknown>, key: string | symbol, desc: PropertyDescriptor): boolean {
    if (typeof key === 'symbol' || !('value' in desc)) return Reflect.defineProperty(target, key, desc);
    return this.put(target, key, desc.value, desc);
  }
}

/** An array index as a property key. */
export function is_index(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(key)) === key;
}

/** Whether `loc` (under top-level key `top`) is simulated state: not bookkeeping, so in footprints and the key. */
function is_state(loc: string, top: string): boolean {
  return !NOT_STATE.has(top) && !(top === 'threads' && loc.endsWith('steps') && is_bookkeeping(loc));
}

function is_obj(v: unknown): boolean {
  return v !== null && typeof v === 'object';
}

function depth_of(p: string): number {
  let n = 0;
  for (let i = p.indexOf(SEP); i >= 0; i = p.indexOf(SEP, i + 1)) n++;
  return n;
}

function hex8(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

function copy_shadow(n: SNode): SNode {
  if (!n.kids) return { a: n.a, b: n.b, kids: null };
  const kids = new Map<string, SNode>();
  for (const [k, v] of n.kids) kids.set(k, copy_shadow(v));
  return { a: n.a, b: n.b, kids };
}

export type { SNode };
