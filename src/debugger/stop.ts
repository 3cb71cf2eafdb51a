// Why a Session stopped, as every front end reports it.
import type { Event } from '../core/machine/events.js';
import type { Violation } from '../core/machine/world.js';

export type StopReason =
  | 'breakpoint' // an event breakpoint (or a condition that threw: `error` says)
  | 'watchpoint' // a watched expression changed
  | 'violation' // an invariant failed (a catchpoint, or any when there is none)
  | 'end' // every thread finished
  | 'deadlock' // threads remain and none can run
  | 'blocked' // `step THREAD N`: the thread cannot run any more
  | 'limit' // the steps asked for were done
  | 'start' // going backwards reached step 0
  | 'interrupted' // interrupt() was called
  | 'error'; // a model function threw: the step did not happen

export interface Stop {
  reason: StopReason;
  /** The step the Session is at now. */
  step: number;
  breakpoint?: number;
  event?: Event;
  violation?: Violation;
  watch?: { id: number; expr: string; old: unknown; new: unknown };
  error?: string;
  /** Deadlock, blocked: each stuck thread and what it waits for. */
  blocked?: string[];
  /** Lines printed by dprintf breakpoints on the way. */
  printed?: string[];
  /** The stopping breakpoint's command list, for the front end to run. */
  commands?: string[];
}
