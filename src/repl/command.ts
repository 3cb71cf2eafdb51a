// The command table: every REPL command with its usage, help, completion
// and handler; lookup by name, alias or shortest unique prefix (also for
// subcommands: `info b`, `mt st`). The REPL, batch mode and the TUI's
// command line all go through it.
import type { Session, SessionHistory, Stop } from '../debugger/session.js';
import type { Schedule } from '../core/machine/machine.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { SessionRecorder } from '../record/session.js';
import type { World } from '../core/machine/world.js';
import { DebugError, clip } from '../debugger/errors.js';
import type { Word } from './parse.js';

/** Where the session's World came from, for `save`. */
export type Origin =
  /** A scenario file with these variants (and seed) on top of its own: the command line's or `load`'s. */
  | { kind: 'scenario'; variants: string[]; seed?: number }
  /** A recording: its picks (the Timeline's encoding) and commands, which `save` does not repeat. */
  | { kind: 'recording'; picks: Int32Array; pokes: { step: number; text: string }[] };

/** What the front end gives the interpreter: the Session and how to load a scenario. */
export interface ReplHost {
  session: Session;
  /**
   * Build a World factory from a scenario file or a recording (the CLI
   * wires src/scenario); `over`: variants and seed that replace the command
   * line's. Absent: `load` is ENOSYS.
   */
  load?: (path: string, over?: { variant?: string[]; seed?: number }) => LoadedWorld;
  origin?: Origin;
  /** The scenario the session runs, if it came from a file. */
  scenario?: { name: string; path: string } | null;
  /** The loaded scenario (what a recording's header holds); absent: `record` is ENOSYS. */
  loaded?: LoadedScenario | null;
  /** The recording in progress (`record start`, `--record`), synced after every command. */
  recorder?: SessionRecorder | null;
  /** Files the session reads (its scenario or recording, scripts): `save` and `record` never write over them. */
  inputs?: { path: string; what: string }[];
}

export interface LoadedWorld {
  world: () => World;
  name: string;
  path: string;
  loaded?: LoadedScenario;
  origin?: Origin;
  /** A recording: its history, to open at its end. */
  history?: SessionHistory | null;
  schedule?: Schedule | null;
  end_step?: number;
}

/** What a command handler sees. */
export interface Ctx {
  s: Session;
  host: ReplHost;
  /** Run another command line (source, breakpoint command lists). */
  exec_nested: (line: string) => NestedResult;
  /** The whole command table (help, completion). */
  table: readonly Command[];
  keep_going: boolean;
  /** Nesting depth of `source`. */
  depth: number;
}

export interface NestedResult {
  cmd: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  text: string;
}

export interface Args {
  /** The words after the command (and subcommand) name, quotes removed. */
  words: string[];
  /** The same words with their positions in `rest`. */
  tokens: Word[];
  /** The raw text after the command (and subcommand) name. */
  rest: string;
  /** The whole line. */
  line: string;
}

/** A command's answer: the JSON result and the text for people. */
export interface Reply {
  json: unknown;
  text: string;
  /** The run stopped here (a stop with a command list makes the interpreter run it). */
  stop?: Stop;
  quit?: boolean;
}

/**
 * A long command: the job runs a slice at a time (a run of steps, or an
 * expression in the evaluator), then finish() makes the reply. Front ends
 * that keep their event loop going between slices see Ctrl-C and Esc.
 */
export interface Pending<T = Stop> {
  job: { resume(): T | null };
  finish(r: T): Reply;
}

export interface Command {
  name: string;
  aliases?: string[];
  usage: string;
  summary: string;
  /** More lines for `help CMD`. */
  help?: string;
  sub?: Command[];
  /** Candidates for the word being completed; `words` are the ones before it. */
  complete?: (s: Session, words: string[]) => string[];
  run?: (ctx: Ctx, a: Args) => Reply | Pending<unknown>;
}

export function is_pending(r: Reply | Pending<unknown>): r is Pending<unknown> {
  return (r as Pending<unknown>).job !== undefined;
}

/** Resolve a word against a table: exact name or alias, else a unique prefix. */
export function resolve(table: readonly Command[], word: string, what = 'command'): Command {
  const w = word.toLowerCase();
  const exact = table.find((c) => c.name === w || c.aliases?.includes(w));
  if (exact) return exact;
  const hits = table.filter((c) => c.name.startsWith(w));
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new DebugError('EINVAL', `undefined ${what} ${clip(word, 60)}; try "help"`);
  throw new DebugError('EINVAL', `ambiguous ${what} ${clip(word, 60)}: ${hits.map((c) => c.name).join(', ')}`);
}

/** The usage line as an EINVAL. */
export function usage(c: Command, why?: string): never {
  throw new DebugError('EINVAL', `${why ? `${why}; ` : ''}usage: ${c.usage}`);
}
