// One Machine executing one timeline: it follows the recorded history while
// there is one (the thread picks the user forced, the pokes at their steps,
// a recording's schedule) and records new steps past its end. The Session
// has a live Runner; reverse searches and event-log regeneration run
// scratch Runners on copies of checkpoints, so they cannot disturb it.
import { Machine, type StepResult } from '../core/machine/machine.js';
import type { World } from '../core/machine/world.js';
import type { Checkpoints } from './checkpoints.js';
import { poke_def } from './pokes.js';
import { Timeline } from './timeline.js';

export class Runner {
  readonly m: Machine;
  /** Index in tl.pokes of the next poke to apply. */
  poke_i: number;
  /** A step to checkpoint besides the interval's multiples (-1: none). */
  mark = -1;

  /** `w` is at w.step before that step's pokes; they are applied here. */
  constructor(
    readonly tl: Timeline,
    w: World,
    private readonly ck: Checkpoints | null,
    private readonly focus: () => number,
  ) {
    this.m = new Machine(w);
    const ext = tl.ext;
    if (ext && w.step < ext.picks.length) this.m.replay = { s: ext, pick: w.step, choice: tl.choice_pos(w.step) };
    this.poke_i = tl.poke_index(w.step);
    this.apply_pokes();
  }

  get w(): World {
    return this.m.w;
  }

  /**
   * One step. Inside the recorded history the recorded pick is followed
   * (`force` must then be undefined or equal to it, the Session makes sure);
   * past its end the step is recorded, forced when `force` is given.
   */
  step(force?: number): StepResult {
    const m = this.m;
    const tl = this.tl;
    const s = m.w.step + 1;
    let r: StepResult;
    if (s <= tl.length) {
      const raw = tl.raw(s);
      r = m.step(raw < 0 ? ~raw : undefined);
      if (r.status === 'ok' && r.thread!.id !== (raw < 0 ? ~raw : raw)) {
        throw new Error(`re-execution diverged at step ${s}: ${r.thread!.name} ran instead of thread ${raw < 0 ? ~raw : raw}`);
      }
    } else {
      r = m.step(force);
      if (r.status === 'ok') tl.push(Timeline.encode(r.thread!.id, force !== undefined), m.schedule.choices);
    }
    m.schedule.picks.length = 0;
    if (m.schedule.choices.length) m.schedule.choices.length = 0;
    if (r.status === 'ok') {
      const ck = this.ck;
      if (ck && (m.w.step % ck.interval === 0 || m.w.step === this.mark) && !ck.has(m.w.step)) ck.add(m.w, this.focus());
      if (this.poke_i < tl.pokes.length) this.apply_pokes();
    }
    return r;
  }

  /** Apply the recorded pokes of the current step not applied yet. */
  apply_pokes(): void {
    const pokes = this.tl.pokes;
    const w = this.m.w;
    while (this.poke_i < pokes.length && pokes[this.poke_i]!.step === w.step) {
      const p = pokes[this.poke_i++]!;
      poke_def(p.name).apply(w, structuredClone(p.args));
      w.events.length = 0;
    }
  }
}
