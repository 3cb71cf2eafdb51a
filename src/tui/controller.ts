// The TUI's state and behaviour, without Ink: which pane has the focus,
// what is selected, the command line, the console, the inspector, and
// running commands. Every key that does something to the Session becomes
// a command line run through the REPL's interpreter (so `save FILE` writes
// a script of what was clicked through); keys that only change the view
// are TUI commands (`layout`, `focus`, `filter`, `inspect`) handled here.
// app.tsx subscribes to it and draws view().
import type { Session } from '../debugger/session.js';
import { resolve } from '../repl/command.js';
import type { ReplHost } from '../repl/command.js';
import { complete } from '../repl/complete.js';
import { Interpreter, type Outcome } from '../repl/interpreter.js';
import { split_words } from '../repl/parse.js';
import { compute_layout, LAYOUT_HELP, LAYOUTS, layout_for, PANE_TITLES, PANES, type Layout, type LayoutName, type PaneName } from './layout.js';
import { LineEditor } from './line_editor.js';
import { swimlane_data, swimlane_lines, type SwimlaneData } from './swimlane.js';
import { breakpoints_grid, event_window, EventFeed, EventText, fit_columns, mmus_grid, Query, stop_label, threads_grid, type EventWindow, type GridData } from './view.js';

/** The keys the TUI reads (Ink's Key has these and more). */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

export type Tone = 'cmd' | 'out' | 'err' | 'note';
export interface ConsoleLine {
  id: number;
  tone: Tone;
  text: string;
}

export type PaneBody =
  | { kind: 'grid'; grid: GridData; selected: number | null; offset: number; style: 'compact' | 'table' }
  | { kind: 'events'; window: EventWindow; filter: string }
  | { kind: 'text'; lines: string[]; offset: number; error: boolean };

export interface PaneView {
  pane: PaneName;
  title: string;
  focused: boolean;
  width: number;
  height: number;
  tabs?: PaneName[];
  body: PaneBody;
}

export interface ConsoleView {
  pane: 'console';
  width: number;
  height: number;
  lines: ConsoleLine[];
}

export interface StatusView {
  scenario: string;
  variants: string;
  step: string;
  stop: string | null;
  busy: string | null;
  right: string;
}

export interface CommandView {
  /** A prompt is open (`:`, `/`, `b`), else the key hints. */
  open: boolean;
  prompt: string;
  text: string;
  cursor: number;
  candidates: string[];
  hint: string;
}

export interface ScreenView {
  cols: number;
  rows: number;
  color: boolean;
  status: StatusView;
  bands: { height: number; slots: (PaneView | ConsoleView)[] }[];
  command: CommandView;
  help: { lines: string[]; offset: number } | null;
  quit: boolean;
}

type Prompt = { purpose: 'command' | 'filter'; editor: LineEditor };

export interface ControllerOptions {
  session: Session;
  host: ReplHost;
  cols: number;
  rows: number;
  color?: boolean;
  /** Milliseconds between screen updates during a long run (default 33: 30 frames/s). */
  frame_ms?: number;
}

/** Commands the TUI handles itself (view only: not part of the Session's history). */
export const TUI_COMMANDS: Record<string, { usage: string; summary: string }> = {
  layout: { usage: 'layout [NAME|next|prev]', summary: `${LAYOUTS.join(', ')}` },
  focus: { usage: 'focus [PANE|next|prev]', summary: `${PANES.join(', ')}` },
  filter: { usage: 'filter [TEXT]', summary: 'only the events whose line contains TEXT' },
  inspect: { usage: 'inspect [CMD]', summary: 'CMD in the inspector, re-run after each change' },
};

const PANE_ALIASES: Record<string, PaneName> = {
  thread: 'threads',
  mmu: 'mmus',
  event: 'events',
  log: 'events',
  inspect: 'inspector',
  breakpoint: 'breakpoints',
  break: 'breakpoints',
  bp: 'breakpoints',
};

/** REPL commands that only look: typed at `:`, they go to the inspector and are re-run after every change (gdb's `display`). */
const LOOK = new Set(['where', 'print', 'events', 'check', 'help', 'variant']);
const LOOK_SUB: Record<string, Set<string> | 'all'> = {
  info: 'all',
  pt: new Set(['walk', 'dump']),
  mt: new Set(['load', 'find', 'empty-area', 'dump', 'list']),
};

