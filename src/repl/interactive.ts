// The interactive REPL on node:repl with the interpreter as its eval: the
// prompt shows the step, Tab completes, history lives in the XDG state
// directory (only on a terminal), Ctrl-C interrupts a long run.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import repl from 'node:repl';
import { complete } from './complete.js';
import { Interpreter } from './interpreter.js';

export function history_path(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(base, 'kvmdbg', 'history');
}

export interface InteractiveOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Keep history in the XDG state directory (default: when the input is a terminal). */
  history?: boolean;
  terminal?: boolean;
}

/** Run until `quit` or end of input; resolves to the exit code (0). */
export function run_interactive(interp: Interpreter, opts: InteractiveOptions = {}): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const terminal = opts.terminal ?? ((input as NodeJS.ReadStream).isTTY === true && (output as NodeJS.WriteStream).isTTY === true);
  let busy = false;
  const write = (s: string) => {
    if (s) output.write(s.endsWith('\n') ? s : `${s}\n`);
  };
  return new Promise((done) => {
    const r = repl.start({
      prompt: interp.prompt(),
      input,
      output,
      terminal,
      ignoreUndefined: true,
      completer: (line: string) => complete(interp.table, interp.session, line),
      eval: (cmd, _context, _file, cb) => {
        busy = true;
        interp
          .exec_async(cmd)
          .then((o) => {
            busy = false;
            if (o) write(interp.json ? Interpreter.json_line(o) : o.text);
            if (o?.quit) {
              r.close();
              return;
            }
            r.setPrompt(interp.prompt());
            cb(null, undefined);
          })
          .catch((e: unknown) => {
            busy = false;
            write(`EFAULT: ${String(e)}`);
            cb(null, undefined);
          });
      },
    });
    // Ctrl-C interrupts a run; at the prompt it clears the line.
    r.removeAllListeners('SIGINT');
    r.on('SIGINT', () => {
      if (busy) {
        interp.session.interrupt();
        return;
      }
      r.clearBufferedCommand();
      output.write('\n(quit or Ctrl-D to leave)\n');
      r.displayPrompt();
    });
    if (opts.history ?? terminal) {
      const path = history_path();
      try {
        mkdirSync(join(path, '..'), { recursive: true });
        r.setupHistory(path, () => undefined);
      } catch {
        // no history: not worth failing for
      }
    }
    r.on('exit', () => done(0));
  });
}
