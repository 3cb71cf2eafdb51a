// Errors the debugger reports to its front ends: an errno-style code (the
// REPL prints it, JSON mode returns it) and a one-line message. Anything
// else that escapes a command is an internal error and is reported the same
// way with code EFAULT, never as a stack trace.

export type ErrorCode =
  | 'EINVAL' // a malformed command, argument or expression
  | 'ENOENT' // no such breakpoint, thread, tree, file, checkpoint...
  | 'EEXIST' // already exists (a tree name, an occupied maple-tree range)
  | 'EBUSY' // cannot now (a thread that cannot run, no gap in a tree)
  | 'ENOSYS' // the layer a command needs is not in this World or build
  | 'ENOMEM' // an allocation the model refused
  | 'ERANGE' // a number the model cannot represent
  | 'EASSERT' // an `assert` that did not hold
  | 'ETIME' // an expression ran out of time (or of memory, in the worker)
  | 'EINTR' // interrupted (Ctrl-C, Esc)
  | 'EFAULT'; // an internal error: a bug in kvmdbg or in a model

export class DebugError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DebugError';
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new DebugError(code, message);
}

/** Any thrown value as a code and a one-line message. */
export function describe_error(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof DebugError) return { code: e.code, message: one_line(e.message) };
  if (e instanceof SyntaxError) return { code: 'EINVAL', message: one_line(e.message) };
  const msg = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  return { code: 'EFAULT', message: one_line(msg) };
}

export function one_line(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export { clip } from '../scenario/errors.js';
