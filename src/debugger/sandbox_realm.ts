// The realm expressions run in: a node:vm context of its own (its own
// Object, Array, Function...), with code generation from strings and wasm
// off, the typed-array, ArrayBuffer, SharedArrayBuffer, Atomics and
// WebAssembly globals gone (their memory is outside the heap's limit), and
// every intrinsic reachable from it frozen. The World, the event and the
// violation come in through a membrane written in the realm itself (so
// that every error an expression can catch is one of the realm's): a
// read-only Proxy per object whose methods are the realm's (arrays,
// objects) or wrapped (typed arrays), that hides `constructor` and
// `__proto__`, refuses every write, and never hands out an object or a
// function of the host.
//
// node:vm is not a security boundary by itself; this realm is one of two
// layers. Expressions in the bounded subset (expr_check.ts) run here on
// the main thread; everything else runs in the same realm inside a worker
// (sandbox_worker.ts) whose heap is limited and which is terminated when
// it runs too long or the user interrupts it.
import vm from 'node:vm';
import type { World } from '../core/machine/world.js';

/** The guard the bounded subset calls at the start of every callback body (expr_check.ts puts the calls in). */
export const GUARD = '__kvmdbg_guard';

/** Host functions the realm's helpers call: `(name, args) => {ok} | {err}`; they never throw. */
export type HostCall = (name: string, args: unknown[]) => { ok?: unknown; err?: string };

/** What the realm gives the host. */
interface RealmApi {
  view(v: unknown): unknown;
  fresh(v: unknown): unknown;
  unwrap(v: unknown): unknown;
  /** Reset the guard's budget before an evaluation. */
  reset(limit: number): void;
  /** Guard calls since the last reset. */
  count(): number;
  /** Call `f(w, e, e, v)` (the worker runs it from a script, so that microtasks drain inside the time limit). */
  stage(f: unknown, w: unknown, e: unknown, v: unknown): void;
}

export type RealmFn = (w: unknown, e: unknown, ev: unknown, v: unknown) => unknown;

