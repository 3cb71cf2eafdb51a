// Recording a debugger Session (`record start FILE` / `record stop`,
// `repl --record FILE`, `tui --record FILE`).
//
// A Session travels in time: it goes back, forces another thread, pokes in
// the past, and its history (the timeline) changes under it. The recording
// follows the session's current timeline: after each command the front end
// calls sync(), which compares the timeline with what the file holds,
// writes a rewind line if the session took another path, and appends the
// new steps and commands. A shadow Machine replays what is written (with
// the session's scheduler policy, the way `kvmdbg replay` will), which
// gives each step's injected-fault answers and the state hashes, and
// checks the recording reproduces the session's World.
//
// This module does not import src/debugger: it takes any object with the
// Session's public shape (RecordableSession) and a poke applier.
import type { Schedule } from '../core/machine/machine.js';
import { hash_value } from '../core/machine/hash.js';
import type { World } from '../core/machine/world.js';
import { create_world } from '../core/world_init.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { EndStatus, RecCmd } from './format.js';
import { make_header } from './recorder.js';
import { combine_parts, diff_parts, world_parts } from './parts.js';
import { Divergence, Replayer, type History, type PokeApplier } from './replay.js';
import { RecordingWriter, type EndState, type WriterOptions } from './writer.js';

/** What the recorder reads from a Session (src/debugger/session.ts has all of it). */
export interface RecordableSession {
  /** The live World (at step_no). */
  readonly world: World;
  readonly step_no: number;
  /** The last step of the current timeline. */
  readonly end_step: number;
  /** Picks and choice answers of the current timeline. */
  schedule(): Schedule;
  /** Steps the user forced, ascending. */
  forced_steps(): number[];
  /** State changes of the current timeline, by step. */
  pokes(): readonly { step: number; name: string; args: Record<string, unknown>; text: string }[];
  /**
   * Optional, for a recording that keeps up during a long run: a number
   * that changes whenever the timeline is cut or replaced (while it stays,
   * the timeline only grows), and the raw picks after step k (~id where forced).
   */
  readonly timeline_epoch?: number;
  picks_since?(k: number): ArrayLike<number>;
}

export interface SessionRecorderOptions extends WriterOptions {
  /** The scenario the session's initial World was built from (create_world(scenario.config)). */
  scenario: LoadedScenario;
  /** Applies a poke to a World: `(w, name, args) => poke_def(name).apply(w, args)`. */
  apply_poke: PokeApplier;
  hash_every?: number;
  /** Copies of the shadow World kept for rewinds (default 32). */
  max_checkpoints?: number;
}

/** The recording cannot follow the session (it was reset to another World, or the model is not deterministic). */
export class SessionRecordingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionRecordingError';
  }
}

function same_cmd(c: RecCmd, p: { step: number; name: string; args: Record<string, unknown>; text: string }): boolean {
  return c.step === p.step && c.poke === p.name && c.cmd === p.text && hash_value(c.args) === hash_value(p.args);
}

export class SessionRecorder {
  readonly writer: RecordingWriter;
  readonly hash_every: number;
  private readonly hist: History & { picks: number[] };
  private shadow!: Replayer;
  /** Copies of the shadow World before the commands at `step`, sharing the threads' programs (they never change). */
  private cps: { step: number; w: World; progs: World['threads'][number]['prog'][] }[] = [];
  private hashed_to = -1;
  private readonly max_cps: number;
  /** The session's timeline_epoch at the last full comparison (NaN: none yet). */
  private epoch = NaN;
  /** Compare the session's World with the replayed one at this sync (not between the slices of a run). */
  private check = true;

  /** Open `path` and write the session's timeline so far (steps 1..end_step, with its commands). */
  constructor(
    private readonly session: RecordableSession,
    readonly path: string,
    private readonly opts: SessionRecorderOptions,
  ) {
    const header = make_header(opts.scenario, { ...(opts.hash_every !== undefined ? { hash_every: opts.hash_every } : {}), drive: 'policy' });
    this.hash_every = header.hash_every;
    this.max_cps = Math.max(4, opts.max_checkpoints ?? 32);
    this.hist = { picks: [], choices: new Map(), cmds: [], drive: 'policy' };
    // In a REPL, Ctrl-C interrupts a command, not the recording: only SIGTERM and SIGHUP close it by default.
    this.writer = new RecordingWriter(path, header, { signals: opts.signals ?? ['SIGTERM', 'SIGHUP'], ...(opts.on_signal ? { on_signal: opts.on_signal } : {}) });
    this.writer.end_state = () => {
      this.sync();
      return this.end_state();
    };
    try {
      this.shadow = this.replayer(create_world(opts.scenario.config));
      this.sync();
    } catch (e) {
      this.writer.abandon();
      throw e;
    }
  }

  /** Steps in the recording (the session's timeline as of the last sync). */
  get steps(): number {
    return this.hist.picks.length;
  }

  get closed(): boolean {
    return this.writer.closed;
  }

  /**
   * Bring the file up to date with the session's timeline. Call it after
   * every command that may run steps or change the World (cheap when
   * nothing changed: it compares the timeline with the recorded one).
   */
  sync(opts: { check?: boolean } = {}): void {
    if (this.writer.closed) return;
    this.check = opts.check ?? true;
    try {
      this.sync_inner();
    } catch (e) {
      this.writer.abandon();
      if (e instanceof Divergence) throw new SessionRecordingError(`${this.path}: the recording stopped: it cannot reproduce the session (${e.message})`);
      throw e;
    }
  }

