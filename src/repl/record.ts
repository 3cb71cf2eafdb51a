// Recording a debugging session (`record start FILE`, `--record FILE`): a
// SessionRecorder (src/record) writes the session's timeline from step 0,
// time travel included, and catches up after every command.
import { apply_poke } from '../debugger/pokes.js';
import type { Session } from '../debugger/session.js';
import { SessionRecorder } from '../record/session.js';
import type { LoadedScenario } from '../scenario/load.js';
import { DebugError } from '../debugger/errors.js';
import { output_problem } from '../record/output.js';
import type { ReplHost } from './command.js';

export function start_recording(s: Session, loaded: LoadedScenario, file: string, o: { inputs?: { path: string; what: string }[]; force?: boolean } = {}): SessionRecorder {
  const why = output_problem(file, { inputs: o.inputs ?? [], force: o.force === true, what: 'the recording' });
  if (why) throw new DebugError(/exists/.test(why) ? 'EEXIST' : 'EINVAL', why);
  try {
    return new SessionRecorder(s, file, { scenario: loaded, apply_poke });
  } catch (e) {
    throw new DebugError('EINVAL', `cannot record to ${file}: ${(e as Error).message}`);
  }
}

/** Close the recording in progress (load and seed replace the World it follows). */
export function stop_recording(host: ReplHost): void {
  const rec = host.recorder;
  if (rec && !rec.closed) rec.close('stopped');
  host.recorder = null;
}