export const KEY_HELP: [string, string][] = [
  ['s', 'step (one scheduler step)'],
  ['n', 'step the selected thread (step THREAD)'],
  ['c', 'continue'],
  ['r', 'reverse-step'],
  ['R', 'reverse-continue'],
  ['b', 'break: a prompt with `break ` filled in'],
  ['g', 'goto: a prompt with `goto ` filled in'],
  [':', 'any REPL command (Enter runs, Esc leaves); Up/Down, Tab'],
  ['/', 'filter the event log (empty: all events)'],
  ['Tab / Shift-Tab', 'focus the next / previous pane'],
  ['Up / Down', 'select a row; scroll the event log or the inspector'],
  ['PgUp / PgDn', 'scroll a page; Home / End: oldest / newest'],
  ['Enter', 'threads: backtrace; MMUs: pt dump; breakpoints: info'],
  ['d / e', 'breakpoints pane: delete / enable-disable the selected one'],
  ['l', 'next layout (layout NAME)'],
  ['x', 'explain: the race diagram of the violation (or of this step) in the inspector'],
  ['Esc / Ctrl-C', 'interrupt a running continue or reverse-continue'],
  ['?', 'this help'],
  ['q', 'quit (Ctrl-C twice also quits)'],
];

/** Steps of older history regenerated per frame when the log searches back. */
const SEARCH_BUDGET = 20_000;

/** The event log scrolls back this many rows at most (older ones are regenerated from checkpoints). */
const MAX_SCROLL = 50_000;

const HINT = 's step  n thread  c cont  r rev  R rev-cont  b break  : cmd  / filter  Tab pane  ? help  q quit';

export class Controller {
  readonly session: Session;
  readonly host: ReplHost;
  readonly interp: Interpreter;
  private readonly query: Query;
  private readonly etext: EventText;
  private readonly feed: EventFeed;
  /** Bumped by every command: the event searches start again. */
  private gen = 0;
  private follow_up: NodeJS.Timeout | null = null;
  readonly color: boolean;
  private readonly frame_ms: number;

  cols: number;
  rows: number;
  layout: LayoutName = 'default';
  focus: PaneName = 'threads';
  /** The pane a tab group shows when the focus is elsewhere. */
  tab: PaneName = 'events';
  sel = { threads: 0, mmus: 0, breakpoints: 0 };
  scroll = { events: 0, inspector: 0, help: 0 };
  filter = '';
  /** The inspector: a pinned command re-run after every change, a one-off text, or null (where SELECTED). */
  inspector: { cmd: string; text?: string } | null = null;
  prompt: Prompt | null = null;
  help = false;
  history: string[] = [];
  console: ConsoleLine[] = [];
  busy: { cmd: string; since: number; long: boolean } | null = null;
  /** The last stop: its label for the status bar and its event for the log. */
  stop: { label: string | null; seq: number | null } | null = null;
  quit = false;

  private version = 0;
  private listeners = new Set<() => void>();
  private memo: { version: number; view: ScreenView } | null = null;
  private line_id = 0;
  private stop_requested = false;
  private queue: { line: string; resolve: (o: Outcome | null) => void }[] = [];
  private pumping = false;
  private last_ctrl_c = 0;
  private thread_width = 6;
  /** What a frame costs (moving averages, ms): building the view, and Ink drawing it. */
  private view_ms = 0;
  private render_ms = 0;

  constructor(o: ControllerOptions) {
    this.session = o.session;
    this.host = o.host;
    this.cols = o.cols;
    this.rows = o.rows;
    this.color = o.color ?? false;
    this.frame_ms = o.frame_ms ?? 33;
    this.interp = new Interpreter(o.host);
    this.query = new Query(new Interpreter(o.host));
    this.etext = new EventText(this.color, () => this.thread_width);
    this.feed = new EventFeed(this.session, this.etext);
    this.update_thread_width();
    // A recording that ends at its violation opens stopped there: say so in the status bar.
    const v = o.session.world.violations.find((x) => x.step === o.session.step_no && o.session.step_no > 0);
    if (v) this.stop = { label: stop_label({ reason: 'violation', violation: v }), seq: null };
    this.note(`${this.scenario_name()}: ${o.session.world.threads.length} threads. ? for help, : for commands.`);
  }

  private lane: { key: string; data: SwimlaneData | string } | null = null;

  /** The swimlane pane's lines; the trace is kept while the timeline and the step stay. */
  private swimlane(width: number, height: number): string[] {
    const s = this.session;
    const key = `${s.timeline_epoch}:${s.end_step}:${s.step_no}`;
    if (this.busy) return this.lane && typeof this.lane.data !== 'string' ? swimlane_lines(this.lane.data, width, height) : ['(running)'];
    if (!this.lane || this.lane.key !== key) {
      let data: SwimlaneData | string;
      try {
        data = swimlane_data(s);
      } catch (e) {
        data = `swimlane: ${(e as Error).message}`;
      }
      this.lane = { key, data };
    }
    return typeof this.lane.data === 'string' ? [this.lane.data] : swimlane_lines(this.lane.data, width, height);
  }

