// JavaScript expressions over the World: `print`, `watch`, `assert`,
// breakpoint conditions and dprintf arguments. The World is passed as a
// read-only view (readonly.ts), and so are the event (`e`, also `ev`) and
// the violation (`v`) that triggered a breakpoint. Compiled once per source
// text.
import type { Event } from '../core/machine/events.js';
import type { Thread, Violation, World } from '../core/machine/world.js';
import { DebugError, one_line } from './errors.js';
import { readonly } from './readonly.js';

export interface Scope {
  w: World;
  e?: Event | undefined;
  v?: Violation | undefined;
}

type Helpers = typeof helpers;
type Compiled = (w: World, e: Event | undefined, ev: Event | undefined, v: Violation | undefined, h: Helpers) => unknown;

const cache = new Map<string, Compiled>();

export function hex_of(x: unknown): string {
  if (typeof x === 'bigint') return x < 0n ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
  if (typeof x === 'number' && Number.isInteger(x)) return x < 0 ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
  return String(x);
}

let current: World | null = null;

/** Helpers every expression can call: hex(x), thread(name), vcpu(i), mmu(name), tree(name). */
const helpers = {
  hex: hex_of,
  thread(name: string | number): Thread | undefined {
    const w = current!;
    return readonly(typeof name === 'number' ? w.threads[name] : w.threads.find((t) => t.name === name));
  },
  vcpu(i: number): unknown {
    return readonly(current!.kvm?.vcpus[i]);
  },
  mmu(name: string): unknown {
    const a = current!.arm64;
    if (!a) return undefined;
    if (name === 's2') return readonly(a.mmu);
    const m = /^nested\[(\d+)\]$/.exec(name);
    return m ? readonly(a.nested_mmus[Number(m[1])]) : undefined;
  },
  tree(name: string): unknown {
    return readonly((current as unknown as { trees?: Record<string, unknown> }).trees?.[name]);
  },
};

/** Compile an expression; a syntax error is an EINVAL that quotes it. */
export function compile_expr(src: string): Compiled {
  let fn = cache.get(src);
  if (fn) return fn;
  const text = src.trim();
  if (!text) throw new DebugError('EINVAL', 'an expression is needed');
  try {
    fn = new Function('w', 'e', 'ev', 'v', '$h', `"use strict"; const {hex, thread, vcpu, mmu, tree} = $h; return (${text}\n);`) as Compiled;
  } catch (err) {
    throw new DebugError('EINVAL', `cannot parse "${one_line(text)}": ${(err as Error).message}`);
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(src, fn);
  return fn;
}

/** Evaluate a compiled expression; what it throws propagates (callers decide how to report it). */
export function run_expr(fn: Compiled, s: Scope): unknown {
  const prev = current;
  current = s.w;
  try {
    const e = s.e === undefined ? undefined : readonly(s.e);
    return fn(readonly(s.w), e, e, s.v === undefined ? undefined : readonly(s.v), helpers);
  } finally {
    current = prev;
  }
}

/** Compile and evaluate; errors thrown by the expression become EINVAL with its message. */
export function eval_expr(src: string, s: Scope): unknown {
  const fn = compile_expr(src);
  try {
    return run_expr(fn, s);
  } catch (err) {
    if (err instanceof DebugError) throw err;
    throw new DebugError('EINVAL', `${one_line(src)}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}
