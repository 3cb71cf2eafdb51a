// A terminal emulator for the tests (@xterm/headless): what a user would
// see on the screen after the bytes a program wrote, plus those raw bytes.
import xterm from '@xterm/headless';

export class VirtualTerminal {
  readonly term: InstanceType<typeof xterm.Terminal>;
  raw = '';
  private screen = '';

  /** `convertEol`: a newline also returns the carriage, as a terminal's line discipline does (for output that does not pass through a pty). */
  constructor(cols: number, rows: number, o: { convertEol?: boolean } = {}) {
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true, scrollback: 0, convertEol: o.convertEol ?? false });
  }

  write(data: string): void {
    this.raw += data;
    this.term.write(data, () => {
      this.screen = this.snapshot();
    });
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.screen = this.snapshot();
  }

  /** The screen as text, one line per row, trailing spaces removed. */
  text(): string {
    return this.screen;
  }

  /** Which screen is showing: 'alternate' while a full-screen program runs. */
  buffer(): string {
    return this.term.buffer.active.type;
  }

  private snapshot(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.term.rows; i++) lines.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }
}
