// The command line's editing, history and Tab completion, as a plain
// object (no Ink): readline's keys (Ctrl-A/E/U/K/W, arrows, Home/End,
// Backspace/Delete), up/down through the history, Tab completes with the
// REPL's completer (one candidate: filled in; several: the common prefix,
// and the candidates are listed).

export type Completer = (line: string) => [string[], string];

export class LineEditor {
  text: string;
  cursor: number;
  /** Candidates of the last Tab with more than one (shown under the line). */
  candidates: string[] = [];
  private hist_i: number;
  private draft = '';

  constructor(
    readonly prompt: string,
    initial = '',
    private readonly history: string[] = [],
    private readonly completer: Completer | null = null,
  ) {
    this.text = initial;
    this.cursor = initial.length;
    this.hist_i = history.length;
  }

  insert(s: string): void {
    // Pasted text: one line, tabs as spaces, no control characters.
    const clean = s.replace(/\t/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
    if (!clean) return;
    this.text = this.text.slice(0, this.cursor) + clean + this.text.slice(this.cursor);
    this.cursor += clean.length;
    this.candidates = [];
  }

  backspace(): void {
    if (this.cursor === 0) return;
    this.text = this.text.slice(0, this.cursor - 1) + this.text.slice(this.cursor);
    this.cursor--;
    this.candidates = [];
  }

  delete(): void {
    if (this.cursor >= this.text.length) return;
    this.text = this.text.slice(0, this.cursor) + this.text.slice(this.cursor + 1);
  }

  left(): void {
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.cursor = Math.min(this.text.length, this.cursor + 1);
  }

  home(): void {
    this.cursor = 0;
  }

  end(): void {
    this.cursor = this.text.length;
  }

  /** Ctrl-U: delete to the start of the line. */
  kill_before(): void {
    this.text = this.text.slice(this.cursor);
    this.cursor = 0;
  }

  /** Ctrl-K: delete to the end of the line. */
  kill_after(): void {
    this.text = this.text.slice(0, this.cursor);
  }

  /** Ctrl-W: delete the word before the cursor. */
  kill_word(): void {
    const before = this.text.slice(0, this.cursor);
    const m = /\S*\s*$/.exec(before)!;
    this.text = before.slice(0, before.length - m[0].length) + this.text.slice(this.cursor);
    this.cursor -= m[0].length;
  }

  /** Up: the previous history entry (the line being typed is kept as a draft). */
  prev(): void {
    if (this.hist_i === 0) return;
    if (this.hist_i === this.history.length) this.draft = this.text;
    this.hist_i--;
    this.set(this.history[this.hist_i]!);
  }

  /** Down: the next history entry, then the draft. */
  next(): void {
    if (this.hist_i >= this.history.length) return;
    this.hist_i++;
    this.set(this.hist_i === this.history.length ? this.draft : this.history[this.hist_i]!);
  }

  /** Tab: complete the word before the cursor. */
  complete(): void {
    if (!this.completer) return;
    const before = this.text.slice(0, this.cursor);
    const [cands, partial] = this.completer(before);
    if (cands.length === 0) {
      this.candidates = [];
      return;
    }
    const head = before.slice(0, before.length - partial.length);
    const after = this.text.slice(this.cursor);
    if (cands.length === 1) {
      const add = `${cands[0]!}${after.startsWith(' ') ? '' : ' '}`;
      this.text = head + add + after;
      this.cursor = head.length + add.length;
      this.candidates = [];
      return;
    }
    const common = common_prefix(cands);
    if (common.length > partial.length) {
      this.text = head + common + after;
      this.cursor = head.length + common.length;
    }
    this.candidates = cands;
  }

  private set(s: string): void {
    this.text = s;
    this.cursor = s.length;
    this.candidates = [];
  }
}

export function common_prefix(xs: string[]): string {
  if (xs.length === 0) return '';
  let p = xs[0]!;
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}