// The realm's side, as source text: it must be compiled in the context.
const SETUP = `'use strict';
(function (host, GUARD) {
  const G = globalThis;
  const R = Reflect, rget = R.get, rapply = R.apply, rgopd = R.getOwnPropertyDescriptor, ownKeys = R.ownKeys;
  const isArray = Array.isArray, isView = ArrayBuffer.isView, freeze = Object.freeze, gpo = Object.getPrototypeOf;
  const AP = Array.prototype, OP = Object.prototype, FP = Function.prototype;
  const TE = TypeError, RE = RangeError, Err = Error, WM = WeakMap, P = Proxy;
  const views = new WM(), targets = new WM();
  const MUT = { set: 1, fill: 1, copyWithin: 1, reverse: 1, sort: 1 };
  const RO = 'the World is read-only here; change it with a poke command (pt, mt, variant)';
  function refuse() { throw new TE(RO); }

  // A host error as one of the realm's (its message only).
  function conv(e) {
    if (e instanceof Err) return e;
    if (e === null || (typeof e !== 'object' && typeof e !== 'function')) return e;
    let m = 'error', n = '';
    try { const x = rget(e, 'message'); if (typeof x === 'string') m = x; } catch (_) {}
    try { const x = rget(e, 'name'); if (typeof x === 'string') n = x; } catch (_) {}
    return n === 'RangeError' ? new RE(m) : new TE(m);
  }

  function unwrap(v) { const t = targets.get(v); return t === undefined ? v : t; }

  const handler = freeze({ __proto__: null,
    get(t, k) {
      if (k === 'constructor' || k === '__proto__') return undefined;
      let v;
      try { v = rget(t, k, t); } catch (e) { throw conv(e); }
      if (typeof v === 'function') {
        if (isArray(t)) return AP[k];
        if (isView(t)) return MUT[k] === 1 ? refuse : view(v);
        return OP[k];
      }
      return view(v);
    },
    getOwnPropertyDescriptor(t, k) {
      const d = rgopd(t, k);
      if (d === undefined) return d;
      if ('value' in d) d.value = view(d.value);
      else { d.get = undefined; d.set = undefined; }
      return d;
    },
    getPrototypeOf(t) { return isArray(t) ? AP : OP; },
    set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse,
  });

  function callback(cb) {
    return function () {
      const xs = [];
      for (let i = 0; i < arguments.length; i++) xs[i] = view(arguments[i]);
      return rapply(cb, undefined, xs);
    };
  }

  const fhandler = freeze({ __proto__: null,
    apply(f, self, args) {
      const a = [];
      for (let i = 0; i < args.length; i++) { const x = args[i]; a[i] = typeof x === 'function' ? callback(x) : unwrap(x); }
      let r;
      try { r = rapply(f, unwrap(self), a); } catch (e) { throw conv(e); }
      return view(r);
    },
    construct: refuse,
    get(f, k) {
      if (k === 'call' || k === 'apply' || k === 'bind') return FP[k];
      if (k === 'name' || k === 'length') { const v = f[k]; return typeof v === 'object' ? undefined : v; }
      return undefined;
    },
    getOwnPropertyDescriptor(f, k) {
      const d = rgopd(f, k);
      if (d === undefined) return d;
      if ('value' in d && (typeof d.value === 'object' || typeof d.value === 'function')) d.value = undefined;
      if (!('value' in d)) { d.get = undefined; d.set = undefined; }
      return d;
    },
    getPrototypeOf() { return FP; },
    set: refuse, defineProperty: refuse, deleteProperty: refuse, setPrototypeOf: refuse, preventExtensions: refuse,
  });

  // The read-only view of a host value (primitives pass; one view per object).
  function view(v) {
    if (v === null) return v;
    const t = typeof v;
    if (t !== 'object' && t !== 'function') return v;
    let p = views.get(v);
    if (p === undefined) {
      p = new P(v, t === 'function' ? fhandler : handler);
      views.set(v, p);
      targets.set(p, v);
    }
    return p;
  }

  // A view not kept for reuse: for the event and the violation, new at every evaluation (a cache of them would only grow).
  function fresh(v) {
    return v === null || typeof v !== 'object' ? v : new P(v, handler);
  }

  function call(name, args) {
    let r;
    try { r = host(name, args); } catch (e) { throw conv(e); }
    if (r.err !== undefined) throw new TE(String(r.err));
    return view(r.ok);
  }
  function hex(x) {
    if (typeof x === 'bigint') return x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16);
    if (typeof x === 'number' && Number.isInteger(x)) return x < 0 ? '-0x' + (-x).toString(16) : '0x' + x.toString(16);
    return String(x);
  }
  function thread(name) { return call('thread', [name]); }
  function vcpu(i) { return call('vcpu', [i]); }
  function mmu(name) { return call('mmu', [name]); }
  function tree(name) { return call('tree', [name]); }

  let n = 0, lim = 1e6;
  function guard() {
    if (++n > lim) throw new RE('the expression made more than ' + lim + ' callback calls; expressions run at every step and must be cheap');
  }
  let staged = null;
  function run() { const s = staged; staged = null; return s[0](s[1], s[2], s[2], s[3]); }

  // What an expression must not reach: memory outside the heap, and the garbage collector's hooks.
  for (const k of ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'ArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array',
    'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array',
    'BigInt64Array', 'BigUint64Array', 'FinalizationRegistry', 'WeakRef', 'eval', 'Function']) delete G[k];

  // Freeze the intrinsics, those reachable from the globals and those only syntax reaches.
  const seen = new WeakSet();
  function deep(o) {
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) return;
    seen.add(o);
    freeze(o);
    deep(gpo(o));
    for (const k of ownKeys(o)) {
      const d = rgopd(o, k);
      if (d === undefined) continue;
      if ('value' in d) deep(d.value); else { deep(d.get); deep(d.set); }
    }
  }
  const syntax = [function* () {}, async function () {}, async function* () {}, () => {}, [][Symbol.iterator](), ''[Symbol.iterator](),
    new Map().entries(), new Set().values(), /x/[Symbol.matchAll](''), (function* () {})(), (async function* () {})()];
  // (The global object itself cannot be frozen: its properties are made read-only instead.)
  seen.add(G);
  for (const k of ownKeys(G)) {
    const d = rgopd(G, k);
    if (!d || !('value' in d)) continue;
    deep(d.value);
    if (d.configurable) R.defineProperty(G, k, { value: d.value, enumerable: d.enumerable, writable: false, configurable: false });
  }
  for (const s of syntax) deep(s);
  for (const [k, f] of [['hex', hex], ['thread', thread], ['vcpu', vcpu], ['mmu', mmu], ['tree', tree], [GUARD, guard], ['__kvmdbg_run', run]]) {
    freeze(f);
    R.defineProperty(G, k, { value: f, enumerable: false, writable: false, configurable: false });
  }
  return freeze({ __proto__: null, view, fresh, unwrap,
    reset(l) { n = 0; lim = l; },
    count() { return n; },
    stage(f, w, e, v) { staged = [f, w, e, v]; },
  });
})`;

/** The helpers' host side: raw World objects by name (the membrane views them). */
export function world_helper(w: World | null, name: string, args: unknown[]): { ok?: unknown; err?: string } {
  if (!w) return { err: `${name}(): no World here` };
  const a = args[0];
  switch (name) {
    case 'thread':
      return { ok: typeof a === 'number' ? w.threads[a] : w.threads.find((t) => t.name === a) };
    case 'vcpu':
      return { ok: typeof a === 'number' ? (w as { kvm?: { vcpus: unknown[] } }).kvm?.vcpus[a] : undefined };
    case 'mmu': {
      const arm = (w as { arm64?: { mmu: unknown; nested_mmus: unknown[] } }).arm64;
      if (!arm || typeof a !== 'string') return { ok: undefined };
      if (a === 's2') return { ok: arm.mmu };
      const m = /^nested\[(\d+)\]$/.exec(a);
      return { ok: m ? arm.nested_mmus[Number(m[1])] : undefined };
    }
    case 'tree': {
      const trees = (w as { trees?: Record<string, unknown> }).trees;
      return { ok: typeof a === 'string' && trees && Object.hasOwn(trees, a) ? trees[a] : undefined };
    }
    default:
      return { err: `no helper ${name}` };
  }
}

