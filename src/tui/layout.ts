// Where each pane goes, in the spirit of gdb's `layout` command: a pure
// function of the terminal size, the layout name, the focus and how many
// rows the tables want. The screen is a vertical stack of bands, each band
// a row of panes; a band may be a tab group (several panes sharing one
// slot, the active one shown) when the terminal is too small for all.
// No Ink here: the renderer (app.tsx) draws what this computes.

export const PANES = ['threads', 'mmus', 'events', 'inspector', 'breakpoints', 'swimlane'] as const;
export type PaneName = (typeof PANES)[number];

export const LAYOUTS = ['default', 'events', 'inspect', 'split', 'state', 'swimlane'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

export const LAYOUT_HELP: Record<LayoutName, string> = {
  default: 'threads, MMUs, events, inspector, breakpoints and the console',
  events: 'the event log alone, as tall as the terminal allows',
  inspect: 'threads and the inspector (backtraces, page-table walks, maple trees)',
  split: 'the event log and the inspector side by side',
  state: 'threads, MMUs and breakpoints at full size, no event log',
  swimlane: 'the history as one column per thread, time downwards, the causal slice of the current step marked *',
};

export const PANE_TITLES: Record<PaneName, string> = {
  threads: 'Threads',
  mmus: 'MMUs',
  events: 'Events',
  inspector: 'Inspector',
  breakpoints: 'Breakpoints',
  swimlane: 'Swimlane',
};

/** One slot on the screen; `tabs` lists the panes sharing it (the shown one is `pane`). */
export interface Slot {
  pane: PaneName | 'console';
  width: number;
  /** Rows including the title line (the console has no title). */
  height: number;
  tabs?: PaneName[];
}

export interface Band {
  height: number;
  slots: Slot[];
}

export interface Layout {
  name: LayoutName;
  cols: number;
  /** Rows the app draws: the terminal's. */
  rows: number;
  bands: Band[];
  /** Panes reachable with Tab, in order (tabbed ones included). */
  order: PaneName[];
  /** The panes drawn now. */
  visible: Set<PaneName>;
}

export interface LayoutInput {
  name: LayoutName;
  cols: number;
  rows: number;
  focus: PaneName;
  /** The pane last shown in a tab group. */
  tab: PaneName;
  /** Rows each table pane would like (content only, title excluded). */
  want: Record<PaneName, number>;
}

/** Status bar and command line. */
export const CHROME_ROWS = 2;
/** At least this wide and tall for side-by-side panes. */
export const WIDE_COLS = 120;
export const WIDE_ROWS = 30;

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** A pane's height for `want` content rows, within [min, max] (title line included). */
function fit(want: number, min: number, max: number): number {
  return clamp(want + 1, min, Math.max(min, max));
}

function console_rows(rows: number): number {
  return rows >= 40 ? 6 : rows >= 30 ? 4 : rows >= 18 ? 3 : 2;
}

/** Lay the panes of `in.name` out on the screen. */
export function compute_layout(input: LayoutInput): Layout {
  const { cols, want } = input;
  const rows = Math.max(4, input.rows);
  const avail = rows - CHROME_ROWS;
  const wide = cols >= WIDE_COLS && rows >= WIDE_ROWS;
  const bands: Band[] = [];
  const con = console_rows(rows);
  const left = avail - con;
  const full = (pane: PaneName, height: number): Band => ({ height, slots: [{ pane, width: cols, height }] });
  const pair = (a: PaneName, b: PaneName, height: number, share = 0.6): Band => {
    const wa = Math.floor(cols * share);
    return { height, slots: [{ pane: a, width: wa, height }, { pane: b, width: cols - wa, height }] };
  };
  /** A tab group of `panes`: the focused member, else the last shown, else the first. */
  const group = (panes: PaneName[], height: number): Band => {
    const shown = panes.includes(input.focus) ? input.focus : panes.includes(input.tab) ? input.tab : panes[0]!;
    return { height, slots: [{ pane: shown, width: cols, height, tabs: panes }] };
  };
  let order: PaneName[];

  switch (input.name) {
    case 'default': {
      order = ['threads', 'mmus', 'events', 'inspector', 'breakpoints'];
      if (wide) {
        const th = fit(want.threads, 3, Math.floor(left / 4));
        const mb = Math.max(fit(want.mmus, 3, Math.floor(left / 3)), fit(want.breakpoints, 3, Math.floor(left / 4)));
        bands.push(full('threads', th), pair('mmus', 'breakpoints', mb), pair('events', 'inspector', left - th - mb));
      } else {
        const th = fit(want.threads, 3, Math.floor(left / 3));
        const mm = fit(want.mmus, 3, Math.floor(left / 3));
        if (left - th - mm >= 6) {
          bands.push(full('threads', th), full('mmus', mm), group(['events', 'inspector', 'breakpoints'], left - th - mm));
        } else if (left - th >= 4) {
          bands.push(full('threads', th), group(['events', 'mmus', 'inspector', 'breakpoints'], left - th));
        } else {
          bands.push(group(['threads', 'events', 'mmus', 'inspector', 'breakpoints'], left));
        }
      }
      break;
    }
    case 'events':
      order = ['events'];
      bands.push(full('events', left));
      break;
    case 'inspect': {
      order = ['threads', 'inspector'];
      const th = fit(want.threads, 3, Math.floor(left / 3));
      if (left - th >= 4) bands.push(full('threads', th), full('inspector', left - th));
      else bands.push(group(['threads', 'inspector'], left));
      break;
    }
    case 'split':
      order = ['events', 'inspector'];
      if (cols >= WIDE_COLS) bands.push(pair('events', 'inspector', left, 0.55));
      else {
        const h = Math.floor(left / 2);
        bands.push(full('events', h), full('inspector', left - h));
      }
      break;
    case 'state': {
      order = ['threads', 'mmus', 'breakpoints'];
      // No log here: the tables take what they want, the console the rest.
      const max = avail - 2;
      const th = fit(want.threads, 3, Math.floor(max / 3));
      const mm = fit(want.mmus, 3, Math.floor(max / 3));
      if (max - th - mm >= 3) bands.push(full('threads', th), full('mmus', mm), full('breakpoints', fit(want.breakpoints, 3, max - th - mm)));
      else bands.push(group(['threads', 'mmus', 'breakpoints'], max));
      break;
    }
    case 'swimlane':
      order = ['swimlane'];
      bands.push(full('swimlane', left));
      break;
  }
  const used = bands.reduce((n, b) => n + b.height, 0);
  const con_h = Math.max(1, avail - used);
  bands.push({ height: con_h, slots: [{ pane: 'console', width: cols, height: con_h }] });

  const visible = new Set<PaneName>();
  for (const b of bands) for (const s of b.slots) if (s.pane !== 'console') visible.add(s.pane);
  return { name: input.name, cols, rows, bands, order, visible };
}

/** Which layout shows `pane` (the current one when it does). */
export function layout_for(pane: PaneName, current: LayoutName): LayoutName {
  const probe = compute_layout({ name: current, cols: 200, rows: 60, focus: pane, tab: pane, want: { threads: 4, mmus: 3, events: 10, inspector: 10, breakpoints: 2, swimlane: 10 } });
  return probe.order.includes(pane) ? current : 'default';
}
