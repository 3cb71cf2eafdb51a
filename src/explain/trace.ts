// A history replayed with the explorer's tracker on (src/explore/track.ts):
// for each step, the thread that ran, the model function and label it ran,
// the events it emitted and its footprint (what it read and wrote). This is
// what the causal slice (slice.ts) works on.
//
// The tracker's locations are cut deeper here than for the explorer, so
// that a frame's locals and a struct's fields are locations of their own:
// the slice follows a value (a snapshot of mmu_invalidate_seq, a
// pending_unmap flag) rather than a whole struct.
//
// Invariants are not checked by the Machine here (their reads would land in
// every step's footprint): they are checked on the plain World after each
// step, and only the one that fails is evaluated again on the tracked World,
// so that the violating step reads exactly what the broken invariant read.
import type { Event } from '../core/machine/events.js';
import type { Schedule } from '../core/machine/machine.js';
import { all_invariants, type Invariant } from '../core/machine/invariants.js';
import type { Violation, World } from '../core/machine/world.js';
import { create_world, type WorldConfig } from '../core/world_init.js';
import { Tracker, new_footprint } from '../explore/track.js';
import { Divergence, Replayer, type History, type PokeApplier } from '../record/replay.js';

export const SEP = '\x01';

export interface TracedStep {
  step: number;
  /** Thread index, name, CPU and vcpu_id (-1 for host threads). */
  thread: number;
  name: string;
  cpu: number;
  vcpu: number;
  /** The model function and label that ran (the innermost frame before the step). */
  fn: string;
  pc: string;
  /** The model functions on the thread's stack before the step, outermost first. */
  stack: string[];
  events: Event[];
  r: Set<string>;
  w: Set<string>;
  /** The values of the primitive locations it wrote, after the step. */
  vals: Map<string, unknown>;
}

export interface Trace {
  steps: TracedStep[];
  /** The first violation (the trace stops there unless `until` was given). */
  violation: Violation | null;
  threads: { id: number; name: string; cpu: number; vcpu: number }[];
  /** Steps the history has. */
  total: number;
}

export interface TraceOptions {
  apply_poke?: PokeApplier;
  /** Stop after this step (default: at the first violation, else at the end of the history). */
  until?: number;
}

/** Depth of the tracker's locations (see the header). */
const DEPTHS = { threads: 7, kvm: 7, arm64: 7, x86: 7 };

/** The invariants the Machine would check on this World after a step with these events, in its order. */
function failing(w: World, events: readonly Event[], invs: readonly Invariant[]): { inv: Invariant; ev: Event | null; v: Violation } | null {
  const one = (inv: Invariant, ev: Event | null) => {
    const f = inv.check(w, ev);
    return f ? { inv, ev, v: { invariant: inv.name, message: f.message, step: w.step, thread: f.thread, values: f.values } } : null;
  };
  for (const inv of invs) if (!inv.on) {
    const r = one(inv, null);
    if (r) return r;
  }
  for (const e of events) {
    for (const inv of invs) {
      if (!inv.on || !inv.on.includes(e.kind)) continue;
      const r = one(inv, e);
      if (r) return r;
    }
  }
  return null;
}

/** The value at location `loc` of `w` (undefined when it is gone). */
export function value_at(w: World, loc: string): unknown {
  let v: unknown = w;
  for (const k of loc.split(SEP)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function values(w: World, locs: Set<string>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const l of locs) {
    const v = value_at(w, l);
    if (v === null || typeof v !== 'object') out.set(l, v);
  }
  return out;
}

/** Replay `h` from `config` with footprints; throws a Divergence when the history cannot be followed. */
export function trace_history(init: WorldConfig | (() => World), h: History, opts: TraceOptions = {}): Trace {
  const raw = typeof init === 'function' ? init() : create_world(init);
  // Commands made at step 0 are applied on the plain World, before the tracker starts.
  const rp = new Replayer(raw, h, { ...(opts.apply_poke ? { apply_poke: opts.apply_poke } : {}), invariants: false, check_choices: h.drive === 'policy' });
  const tr = new Tracker(raw, { undo: true, depths: DEPTHS });
  rp.m.w = tr.world;
  const invs = all_invariants().filter((i) => !i.arch || i.arch === raw.arch);
  const threads = raw.threads.map((t) => ({ id: t.id, name: t.name, cpu: t.cpu, vcpu: t.vcpu }));
  const steps: TracedStep[] = [];
  const until = Math.min(opts.until ?? h.picks.length, h.picks.length);
  let violation: Violation | null = null;
  while (tr.raw.step < until) {
    const pick = h.picks[tr.raw.step]!;
    const t = tr.raw.threads[pick < 0 ? ~pick : pick];
    const top = t?.stack[t.stack.length - 1];
    const fn = top?.fn ?? '?';
    const pc = top?.pc ?? '?';
    const stack = t ? t.stack.map((f) => f.fn) : [];
    const fp = new_footprint();
    tr.begin(fp);
    tr.pre();
    let events: Event[];
    let who: number;
    try {
      const r = rp.step();
      events = r.events;
      who = r.thread!.id;
    } finally {
      tr.end();
    }
    const th = tr.raw.threads[who]!;
    steps.push({ step: tr.raw.step, thread: who, name: th.name, cpu: th.cpu, vcpu: th.vcpu, fn, pc, stack, events, r: fp.r, w: fp.w, vals: values(tr.raw, fp.w) });
    const f: ReturnType<typeof failing> = violation ? null : failing(tr.raw, events, invs);
    if (f) {
      // Again on the tracked World: the violating step also reads what the invariant read.
      const fp2 = new_footprint();
      tr.begin(fp2);
      tr.pre();
      const w = tr.world;
      w.step = tr.raw.step; // the tracker counts reads from the moment the step counter is set
      f.inv.check(w, f.ev);
      tr.end();
      const last = steps[steps.length - 1]!;
      for (const l of fp2.r) last.r.add(l);
      violation = f.v;
      if (opts.until === undefined) break;
    }
  }
  return { steps, violation, threads, total: h.picks.length };
}

/** A schedule (the explorer's, a shrunk one) as a history to trace: picks and answers forced. */
export function schedule_history(s: Schedule): History {
  // Replayer flattens the answers by step: one entry keeps them in order.
  return { picks: s.picks, choices: new Map(s.choices.length ? [[1, s.choices]] : []), cmds: [], drive: 'schedule' };
}

export { Divergence };
