// The command interpreter shared by the interactive REPL, batch mode and
// the TUI's command line: one line in, one Outcome out (or nothing for
// blank lines, comments and the body of a `commands` block). Every failure
// is an Outcome with an errno-style code and a one-line message; no
// exception escapes.
import { describe_error, DebugError } from '../debugger/errors.js';
import { safe_line } from '../scenario/errors.js';
import type { Session } from '../debugger/session.js';
import { bp_json, commands_target } from './cmd_break.js';
import { is_pending, resolve, type Args, type Command, type Ctx, type NestedResult, type Pending, type ReplHost, type Reply } from './command.js';
import { COMMANDS } from './commands.js';
import { to_json } from './format.js';
import { split_words } from './parse.js';

export interface Outcome {
  /** The command as typed. */
  cmd: string;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  /** What a person sees (an error: `CODE: message`). */
  text: string;
  quit?: boolean;
}

export interface InterpreterOptions {
  json?: boolean;
  keep_going?: boolean;
}

/** Breakpoint command lists run after a stop, at most this many commands per typed command. */
const MAX_BREAKPOINT_COMMANDS = 100_000;

export class Interpreter {
  readonly table: readonly Command[] = COMMANDS;
  json: boolean;
  keep_going: boolean;
  private block: { id: number; header: string; lines: string[] } | null = null;
  private depth = 0;

  constructor(
    readonly host: ReplHost,
    opts: InterpreterOptions = {},
  ) {
    this.json = opts.json ?? false;
    this.keep_going = opts.keep_going ?? false;
  }

  get session(): Session {
    return this.host.session;
  }

  /** `kvmdbg[STEP]> `, or `>` inside a `commands` block. */
  prompt(): string {
    return this.block ? '>' : `kvmdbg[${this.session.step_no}]> `;
  }

  in_block(): boolean {
    return this.block !== null;
  }

  /** One line, run to completion. */
  exec(line: string): Outcome | null {
    const text = line.trim();
    const early = this.intake(text);
    if (early !== undefined) return early;
    try {
      const r = this.dispatch(text);
      return this.recorded(this.outcome(text, is_pending(r) ? r.finish(drive(r.job)) : r));
    } catch (e) {
      return this.recorded(this.failure(text, e));
    }
  }

  /**
   * After every command, the recording in progress catches up with the
   * session. If it cannot (the World was replaced), it is closed and the
   * outcome says so.
   */
  private recorded(o: Outcome | null): Outcome | null {
    const rec = this.host.recorder;
    if (!o || !rec || rec.closed) return o;
    try {
      rec.sync();
    } catch (e) {
      this.host.recorder = null;
      const note = `recording stopped: ${(e as Error).message}`;
      return { ...o, text: o.text ? `${o.text}\n${note}` : note };
    }
    return o;
  }

  /** Bring the recording in progress up to date now (between the slices of a long run). */
  private sync_recording(): void {
    const rec = this.host.recorder;
    if (!rec || rec.closed) return;
    try {
      rec.sync({ check: false });
    } catch {
      // recorded() says why once the command is over
    }
  }

  /** One line; a long run yields to the event loop between slices (so Ctrl-C can interrupt it). */
  async exec_async(line: string): Promise<Outcome | null> {
    const text = line.trim();
    const early = this.intake(text);
    if (early !== undefined) return early;
    try {
      const r = this.dispatch(text);
      if (!is_pending(r)) return this.recorded(this.outcome(text, r));
      let st: unknown;
      while ((st = r.job.resume()) === null) {
        // The recording catches up a slice at a time, so that an interrupt is not followed by a long catch-up.
        this.sync_recording();
        await new Promise((res) => setImmediate(res));
      }
      return this.recorded(this.outcome(text, r.finish(st)));
    } catch (e) {
      return this.recorded(this.failure(text, e));
    }
  }

  /** At the end of the input: a `commands` block left open is an error. */
  finish(): Outcome | null {
    if (!this.block) return null;
    const b = this.block;
    this.block = null;
    return this.failure(b.header, new DebugError('EINVAL', `"${b.header}" is not closed by "end"`));
  }

  /** The JSON line of an outcome (CONTRACT.md, "JSON mode"). */
  static json_line(o: Outcome): string {
    return to_json(o.ok ? { cmd: o.cmd, ok: true, result: o.result === undefined ? {} : o.result } : { cmd: o.cmd, ok: false, error: o.error });
  }

  // ---------------------------------------------------------------- internals

