// Safety properties, checked after every step. An invariant that declares
// `on` is only consulted after steps that emitted one of those kinds: its
// truth can only change there, and this keeps twenty invariants as cheap as
// one on steps that touch nothing they watch.
import type { Event, EventKind } from './events.js';
import type { World } from './world.js';

export interface Failure {
  message: string;
  thread: string;
  values: Record<string, unknown>;
}

export interface Invariant {
  name: string;
  description: string;
  arch?: World['arch'];
  on?: EventKind[];
  /** `ev` is the event that triggered the check (one of `on`), else null. */
  check(w: World, ev: Event | null): Failure | null;
}

const invariants: Invariant[] = [];

export function define_invariant(inv: Invariant): Invariant {
  if (invariants.some((i) => i.name === inv.name)) throw new Error(`invariant ${inv.name} defined twice`);
  invariants.push(inv);
  return inv;
}

export function all_invariants(): readonly Invariant[] {
  return invariants;
}

export function invariant_named(name: string): Invariant | undefined {
  return invariants.find((i) => i.name === name);
}

/** Unload a patch's invariant (src/patch); Machines made before keep it. */
export function forget_invariant(name: string): void {
  const i = invariants.findIndex((x) => x.name === name);
  if (i >= 0) invariants.splice(i, 1);
}
