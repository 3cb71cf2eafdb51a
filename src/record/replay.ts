// Replaying a recorded history on a Machine, and `kvmdbg replay`'s engine.
//
// A Replayer steps a Machine along a history (picks, choice answers,
// commands). With drive "policy" the scenario's own scheduler makes each
// pick and answers each choice, exactly as when the history was made, so
// the World (PRNG state included) comes out identical; the replay checks
// every pick and answer against the recording and stops at the first one
// that differs. Forced picks are forced again. With drive "schedule" the
// picks and answers come from the recording (Machine.replay). Commands
// (pokes) are applied after their step through an applier the caller
// supplies (src/debugger's poke handlers: this layer does not import them).
import type { Event } from '../core/machine/events.js';
import { Machine, type StepResult } from '../core/machine/machine.js';
import type { Violation, World } from '../core/machine/world.js';
import { create_world } from '../core/world_init.js';
import { invariants_for, type RunStatus } from '../scenario/run.js';
import type { Drive, RecCmd } from './format.js';
import type { Recording } from './load.js';
import { combine_parts, diff_parts, world_parts } from './parts.js';

/** Applies a recorded command to the World (src/debugger/pokes.ts: `(w, name, args) => poke_def(name).apply(w, args)`). */
export type PokeApplier = (w: World, poke: string, args: Record<string, unknown>) => void;

export type DivergenceKind = 'pick' | 'blocked' | 'choice' | 'ended' | 'hash' | 'end' | 'error' | 'poke';

/** The replay cannot follow the recording, or reaches another state: where and what differs. */
export class Divergence extends Error {
  constructor(
    /** The step at which it showed. */
    readonly step: number,
    readonly kind: DivergenceKind,
    message: string,
    /** For 'hash': the parts of the World that differ. */
    readonly parts: string[] = [],
    /** For 'hash': the last step whose hash matched (null: none was checked). */
    readonly last_match: number | null = null,
  ) {
    super(message);
    this.name = 'Divergence';
  }
}

export interface History {
  /** Thread index per step (index i is step i+1); ~index where forced. */
  picks: ArrayLike<number>;
  choices: Map<number, number[]>;
  /** Sorted by step. */
  cmds: RecCmd[];
  drive: Drive;
}

export interface ReplayerOptions {
  apply_poke?: PokeApplier;
  /** Called at every step (and at the start) with the World after the step, before that step's commands. */
  before_pokes?: (step: number, w: World) => void;
  /** Check the choice answers against history.choices (default true). */
  check_choices?: boolean;
  /** Check invariants after every step (default true). */
  invariants?: boolean;
  /** For drive "schedule" starting past step 0: choice answers consumed before w.step. */
  choice_pos?: number;
}

const NONE: number[] = [];

