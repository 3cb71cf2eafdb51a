// The scheduler: the only source of nondeterminism. It picks the next thread
// among the runnable ones and answers the injected-fault choices (allocation
// failure, lock drop at cond_resched, ...). Round-robin, seeded random (the
// PRNG state lives in the World) and scripted policies; a Replay answers
// from a recorded schedule instead.
import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import type { SchedState, Thread, World } from './world.js';

export function sched_init(policy: SchedState['policy'], seed: number, script: string[] = []): SchedState {
  return { policy, rng: [...xoroshiro128plus(seed).getState()], seed, rr: -1, script, script_pos: 0 };
}

/** A uniform integer in [0, n) from the World's PRNG. */
export function sched_rand(s: SchedState, n: number): number {
  const g = xoroshiro128plus.fromState(s.rng);
  const v = unsafeUniformIntDistribution(0, n - 1, g);
  s.rng = [...g.getState()];
  return v;
}

/**
 * Pick among `runnable` (thread ids, ascending). Returns a thread id.
 * A script names threads; when it runs out, or names a thread that cannot
 * run now, the pick falls back to round-robin (`script_stalled` tells).
 */
export function sched_pick(w: World, runnable: number[]): number {
  const s = w.sched;
  switch (s.policy) {
    case 'random':
      return runnable[sched_rand(s, runnable.length)]!;
    case 'script': {
      while (s.script_pos < s.script.length && s.script[s.script_pos]!.includes('=')) s.script_pos++;
      if (s.script_pos < s.script.length) {
        const name = s.script[s.script_pos]!;
        const t = w.threads.find((x) => x.name === name);
        if (t && runnable.includes(t.id)) {
          s.script_pos++;
          s.rr = t.id;
          return t.id;
        }
      }
      return rr_pick(s, runnable);
    }
    case 'rr':
      return rr_pick(s, runnable);
  }
}

function rr_pick(s: SchedState, runnable: number[]): number {
  for (const id of runnable) {
    if (id > s.rr) {
      s.rr = id;
      return id;
    }
  }
  s.rr = runnable[0]!;
  return s.rr;
}

/** The kinds of injected fault a model can ask the scheduler about. */
export interface ChoiceKind {
  name: string;
  /** Number of alternatives; 0 is always "nothing unusual happens". */
  n: number;
  description: string;
  /** Chance of a non-zero answer under the random policy. */
  p_random: number;
  /**
   * Answers an exhaustive search tries (default n): each answer at or above
   * this one only forbids schedules that a lower non-zero answer allows and
   * leads to the same steps, so it cannot reach anything new.
   */
  exhaustive?: number;
}

const choice_kinds = new Map<string, ChoiceKind>();

export function define_choice(c: ChoiceKind): ChoiceKind {
  choice_kinds.set(c.name, c);
  return c;
}

export function choice_kind(name: string): ChoiceKind | undefined {
  return choice_kinds.get(name);
}

/** Policy answer to a choice: random draws from the World's PRNG, scripts say `kind=value`. */
export function sched_choose(w: World, kind: ChoiceKind): number {
  const s = w.sched;
  if (s.policy === 'random') {
    if (kind.n <= 1) return 0;
    // Draw in 1/1024ths so that the probability is a plain integer ratio.
    if (sched_rand(s, 1024) >= Math.round(kind.p_random * 1024)) return 0;
    return 1 + sched_rand(s, kind.n - 1);
  }
  if (s.policy === 'script') {
    const tok = s.script[s.script_pos];
    const prefix = `${kind.name}=`;
    if (tok !== undefined && tok.startsWith(prefix)) {
      s.script_pos++;
      const v = Number(tok.slice(prefix.length));
      return Number.isInteger(v) && v >= 0 && v < kind.n ? v : 0;
    }
  }
  return 0;
}

/** The function models call: routed to whatever chooser the machine installed. */
export type Chooser = (w: World, t: Thread, kind: ChoiceKind) => number;

let active: Chooser = (w, _t, kind) => sched_choose(w, kind);

export function set_chooser(c: Chooser): Chooser {
  const prev = active;
  active = c;
  return prev;
}

export function choose(w: World, t: Thread, kind: ChoiceKind): number {
  return active(w, t, kind);
}
