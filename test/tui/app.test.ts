// The whole App under ink-testing-library: keys written to its stdin, the
// frames it draws.
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/tui/app.js';
import { controller, plain, unmap_step, wait_for } from './helpers.js';

const mounted: { unmount: () => void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function app(o: { cols?: number; rows?: number } = {}) {
  // ink-testing-library's stdout is 100 columns wide.
  const ctl = controller(undefined, { cols: 100, rows: o.rows ?? 30 });
  const r = render(h(App, { ctl }));
  mounted.push(r);
  const frame = () => plain(r.lastFrame());
  /** Write keys one at a time, each after the previous was handled. */
  const type = async (s: string) => {
    for (const ch of s) {
      const v = ctl.get_version();
      r.stdin.write(ch);
      await wait_for(() => String(ctl.get_version() !== v), 'true');
    }
  };
  return { ctl, r, frame, type };
}

describe('the App', () => {
  it('draws the full screen: status bar, panes, console, key hints', async () => {
    const { frame } = app();
    const f = await wait_for(frame, 'step 0');
    const lines = f.split('\n');
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatch(/^ kvmdbg \| nv-s2-recycle \| step 0 \| no variants/);
    expect(f).toContain('▶ Threads');
    expect(f).toContain('MMUs (stage 2)');
    expect(f).toContain('[Events] | Inspector | Breakpoints');
    expect(lines[29]).toMatch(/^s step {2}n thread {2}c cont/);
  });

  it('break through the command line, continue, reverse-step, quit', async () => {
    const { ctl, r, frame, type } = app();
    await wait_for(frame, 'step 0');
    await type(':break request.make req=NESTED_S2_UNMAP');
    await wait_for(frame, ':break request.make req=NESTED_S2_UNMAP');
    r.stdin.write('\r');
    await wait_for(frame, 'Breakpoint 1: request.make req=NESTED_S2_UNMAP');
    r.stdin.write('c');
    const at = await unmap_step();
    let f = await wait_for(frame, `step ${at} | breakpoint 1`);
    expect(f).toMatch(new RegExp(`▶\\s+${at}\\s+vcpu1\\s+request\\.make\\s+req=NESTED_S2_UNMAP`));
    r.stdin.write('r');
    f = await wait_for(frame, `step ${at - 1} of ${at}`);
    expect(f.split('\n')[0]).not.toContain('breakpoint 1');
    r.stdin.write('q');
    await wait_for(() => String(ctl.view().quit), 'true');
  });

  it('Tab cycles the focus, ? opens the help, Esc closes it', async () => {
    const { r, frame } = app();
    await wait_for(frame, '▶ Threads');
    r.stdin.write('\t');
    await wait_for(frame, '▶ MMUs');
    r.stdin.write('\t');
    await wait_for(frame, /▶ \[Events\] \| Inspector/);
    r.stdin.write('\x1b[Z');
    await wait_for(frame, '▶ MMUs');
    r.stdin.write('?');
    await wait_for(frame, '▶ Help');
    r.stdin.write('\x1b');
    await wait_for(frame, (f) => !f.includes('▶ Help') && f.includes('▶ MMUs'));
  });
});
