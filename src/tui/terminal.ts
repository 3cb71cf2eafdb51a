// Terminal hygiene: the alternate screen and a hidden cursor while the TUI
// runs, and the terminal put back however the process ends: quit, SIGINT,
// SIGTERM, SIGHUP, an uncaught exception or an unhandled rejection, and
// process.exit from anywhere. No Ink here.
import { writeSync } from 'node:fs';

/** Alternate screen on, cursor hidden, screen cleared, cursor home. */
export const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H';
/** Cursor shown, alternate screen off (the shell's screen comes back as it was). */
export const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';

const SIGNALS: [NodeJS.Signals, number][] = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
];

export class Terminal {
  private active = false;
  private hooks: [string, (...a: unknown[]) => void][] = [];
  /** Runs first when leaving (the app unmounts Ink while still on the alternate screen). */
  before_leave: (() => void) | null = null;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly input: NodeJS.ReadStream,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {}

  get on(): boolean {
    return this.active;
  }

  enter(): void {
    if (this.active) return;
    this.active = true;
    this.write(ENTER_SCREEN);
    this.hook('exit', () => this.leave());
    for (const [sig, n] of SIGNALS) {
      this.hook(sig, () => {
        this.leave();
        process.exit(128 + n);
      });
    }
    const crash = (e: unknown) => {
      this.leave();
      const err = e as Error;
      this.err.write(`kvmdbg: internal error: ${String(err?.message ?? e).replace(/\s*\n\s*/g, ' ')}${process.argv.includes('--debug') ? '' : ' (--debug shows the stack trace)'}\n`);
      if (process.argv.includes('--debug') && err?.stack) this.err.write(`${err.stack}\n`);
      process.exit(2);
    };
    this.hook('uncaughtException', crash);
    this.hook('unhandledRejection', crash);
  }

  /** Put the terminal back (idempotent). */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    const before = this.before_leave;
    this.before_leave = null;
    try {
      before?.();
    } catch {
      // leaving matters more than a clean unmount
    }
    try {
      if (this.input.isTTY && this.input.isRaw) this.input.setRawMode(false);
    } catch {
      // not a terminal any more
    }
    this.write(LEAVE_SCREEN);
    for (const [ev, fn] of this.hooks) process.off(ev, fn);
    this.hooks = [];
  }

  private hook(ev: string, fn: (...a: unknown[]) => void): void {
    process.on(ev, fn);
    this.hooks.push([ev, fn]);
  }

  /** Synchronous where possible: on 'exit' and in signal handlers nothing asynchronous runs. */
  private write(s: string): void {
    const fd = (this.out as { fd?: number }).fd;
    if (typeof fd === 'number') {
      try {
        writeSync(fd, s);
        return;
      } catch {
        // fall back to the stream
      }
    }
    this.out.write(s);
  }
}
