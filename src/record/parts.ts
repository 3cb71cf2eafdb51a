// Per-part state hashes: one per top-level key of the World (and one per
// thread, by name), so a replay that diverges can say what differs
// ("kvm", "locks", "threads.vcpu1") and not only that something does.
import { hash_value } from '../core/machine/hash.js';
import type { World } from '../core/machine/world.js';

/** Keys of the World that are not hashed: the transient event buffer. */
const SKIP = new Set(['events']);

export function world_parts(w: World): Record<string, string> {
  const parts: Record<string, string> = {};
  const rec = w as unknown as Record<string, unknown>;
  for (const k of Object.keys(rec).sort()) {
    if (SKIP.has(k)) continue;
    if (k === 'threads') {
      for (const t of w.threads) parts[`threads.${t.name}`] = hash_value(t);
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
