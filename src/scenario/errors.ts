// Errors the user caused (a bad scenario, a bad flag): the CLI prints them
// as one line on stderr and exits 2, without a stack trace.

/** A mistake in the input, reported as one line. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A mistake at a place in a file: `FILE:LINE:COL: what is wrong; expected ...`. */
export class ScenarioError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** What is wrong, without the position. */
    readonly what: string,
    /** What is allowed there (may be empty). */
    readonly expected: string = '',
  ) {
    super(`${file}:${line}:${col}: ${what}${expected ? `; expected ${expected}` : ''}`);
    this.name = 'ScenarioError';
  }
}

/** Keep a one-line message: newlines would break the "one line on stderr" rule. */
export function one_line(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** A message safe for a terminal: one line, control characters escaped, at most `max` characters. */
export function safe_line(s: string, max = 2000): string {
  // eslint-disable-next-line no-control-regex
  const t = one_line(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/** "a, b or c" */
export function list_or(items: readonly string[], max = 40): string {
  if (items.length === 0) return 'nothing';
  const shown = items.length > max ? [...items.slice(0, max), `... (${items.length - max} more)`] : [...items];
  if (shown.length === 1) return shown[0]!;
  return `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
}

/** Input quoted in a message: at most `max` characters, control characters escaped (a terminal never sees them raw). */
export function clip(s: string, max = 200, quote = true): string {
  const cut = s.length > max ? `${s.slice(0, max)}...` : s;
  const q = JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return quote ? q : q.slice(1, -1).replace(/\\(["\\])/g, '$1');
}
