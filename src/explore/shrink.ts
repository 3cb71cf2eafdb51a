// Shrinking a violating schedule (delta debugging, Zeller and Hildebrandt,
// "Simplifying and Isolating Failure-Inducing Input", TSE 2002, applied to
// schedules as in CHESS's and rr's reducers).
//
// A schedule is cut into segments: runs of steps of one thread, each step
// with its answers to the injected-fault choices. A candidate is a list of
// segments, run leniently: a segment whose thread cannot run is skipped,
// and when the segments run out the run goes on without preemption (the
// thread that ran last while it can, else the lowest-numbered runnable one)
// with no injected faults. A candidate is kept when the same invariant
// breaks within no more steps, no more context switches and no more
// injected faults, and at least one of the three went down; what is kept is
// the schedule that actually ran. The passes (drop chunks of segments,
// halving the chunk size; clear each injected fault; halve each segment)
// repeat until none helps or the replay budget is spent. The result replays
// strictly to the same violation; shrink() checks that before it returns.
import { Machine, type Schedule } from '../core/machine/machine.js';
import type { ChoiceKind } from '../core/machine/scheduler.js';
import type { Thread, Violation, World } from '../core/machine/world.js';
import { create_world, type WorldConfig } from '../core/world_init.js';

interface Step {
  t: number;
  c: number[];
}

interface Segment {
  t: number;
  steps: Step[];
}

export interface Measure {
  steps: number;
  /** Context switches: steps whose thread differs from the previous step's. */
  switches: number;
  /** Non-zero choice answers. */
  faults: number;
}

export interface ShrinkResult extends Measure {
  schedule: Schedule;
  violation: Violation;
  violations: Violation[];
  original: Measure;
  /** Candidate runs tried. */
  replays: number;
}

export interface ShrinkOptions {
  /** Candidate runs at most (default 2000). */
  max_replays?: number;
  /** performance.now() deadline in ms. */
  deadline?: number;
}

interface Attempt extends Measure {
  ok: boolean;
  schedule: Schedule;
  violations: Violation[];
}

/** The steps of a schedule with the answers each consumed. */
function split_steps(config: WorldConfig, s: Schedule): Step[] {
  const m = new Machine(create_world(config));
  m.replay = { s, pick: 0, choice: 0 };
  const out: Step[] = [];
  for (let i = 0; i < s.picks.length; i++) {
    const c0 = m.schedule.choices.length;
    const r = m.step();
    if (r.status !== 'ok') break;
    out.push({ t: r.thread!.id, c: m.schedule.choices.slice(c0) });
  }
  return out;
}

function segments(steps: Step[]): Segment[] {
  const out: Segment[] = [];
  for (const s of steps) {
    const last = out[out.length - 1];
    if (last && last.t === s.t) last.steps.push(s);
    else out.push({ t: s.t, steps: [s] });
  }
  return out;
}

export function measure(s: Schedule): Measure {
  let switches = 0;
  for (let i = 1; i < s.picks.length; i++) if (s.picks[i] !== s.picks[i - 1]) switches++;
  let faults = 0;
  for (const c of s.choices) if (c !== 0) faults++;
  return { steps: s.picks.length, switches, faults };
}

function better(a: Measure, b: Measure): boolean {
  return a.steps <= b.steps && a.switches <= b.switches && a.faults <= b.faults && (a.steps < b.steps || a.switches < b.switches || a.faults < b.faults);
}

/** Whether a run that stopped with `violations` (or a deadlock) shows `target`. */
function shows(target: string, violations: Violation[]): boolean {
  return violations.some((v) => v.invariant === target);
}

function deadlocked(w: World): Violation | null {
  const stuck = w.threads.filter((t) => !t.done && !t.daemon);
  if (!stuck.length) return null;
  return {
    invariant: 'deadlock',
    message: `every thread left is blocked: ${stuck.map((t) => t.name).join(', ')}`,
    step: w.step,
    thread: stuck[0]!.name,
    values: { blocked: stuck.map((t) => t.name) },
  };
}

/** Run `segs` leniently for at most `limit` steps; ok when `target` breaks. */
function attempt(config: WorldConfig, segs: Segment[], target: string, limit: number): Attempt {
  let answers: number[] = [];
  let ai = 0;
  const m = new Machine(create_world(config), {
    chooser: (_w: World, _t: Thread, kind: ChoiceKind) => {
      const v = ai < answers.length ? answers[ai]! : 0;
      ai++;
      return v < kind.n ? v : 0;
    },
  });
  let si = 0;
  let sp = 0;
  let last = -1;
  const fail = (): Attempt => ({ ok: false, schedule: m.schedule, violations: [], ...measure(m.schedule) });
  for (let n = 0; n < limit; n++) {
    const runnable = m.runnable();
    if (runnable.length === 0) {
      const d = target === 'deadlock' ? deadlocked(m.w) : null;
      if (d) return { ok: true, schedule: m.schedule, violations: [d], ...measure(m.schedule) };
      return fail();
    }
    while (si < segs.length && (sp >= segs[si]!.steps.length || !runnable.includes(segs[si]!.t))) {
      si++;
      sp = 0;
    }
    let t: number;
    if (si < segs.length) {
      const st = segs[si]!.steps[sp++]!;
      t = st.t;
      answers = st.c;
    } else {
      t = runnable.includes(last) ? last : runnable[0]!;
      answers = [];
    }
    ai = 0;
    const r = m.step(t);
    last = t;
    if (r.violations.length) {
      if (shows(target, r.violations)) return { ok: true, schedule: m.schedule, violations: [...r.violations], ...measure(m.schedule) };
      return fail();
    }
  }
  // A deadlock right after the last step allowed.
  if (target === 'deadlock' && m.runnable().length === 0) {
    const d = deadlocked(m.w);
    if (d) return { ok: true, schedule: m.schedule, violations: [d], ...measure(m.schedule) };
  }
  return fail();
}

