// Writing a recording, line by line: every line goes to the file with one
// write(2) as soon as it is complete (so a crash loses at most the line
// being written, and the steps not yet put in a line), fsync on close.
// Steps are batched into schedule lines (up to CHUNK steps, or a second's
// worth), never written one by one. While the file is open, SIGINT and
// SIGTERM close it cleanly (an end line, fsync), as does the process
// exiting; the previous handlers come back on close.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { UserError } from '../scenario/errors.js';
import { PickRuns, json_line, type EndLine, type EndStatus, type Header, type RecCmd } from './format.js';

/** Steps per schedule line at most. */
const CHUNK = 4096;
/** A schedule line at least this often (ms) while steps come in. */
const FLUSH_MS = 1000;

export interface WriterOptions {
  /** Signals that close the recording cleanly while it is open (default SIGINT and SIGTERM); false: none. */
  signals?: NodeJS.Signals[] | false;
  /**
   * Called on one of those signals instead of the default (close the file,
   * then die of the signal as if no handler were installed): the owner
   * stops what it is doing and closes the recording itself.
   */
  on_signal?: (sig: NodeJS.Signals) => void;
}

/** The World at the end, for the end line (computed by the owner). */
export type EndState = Pick<EndLine, 'hash' | 'parts' | 'run_hash'>;

export class RecordingWriter {
  private fd: number | null;
  /** Steps recorded so far (the last one may still be in the pending chunk). */
  steps = 0;
  bytes = 0;
  lines = 0;
  /** Supplies the end line's state when the file is closed by a signal or at exit. */
  end_state: (() => EndState) | null = null;
  private runs = new PickRuns();
  private chunk_first = 1;
  private chunk_n = 0;
  private chunk_choices: number[][] = [];
  private last_flush = Date.now();
  private handlers: [NodeJS.Signals, (sig: NodeJS.Signals) => void][] = [];
  private readonly on_exit = () => {
    if (this.fd !== null) this.close('interrupted', this.safe_end_state());
  };

  constructor(
    readonly path: string,
    header: Header,
    opts: WriterOptions = {},
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      throw new UserError(`${path}: cannot write the recording: ${why}`);
    }
    this.write(header);
    for (const sig of opts.signals === false ? [] : (opts.signals ?? ['SIGINT', 'SIGTERM'])) {
      const h = (s: NodeJS.Signals) => {
        if (opts.on_signal) {
          opts.on_signal(s);
          return;
        }
        if (this.fd !== null) this.close('interrupted', this.safe_end_state());
        process.kill(process.pid, s);
      };
      process.on(sig, h);
      this.handlers.push([sig, h]);
    }
    process.on('exit', this.on_exit);
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** One more step: the thread index that ran (~index when forced) and the choice answers it consumed. */
  step(raw: number, choices?: readonly number[]): void {
    const s = ++this.steps;
    this.runs.push(raw);
    this.chunk_n++;
    if (choices && choices.length) this.chunk_choices.push([s, ...choices]);
    if (this.chunk_n >= CHUNK) this.flush();
    else if ((s & 1023) === 0 && Date.now() - this.last_flush > FLUSH_MS) this.flush();
  }

  /** A state change made after step `c.step` (<= the steps recorded). */
  cmd(c: RecCmd): void {
    this.flush();
    this.write({ cmd: c.cmd, step: c.step, poke: c.poke, args: c.args }, true);
  }

  /** The World's hash after step `step` (<= the steps recorded), before that step's commands. */
  hash(step: number, hash: string, parts: Record<string, string>): void {
    this.flush();
    this.write({ step, hash, parts });
  }

  /** Keep steps 1..s and the first `cmds` commands; what is written next replaces the rest. */
  rewind(s: number, cmds: number): void {
    this.flush();
    this.write({ rewind: s, cmds });
    this.steps = s;
    this.chunk_first = s + 1;
  }

  /** Write the pending steps as one schedule line. */
  flush(): void {
    this.last_flush = Date.now();
    if (this.chunk_n === 0) return;
    const line: Record<string, unknown> = { s: this.chunk_first, p: this.runs.take() };
    if (this.chunk_choices.length) line.c = this.chunk_choices;
    this.chunk_first += this.chunk_n;
    this.chunk_n = 0;
    this.chunk_choices = [];
    this.write(line);
  }

  /** The end line, fsync, close; handlers go back to what they were. Idempotent. */
  close(status: EndStatus, state: EndState | null = null): void {
    if (this.fd === null) return;
    try {
      this.flush();
      this.write({ end: this.steps, status, ...(state ?? {}) });
      try {
        fsyncSync(this.fd);
      } catch {
        // not every file can be synced (a pipe); the data is written
      }
    } finally {
      closeSync(this.fd);
      this.fd = null;
      this.restore();
    }
  }

  /** Close without an end line (the model failed, or the recording cannot go on): the steps so far stay readable. */
  abandon(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } catch {
      // keep what is already written
    }
    closeSync(this.fd);
    this.fd = null;
    this.restore();
  }

  private restore(): void {
    for (const [sig, h] of this.handlers) process.removeListener(sig, h);
    this.handlers = [];
    process.removeListener('exit', this.on_exit);
  }

  private safe_end_state(): EndState | null {
    try {
      return this.end_state ? this.end_state() : null;
    } catch {
      return null;
    }
  }

  /** One line; `bigints` when it may hold them (command arguments), else plain JSON.stringify (faster). */
  private write(v: unknown, bigints = false): void {
    if (this.fd === null) throw new Error(`${this.path}: the recording is closed`);
    const s = `${bigints ? json_line(v) : JSON.stringify(v)}\n`;
    const buf = Buffer.from(s, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.bytes += buf.length;
    this.lines++;
  }
}
