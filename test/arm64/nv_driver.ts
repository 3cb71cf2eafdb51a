// A goal-directed scheduler for NV tests: run one thread at a time until
// something the kernel code does has happened (an event, a frame, a wait),
// so a test reaches an interleaving by what it means rather than by step
// numbers, which move whenever the model changes.
import '../../src/core/world_init.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import type { ChoiceKind } from '../../src/core/machine/scheduler.js';
import type { Thread, Violation, World } from '../../src/core/machine/world.js';
import { parse_scenario } from '../../src/scenario/load.js';

export type Answer = (w: World, t: Thread, kind: ChoiceKind) => number;

export class Driver {
  readonly m: Machine;
  readonly events: Event[] = [];
  readonly violations: Violation[] = [];

  constructor(yaml: string, variants: string[] = [], answer: Answer = () => 0) {
    const loaded = parse_scenario(yaml, 'driver.yaml', { variants });
    this.m = new Machine(create_world(loaded.config), { chooser: answer });
  }

  get w(): World {
    return this.m.w;
  }

  thread(name: string): Thread {
    const t = this.w.threads.find((x) => x.name === name);
    if (!t) throw new Error(`no thread ${name}`);
    return t;
  }

  /** Step `name` alone until `done` holds after a step (the events of that step included). */
  run_until(name: string, done: (w: World, t: Thread, step_events: Event[]) => boolean, max = 20_000): void {
    const t = this.thread(name);
    for (let i = 0; i < max; i++) {
      if (t.done) throw new Error(`${name} finished before the condition held`);
      if (!this.m.runnable().includes(t.id)) throw new Error(`${name} cannot run (${t.wait?.kind ?? '?'}) before the condition held`);
      const r = this.m.step(t.id);
      this.events.push(...r.events);
      this.violations.push(...r.violations);
      if (done(this.w, t, r.events)) return;
    }
    throw new Error(`${name}: condition not reached in ${max} steps`);
  }

  /** Step `name` until it emits an event of `kind` (matching `where`). */
  run_until_event(name: string, kind: string, where: (e: Event) => boolean = () => true): Event {
    let hit: Event | undefined;
    this.run_until(name, (_w, _t, evs) => (hit = evs.find((e) => e.kind === kind && where(e))) !== undefined);
    return hit!;
  }

  /** Step `name` until ops before number `ip` of its program are done (the next to run is `ip`). */
  run_to_op(name: string, ip: number): void {
    if (this.thread(name).ip >= ip) return;
    this.run_until(name, (_w, t) => t.ip >= ip);
  }

  /** Step `name` until it blocks (a wait the scheduler must satisfy first). */
  run_until_blocked(name: string): void {
    this.run_until(name, (w, t) => t.wait !== null && !this.m.runnable().includes(t.id));
  }

  run_to_end(name: string): void {
    const t = this.thread(name);
    if (t.done) return;
    this.run_until(name, (_w, x) => x.done);
  }

  /** Events of `kind` seen so far, optionally only those of thread `name`. */
  seen(kind: string, name?: string): Event[] {
    return this.events.filter((e) => e.kind === kind && (name === undefined || e.thread === name));
  }
}

/** Index of the first op of `thread` named `op` (and, optionally, with these args) in its program. */
export function op_index(d: Driver, thread: string, op: string, from = 0): number {
  const prog = d.thread(thread).prog;
  const i = prog.findIndex((o, k) => k >= from && o.op === op);
  if (i < 0) throw new Error(`${thread} has no ${op} op after ${from}`);
  return i;
}