  /** Blank lines, comments and `commands` blocks: an answer (null: nothing to say), or undefined to run the line. */
  private intake(text: string): Outcome | null | undefined {
    if (this.block) {
      if (text === 'end') {
        const b = this.block;
        this.block = null;
        try {
          const bp = this.session.breakpoints.set_commands(b.id, b.lines);
          return { cmd: b.header, ok: true, result: bp_json(bp), text: '' };
        } catch (e) {
          return this.failure(b.header, e);
        }
      }
      if (text && !text.startsWith('#')) this.block.lines.push(text);
      return null;
    }
    if (!text || text.startsWith('#')) return null;
    return undefined;
  }

  private ctx(): Ctx {
    return {
      s: this.session,
      host: this.host,
      table: this.table,
      keep_going: this.keep_going,
      depth: this.depth,
      exec_nested: (line) => this.nested(line),
    };
  }

  private dispatch(text: string): Reply | Pending<unknown> {
    const words = split_words(text);
    const name = words[0]!;
    let cmd = resolve(this.table, name.text);
    let rest_at = name.end;
    if (cmd.sub) {
      const w = words[1];
      if (!w) {
        if (cmd.name === 'info') return this.run(resolve(this.table, 'help'), text, text.length, ['info']);
        throw new DebugError('EINVAL', `usage: ${cmd.usage}`);
      }
      cmd = resolve(cmd.sub, w.text, `${cmd.name} subcommand`);
      rest_at = w.end;
    }
    if (cmd.name === 'commands') {
      const id = commands_target(this.session, words.slice(1).map((w) => w.text));
      this.block = { id, header: text, lines: [] };
      return { json: null, text: '' };
    }
    return this.run(cmd, text, rest_at);
  }

  private run(cmd: Command, text: string, rest_at: number, words?: string[]): Reply | Pending<unknown> {
    if (!cmd.run) throw new DebugError('EINVAL', `usage: ${cmd.usage}`);
    const rest = text.slice(rest_at);
    const tokens = split_words(rest);
    const a: Args = { words: words ?? tokens.map((t) => t.text), tokens, rest, line: text };
    return cmd.run(this.ctx(), a);
  }

  /** The outcome of a reply; a stop with a command list runs it (and the lists of the stops it makes). */
  private outcome(text: string, reply: Reply): Outcome | null {
    if (this.block && this.block.header === text) return null;
    let json = reply.json;
    let out = reply.text;
    if (reply.stop?.commands) {
      const ran: NestedResult[] = [];
      const texts: string[] = [];
      let queue = reply.stop.commands;
      let budget = MAX_BREAKPOINT_COMMANDS;
      while (queue.length && budget > 0) {
        const next: string[] = [];
        for (const line of queue) {
          if (budget-- <= 0) break;
          let r: Reply | Pending<unknown>;
          let o: Outcome | null;
          try {
            r = this.dispatch(line);
            const rep = is_pending(r) ? r.finish(drive(r.job)) : r;
            o = { cmd: line, ok: true, result: rep.json, text: rep.text };
            if (rep.stop?.commands) next.push(...rep.stop.commands);
          } catch (e) {
            o = this.failure(line, e);
          }
          ran.push(nested_result(o));
          if (o.text) texts.push(o.text);
          if (!o.ok) break;
        }
        queue = next;
      }
      json = { ...(json as object), commands: ran.map(({ text: _t, ...r }) => r) };
      out = [out, ...texts].filter(Boolean).join('\n');
    }
    return { cmd: text, ok: true, result: json, text: out, ...(reply.quit ? { quit: true } : {}) };
  }

  private failure(text: string, e: unknown): Outcome {
    const { code, message: raw } = describe_error(e);
    const message = safe_line(raw);
    return { cmd: text, ok: false, error: { code, message }, text: `${code}: ${message}` };
  }

  private nested(line: string): NestedResult {
    this.depth++;
    try {
      const o = this.exec(line);
      return o ? nested_result(o) : { cmd: '', ok: true, text: '' };
    } finally {
      this.depth--;
    }
  }
}

function nested_result(o: Outcome): NestedResult {
  return o.ok ? { cmd: o.cmd, ok: true, result: o.result, text: o.text } : { cmd: o.cmd, ok: false, error: o.error!, text: o.text };
}

function drive<T>(job: { resume(): T | null }): T {
  for (;;) {
    const st = job.resume();
    if (st !== null) return st;
  }
}