  /** sync(), the end line (status 'stopped' unless told), fsync, close. */
  close(status: EndStatus = 'stopped'): void {
    if (this.writer.closed) return;
    this.sync();
    this.writer.close(status, this.end_state());
  }

  private sync_inner(): void {
    const s = this.session;
    const pokes = s.pokes();
    const hp = this.hist.picks;
    const hc = this.hist.cmds;
    // The same timeline, grown at its end (a long run between two syncs): only the new steps are compared and written.
    if (s.timeline_epoch !== undefined && s.timeline_epoch === this.epoch && s.picks_since && s.end_step >= hp.length && pokes.length >= hc.length) {
      this.append(s.picks_since(hp.length), hp.length, pokes);
      return;
    }
    this.epoch = s.timeline_epoch ?? NaN;
    const sched = s.schedule();
    const raw = sched.picks;
    for (const f of s.forced_steps()) if (f <= raw.length) raw[f - 1] = ~raw[f - 1]!;
    let p = 0;
    const lim = Math.min(hp.length, raw.length);
    while (p < lim && hp[p] === raw[p]) p++;
    let k = 0;
    while (k < hc.length && k < pokes.length && same_cmd(hc[k]!, pokes[k]!)) k++;

    if (p < hp.length || k < hc.length) {
      // The session took another path: back to the last step both agree on.
      let at = p;
      if (k < hc.length) at = Math.min(at, hc[k]!.step);
      if (k < pokes.length) at = Math.min(at, pokes[k]!.step);
      let keep = 0;
      while (keep < k && hc[keep]!.step <= at) keep++;
      this.writer.rewind(at, keep);
      hp.length = at;
      for (const st of [...this.hist.choices.keys()]) if (st > at) this.hist.choices.delete(st);
      hc.length = keep;
      this.hashed_to = Math.min(this.hashed_to, at);
      while (this.cps.length > 1 && this.cps[this.cps.length - 1]!.step > at) this.cps.pop();
      const cp = this.cps[this.cps.length - 1]!;
      const w = structuredClone(cp.w);
      w.threads.forEach((t, i) => (t.prog = cp.progs[i] ?? []));
      this.shadow = this.replayer(w);
      while (this.shadow.w.step < at) this.shadow.step();
    }

    this.append(raw, 0, pokes);
  }

  /** Append the picks raw[i - from] for steps i+1 (i >= the steps recorded) and the commands that follow. */
  private append(raw: ArrayLike<number>, from: number, pokes: ReturnType<RecordableSession['pokes']>): void {
    const s = this.session;
    const hp = this.hist.picks;
    const hc = this.hist.cmds;
    // Append: the commands at the step the shadow is at, then each new step and its commands.
    let j = hc.length;
    const cmds_at = (step: number) => {
      while (j < pokes.length && pokes[j]!.step === step) {
        const q = pokes[j++]!;
        const c: RecCmd = { step: q.step, cmd: q.text, poke: q.name, args: structuredClone(q.args) };
        hc.push(c);
        this.writer.cmd(c);
      }
      this.shadow.apply_cmds();
    };
    cmds_at(this.shadow.w.step);
    const end = from + raw.length;
    for (let i = hp.length; i < end; i++) {
      hp.push(raw[i - from]!);
      this.shadow.step();
      cmds_at(this.shadow.w.step);
    }
    if (j < pokes.length) throw new SessionRecordingError(`${this.path}: the session has a command at step ${pokes[j]!.step} past its last step ${end}`);
    this.writer.flush();

    // The recording must reproduce the session: compare where it is cheap to (part hashes cache the programs').
    if (this.check && s.step_no === s.end_step && s.step_no === this.shadow.w.step) {
      const mine = world_parts(s.world);
      const theirs = world_parts(this.shadow.w);
      if (combine_parts(mine) !== combine_parts(theirs)) {
        const diff = diff_parts(mine, theirs);
        throw new Divergence(s.step_no, 'hash', `at step ${s.step_no} the session's World differs from the replayed one in ${diff.join(', ') || 'its history'} (was it reloaded or reseeded?)`, diff);
      }
    }
  }

  private replayer(w: World): Replayer {
    return new Replayer(w, this.hist, {
      apply_poke: this.opts.apply_poke,
      check_choices: false,
      before_pokes: (step, world) => this.at_step(step, world),
    });
  }

  /** The shadow reached `step` (before its commands): write the step, a hash, keep a checkpoint. */
  private at_step(step: number, w: World): void {
    if (step > this.writer.steps) {
      // A new step (only the append loop makes those, on the current shadow).
      const c = this.shadow.last_choices;
      if (c.length) this.hist.choices.set(step, c);
      this.writer.step(this.hist.picks[step - 1]!, c);
    }
    if (step % this.hash_every !== 0) return;
    if (step > this.hashed_to) {
      const parts = world_parts(w);
      this.writer.hash(step, combine_parts(parts), parts);
      this.hashed_to = step;
    }
    const last = this.cps[this.cps.length - 1];
    if (!last || last.step < step) {
      const progs = w.threads.map((t) => t.prog);
      for (const t of w.threads) t.prog = [];
      try {
        this.cps.push({ step, w: structuredClone(w), progs });
      } finally {
        w.threads.forEach((t, i) => (t.prog = progs[i]!));
      }
      if (this.cps.length > this.max_cps) {
        // Keep step 0 and every other one after it: the spacing doubles.
        this.cps = this.cps.filter((c, i) => i === 0 || i % 2 === 0 || i === this.cps.length - 1);
      }
    }
  }

  private end_state(): EndState {
    const parts = world_parts(this.shadow.w);
    return { hash: combine_parts(parts), parts, run_hash: this.shadow.m.hash() };
  }
}
