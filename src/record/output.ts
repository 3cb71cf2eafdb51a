// Where kvmdbg writes a file (a recording, an export, a saved session, a
// counterexample): never over one of the command's own inputs, and never
// over an existing recording unless told to (--force). Paths are compared
// after resolving symbolic links, so `./a/../bug.rec` and a link to it are
// the same file.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../scenario/errors.js';
import { is_recording_file } from './load.js';

/** The file a path names, resolved (for a file that does not exist yet: its directory resolved). */
export function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return resolve(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

export interface OutputCheck {
  /** The command's inputs, each with what it is ("the recording", "the scenario"). */
  inputs: { path: string; what: string }[];
  /** Replace an existing recording (--force). */
  force?: boolean;
  /** What is written, for the message ("the export", "the recording"). */
  what: string;
}

/** Why `out` must not be written, or null. `-` (stdout) and devices are always fine. */
export function output_problem(out: string, c: OutputCheck): string | null {
  if (out === '-') return null;
  const target = canonical(out);
  for (const i of c.inputs) {
    if (canonical(i.path) === target) return `${out}: this is ${i.what}; ${c.what} would overwrite it (expected another file)`;
  }
  if (!existsSync(out)) return null;
  let regular = false;
  try {
    regular = statSync(out).isFile();
  } catch {
    return null;
  }
  if (regular && !c.force && is_recording_file(out)) return `${out}: a recording exists there; --force replaces it (expected a new file name)`;
  return null;
}

/** output_problem() as a UserError (the CLI exits 2). */
export function check_output(out: string, c: OutputCheck): void {
  const why = output_problem(out, c);
  if (why) throw new UserError(why);
}