  // ------------------------------------------------------- subscription

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  get_version = (): number => this.version;

  /** Something changed: redraw. */
  changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.changed();
  }

  // ------------------------------------------------------- console

  private push(tone: Tone, text: string): void {
    for (const line of text.split('\n')) this.console.push({ id: ++this.line_id, tone, text: line });
    if (this.console.length > 2000) this.console.splice(0, this.console.length - 2000);
  }

  note(text: string): void {
    this.push('note', text);
  }

  scenario_name(): string {
    return this.host.scenario?.name ?? 'scenario';
  }

  // ------------------------------------------------------- commands

  /**
   * Run one command line: a TUI command (at once), or any REPL command
   * through the interpreter. Commands typed ahead while a short one runs
   * wait their turn; while a long run is under way (one that outlived a
   * frame) run commands are refused: Esc or Ctrl-C interrupts it.
   */
  async submit(raw: string, opts: { history?: boolean; quiet?: boolean } = {}): Promise<Outcome | null> {
    const line = raw.trim();
    if (!line) return null;
    if (opts.history && this.history[this.history.length - 1] !== line) this.history.push(line);
    if (this.local(line, opts.quiet === true)) {
      this.changed();
      return null;
    }
    if (this.busy?.long) {
      this.push('err', `busy running "${this.busy.cmd}": Esc or Ctrl-C interrupts it`);
      this.changed();
      return null;
    }
    return new Promise((resolve) => {
      this.queue.push({ line, resolve });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) next.resolve(await this.run_line(next.line));
    } finally {
      this.pumping = false;
    }
  }

  private async run_line(line: string): Promise<Outcome | null> {
    this.push('cmd', `${this.interp.prompt()}${line}`);
    const look = this.is_look(line);
    const before = this.session.step_no;
    const busy = { cmd: line, since: Date.now(), long: false };
    this.busy = busy;
    this.stop_requested = false;
    this.changed();
    // Redraw while it runs: every frame_ms at most, and less often when a
    // frame is dear (drawing takes at most a quarter of the time). A command
    // still running at the first tick is a long one.
    let ticker: NodeJS.Timeout | null = null;
    const tick = () => {
      busy.long = true;
      this.changed();
      ticker = setTimeout(tick, this.frame_delay());
    };
    ticker = setTimeout(tick, this.frame_ms);
    let o: Outcome | null;
    try {
      o = await this.interp.exec_async(line);
    } catch (e) {
      o = { cmd: line, ok: false, error: { code: 'EFAULT', message: String(e) }, text: `EFAULT: ${String(e)}` };
    } finally {
      if (ticker) clearTimeout(ticker);
      this.busy = null;
      this.stop_requested = false;
    }
    if (o) this.after(o, look, before);
    this.gen++;
    this.update_thread_width();
    this.changed();
    return o;
  }

  private after(o: Outcome, look: boolean, before: number): void {
    if (!o.ok) {
      this.push('err', o.text);
      return;
    }
    const r = o.result as { step?: number; stopped?: { reason: string; breakpoint?: number; violation?: { invariant?: string }; event?: { seq?: number } } } | undefined;
    if (r && typeof r === 'object' && r.stopped && typeof r.step === 'number') {
      this.stop = { label: stop_label(r.stopped), seq: r.stopped.event?.seq ?? null };
      this.scroll.events = 0;
    } else if (this.session.step_no !== before) {
      this.stop = null;
    }
    const lines = o.text ? o.text.split('\n') : [];
    if (look) {
      this.inspector = { cmd: o.cmd };
      this.scroll.inspector = 0;
      if (lines.length <= 2) this.push('out', o.text);
      else this.note(`(${lines.length} lines in the inspector)`);
    } else if (lines.length) {
      this.push('out', o.text);
      if (lines.length > this.console_height()) {
        this.inspector = { cmd: o.cmd, text: o.text };
        this.scroll.inspector = 0;
      }
    }
    if (o.quit) this.quit = true;
  }

  /** `explain` into the inspector (shown, focused if it was hidden). */
  async explain(): Promise<void> {
    if (!this.visible().has('inspector')) this.set_focus('inspector');
    // As wide as the inspector draws (80 columns at most, as mailed).
    let w = this.cols;
    for (const b of this.current_layout().bands) for (const s of b.slots) if (s.pane === 'inspector') w = s.width;
    const o = await this.submit(`explain --width ${Math.max(40, Math.min(80, w - 2))}`);
    if (!o?.ok) return;
    this.inspector = { cmd: 'explain', text: o.text };
    this.scroll.inspector = 0;
    this.changed();
  }

  /** Does the line only look (where, print, info, pt walk, mt dump, ...)? */
  is_look(line: string): boolean {
    try {
      const w = split_words(line).map((x) => x.text);
      const cmd = resolve(this.interp.table, w[0]!);
      if (LOOK.has(cmd.name)) return cmd.name !== 'variant' || w.length === 1;
      const sub = LOOK_SUB[cmd.name];
      if (!sub || !cmd.sub || w[1] === undefined) return false;
      return sub === 'all' || sub.has(resolve(cmd.sub, w[1]).name);
    } catch {
      return false;
    }
  }

  /** The TUI's own commands; true when the line was one. */
  private local(line: string, quiet: boolean): boolean {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const word = m[1]!;
    const rest = m[2]!.trim();
    if (!(word in TUI_COMMANDS)) return false;
    if (!quiet) this.push('cmd', `${this.interp.prompt()}${line}`);
    switch (word) {
      case 'layout':
        this.cmd_layout(rest);
        break;
      case 'focus':
        this.cmd_focus(rest);
        break;
      case 'filter':
        this.filter = rest.replace(/^(["'])(.*)\1$/, '$2');
        this.scroll.events = 0;
        if (!this.visible().has('events')) this.set_focus('events');
        this.note(this.filter ? `Event log: lines containing "${this.filter}".` : 'Event log: every event.');
        break;
      case 'inspect':
        this.inspector = rest ? { cmd: rest } : null;
        this.scroll.inspector = 0;
        if (!this.visible().has('inspector')) this.set_focus('inspector');
        break;
    }
    return true;
  }

  private cmd_layout(arg: string): void {
    if (!arg) {
      this.push('out', [`Layout: ${this.layout}.`, ...LAYOUTS.map((l) => `  ${l.padEnd(8)} ${LAYOUT_HELP[l]}`)].join('\n'));
      return;
    }
    let name: LayoutName | undefined;
    const i = LAYOUTS.indexOf(this.layout);
    if (arg === 'next') name = LAYOUTS[(i + 1) % LAYOUTS.length];
    else if (arg === 'prev') name = LAYOUTS[(i + LAYOUTS.length - 1) % LAYOUTS.length];
    else name = LAYOUTS.find((l) => l === arg) ?? (LAYOUTS.filter((l) => l.startsWith(arg)).length === 1 ? LAYOUTS.find((l) => l.startsWith(arg)) : undefined);
    if (!name) {
      this.push('err', `EINVAL: no layout "${arg}"; the layouts are ${LAYOUTS.join(', ')}`);
      return;
    }
    this.layout = name;
    const order = this.current_layout().order;
    if (!order.includes(this.focus)) this.focus = order[0]!;
  }

  private cmd_focus(arg: string): void {
    const order = this.current_layout().order;
    if (!arg) {
      this.push('out', `Focus: ${this.focus}. Panes in this layout: ${order.join(', ')}.`);
      return;
    }
    if (arg === 'next' || arg === 'prev') {
      const i = order.indexOf(this.focus);
      const n = order.length;
      this.set_focus(order[((i < 0 ? 0 : i) + (arg === 'next' ? 1 : n - 1)) % n]!);
      return;
    }
    const pane = (PANES as readonly string[]).includes(arg) ? (arg as PaneName) : PANE_ALIASES[arg];
    if (!pane) {
      this.push('err', `EINVAL: no pane "${arg}"; the panes are ${PANES.join(', ')}`);
      return;
    }
    this.set_focus(pane);
  }

  private set_focus(pane: PaneName): void {
    this.layout = layout_for(pane, this.layout);
    this.focus = pane;
    if (pane === 'events' || pane === 'inspector' || pane === 'breakpoints' || pane === 'mmus') this.tab = pane;
  }

  /** The renderer says how long drawing a frame took (Ink's render time). */
  rendered(ms: number): void {
    this.render_ms = this.render_ms * 0.7 + ms * 0.3;
  }

  /** Milliseconds until the next frame of a run. */
  frame_delay(): number {
    return Math.max(this.frame_ms, Math.min(500, 3 * (this.render_ms + this.view_ms)));
  }

  /** Esc / Ctrl-C during a run: stop at the next slice. */
  interrupt(): void {
    if (!this.busy) return;
    // Commands typed ahead go too.
    for (const q of this.queue.splice(0)) q.resolve(null);
    this.stop_requested = true;
    this.session.interrupt();
    this.note('Interrupting...');
    this.changed();
  }

  /** Completion for the command line: TUI commands, then the REPL's completer. */
  complete(line: string): [string[], string] {
    const words = line.split(/\s+/);
    if (words.length <= 1) {
      const [c, p] = complete(this.interp.table, this.session, line);
      const mine = Object.keys(TUI_COMMANDS).filter((k) => k.startsWith(p));
      return [[...new Set([...c, ...mine])].sort(), p];
    }
    const partial = words[words.length - 1]!;
    const pick = (xs: readonly string[]): [string[], string] => [xs.filter((x) => x.startsWith(partial)), partial];
    if (words.length === 2 && words[0] === 'layout') return pick([...LAYOUTS, 'next', 'prev']);
    if (words.length === 2 && words[0] === 'focus') return pick([...PANES, 'next', 'prev']);
    if (words[0] === 'inspect') return this.complete(line.replace(/^inspect\s+/, ''));
    if (words[0] === 'filter') return [[], partial];
    return complete(this.interp.table, this.session, line);
  }

  // ------------------------------------------------------- keys

  /** One key (or a pasted chunk, split into keys). */
  key(input: string, key: KeyInfo = {}): void {
    const plain = !key.ctrl && !key.meta && !key.escape && !key.return && !key.tab && !key.backspace && !key.delete;
    // A chunk of typed or pasted characters: one key each (a prompt takes plain text whole).
    if (plain && input.length > 1 && (!this.prompt || /[\r\n\t\x7f\x08\x03\x1b]/.test(input))) {
      for (const ch of input) this.key1(ch === '\x03' ? 'c' : ch, char_key(ch));
      return;
    }
    this.key1(input === '\x03' ? 'c' : input, input.length === 1 && plain ? char_key(input) : key);
  }

  private key1(input: string, key: KeyInfo): void {
    if (key.ctrl && input === 'c') {
      if (this.busy) return this.interrupt();
      if (this.prompt) {
        this.prompt = null;
        return this.changed();
      }
      const now = Date.now();
      if (now - this.last_ctrl_c < 2000) {
        void this.submit('quit');
        return;
      }
      this.last_ctrl_c = now;
      this.note('Ctrl-C again (or q) quits; Ctrl-C interrupts a run.');
      return this.changed();
    }
    if (this.prompt) return this.prompt_key(this.prompt, input, key);
    if (this.help) return this.help_key(input, key);
    if (key.escape) {
      if (this.busy) return this.interrupt();
      return;
    }
    if (key.tab) {
      void this.submit(key.shift ? 'focus prev' : 'focus next', { quiet: true });
      return;
    }
    if (key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end) return this.nav(key);
    if (key.return) return this.enter();
    switch (input) {
      case 's':
        return void this.submit('step');
      case 'n': {
        const t = this.session.world.threads[this.sel.threads];
        return void this.submit(t ? `step ${t.name}` : 'step');
      }
      case 'c':
        return void this.submit('continue');
      case 'r':
        return void this.submit('reverse-step');
      case 'R':
        return void this.submit('reverse-continue');
      case 'b':
        return this.open('command', 'break ');
      case 'g':
        return this.open('command', 'goto ');
      case ':':
        return this.open('command', '');
      case '/':
        // A new filter each time (Enter on an empty one shows every event); the current one is in the pane's title.
        return this.open('filter', '');
      case '?':
        this.help = true;
        this.scroll.help = 0;
        return this.changed();
      case 'q':
        return void this.submit('quit');
      case 'l':
        return void this.submit('layout next', { quiet: true });
      case 'x':
        return void this.explain();
      case 'd':
      case 'e':
        if (this.focus === 'breakpoints') return this.bp_key(input);
        return;
    }
  }

  private open(purpose: Prompt['purpose'], initial: string): void {
    const editor =
      purpose === 'filter' ? new LineEditor('/', initial, [], null) : new LineEditor(':', initial, this.history, (line) => this.complete(line));
    this.prompt = { purpose, editor };
    this.changed();
  }

  private prompt_key(p: Prompt, input: string, key: KeyInfo): void {
    const ed = p.editor;
    if (key.escape) {
      this.prompt = null;
      return this.changed();
    }
    if (key.return) {
      this.prompt = null;
      const text = ed.text;
      if (p.purpose === 'filter') void this.submit(`filter ${text}`);
      else void this.submit(text, { history: true });
      return this.changed();
    }
    if (key.tab) ed.complete();
    else if (key.backspace) ed.backspace();
    else if (key.delete) ed.delete();
    else if (key.leftArrow) ed.left();
    else if (key.rightArrow) ed.right();
    else if (key.upArrow) ed.prev();
    else if (key.downArrow) ed.next();
    else if (key.home || (key.ctrl && input === 'a')) ed.home();
    else if (key.end || (key.ctrl && input === 'e')) ed.end();
    else if (key.ctrl && input === 'u') ed.kill_before();
    else if (key.ctrl && input === 'k') ed.kill_after();
    else if (key.ctrl && input === 'w') ed.kill_word();
    else if (key.ctrl && input === 'h') ed.backspace();
    else if (!key.ctrl && !key.meta && input) ed.insert(input);
    this.changed();
  }

  private help_key(input: string, key: KeyInfo): void {
    const max = Math.max(0, this.help_lines().length - (this.rows - 3));
    if (key.escape || key.return || input === '?' || input === 'q') this.help = false;
    else if (key.upArrow) this.scroll.help = Math.max(0, this.scroll.help - 1);
    else if (key.downArrow) this.scroll.help++;
    else if (key.pageUp) this.scroll.help = Math.max(0, this.scroll.help - 10);
    else if (key.pageDown) this.scroll.help += 10;
    this.scroll.help = Math.min(this.scroll.help, max);
    this.changed();
  }

  private nav(key: KeyInfo): void {
    const page = Math.max(1, this.pane_height(this.focus) - 2);
    const d = key.upArrow ? -1 : key.downArrow ? 1 : key.pageUp ? -page : key.pageDown ? page : 0;
    switch (this.focus) {
      case 'threads':
      case 'mmus':
      case 'breakpoints': {
        const n = this.focus === 'threads' ? this.session.world.threads.length : this.focus === 'mmus' ? this.mmu_count() : this.session.breakpoints.all().length;
        const cur = this.sel[this.focus];
        const next = key.home ? 0 : key.end ? n - 1 : cur + d;
        this.sel[this.focus] = Math.max(0, Math.min(n - 1, next));
        break;
      }
      case 'events':
        // Up goes back in time: the offset counts rows from the newest.
        if (key.end) this.scroll.events = 0;
        else if (key.home) this.scroll.events = MAX_SCROLL;
        else this.scroll.events = Math.max(0, Math.min(MAX_SCROLL, this.scroll.events - d));
        break;
      case 'inspector':
        if (key.home) this.scroll.inspector = 0;
        else if (key.end) this.scroll.inspector = Number.MAX_SAFE_INTEGER;
        else this.scroll.inspector = Math.max(0, this.scroll.inspector + d);
        break;
    }
    this.changed();
  }

  private enter(): void {
    switch (this.focus) {
      case 'threads': {
        const t = this.session.world.threads[this.sel.threads];
        if (t) void this.submit('inspect', { quiet: true });
        return;
      }
      case 'mmus': {
        const name = this.mmu_names()[this.sel.mmus];
        if (name) void this.submit(`inspect pt dump ${name}`, { quiet: true });
        return;
      }
      case 'breakpoints':
        void this.submit('inspect info breakpoints', { quiet: true });
        return;
    }
  }

  private bp_key(input: string): void {
    const bp = this.session.breakpoints.all()[this.sel.breakpoints];
    if (!bp) return;
    if (input === 'd') void this.submit(`delete ${bp.id}`);
    else void this.submit(`${bp.enabled ? 'disable' : 'enable'} ${bp.id}`);
  }

  private mmu_names(): string[] {
    const a = this.session.world.arm64;
    return a ? ['s2', ...a.nested_mmus.map((_m, i) => `nested[${i}]`)] : [];
  }

  private mmu_count(): number {
    return this.mmu_names().length;
  }

  private update_thread_width(): void {
    const w = Math.max(6, ...this.session.world.threads.map((t) => t.name.length));
    if (w !== this.thread_width) {
      this.thread_width = w;
      this.etext.clear();
    }
  }

  // ------------------------------------------------------- view

  current_layout(): Layout {
    const wide = this.cols >= 120;
    const nthreads = this.session.world.threads.length;
    const nmmus = this.mmu_count();
    const nbps = this.session.breakpoints.all().length;
    return compute_layout({
      name: this.layout,
      cols: this.cols,
      rows: Math.max(4, this.rows),
      focus: this.focus,
      tab: this.tab,
      want: {
        threads: 1 + nthreads,
        // Room for the boxed table on a wide screen.
        mmus: nmmus === 0 ? 6 : wide ? 3 + 2 * nmmus : 1 + nmmus,
        events: 1000,
        inspector: 1000,
        breakpoints: Math.max(2, 1 + nbps),
        swimlane: 1000,
      },
    });
  }

  visible(): Set<PaneName> {
    return this.current_layout().visible;
  }

  private pane_height(p: PaneName): number {
    for (const b of this.current_layout().bands) for (const s of b.slots) if (s.pane === p) return s.height;
    return 10;
  }

  private console_height(): number {
    for (const b of this.current_layout().bands) for (const s of b.slots) if (s.pane === 'console') return s.height;
    return 2;
  }

  /** The screen as data; rebuilt only when something changed. */
  view(): ScreenView {
    if (this.memo && this.memo.version === this.version) return this.memo.view;
    const t0 = performance.now();
    const v = this.build();
    this.view_ms = this.view_ms * 0.7 + (performance.now() - t0) * 0.3;
    // A pane's query may have cleared a pending interrupt (Session.events drives a scan): ask again.
    if (this.stop_requested) this.session.interrupt();
    this.memo = { version: this.version, view: v };
    return v;
  }

  private build(): ScreenView {
    const s = this.session;
    const lay = this.current_layout();
    const narrow = this.cols < 120;
    const bands = lay.bands.map((b) => ({
      height: b.height,
      slots: b.slots.map((slot): PaneView | ConsoleView => {
        if (slot.pane === 'console') return { pane: 'console', width: slot.width, height: slot.height, lines: this.console.slice(-slot.height) };
        const p = slot.pane;
        const content = Math.max(0, slot.height - 1);
        const base = { pane: p, focused: p === this.focus, width: slot.width, height: slot.height, ...(slot.tabs ? { tabs: slot.tabs } : {}) };
        switch (p) {
          case 'threads': {
            const grid = threads_grid(this.query, { narrow });
            this.sel.threads = Math.min(this.sel.threads, Math.max(0, grid.rows.length - 1));
            return { ...base, title: PANE_TITLES.threads, body: { kind: 'grid', grid, selected: this.sel.threads, offset: window_offset(this.sel.threads, grid.rows.length, content - 1), style: 'compact' } };
          }
          case 'mmus': {
            const grid = mmus_grid(this.query);
            this.sel.mmus = Math.min(this.sel.mmus, Math.max(0, grid.rows.length - 1));
            const table_w = grid.columns.length ? fit_columns(grid.columns, grid.rows, 10_000).reduce((a, w) => a + w + 3, 1) : Infinity;
            const style = grid.rows.length && content >= 3 + 2 * grid.rows.length && table_w <= slot.width ? 'table' : 'compact';
            return { ...base, title: s.world.arm64 ? 'MMUs (stage 2)' : 'MMU notifier', body: { kind: 'grid', grid, selected: this.focus === 'mmus' ? this.sel.mmus : null, offset: window_offset(this.sel.mmus, grid.rows.length, content - 1), style } };
          }
          case 'breakpoints': {
            const grid = breakpoints_grid(s);
            this.sel.breakpoints = Math.min(this.sel.breakpoints, Math.max(0, grid.rows.length - 1));
            return { ...base, title: PANE_TITLES.breakpoints, body: { kind: 'grid', grid, selected: this.focus === 'breakpoints' ? this.sel.breakpoints : null, offset: window_offset(this.sel.breakpoints, grid.rows.length, content - 1), style: 'compact' } };
          }
          case 'events': {
            // Searching older history costs a re-run: a bounded amount per frame, none during a run.
            const window = event_window(s, this.feed, this.etext, {
              height: content,
              scroll: this.scroll.events,
              filter: this.filter,
              stop_seq: this.stop?.seq ?? null,
              gen: this.gen,
              budget: this.busy ? 0 : SEARCH_BUDGET,
            });
            this.scroll.events = window.scroll;
            if (window.searching !== null && !this.busy) this.again();
            const title = `Events${this.filter ? `  /${this.filter}` : ''}${window.scroll ? `  (${window.scroll} newer below)` : ''}${window.searching !== null ? `  (searching: back to step ${window.searching})` : ''}`;
            return { ...base, title, body: { kind: 'events', window, filter: this.filter } };
          }
          case 'swimlane': {
            const lines = this.swimlane(slot.width - 2, content);
            return { ...base, title: `Swimlane: step ${s.step_no}, causal slice marked *`, body: { kind: 'text', lines, offset: 0, error: false } };
          }
          case 'inspector': {
            const t = s.world.threads[this.sel.threads];
            const cmd = this.inspector?.cmd ?? (t ? `where ${t.name}` : 'where');
            const r = this.inspector?.text !== undefined ? { ok: true, text: this.inspector.text } : this.query.text(cmd);
            // Prose (a violation's message) wraps to the pane; tables and diagrams keep their rows.
            const lines = wrap_prose(r.text.split('\n'), slot.width - 2);
            const max = Math.max(0, lines.length - content);
            this.scroll.inspector = Math.min(this.scroll.inspector, max);
            return { ...base, title: `Inspector: ${cmd}${this.inspector?.text !== undefined ? ' (output)' : ''}`, body: { kind: 'text', lines, offset: this.scroll.inspector, error: !r.ok } };
          }
        }
      }),
    }));
    const ed = this.prompt?.editor;
    return {
      cols: this.cols,
      rows: this.rows,
      color: this.color,
      status: this.status(),
      bands,
      command: ed
        ? { open: true, prompt: this.prompt!.purpose === 'filter' ? '/' : `${this.interp.in_block() ? '>' : ':'}`, text: ed.text, cursor: ed.cursor, candidates: ed.candidates, hint: '' }
        : { open: false, prompt: '', text: '', cursor: 0, candidates: [], hint: this.busy ? 'running: Esc or Ctrl-C interrupts' : HINT },
      help: this.help ? { lines: this.help_lines(), offset: this.scroll.help } : null,
      quit: this.quit,
    };
  }

  /** Build the view again soon (a search goes on), after pending keys. */
  private again(): void {
    if (this.follow_up) return;
    this.follow_up = setTimeout(() => {
      this.follow_up = null;
      this.changed();
    }, 1);
  }

  private status(): StatusView {
    const s = this.session;
    const on = Object.keys(s.world.variants).filter((k) => s.world.variants[k]);
    const step = s.end_step > s.step_no ? `step ${s.step_no} of ${s.end_step}` : `step ${s.step_no}`;
    return {
      scenario: this.scenario_name(),
      variants: on.length ? on.join(',') : 'no variants',
      step,
      stop: this.stop?.label ?? null,
      busy: this.busy ? `${this.busy.cmd}...` : null,
      right: `${this.layout} | ${this.focus}${this.filter ? ` | /${this.filter}` : ''}`,
    };
  }

  help_lines(): string[] {
    const keys = KEY_HELP.map(([k, v]) => `  ${k.padEnd(16)} ${v}`);
    const cmds = Object.values(TUI_COMMANDS).map((c) => `  ${c.usage.padEnd(24)} ${c.summary}`);
    return [
      'Keys',
      ...keys,
      '',
      'TUI commands (at the : prompt)',
      ...cmds,
      '',
      'Every REPL command works at the : prompt: `help` lists them.',
      'Commands that only look (where, print, info, pt walk, mt dump,',
      'events, check) go to the inspector and are re-run after each step.',
      '`save FILE` writes the session so far as a script.',
      '',
      'Esc, ? or q closes this help.',
    ];
  }
}

/** Lines wrapped to `width` where they are prose (no run of spaces inside: not a table row or a diagram). */
export function wrap_prose(lines: string[], width: number): string[] {
  if (width < 20) return lines;
  const out: string[] = [];
  for (const l of lines) {
    if (l.length <= width || /\S {2,}\S/.test(l)) {
      out.push(l);
      continue;
    }
    const indent = /^\s*/.exec(l)![0] + '  ';
    let rest = l;
    let first = true;
    while (rest.length > width) {
      let cut = rest.lastIndexOf(' ', width);
      if (cut <= indent.length) cut = width;
      out.push(rest.slice(0, cut).trimEnd());
      rest = indent + rest.slice(cut).trimStart();
      first = false;
    }
    if (rest.trim() || first) out.push(rest);
  }
  return out;
}

/** First row to show so that `sel` stays in a window of `h` rows over `n`. */
export function window_offset(sel: number, n: number, h: number): number {
  if (h <= 0 || n <= h) return 0;
  return Math.max(0, Math.min(n - h, sel - Math.floor(h / 2)));
}

/** The key a single character of pasted input stands for. */
function char_key(ch: string): KeyInfo {
  switch (ch) {
    case '\r':
    case '\n':
      return { return: true };
    case '\t':
      return { tab: true };
    case '\x7f':
    case '\b':
      return { backspace: true };
    case '\x1b':
      return { escape: true };
    case '\x03':
      return { ctrl: true };
    default:
      return {};
  }
}
