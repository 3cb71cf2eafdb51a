// `kvmdbg tui [SCENARIO|RECORDING]`: the full-screen debugger. This file
// checks for a terminal, opens the Session the way `kvmdbg repl` does
// (open_session: a scenario at step 0, a recording at its end), enters the
// alternate screen and hands over to the Ink app, which it imports only now
// (load_view.ts; the import starts before the scenario loads).
import '../core/world_init.js';
import { open_session } from '../repl/main.js';
import { stop_recording } from '../repl/record.js';
import { Controller } from './controller.js';
import { load_view } from './load_view.js';
import { Terminal } from './terminal.js';

export const NO_TTY_MESSAGE = 'kvmdbg tui: needs a terminal (stdin and stdout must be a TTY); try `kvmdbg repl`';

export interface TuiOptions {
  variant?: string[];
  seed?: number;
  arch?: 'arm64' | 'x86';
  /** --record FILE: record the session from step 0. */
  record?: string;
  /** --goto N: where to stand when opening a recording. */
  goto?: number;
  /** false with --no-color. */
  color?: boolean;
  /** --force: --record may replace an existing recording. */
  force?: boolean;
}

export interface TuiStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * Import the Ink app. React runs its production build unless NODE_ENV says
 * otherwise, and Ink is told it is not in CI: with CI set (as on CI
 * machines, where the end-to-end test runs in a pseudo-terminal) Ink would
 * draw nothing until it exits, and this is a terminal by now.
 */
function load_app(): Promise<typeof import('./app.js')> {
  process.env['NODE_ENV'] ??= 'production';
  const saved: Record<string, string | undefined> = {};
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    if (k in process.env) {
      saved[k] = process.env[k];
      process.env[k] = 'false';
    }
  }
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) process.env[k] = v;
  };
  const p = load_view();
  p.then(restore, restore);
  return p;
}

export function use_color(opts: TuiOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  if (opts.color === false) return false;
  return env['NO_COLOR'] === undefined || env['NO_COLOR'] === '';
}

/** Run the TUI until the user quits; resolves to the exit code. Scenario errors throw UserError (exit 2 in main). */
export async function tui_main(scenario: string, opts: TuiOptions = {}, io: TuiStreams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    io.stderr.write(`${NO_TTY_MESSAGE}\n`);
    return 2;
  }
  const app = load_app();
  app.catch(() => undefined);
  // Warnings (an old recording) go out before the screen is taken.
  const host = open_session(scenario, opts, (s) => io.stderr.write(`${s}\n`));
  const ctl = new Controller({ session: host.session, host, cols: io.stdout.columns || 80, rows: io.stdout.rows || 24, color: use_color(opts) });
  const term = new Terminal(io.stdout, io.stdin, io.stderr);
  term.enter();
  try {
    const { start_app } = await app;
    await start_app(ctl, io, term);
  } finally {
    term.leave();
    stop_recording(host);
  }
  // Ink leaves stdin flowing; let the process end.
  io.stdin.pause();
  io.stdin.unref?.();
  return 0;
}
