// The session's timeline as a history that src/explain replays on a World
// of its own (explain, hits, why-not, last-write, the TUI's swimlane): the
// session does not move.
import '../debugger/trees.js';
import '../debugger/pagetables.js';
import { apply_poke } from '../debugger/pokes.js';
import type { Session } from '../debugger/session.js';
import type { Source } from '../explain/queries.js';

/** The session's whole timeline (to its last step, past the current one after going back) as a history. */
export function session_source(s: Session): Source {
  const sch = s.schedule();
  return {
    world: () => s.initial_world(),
    h: {
      picks: sch.picks,
      // Replayer flattens the answers by step: one entry keeps them in order.
      choices: new Map(sch.choices.length ? [[1, sch.choices]] : []),
      cmds: s.pokes().map((p) => ({ step: p.step, cmd: p.text, poke: p.name, args: structuredClone(p.args) })),
      drive: 'schedule',
    },
    apply_poke,
  };
}