/** Replay `s` exactly; the violations of its last step (or the deadlock after it). */
export function replay_violations(config: WorldConfig, s: Schedule): Violation[] {
  const m = new Machine(create_world(config));
  m.replay = { s, pick: 0, choice: 0 };
  let last: Violation[] = [];
  for (let i = 0; i < s.picks.length; i++) {
    const r = m.step();
    if (r.status !== 'ok') return [];
    last = r.violations;
    if (last.length && i < s.picks.length - 1) return []; // broke earlier than the schedule says
  }
  if (last.length) return [...last];
  if (m.runnable().length === 0) {
    const d = deadlocked(m.w);
    if (d) return [d];
  }
  return [];
}

export function shrink(config: WorldConfig, schedule: Schedule, target: string, opts: ShrinkOptions = {}): ShrinkResult {
  const max = opts.max_replays ?? 2000;
  const deadline = opts.deadline ?? Infinity;
  const original = measure(schedule);
  let replays = 0;
  let best: Attempt = { ok: true, schedule, violations: replay_violations(config, schedule), ...original };
  let cur = segments(split_steps(config, schedule));
  const out_of_budget = () => replays >= max || performance.now() >= deadline;
  const tryit = (cand: Segment[]): boolean => {
    if (out_of_budget()) return false;
    replays++;
    const r = attempt(config, cand, target, best.steps);
    if (r.ok && better(r, best)) {
      best = { ...r, schedule: { picks: [...r.schedule.picks], choices: [...r.schedule.choices] } };
      cur = segments(split_steps(config, best.schedule));
      return true;
    }
    return false;
  };

  let progress = true;
  while (progress && !out_of_budget()) {
    progress = false;
    // Drop chunks of segments, halving the chunk size (ddmin's complements).
    for (let size = Math.max(1, cur.length >> 1); size >= 1 && !out_of_budget(); size = size === 1 ? 0 : Math.max(1, size >> 1)) {
      for (let start = 0; start < cur.length && !out_of_budget(); ) {
        const cand = [...cur.slice(0, start), ...cur.slice(start + size)];
        if (tryit(cand)) progress = true;
        else start += size;
      }
    }
    // Clear each injected fault.
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      for (let k = 0; k < cur[si]!.steps.length && !out_of_budget(); k++) {
        const st = cur[si]!.steps[k]!;
        for (let j = 0; j < st.c.length; j++) {
          if (st.c[j] === 0) continue;
          const cand = cur.map((s, i) => (i !== si ? s : { t: s.t, steps: s.steps.map((x, kk) => (kk !== k ? x : { t: x.t, c: x.c.map((v, jj) => (jj === j ? 0 : v)) })) }));
          if (tryit(cand)) {
            progress = true;
            break;
          }
        }
      }
    }
    // Move a thread's steps together: its next segment's steps join this one (run earlier), or this one's join the next (run later).
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      const t = cur[si]!.t;
      const sj = cur.findIndex((x, j) => j > si && x.t === t);
      if (sj < 0) continue;
      const earlier = cur.map((x, i) => (i === si ? { t, steps: [...x.steps, ...cur[sj]!.steps] } : x)).filter((_, i) => i !== sj);
      if (tryit(earlier)) {
        progress = true;
        continue;
      }
      const later = cur.map((x, i) => (i === sj ? { t, steps: [...cur[si]!.steps, ...x.steps] } : x)).filter((_, i) => i !== si);
      if (tryit(later)) progress = true;
    }
    // Halve each segment (its thread's other steps come later, or not at all).
    for (let si = 0; si < cur.length && !out_of_budget(); si++) {
      const s = cur[si]!;
      if (s.steps.length < 2) continue;
      const cand = cur.map((x, i) => (i !== si ? x : { t: x.t, steps: x.steps.slice(0, x.steps.length >> 1) }));
      if (tryit(cand)) progress = true;
    }
  }

  const violations = replay_violations(config, best.schedule);
  if (!shows(target, violations)) throw new Error(`shrink: the shrunk schedule does not break ${target} when replayed`);
  const m = measure(best.schedule);
  return { schedule: best.schedule, violation: violations.find((v) => v.invariant === target)!, violations, original, replays, ...m };
}
