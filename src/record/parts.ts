// Per-part state hashes: one per top-level key of the World (and one per
// thread, by name), so a replay that diverges can say what differs
// ("kvm", "locks", "threads.vcpu1") and not only that something does.
import { hash_value } from '../core/machine/hash.js';
import type { World } from '../core/machine/world.js';

/** Keys of the World that are not hashed: the transient event buffer. */
const SKIP = new Set(['events']);

/**
 * Thread programs (Thread.prog, the scenario's op lists) never change once
 * the World is built (src/debugger/checkpoints.ts shares them between
 * copies too) and can be most of its size: each is hashed once.
 */
const prog_hashes = new WeakMap<object, string>();

function prog_hash(prog: object): string {
  let h = prog_hashes.get(prog);
  if (h === undefined) prog_hashes.set(prog, (h = hash_value(prog)));
  return h;
}

/** A thread's hash: its state, and its program's (cached) hash. */
export function thread_hash(t: World['threads'][number]): string {
  return hash_value([hash_value(t, ['prog']), prog_hash(t.prog)]);
}

export function world_parts(w: World): Record<string, string> {
  const parts: Record<string, string> = {};
  const rec = w as unknown as Record<string, unknown>;
  for (const k of Object.keys(rec).sort()) {
    if (SKIP.has(k)) continue;
    if (k === 'threads') {
      for (const t of w.threads) parts[`threads.${t.name}`] = thread_hash(t);
      continue;
    }
    parts[k] = hash_value(rec[k]);
  }
  return parts;
}

/** One hash for a set of parts. */
export function combine_parts(parts: Record<string, string>): string {
  return hash_value(parts);
}

/** Names of the parts that differ (present on one side only counts), sorted. */
export function diff_parts(a: Record<string, string>, b: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) out.push(k);
  return out.sort();
}
