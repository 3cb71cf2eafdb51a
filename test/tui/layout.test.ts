// The pure parts of the TUI: the layout engine, column fitting and the
// command line's editor.
import { describe, expect, it } from 'vitest';
import { CHROME_ROWS, compute_layout, LAYOUTS, PANES, type LayoutName, type PaneName } from '../../src/tui/layout.js';
import { LineEditor, common_prefix } from '../../src/tui/line_editor.js';
import { cell, fit_columns, grid_lines } from '../../src/tui/view.js';

const want = { threads: 5, mmus: 4, events: 1000, inspector: 1000, breakpoints: 2, swimlane: 1000 };

function lay(name: LayoutName, cols: number, rows: number, focus: PaneName = 'threads') {
  return compute_layout({ name, cols, rows, focus, tab: 'events', want });
}

describe('layout', () => {
  for (const name of LAYOUTS) {
    for (const [cols, rows] of [
      [80, 24],
      [160, 48],
      [120, 30],
      [60, 12],
      [200, 80],
    ] as const) {
      it(`${name} at ${cols}x${rows}: the bands fill the screen exactly, each band's slots its width`, () => {
        const l = lay(name, cols, rows);
        expect(l.bands.reduce((n, b) => n + b.height, 0)).toBe(rows - CHROME_ROWS);
        for (const b of l.bands) {
          expect(b.slots.reduce((n, s) => n + s.width, 0)).toBe(cols);
          for (const s of b.slots) {
            expect(s.height).toBe(b.height);
            expect(s.height).toBeGreaterThan(0);
          }
        }
        expect(l.bands[l.bands.length - 1]!.slots[0]!.pane).toBe('console');
        // Every pane of the layout can be reached (drawn, or a tab of a group).
        const reachable = new Set<string>();
        for (const b of l.bands) for (const s of b.slots) for (const p of s.tabs ?? [s.pane]) reachable.add(p);
        for (const p of l.order) expect(reachable.has(p)).toBe(true);
      });
    }
  }

  it('80x24 default: threads and MMUs in full, the log, inspector and breakpoints share a tab group', () => {
    const l = lay('default', 80, 24);
    const panes = l.bands.map((b) => b.slots.map((s) => s.pane));
    expect(panes.slice(0, 2)).toEqual([['threads'], ['mmus']]);
    expect(l.bands[2]!.slots[0]!.tabs).toEqual(['events', 'inspector', 'breakpoints']);
    expect(l.bands[2]!.slots[0]!.pane).toBe('events');
    expect(l.bands[2]!.height).toBeGreaterThanOrEqual(6);
  });

  it('the tab group shows the focused pane', () => {
    expect(lay('default', 80, 24, 'inspector').bands[2]!.slots[0]!.pane).toBe('inspector');
    expect(lay('default', 80, 24, 'breakpoints').visible.has('events')).toBe(false);
  });

  it('160x48 default: every pane at once, side by side where it is wide', () => {
    const l = lay('default', 160, 48);
    // Every pane but the swimlane, which has a layout of its own.
    expect([...l.visible].sort()).toEqual(PANES.filter((p) => p !== 'swimlane').sort());
    expect(l.bands.map((b) => b.slots.map((s) => s.pane))).toEqual([['threads'], ['mmus', 'breakpoints'], ['events', 'inspector'], ['console']]);
  });

  it('a tiny terminal still reaches every pane', () => {
    const l = lay('default', 40, 8);
    expect(l.order).toEqual(['threads', 'mmus', 'events', 'inspector', 'breakpoints']);
    expect(l.bands.reduce((n, b) => n + b.height, 0)).toBe(8 - CHROME_ROWS);
  });
});

describe('columns', () => {
  const columns = [
    { key: 'a', title: 'A' },
    { key: 'b', title: 'STATE', shrink: 3 },
    { key: 'c', title: 'FRAME', shrink: 1 },
  ];
  const rows = [{ a: 'vcpu0', b: 'blocked: preempted until=307', c: 'kvm_preempt:off_cpu' }];

  it('natural widths when they fit', () => {
    expect(fit_columns(columns, rows, 200)).toEqual([5, 28, 19]);
  });

  it('narrow: the shrinkable columns give up width, the others keep theirs', () => {
    const w = fit_columns(columns, rows, 40);
    expect(w[0]).toBe(5);
    expect(2 + w.reduce((a, b) => a + b, 0) + 2 * 2).toBeLessThanOrEqual(40);
    const { rows: lines } = grid_lines({ columns, rows }, 38);
    expect(lines[0]!.length).toBeLessThanOrEqual(38);
    expect(lines[0]).toContain('…');
  });

  it('cell pads and cuts', () => {
    expect(cell('abc', 5)).toBe('abc  ');
    expect(cell('abc', 5, 'right')).toBe('  abc');
    expect(cell('abcdef', 4)).toBe('abc…');
  });
});

describe('the command line editor', () => {
  it('edits like readline', () => {
    const e = new LineEditor(':');
    e.insert('break request');
    e.home();
    e.insert('t');
    expect(e.text).toBe('tbreak request');
    e.end();
    e.kill_word();
    expect(e.text).toBe('tbreak ');
    e.backspace();
    e.left();
    e.delete();
    expect(e.text).toBe('tbrea');
    e.left();
    e.left();
    e.kill_before();
    expect(e.text).toBe('ea');
    e.kill_after();
    expect(e.text).toBe('');
  });

  it('up and down walk the history and come back to the draft', () => {
    const e = new LineEditor(':', '', ['step', 'continue']);
    e.insert('wh');
    e.prev();
    expect(e.text).toBe('continue');
    e.prev();
    e.prev();
    expect(e.text).toBe('step');
    e.next();
    e.next();
    expect(e.text).toBe('wh');
  });

  it('Tab: one candidate is filled in, several extend to their common prefix and are listed', () => {
    const e = new LineEditor(':', '', [], (line) => {
      const w = line.split(' ').pop()!;
      return [['reverse-step', 'reverse-continue', 'reset'].filter((c) => c.startsWith(w)), w];
    });
    e.insert('rev');
    e.complete();
    expect(e.text).toBe('reverse-');
    expect(e.candidates).toEqual(['reverse-step', 'reverse-continue']);
    e.insert('s');
    e.complete();
    expect(e.text).toBe('reverse-step ');
    expect(e.candidates).toEqual([]);
    expect(common_prefix(['abc', 'abd'])).toBe('ab');
  });

  it('pasted text loses control characters', () => {
    const e = new LineEditor(':');
    e.insert('pt walk\tnested[0]\x07 0x1000');
    expect(e.text).toBe('pt walk nested[0] 0x1000');
  });
});
