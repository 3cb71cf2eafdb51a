// Fields the model keeps for the reader, not for its own decisions: the
// step a TLB entry was filled at, the step a table page was freed at, how
// many pages a vCPU's memory cache holds. Their values reach messages, the
// REPL and events' descriptive fields; no step, wait predicate or
// invariant verdict branches on them, except a stamp on its sign (-1: not
// set) and on being in the past. Declaring them lets the explorer's state
// key (src/explore/track.ts) hash them by that class alone, so two paths
// that reach the same state at different times meet in the visited set.
// test/explore/history.test.ts perturbs every declared field between steps
// and checks that the runs do not change.
//
// A name is declared once for the whole World: every field of that name,
// at any depth (a frame's locals too), is of that kind.

export type HistoryKind =
  /** A step or event number, or a record of them: compared with nothing but -1 and the present. */
  | 'stamp'
  /** A number nothing reads but the code that keeps it (memcache fill level). */
  | 'count'
  /** A timed wait's deadline (a step number in the future): the explorer keys on the time left instead (sim.ts). */
  | 'deadline';

const kinds = new Map<string, HistoryKind>();

/** Declare the fields named `name` as history of kind `kind`. */
export function define_history(name: string, kind: HistoryKind): void {
  const had = kinds.get(name);
  if (had && had !== kind) throw new Error(`history field ${name} declared as ${had} and as ${kind}`);
  kinds.set(name, kind);
}

export function history_kind(name: string): HistoryKind | undefined {
  return kinds.get(name);
}

/** Every declared field, by name (tests). */
export function history_fields(): ReadonlyMap<string, HistoryKind> {
  return kinds;
}

/** What a stamp's value says to the model: its sign (a stamp set in the past is 0, the sentinels stay). */
export function stamp_class(v: unknown): unknown {
  if (typeof v === 'number') return v >= 0 ? 0 : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(stamp_class);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = stamp_class((v as Record<string, unknown>)[k]);
  return out;
}
