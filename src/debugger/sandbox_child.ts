// The process that evaluates expressions outside the bounded subset. The
// broker (sandbox_broker.ts) starts it with a limited heap, code generation
// from strings off for the whole process, and (where Node has it) the
// permission model allowing nothing but reading kvmdbg's own files; it
// kills it when an expression runs too long or is interrupted, and one
// that runs out of memory dies alone. Each request brings a copy of the
// World, the event and the violation; the expression runs in this
// process's Realm, and the answer is plain data.
import type { World } from '../core/machine/world.js';
import { Realm, error_text, plain_copy, type RealmFn } from './sandbox_realm.js';

export interface EvalRequest {
  id: number;
  code: string;
  /** The World without its threads' programs (they never change, and can be most of it): see progs. */
  w: World;
  /** Each thread's program by id; the programs not sent before come in `new_progs`. */
  prog_ids: number[];
  new_progs?: [number, World['threads'][number]['prog']][];
  e?: unknown;
  v?: unknown;
  /** Callback calls allowed (the guard's budget). */
  limit: number;
}

export type EvalAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string; code?: 'ETIME' | 'ENOMEM' | 'EINTR' | 'EFAULT' };

/** Process functions that reach outside it: gone before any expression runs. */
function harden(): void {
  const p = process as unknown as Record<string, unknown>;
  const no = () => {
    throw new Error('not from an expression');
  };
  for (const k of ['kill', '_kill', 'dlopen', 'binding', '_linkedBinding', 'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups', 'umask']) {
    try {
      Object.defineProperty(p, k, { value: no, writable: false, configurable: false });
    } catch {
      // not every one exists everywhere
    }
  }
  for (const k of ['fetch', 'WebSocket', 'EventSource']) delete (globalThis as Record<string, unknown>)[k];
}

/** What a result becomes to cross to the debugger: functions and symbols as text. */
function clonable(v: unknown, depth = 0): unknown {
  if (typeof v === 'function') return `[function ${(v as { name?: string }).name || '(anonymous)'}]`;
  if (typeof v === 'symbol') return v.toString();
  if (v === null || typeof v !== 'object' || depth > 64 || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => clonable(x, depth + 1));
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = clonable(o[k], depth + 1);
  return o;
}

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('kvmdbg: the expression evaluator runs under kvmdbg, not on its own\n');
    process.exit(2);
  }
  harden();
  const realm = new Realm();
  const cache = new Map<string, RealmFn>();
  const progs = new Map<number, World['threads'][number]['prog']>();
  process.on('disconnect', () => process.exit(0));
  // A promise an expression rejected and dropped is its own affair, not a reason to stop.
  process.on('unhandledRejection', () => undefined);
  process.on('message', (m: EvalRequest) => {
    let out: EvalAnswer;
    try {
      for (const [id, p] of m.new_progs ?? []) progs.set(id, p);
      m.w.threads.forEach((t, i) => (t.prog = progs.get(m.prog_ids[i]!) ?? []));
      let f = cache.get(m.code);
      if (!f) {
        f = realm.compile_general(m.code);
        if (cache.size > 1000) cache.clear();
        cache.set(m.code, f);
      }
      const v = realm.run_staged(f, m.w, m.e, m.v, m.limit);
      out = { id: m.id, ok: true, value: clonable(plain_copy(realm, v)) };
    } catch (e) {
      out = { id: m.id, ok: false, error: error_text(e) };
    }
    try {
      send(out);
    } catch (e) {
      send({ id: m.id, ok: false, error: `the value cannot be shown (${error_text(e)})` } satisfies EvalAnswer);
    }
  });
  send({ ready: true });
}

main();
