// Opening a recording in the debugger (`kvmdbg repl FILE`, `kvmdbg tui
// FILE`): what a Session needs to start with the recorded history as its
// own timeline, so that every step of it can be reached (goto, reverse-*),
// positioned at its end or at --goto N.
import type { Schedule } from '../core/machine/machine.js';
import type { World } from '../core/machine/world.js';
import { create_world } from '../core/world_init.js';
import type { Recording } from './load.js';

export interface RecordedPoke {
  step: number;
  name: string;
  args: Record<string, unknown>;
  text: string;
}

export interface SessionInput {
  /** The initial World (Session's `world` option). */
  world: () => World;
  /**
   * The recorded timeline, for drive "policy" recordings (all of kvmdbg's
   * own): per step the thread index, ~index where the user forced it (the
   * Timeline's own encoding: `tl.push(picks[i], choices_at(i + 1))`), and
   * the pokes (`tl.pokes`). The Session re-executes it with its scheduler
   * policy and checks each pick, as it does for its own history.
   */
  history: { picks: Int32Array; choices_at: (step: number) => readonly number[]; pokes: RecordedPoke[] } | null;
  /** For drive "schedule" recordings: the Session's `schedule` option (picks and answers forced from the recording), with `pokes`. */
  schedule: Schedule | null;
  pokes: RecordedPoke[];
  /** Where to stand once open: the recording's last step. */
  end_step: number;
  /** The scenario's name and the recording's path, for the prompt and `info`. */
  name: string;
  path: string;
}

const NONE: readonly number[] = [];

export function session_input(rec: Recording): SessionInput {
  const config = rec.scenario.config;
  const pokes: RecordedPoke[] = rec.cmds.map((c) => ({ step: c.step, name: c.poke, args: structuredClone(c.args), text: c.cmd }));
  const policy = rec.header.drive === 'policy';
  let schedule: Schedule | null = null;
  if (!policy) {
    const steps = [...rec.choices.keys()].sort((a, b) => a - b);
    const choices: number[] = [];
    for (const s of steps) choices.push(...rec.choices.get(s)!);
    schedule = { picks: Array.from(rec.picks, (v) => (v < 0 ? ~v : v)), choices };
  }
  return {
    world: () => create_world(config),
    history: policy ? { picks: rec.picks.slice(), choices_at: (s) => rec.choices.get(s) ?? NONE, pokes } : null,
    schedule,
    pokes,
    end_step: rec.picks.length,
    name: rec.scenario.meta.name,
    path: rec.path,
  };
}
