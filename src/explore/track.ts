// A tracked World for the explorer. The Machine runs on a Proxy of the
// World; the proxy records, for each step, which parts of the World the step
// touched (its footprint: the explorer's independence relation for partial-
// order reduction), logs how to undo it (depth-first search backtracks by
// undoing a step instead of copying the World), and keeps an incremental
// hash of the simulated state (the visited set's key) up to date by
// rehashing only the parts that changed.
//
// Locations. A location is a path from the World's root, cut at depth K
// (DEFAULT_DEPTH): objects above the cut are proxied, so reads of their
// primitive fields are reads and assignments are writes; an object at the
// cut (or a typed array anywhere) is handed out raw and counts as read AND
// written, because code may mutate it without any trap seeing it. Structure
// counts too: enumerating keys reads `path/#keys`, adding or deleting a key
// writes it, and any change of an array's length writes the whole array.
//
// Clocks. `w.step` changes at every step and `w.seq` at every event. emit()
// reads `w.seq`, writes it back plus one, then reads `w.step`: that pattern
// is numbering transient events and is not a dependency. Any other read of
// either (model code stamping a step or seq into the World, the `preempted`
// wait, an invariant comparing with the current step) marks the footprint
// `clock`: such a step is dependent with every other step.
//
// Left out of footprints and of the state key: the Machine's bookkeeping
// (`step`, `seq`, `events`, `metrics`, `sched`, `violations`), the same keys
// Machine.state_hash() leaves out. The model must not branch on them (only
// the clocks above are read, and those are handled).
//
// Assumptions (core's rules, DESIGN.md "The simulation core"): the World is
// a tree of plain data with no aliasing, no module keeps a reference to a
// World object from one step to the next, and a step's behaviour is a
// function of what it reads. Tests compare the incremental key with a
// fresh computation and the undone World with the original.
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

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Two 32-bit lanes; the same mixing idea as core's hash.ts. */
class Mix {
  a = 0;
  b = 0;
  reset(seed: number): this {
    this.a = (0x811c9dc5 ^ seed) | 0;
    this.b = (0x01000193 + seed) | 0;
    return this;
  }
  word(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    this.b = Math.imul(this.b ^ x, 0x5bd1e995);
    this.b ^= this.b >>> 15;
  }
  str(s: string): void {
    this.word(3);
    this.word(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }
  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (Number.isInteger(v) && Math.abs(v) <= 0x7fffffff) {
          this.word(1);
          this.word(v | 0);
        } else {
          f64[0] = v;
          this.word(2);
          this.word(u32[0]!);
          this.word(u32[1]!);
        }
        return;
      case 'string':
        this.str(v);
        return;
      case 'boolean':
        this.word(v ? 5 : 4);
        return;
      case 'bigint':
        this.str(v.toString(16));
        this.word(6);
        return;
      case 'undefined':
        this.word(7);
        return;
      case 'object':
        break;
      default:
        throw new Error(`cannot hash a ${typeof v}: the World must be plain data`);
    }
    if (v === null) {
      this.word(8);
      return;
    }
    if (Array.isArray(v)) {
      this.word(9);
      this.word(v.length);
      for (const x of v) this.value(x);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      this.word(10);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      this.word(bytes.length);
      const n4 = (v.byteOffset & 3) === 0 ? bytes.length >>> 2 : 0;
      if (n4) {
        const words = new Uint32Array(v.buffer, v.byteOffset, n4);
        for (let i = 0; i < n4; i++) this.word(words[i]!);
      }
      for (let i = n4 * 4; i < bytes.length; i++) this.word(bytes[i]!);
      return;
    }
    const keys = Object.keys(v).sort();
    this.word(11);
    this.word(keys.length);
    for (const k of keys) {
      this.str(k);
      this.value((v as Record<string, unknown>)[k]);
    }
  }
  fin(): void {
    let a = this.a ^ (this.b >>> 16);
    let b = this.b ^ Math.imul(this.a, 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    b = Math.imul(b ^ (b >>> 16), 0x27d4eb2d);
    this.a = (a ^ (a >>> 16)) >>> 0;
    this.b = (b ^ (b >>> 13)) >>> 0;
  }
}

const mix = new Mix();

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

function is_container(v: unknown, depth: number, K: number): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && depth < K && !ArrayBuffer.isView(v);
}

