// Small TUI fixes of issue 14: the FRAME column cut in the middle (the
// label stays readable at 80x24), the `/` prompt starts empty, and Esc
// interrupts an expression that runs away.
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../src/repl/interpreter.js';
import { Query, cut_middle, grid_lines, threads_grid } from '../../src/tui/view.js';
import { controller, wait_for } from './helpers.js';

describe('the threads pane at 80 columns', () => {
  it('cuts a frame in the middle, keeping its label', () => {
    expect(cut_middle('kvm_mmu_notifier_invalidate_range_start:lock', 20)).toBe('kvm_mmu_notifi…:lock');
    expect(cut_middle('kvm_mmu_notifier_invalidate_range_start:lock', 20)).toHaveLength(20);
    expect(cut_middle('abcdefghij:some_long_label', 9)).toBe('abcd…abel');
  });

  it('every FRAME cell of a run ends with its label, or was not cut', async () => {
    const ctl = controller(undefined, { cols: 80, rows: 24 });
    await ctl.submit('step 150');
    const q = new Query(new Interpreter(ctl.host));
    const g = threads_grid(q, { narrow: true });
    const { rows } = grid_lines(g, 78);
    const frames = g.rows.map((r) => r['frame']!);
    rows.forEach((line, i) => {
      const f = frames[i]!;
      const label = f.slice(f.lastIndexOf(':'));
      if (!line.includes(f)) expect(line, `${f} in: ${line}`).toContain(`…${label}`);
    });
    expect(rows.every((l) => l.length <= 78)).toBe(true);
  });
});

describe('the event filter prompt', () => {
  it('opens empty even when a filter is set (the pane title shows the current one)', async () => {
    const ctl = controller();
    await ctl.submit('filter request');
    ctl.key('/');
    expect(ctl.view().command.text).toBe('');
    ctl.key('vcpu');
    ctl.key('', { return: true });
    await wait_for(() => ctl.filter, 'vcpu');
  });
});

describe('an expression that runs away in the TUI', () => {
  it('Esc interrupts it, and the next command runs', async () => {
    const ctl = controller();
    const done = ctl.submit('print (() => { for (;;) {} })()');
    await wait_for(() => (ctl.view().status.busy ? 'busy' : ''), 'busy');
    ctl.key('', { escape: true });
    const o = await done;
    expect(o?.ok).toBe(false);
    expect(o?.error?.code).toBe('EINTR');
    const next = await ctl.submit('print 6 * 7');
    expect(next?.text).toBe('42');
  }, 30_000);
});