function same(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Replayer {
  readonly m: Machine;
  /** The answers consumed by the last step. */
  last_choices: number[] = NONE;
  private cmd_i: number;
  private readonly check_choices: boolean;

  /** `w` is at w.step, before that step's commands: they are applied here. */
  constructor(
    w: World,
    readonly h: History,
    private readonly opts: ReplayerOptions = {},
  ) {
    this.m = new Machine(w, { invariants: opts.invariants ?? true });
    this.check_choices = opts.check_choices ?? true;
    if (h.drive === 'schedule') {
      const picks = Array.from(h.picks, (v) => (v < 0 ? ~v : v));
      const steps = [...h.choices.keys()].sort((a, b) => a - b);
      const flat: number[] = [];
      for (const s of steps) flat.push(...h.choices.get(s)!);
      this.m.replay = { s: { picks, choices: flat }, pick: w.step, choice: opts.choice_pos ?? 0 };
    }
    let i = 0;
    while (i < h.cmds.length && h.cmds[i]!.step < w.step) i++;
    this.cmd_i = i;
    this.at_step();
  }

  get w(): World {
    return this.m.w;
  }

  /** Steps of the history not replayed yet. */
  get remaining(): number {
    return this.h.picks.length - this.m.w.step;
  }

  private name(id: number): string {
    return this.m.w.threads[id]?.name ?? `thread ${id}`;
  }

  /** Replay the next step of the history; throws a Divergence when it cannot be followed. */
  step(): StepResult {
    const m = this.m;
    const w = m.w;
    const s = w.step + 1;
    const n = this.h.picks.length;
    if (s > n) throw new Error(`the history has ${n} steps`);
    const raw = this.h.picks[s - 1]!;
    const want = raw < 0 ? ~raw : raw;
    let r: StepResult;
    try {
      if (this.h.drive === 'policy' && raw < 0) {
        if (!m.runnable().includes(want)) throw this.cannot_run(s, want);
        r = m.step(want);
      } else {
        if (this.h.drive === 'schedule' && m.runnable().length && !m.runnable().includes(want)) throw this.cannot_run(s, want);
        r = m.step();
      }
    } catch (e) {
      if (e instanceof Divergence) throw e;
      throw new Divergence(s, 'error', `the model failed at step ${s}: ${(e as Error)?.message ?? String(e)}`);
    }
    if (r.status !== 'ok') {
      const how = r.status === 'end' ? 'every thread had finished' : `it deadlocked (${(r.blocked ?? []).join('; ')})`;
      throw new Divergence(s, 'ended', `the replay stopped after step ${s - 1}: ${how}, but the recording has ${n} steps`);
    }
    if (r.thread!.id !== want) {
      throw new Divergence(s, 'pick', `at step ${s} the scheduler ran ${this.name(r.thread!.id)} where the recording has ${this.name(want)}`);
    }
    const got = m.schedule.choices;
    if (this.check_choices) {
      const exp = this.h.choices.get(s) ?? NONE;
      if (!same(got, exp)) {
        throw new Divergence(s, 'choice', `at step ${s} (${this.name(want)}) the injected-fault answers were [${got.join(', ')}] where the recording has [${exp.join(', ')}]`);
      }
    }
    this.last_choices = got.length ? got.slice() : NONE;
    m.schedule.picks.length = 0;
    if (got.length) got.length = 0;
    this.at_step();
    return r;
  }

  private cannot_run(s: number, id: number): Divergence {
    const t = this.m.w.threads[id];
    const why = !t ? 'there is no such thread' : t.done ? `${t.name} has finished` : `${t.name} cannot run now${t.wait ? ` (it waits: ${t.wait.kind})` : ''}`;
    return new Divergence(s, 'blocked', `at step ${s} the recording runs ${t?.name ?? `thread ${id}`}, but ${why}`);
  }

  /** The hook, then the commands made at the current step. */
  private at_step(): void {
    this.opts.before_pokes?.(this.m.w.step, this.m.w);
    this.apply_cmds();
  }

  /** Apply the history's commands made at the current step not applied yet (after appending some). */
  apply_cmds(): void {
    const w = this.m.w;
    const cmds = this.h.cmds;
    while (this.cmd_i < cmds.length && cmds[this.cmd_i]!.step <= w.step) {
      const c = cmds[this.cmd_i++]!;
      if (c.step < w.step) continue;
      if (!this.opts.apply_poke) throw new Divergence(w.step, 'poke', `the recording changes the World at step ${c.step} (\`${c.cmd}\`), and this replay cannot apply commands`);
      try {
        this.opts.apply_poke(w, c.poke, structuredClone(c.args));
      } catch (e) {
        throw new Divergence(w.step, 'poke', `\`${c.cmd}\` at step ${c.step} failed: ${(e as Error)?.message ?? String(e)}`);
      }
      w.events.length = 0;
    }
  }
}

// ------------------------------------------------------------------ replay

export interface ReplayOptions {
  /** Check every state hash in the recording (else only the end's). */
  verify?: boolean;
  apply_poke?: PokeApplier;
  on_event?: (e: Event) => void;
  /** Keep every event in the result (default false). */
  keep_events?: boolean;
}

export interface ReplayResult {
  /** How the replayed run stopped ('diverged': see divergence). */
  status: RunStatus | 'diverged';
  /** Steps replayed. */
  steps: number;
  /** Steps in the recording. */
  recorded_steps: number;
  violation: Violation | null;
  violations: Violation[];
  blocked: string[];
  metrics: Record<string, number>;
  /** Machine.hash() of the World reached: what `kvmdbg run` prints. */
  hash: string;
  events: Event[];
  invariants: number;
  divergence: Divergence | null;
  /** State hashes compared (the end's included). */
  hashes_checked: number;
  /** The last step whose state hash matched (null: none compared). */
  last_match: number | null;
  machine: Machine;
}

/** Re-run a recording from its scenario, checking it as it goes. */
export function replay_recording(rec: Recording, opts: ReplayOptions = {}): ReplayResult {
  const events: Event[] = [];
  const keep = opts.keep_events ?? false;
  let checked = 0;
  let last_match: number | null = null;
  const check = (step: number, hash: string, parts: Record<string, string> | undefined, w: World, what: string) => {
    const mine = world_parts(w);
    checked++;
    if (combine_parts(mine) === hash) {
      last_match = step;
      return;
    }
    const diff = parts ? diff_parts(mine, parts) : [];
    const since = last_match === null ? '' : `; it matched at step ${last_match}`;
    throw new Divergence(step, 'hash', `${what} differs from the recording${diff.length ? ` in ${diff.join(', ')}` : ''}${since}`, diff, last_match);
  };
  const before_pokes = opts.verify
    ? (step: number, w: World) => {
        const h = rec.hashes.get(step);
        if (h) check(step, h.hash, h.parts, w, `the World after step ${step}`);
      }
    : undefined;

  let divergence: Divergence | null = null;
  let first_violations: Violation[] = [];
  let rp: Replayer | null = null;
  const w0 = create_world(rec.scenario.config);
  try {
    rp = new Replayer(w0, { picks: rec.picks, choices: rec.choices, cmds: rec.cmds, drive: rec.header.drive }, { ...(opts.apply_poke ? { apply_poke: opts.apply_poke } : {}), ...(before_pokes ? { before_pokes } : {}) });
    const on_event = opts.on_event;
    const sub = (e: Event) => {
      if (keep) events.push(e);
      on_event?.(e);
    };
    if (keep || on_event) rp.m.subscribe(sub);
    while (rp.remaining > 0) {
      const r = rp.step();
      if (r.violations.length && first_violations.length === 0) first_violations = [...r.violations];
    }
    const end = rec.end;
    const n = rec.picks.length;
    if (end?.hash) {
      // Each part hash is checked, not only their combination: a part changed by hand shows by name.
      const mine = world_parts(rp.w);
      const bad = end.parts ? diff_parts(mine, end.parts) : [];
      if (bad.length) {
        checked++;
        throw new Divergence(n, 'hash', `the World at the end (step ${n}) differs from the recording in ${bad.join(', ')}${last_match === null ? '' : `; it matched at step ${last_match}`}`, bad, last_match);
      }
      if (end.parts && combine_parts(end.parts) !== end.hash) {
        throw new Divergence(n, 'hash', `the end line's hash is not the hash of its parts: the recording was changed by hand`, [], last_match);
      }
      check(n, end.hash, end.parts, rp.w, `the World at the end (step ${n})`);
    }
    if (end?.run_hash !== undefined && end.run_hash !== rp.m.hash()) {
      throw new Divergence(n, 'hash', `the run's hash at the end is ${rp.m.hash()}, the recording says ${String(end.run_hash).slice(0, 40)}`, [], last_match);
    }
  } catch (e) {
    if (!(e instanceof Divergence)) throw e;
    divergence = e;
  }
  const m = rp?.m ?? new Machine(w0);
  let status: ReplayResult['status'] = 'limit';
  let blocked: string[] = [];
  if (divergence) status = 'diverged';
  else if (first_violations.length) status = 'violation';
  else if (m.runnable().length === 0) {
    const r = m.step();
    status = r.status === 'deadlock' ? 'deadlock' : 'end';
    blocked = r.blocked ?? [];
  }
  const recorded = rec.end?.status;
  if (!divergence && (recorded === 'end' || recorded === 'deadlock') && status !== recorded) {
    const n = rec.picks.length;
    divergence = new Divergence(n, 'end', status === 'limit' ? `the recording ${recorded === 'end' ? 'ends with every thread finished' : 'ends in a deadlock'} at step ${n}, but threads can still run` : `the recording ends with status ${recorded} at step ${n}, the replay with ${status}`);
    status = 'diverged';
  }
  if (status === 'end' && recorded === 'limit') status = 'limit';
  return {
    status,
    steps: m.w.step,
    recorded_steps: rec.picks.length,
    violation: first_violations[0] ?? null,
    violations: first_violations,
    blocked,
    metrics: { ...m.w.metrics },
    hash: m.hash(),
    events,
    invariants: invariants_for(rec.scenario.config.arch),
    divergence,
    hashes_checked: checked,
    last_match,
    machine: m,
  };
}