function build(path: string, v: unknown, depth: number, K: number): SNode {
  if (is_container(v, depth, K)) {
    const kids = new Map<string, SNode>();
    mix.reset(depth);
    mix.str(path);
    mix.word(Array.isArray(v) ? 21 : 22);
    mix.fin();
    let a = mix.a;
    let b = mix.b;
    for (const k of Object.keys(v)) {
      const kid = build(path + SEP + k, v[k], depth + 1, K);
      kids.set(k, kid);
      a = (a + kid.a) >>> 0;
      b = (b + kid.b) >>> 0;
    }
    return { a, b, kids };
  }
  mix.reset(depth);
  mix.str(path);
  mix.value(v);
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

type Undo =
  | { k: 0; obj: Record<string, unknown>; key: string; had: boolean; old: unknown }
  | { k: 1; arr: unknown[]; len: number };

/** What one step changed: how to undo it, and which locations to rehash. */
export interface StepLog {
  undo: Undo[];
  dirty: string[];
}

export interface TrackOptions {
  /** Cut depth (DEFAULT_DEPTH). */
  depth?: number;
  /** Keep an undo log (depth-first search); random walks do not need one. */
  undo?: boolean;
  /** Cut depth per top-level key (DEFAULT_DEPTHS). */
  depths?: Record<string, number>;
}

/**
 * Deeper cuts where steps of different threads touch different fields of
 * one struct: a thread's own record, a vCPU's requests, a shadow MMU.
 */
export const DEFAULT_DEPTHS: Readonly<Record<string, number>> = { threads: 4, kvm: 4, arm64: 4, x86: 4 };

export class Tracker {
  /** The World the proxy works on. */
  raw: World;
  /** What the Machine holds. */
  readonly world: World;
  readonly K: number;
  readonly depths: Record<string, number>;
  readonly logging: boolean;
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
    this.shadow = this.build_root();
    this.world = this.make_root();
  }

  /** Start over on another World (a fresh copy of the initial one). */
  reset(w: World, shadow?: SNode): void {
    this.raw = w;
    this.shadow = shadow ? copy_shadow(shadow) : this.build_root();
    this.cache = new WeakMap();
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

  /** The key computed from scratch (tests compare it with key()). */
  full_key(): string {
    const s = this.build_root();
    return hex8(s.a) + hex8(s.b);
  }

  private build_root(): SNode {
    const root: SNode = { a: 0, b: 0, kids: new Map() };
    for (const k of Object.keys(this.raw)) {
      if (NOT_STATE.has(k)) continue;
      const kid = build(k, (this.raw as unknown as Record<string, unknown>)[k], 1, this.depth_of_top(k));
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
    this.cache = new WeakMap();
    this.seq_read = this.seq_written = false;
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
    this.fp = null;
    const dirty = [...this.dirty];
    this.rehash(dirty);
    return { undo: this.undo_log, dirty };
  }

  /** Undo a step (the most recent one not yet undone). */
  undo(log: StepLog): void {
    const u = log.undo;
    for (let i = u.length - 1; i >= 0; i--) {
      const e = u[i]!;
      if (e.k === 0) {
        if (e.had) e.obj[e.key] = e.old;
        else delete e.obj[e.key];
      } else e.arr.length = e.len;
    }
    // Between steps the event buffer is empty (Machine.step drains it).
    (this.raw as { events: unknown[] }).events = [];
    this.rehash(log.dirty);
  }

  private rehash(dirty: string[]): void {
    if (dirty.length === 0) return;
    if (dirty.length > 1) dirty.sort((x, y) => depth_of(x) - depth_of(y));
    const done = new Set<string>();
    for (const p of dirty) {
      if (prefixes(p, (q) => done.has(q))) continue;
      done.add(p);
      this.rehash_path(p);
    }
  }

  /** Recompute the key subtree at `path` from the World and add the difference up the tree. */
  private rehash_path(path: string): void {
    const parts = path.split(SEP);
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
      const fresh = build(path, v, parts.length, this.depth_of_top(parts[0]!));
      parent.kids.set(k, fresh);
      da += fresh.a;
      db += fresh.b;
    } else if (old) parent.kids!.delete(k);
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

  private write(loc: string, top: string): void {
    if (this.phase === Phase.Idle) throw new Error(`explorer: the World was changed between steps (${loc.split(SEP).join('.')})`);
    if (this.seq_read || this.seq_written) this.settle();
    if (NOT_STATE.has(top)) return;
    this.dirty.add(loc);
    const fp = this.fp;
    if (fp && this.phase !== Phase.Pre && this.phase !== Phase.Idle) fp.w.add(loc);
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
  private leaf(parent: Record<string, unknown>, key: string, v: object, loc: string, top: string): void {
    if (this.phase === Phase.Idle) return; // the explorer looking between steps
    if (this.logging && !this.saved.has(v)) {
      this.saved.add(v);
      this.undo_log.push({ k: 0, obj: parent, key, had: true, old: copy_plain(v) });
    }
    this.read(loc, top);
    this.write(loc, top);
  }

  private log_set(obj: Record<string, unknown>, key: string): void {
    if (!this.logging) return;
    if (Array.isArray(obj)) this.undo_log.push({ k: 1, arr: obj, len: obj.length });
    const had = Object.prototype.hasOwnProperty.call(obj, key);
    this.undo_log.push({ k: 0, obj, key, had, old: had ? obj[key] : undefined });
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
          t.leaf(raw, key, v, key, key);
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
        t.log_set(raw, key);
        if (!Object.prototype.hasOwnProperty.call(raw, key)) t.write('#keys', key);
        t.write(key, key);
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
        t.log_set(raw, key);
        t.write('#keys', key);
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
    const p = new Proxy(obj, Array.isArray(obj) ? this.arr_handler : this.obj_handler);
    this.cache.set(obj, p);
    this.meta.set(obj, { path, depth, top, arr: Array.isArray(obj) });
    this.unwrap_map.set(p, obj);
    return p;
  }

  private meta = new WeakMap<object, Meta>();

  private make_handler(): ProxyHandler<Record<string, unknown>> {
    const t = this;
    const m = (target: object) => t.meta.get(target)!;
    const put = (target: Record<string, unknown>, key: string, value: unknown, define: PropertyDescriptor | null): boolean => {
      const { path, top, arr } = m(target);
      value = t.unwrap(value);
      const had = Object.prototype.hasOwnProperty.call(target, key);
      t.log_set(target, key);
      if (arr && (key === 'length' || !had)) t.write(path, top);
      else {
        if (!had) t.write(path + SEP + '#keys', top);
        t.write(path + SEP + key, top);
      }
      if (define) return Reflect.defineProperty(target, key, { ...define, value });
      target[key] = value;
      return true;
    };
    return {
      get(target, key, receiver) {
        if (typeof key === 'symbol') return Reflect.get(target, key, receiver);
        if (!Object.prototype.hasOwnProperty.call(target, key)) {
          const inherited = (target as Record<string, unknown>)[key];
          if (inherited !== undefined) return inherited; // Array/Object prototype methods
          const { path, top } = m(target);
          t.read(path + SEP + key, top);
          return undefined;
        }
        const v = target[key];
        const { path, depth, top } = m(target);
        const loc = path + SEP + key;
        if (v === null || typeof v !== 'object') {
          t.read(loc, top);
          return v;
        }
        if (ArrayBuffer.isView(v) || depth + 1 >= t.depth_of_top(top)) {
          t.leaf(target, key, v, loc, top);
          return v;
        }
        return t.proxy(v as Record<string, unknown>, loc, depth + 1, top);
      },
      set(target, key, value) {
        if (typeof key === 'symbol') return Reflect.set(target, key, value);
        return put(target, key, value, null);
      },
      has(target, key) {
        if (typeof key === 'string') {
          const { path, top } = m(target);
          t.read(path + SEP + key, top);
        }
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        const { path, top, arr } = m(target);
        t.read(arr ? path + SEP + 'length' : path + SEP + '#keys', top);
        return Reflect.ownKeys(target);
      },
      getOwnPropertyDescriptor(target, key) {
        if (typeof key === 'string') {
          const { path, top } = m(target);
          t.read(path + SEP + key, top);
        }
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
      deleteProperty(target, key) {
        if (typeof key === 'symbol') return Reflect.deleteProperty(target, key);
        const { path, top, arr } = m(target);
        t.log_set(target, key);
        if (arr) t.write(path, top);
        else {
          t.write(path + SEP + '#keys', top);
          t.write(path + SEP + key, top);
        }
        return delete target[key];
      },
      defineProperty(target, key, desc) {
        if (typeof key === 'symbol' || !('value' in desc)) return Reflect.defineProperty(target, key, desc);
        return put(target, key, desc.value, desc);
      },
    };
  }

  private readonly obj_handler = this.make_handler();
  private readonly arr_handler = this.make_handler();

  /** Cut depth under top-level key `top`. */
  depth_of_top(top: string): number {
    return this.depths[top] ?? this.K;
  }
}

interface Meta {
  path: string;
  depth: number;
  top: string;
  arr: boolean;
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
