// A read-only view of the World for `print`, `watch`, `assert` and
// breakpoint conditions: a Proxy per object that throws on every write, so a
// condition cannot change the simulation behind the Session's back (state
// changes go through pokes, which are recorded and replayed).
import { DebugError } from './errors.js';

const views = new WeakMap<object, object>();
const targets = new WeakMap<object, object>();

const TYPED_MUTATORS = new Set(['set', 'fill', 'copyWithin', 'reverse', 'sort']);

function refuse(): never {
  throw new DebugError('EINVAL', 'the World is read-only here; change it with a poke command (pt, mt, variant)');
}

const handler: ProxyHandler<object> = {
  get(target, key) {
    const v = Reflect.get(target, key, target) as unknown;
    if (typeof v === 'function' && ArrayBuffer.isView(target)) {
      if (TYPED_MUTATORS.has(key as string)) return refuse;
      // Typed-array methods need the real array as `this`; results may be views into it.
      return (...args: unknown[]) => readonly((v as (...a: unknown[]) => unknown).apply(target, args));
    }
    return readonly(v);
  },
  set: refuse,
  defineProperty: refuse,
  deleteProperty: refuse,
  setPrototypeOf: refuse,
  preventExtensions: refuse,
};

/** The read-only view of `v` (primitives pass through; one view per object). */
export function readonly<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (targets.has(v as object)) return v;
  let p = views.get(v as object);
  if (!p) {
    p = new Proxy(v as object, handler);
    views.set(v as object, p);
    targets.set(p, v as object);
  }
  return p as T;
}

/** The object behind a read-only view (anything else unchanged). */
export function unwrap<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  return (targets.get(v as object) as T | undefined) ?? v;
}

/** A deep plain copy of `v` with every read-only view replaced by a copy of its object. */
export function plain(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth > 64) throw new DebugError('EINVAL', 'value nested too deeply');
  const t = unwrap(v);
  if (ArrayBuffer.isView(t)) return (t as unknown as { slice(): unknown }).slice();
  if (Array.isArray(t)) return t.map((x) => plain(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(t)) out[k] = plain((t as Record<string, unknown>)[k], depth + 1);
  return out;
}
