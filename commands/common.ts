// What every subcommand shares: the common options, colour, and turning
// errors into one line on stderr with the contract's exit codes.
import { InvalidArgumentError } from 'commander';
import { parse_int_literal } from '../src/scenario/numbers.js';

/** Exit codes (CONTRACT.md): success, an invariant was violated, bad usage or input, a replay diverged, SIGINT. */
export const EXIT_OK = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_USAGE = 2;
export const EXIT_DIVERGED = 3;
export const EXIT_SIGINT = 130;

export interface CommonOptions {
  variant?: string[];
  seed?: number;
  arch?: 'arm64' | 'x86';
  color: boolean;
  debug?: boolean;
}

/** Colour on stdout: not with --no-color, NO_COLOR, or when stdout is not a terminal. */
export function use_color(opts: Pick<CommonOptions, 'color'>, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (opts.color === false) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function collect(value: string, prev: string[] = []): string[] {
  return [...prev, value];
}

/** A commander argument parser for non-negative integers (decimal, 0x-hex, `_`, K/M/G). */
export function int_arg(what: string, min = 0, max = Number.MAX_SAFE_INTEGER): (s: string) => number {
  return (s: string) => {
    const v = parse_int_literal(s);
    if (typeof v !== 'number') throw new InvalidArgumentError(`expected ${what}, an integer (decimal or 0x-hex)`);
    if (v < min || v > max) throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}`);
    return v;
  };
}

/** Buffered stdout: a run prints many lines, and one write per line is slow. */
export class Out {
  private buf: string[] = [];
  private size = 0;
  line(s: string): void {
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size > 1 << 16) this.flush();
  }
  flush(): void {
    if (this.buf.length === 0) return;
    process.stdout.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
  }
}

