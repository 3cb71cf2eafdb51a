// JavaScript expressions over the World: `print`, `watch`, `assert`,
// breakpoint conditions and dprintf arguments. The World comes in as a
// read-only view (`w`), and so do the event (`e`, also `ev`) and the
// violation (`v`) that triggered a breakpoint; the helpers are hex(x),
// thread(name), vcpu(i), mmu(name) and tree(name).
//
// Every expression runs in a sandbox realm (sandbox_realm.ts): no
// `process`, `require`, Function constructor or host prototypes. Those in
// the bounded subset (expr_check.ts), which is nearly every condition
// anyone writes, are compiled once and called directly on the main thread,
// so a conditional breakpoint costs about what its expression does. The
// others run in a separate process with a limited heap (sandbox.ts), on a copy of
// the World, and are stopped when they run too long or the user
// interrupts them.
import type { Event } from '../core/machine/events.js';
import type { Violation, World } from '../core/machine/world.js';
import { DebugError, clip, one_line } from './errors.js';
import { check_expr } from './expr_check.js';
import { eval_general, start_general, type GeneralEval } from './sandbox.js';
import { Realm, error_text, plain_copy, type RealmFn } from './sandbox_realm.js';

export interface Scope {
  w: World;
  e?: Event | undefined;
  v?: Violation | undefined;
}

export interface Compiled {
  src: string;
  /** The text that runs (instrumented when bounded). */
  code: string;
  bounded: boolean;
  /** Why it is not bounded (null when it is). */
  why: string | null;
  /** The realm function (bounded only). */
  fn: RealmFn | null;
}

/** Callback calls an expression may make (bounded subset and evaluator alike). */
export const CALLBACK_LIMIT = 1_000_000;
/** Time limits (ms) of expressions outside the bounded subset. */
export const limits = {
  /** At a step (a condition, a watch): the longest a continue can be kept from seeing Ctrl-C. */
  step_ms: 500,
  /** A one-off evaluation (`print`, `assert`, checking a condition when it is set). */
  once_ms: 10_000,
};

let realm: Realm | null = null;
const cache = new Map<string, Compiled>();
let evals = 0;

function the_realm(): Realm {
  return (realm ??= new Realm());
}

export function hex_of(x: unknown): string {
  if (typeof x === 'bigint') return x < 0n ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
  if (typeof x === 'number' && Number.isInteger(x)) return x < 0 ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
  return String(x);
}

/** Parse and compile an expression (once per text); a syntax error is an EINVAL that quotes it. */
export function compile_expr(src: string): Compiled {
  let c = cache.get(src);
  if (c) return c;
  const k = check_expr(src);
  let fn: RealmFn | null = null;
  if (k.bounded) {
    try {
      fn = the_realm().compile_bounded(k.code);
    } catch (err) {
      throw new DebugError('EINVAL', `cannot parse ${clip(src.trim())}: ${error_text(err)}`);
    }
  }
  c = { src, code: k.code, bounded: k.bounded, why: k.why, fn };
  if (cache.size > 10_000) cache.clear();
  cache.set(src, c);
  return c;
}

/** Evaluations so far (the Session yields to the event loop after many, so that Ctrl-C is seen). */
export function expr_evals(): number {
  return evals;
}

/**
 * Evaluate at a step: bounded expressions on this thread, the others in the
 * evaluator within limits.step_ms (or `limit_ms`). The value may hold
 * read-only views (plain() copies it); what the expression throws
 * propagates as it is, a DebugError for a timeout or a memory limit.
 */
export function run_expr(c: Compiled, s: Scope, limit_ms = limits.step_ms): unknown {
  evals++;
  if (c.fn) return the_realm().call(c.fn, s.w, s.e, s.v, CALLBACK_LIMIT);
  return eval_general(c.code, s.w, s.e, s.v, limit_ms, CALLBACK_LIMIT);
}

/** An error an expression threw as an EINVAL naming the expression (a DebugError stays as it is). */
export function expr_error(src: string, err: unknown): DebugError {
  if (err instanceof DebugError) return err;
  return new DebugError('EINVAL', `${clip(one_line(src))}: ${one_line(error_text(err))}`);
}

/** Compile and evaluate once, synchronously; errors thrown by the expression become EINVAL with its message. */
export function eval_expr(src: string, s: Scope): unknown {
  const c = compile_expr(src);
  try {
    return run_expr(c, s, limits.once_ms);
  } catch (err) {
    throw expr_error(src, err);
  }
}

/** A one-off evaluation a front end polls, so that the event loop (Ctrl-C, Esc, redraws) runs while it works. */
export interface EvalJob {
  /** Work for up to `ms`: {value} when done, else null; throws the expression's error (EINVAL, ETIME, ENOMEM) or EINTR. */
  resume(ms?: number): { value: unknown } | null;
  cancel(): void;
}

/** Start evaluating `src` once; `interrupted` is asked between polls. */
export function start_eval(src: string, s: Scope, interrupted: () => boolean = () => false): EvalJob {
  const c = compile_expr(src);
  if (c.fn) {
    // Bounded: done at the first resume.
    return {
      resume() {
        try {
          return { value: run_expr(c, s) };
        } catch (err) {
          throw expr_error(src, err);
        }
      },
      cancel() {},
    };
  }
  evals++;
  const job: GeneralEval = start_general(c.code, s.w, s.e, s.v, limits.once_ms, CALLBACK_LIMIT);
  return {
    resume(ms = 20) {
      if (interrupted()) {
        job.cancel();
        throw new DebugError('EINTR', `${clip(one_line(src))}: interrupted`);
      }
      try {
        return job.poll(ms) ?? null;
      } catch (err) {
        throw expr_error(src, err);
      }
    },
    cancel: () => job.cancel(),
  };
}

/** A deep plain copy of a value (read-only views replaced by copies of their objects). */
export function plain(v: unknown): unknown {
  try {
    return plain_copy(the_realm(), v);
  } catch (err) {
    throw new DebugError('EINVAL', error_text(err));
  }
}
