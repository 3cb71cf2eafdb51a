// Scenario operations: what a thread's program can say (`access`,
// `invalidate`, `tlbi`, ...). Each layer registers its ops with a JSON
// schema for the arguments (the scenario validator uses it) and the model
// function that performs it. vCPU ops run inside the guest (see the arch's
// run loop); host ops run as a call from the thread's root function.
import type { Thread, ThreadKind, World } from './world.js';

/** A vCPU op's effect inside the guest: it completes, or it traps to the host. */
export type GuestResult = { done: true } | { exit: string };

export interface OpDef {
  name: string;
  /** Thread kinds whose programs may use the op. */
  threads: ThreadKind[];
  summary: string;
  /** JSON schema (draft 2020-12 subset that ajv understands) of the arguments. */
  schema: Record<string, unknown>;
  /** Model function run for the op (host threads), called with the args as locals. */
  fn?: string;
  /** vCPU ops: run one step of the op in guest context (no locks, no sleeping). */
  in_guest?: (w: World, t: Thread, args: Record<string, unknown>) => GuestResult;
  arch?: 'arm64' | 'x86';
}

const ops = new Map<string, OpDef>();

export function define_op(d: OpDef): OpDef {
  if (ops.has(d.name)) throw new Error(`op ${d.name} defined twice`);
  ops.set(d.name, d);
  return d;
}

/** Unload a patch's op (src/patch). */
export function forget_op(name: string): void {
  ops.delete(name);
}

export function op_named(name: string): OpDef | undefined {
  return ops.get(name);
}

export function all_ops(): OpDef[] {
  return [...ops.values()];
}

/** Schema fragments shared by ops. Addresses are integers or strings like 0x8000_0000 / 2M, resolved by the scenario loader. */
export const S = {
  addr: { type: 'integer', minimum: 0, maximum: 2 ** 52 },
  size: { type: 'integer', minimum: 1, maximum: 2 ** 52 },
  u64: { type: ['integer', 'string'] },
  bool: { type: 'boolean' },
  int: { type: 'integer' },
} as const;