const CONTEXT_OPTIONS: vm.CreateContextOptions = { name: 'kvmdbg expressions', codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' };

export class Realm {
  readonly ctx: vm.Context;
  private readonly api: RealmApi;
  /** The World the helpers read during an evaluation. */
  private current: World | null = null;
  private readonly runner = new vm.Script('__kvmdbg_run()', { filename: 'expression' });

  constructor() {
    this.ctx = vm.createContext(Object.create(null) as object, CONTEXT_OPTIONS);
    const setup = vm.runInContext(SETUP, this.ctx, { filename: 'kvmdbg-realm' }) as (host: HostCall, guard: string) => RealmApi;
    this.api = setup((name, args) => {
      try {
        return world_helper(this.current, name, args);
      } catch (e) {
        return { err: e instanceof Error ? e.message : 'error' };
      }
    }, GUARD);
  }

  /** A function of (w, e, ev, v) for an expression of the bounded subset (called directly). */
  compile_bounded(code: string): RealmFn {
    return vm.compileFunction(`"use strict"; return (${code}\n);`, ['w', 'e', 'ev', 'v'], { parsingContext: this.ctx, filename: 'expression' }) as RealmFn;
  }

  /** A function of (w, e, ev, v) for any expression (run through run_staged()). */
  compile_general(code: string): RealmFn {
    return new vm.Script(`"use strict"; (function (w, e, ev, v) { return (${code}\n); })`, { filename: 'expression' }).runInContext(this.ctx) as RealmFn;
  }

  /** Evaluate `f` over raw host values: views of them go in; the guard's budget is `limit` callback calls. */
  call(f: RealmFn, w: World, e: unknown, v: unknown, limit: number): unknown {
    const api = this.api;
    const prev = this.current;
    this.current = w;
    try {
      api.reset(limit);
      const ev = e === undefined ? undefined : api.fresh(e);
      return f(api.view(w), ev, ev, v === undefined ? undefined : api.fresh(v));
    } finally {
      this.current = prev;
    }
  }

  /** Like call(), from a script, so that the promise jobs it queues run before it returns. */
  run_staged(f: RealmFn, w: World, e: unknown, v: unknown, limit: number): unknown {
    const api = this.api;
    this.current = w;
    try {
      api.reset(limit);
      api.stage(f, api.view(w), e === undefined ? undefined : api.view(e), v === undefined ? undefined : api.view(v));
      return this.runner.runInContext(this.ctx);
    } finally {
      this.current = null;
    }
  }

  guard_count(): number {
    return this.api.count();
  }

  unwrap<T>(v: T): T {
    return this.api.unwrap(v) as T;
  }
}

/** Values a result may hold at most (a result is copied out of the realm). */
export const MAX_RESULT_VALUES = 1_000_000;

/**
 * A deep plain copy of an expression's result: views replaced by copies of
 * their objects, the realm's arrays and objects by the host's. Functions
 * and symbols stay as they are (the worker turns them into text).
 */
export function plain_copy(realm: Realm, v: unknown, budget = { n: MAX_RESULT_VALUES }, depth = 0): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth > 64) throw new RangeError('the value is nested too deeply to show');
  if (--budget.n < 0) throw new RangeError(`the value is too large to show (more than ${MAX_RESULT_VALUES} values)`);
  const t = realm.unwrap(v) as object;
  if (ArrayBuffer.isView(t)) {
    const n = (t as unknown as { length?: number }).length ?? t.byteLength;
    budget.n -= n;
    if (budget.n < 0) throw new RangeError(`the value is too large to show (more than ${MAX_RESULT_VALUES} values)`);
    return (t as unknown as { slice(): unknown }).slice();
  }
  if (Array.isArray(t)) {
    const n = t.length;
    if (n > budget.n) throw new RangeError(`the value is too large to show (an array of ${n} elements)`);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = plain_copy(realm, t[i], budget, depth + 1);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(t)) out[k] = plain_copy(realm, (t as Record<string, unknown>)[k], budget, depth + 1);
  return out;
}

/** An error from an evaluation as `Name: message` (errors of the realm are not the host's Error). */
export function error_text(e: unknown): string {
  if (e !== null && typeof e === 'object') {
    let name = '';
    let msg = '';
    try {
      const n = (e as { name?: unknown }).name;
      const m = (e as { message?: unknown }).message;
      if (typeof n === 'string') name = n;
      if (typeof m === 'string') msg = m;
    } catch {
      // a value whose properties throw
    }
    if (msg || name) return name && name !== 'Error' && name !== 'DebugError' ? `${name}: ${msg}` : msg;
  }
  try {
    return `uncaught ${typeof e === 'string' ? JSON.stringify(e) : String(e)}`;
  } catch {
    return 'uncaught value';
  }
}
