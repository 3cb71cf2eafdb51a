// Component tests: each pane rendered alone with ink-testing-library from
// the controller's view of a real Session (nv-s2-recycle unless said).
import { render } from 'ink-testing-library';
import { join } from 'node:path';
import { createElement as h } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Controller, ConsoleView, PaneView } from '../../src/tui/controller.js';
import type { PaneName } from '../../src/tui/layout.js';
import { CommandLine, Console, HelpOverlay, Pane, Screen, StatusBar } from '../../src/tui/panes.js';
import { ROOT } from '../cli/helpers.js';
import { find_violation } from '../helpers/seeds.js';
import { controller, lit, NV, plain, unmap_step, wait_for, where } from './helpers.js';
import { mmu_name } from '../../src/core/arm64/kvm_host.js';

const mounted: { unmount: () => void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function draw(el: ReturnType<typeof h>) {
  const r = render(el);
  mounted.push(r);
  return r;
}

/** The view of one pane, focusing it first when asked (a tab group shows the focused pane). */
async function pane(ctl: Controller, name: PaneName, focus = false): Promise<PaneView> {
  if (focus) await ctl.submit(`focus ${name}`);
  for (const b of ctl.view().bands) for (const s of b.slots) if (s.pane === name) return s as PaneView;
  throw new Error(`${name} is not on the screen`);
}

function console_view(ctl: Controller): ConsoleView {
  for (const b of ctl.view().bands) for (const s of b.slots) if (s.pane === 'console') return s as ConsoleView;
  throw new Error('no console');
}

async function at_breakpoint(ctl: Controller): Promise<void> {
  await ctl.submit('break request.make req=NESTED_S2_UNMAP');
  await ctl.submit('continue');
}

describe('status bar', () => {
  it('scenario, variants, step and the stop reason', async () => {
    const ctl = controller();
    let r = draw(h(StatusBar, { status: ctl.view().status, width: 100, color: false }));
    expect(plain(r.lastFrame())).toMatch(/kvmdbg \| nv-s2-recycle \| step 0 \| no variants/);
    await at_breakpoint(ctl);
    r = draw(h(StatusBar, { status: ctl.view().status, width: 100, color: false }));
    const f = await wait_for(() => plain(r.lastFrame()), 'breakpoint 1');
    expect(f).toMatch(new RegExp(`step ${await unmap_step()} \\| breakpoint 1`));
    expect(f).toContain('default | threads | ? help');
  });

  it('narrow: the step and the stop stay, the variants and the layout go first', async () => {
    const ctl = controller(NV, { variant: ['nv.no_unmap_request', 'nv.revmap_overwrite'], seed: 1 });
    await ctl.submit('break vcpu.mode');
    await ctl.submit('continue');
    const r = draw(h(StatusBar, { status: ctl.view().status, width: 60, color: false }));
    const f = plain(r.lastFrame());
    expect(f).toMatch(/^ kvmdbg \| nv-s2-recycle \| step \d+ \| breakpoint 1 \| nv\.no_un…$/);
    expect(f).not.toContain('? help');
    expect(f.length).toBeLessThanOrEqual(60);
  });

  it('the end; a variant and its violation', async () => {
    let ctl = controller(NV);
    await ctl.submit('continue');
    let r = draw(h(StatusBar, { status: ctl.view().status, width: 100, color: false }));
    expect(plain(r.lastFrame())).toMatch(/step \d+ \| end \| no variants/);
    const { seed } = find_violation(NV, ['nv.no_unmap_request'], 'nv.entry_with_pending_unmap');
    ctl = controller(NV, { variant: ['nv.no_unmap_request'], seed });
    await ctl.submit('continue');
    r = draw(h(StatusBar, { status: ctl.view().status, width: 140, color: false }));
    expect(plain(r.lastFrame())).toMatch(/step \d+ \| violation nv\.entry_with_pending_unmap \| nv\.no_unmap_request/);
  });
});

describe('threads pane', () => {
  it("each thread's state, top frame, vCPU mode, pending requests by name and hw_mmu", async () => {
    const ctl = controller(NV, { cols: 160, rows: 48 });
    await at_breakpoint(ctl);
    const r = draw(h(Pane, { view: await pane(ctl, 'threads'), color: false }));
    const f = plain(r.lastFrame());
    expect(f).toContain('▶ Threads');
    expect(f).toMatch(/THREAD\s+STATE\s+FRAME\s+MODE\s+REQUESTS\s+HW_MMU/);
    // vcpu0's state and innermost frame, as `where` reports them, then its mode, requests and hw_mmu.
    const v0 = where(ctl, 'vcpu0');
    const hw0 = lit(mmu_name(ctl.session.world.arm64!.vcpus[0]!.hw_mmu));
    expect(f).toMatch(new RegExp(`> vcpu0\\s+${lit(v0.state)}\\s+${lit(v0.frames[0]!.split('  ')[0]!)}\\s+OUTSIDE_GUEST_MODE\\s+-\\s+${hw0}`));
    expect(f).toMatch(/ {2}vcpu1\s+running\s+kvm_vcpu_load_hw_mmu:unlock\s+OUTSIDE_GUEST_MODE\s+NESTED_S2_UNMAP\s+none/);
    expect(f).toMatch(/mm\s+finished/);
  });

  it('at 80 columns the row fits: cells are cut, nothing wraps', async () => {
    const ctl = controller(NV, { cols: 80, rows: 24 });
    await at_breakpoint(ctl);
    const r = draw(h(Pane, { view: await pane(ctl, 'threads'), color: false }));
    const lines = plain(r.lastFrame()).split('\n');
    expect(lines.length).toBe(6);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).toMatch(/vcpu1\s+running.*OUTSIDE\s+NESTED_S2_UNMAP\s+none/);
  });

  it('arrows move the selection; the selected thread is the one `n` steps', async () => {
    const ctl = controller();
    ctl.key('', { downArrow: true });
    const r = draw(h(Pane, { view: await pane(ctl, 'threads'), color: false }));
    expect(plain(r.lastFrame())).toMatch(/> vcpu1/);
    ctl.key('n');
    await wait_for(() => String(ctl.session.step_no), '1');
    expect(ctl.session.last_thread?.name).toBe('vcpu1');
    expect(ctl.console.map((l) => l.text)).toContain('kvmdbg[0]> step vcpu1');
  });
});

describe('MMU pane', () => {
  it('canonical and nested: vmid, tlb_vttbr, refcnt, pending_unmap, reverse map, leaves (compact)', async () => {
    const ctl = controller(NV, { cols: 100, rows: 30 });
    await at_breakpoint(ctl);
    const v = await pane(ctl, 'mmus');
    expect(v.body.kind === 'grid' && v.body.style).toBe('compact');
    const f = plain(draw(h(Pane, { view: v, color: false })).lastFrame());
    expect(f).toMatch(/MMU\s+VMID\s+VALID\s+REFCNT\s+TLB_VTTBR\s+PENDING_UNMAP\s+REVMAP\s+LEAVES/);
    expect(f).toMatch(/s2\s+1\s+true\s+0\s+0x0\s+false\s+-\s+0/);
    // Each nested row shows that MMU's fields as the World has them (no reverse map upstream: '-').
    for (const m of ctl.session.world.arm64!.nested_mmus) {
      const vttbr = `0x${m.tlb_vttbr.toString(16)}`;
      expect(f).toMatch(new RegExp(`nested\\[${m.index}\\]\\s+\\d+\\s+(true|false)\\s+${m.refcnt}\\s+${vttbr}\\s+${m.pending_unmap}\\s+-\\s+\\d+`));
    }
  });

  it('with room, the boxed @alcalzone/ink-table; with the revmap variant, each reverse map has a size', async () => {
    const ctl = controller(join(ROOT, 'scenarios', 'nv-revmap.yaml'), { cols: 160, rows: 60, variant: ['nv.revmap'] });
    await ctl.submit('continue 400');
    const v = await pane(ctl, 'mmus');
    expect(v.body.kind === 'grid' && v.body.style).toBe('table');
    const f = plain(draw(h(Pane, { view: v, color: false })).lastFrame());
    expect(f).toContain('┌');
    expect(f).toMatch(/│ MMU\s+│ VMID │/);
    expect(f).toMatch(/│ nested\[0\]\s+│/);
    const revmap = ctl.interp.exec('mt list')!;
    const trees = (revmap.result as { trees: { name: string; entries: number }[] }).trees;
    expect(trees.length).toBeGreaterThan(0);
    expect(f).toContain(`│ ${String(trees[0]!.entries).padEnd(6)} │`);
  });

  it('x86: the MMU-notifier state instead', async () => {
    const ctl = controller(join(ROOT, 'scenarios', 'numa-invalidate-retry.yaml'));
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'mmus'), color: false })).lastFrame());
    expect(f).toContain('MMU notifier');
    expect(f).toContain('mmu_invalidate_seq');
  });
});

describe('event log', () => {
  it('virtualised: only the rows that fit are drawn, newest at the bottom, the stop highlighted', async () => {
    const ctl = controller(NV, { cols: 100, rows: 30 });
    await at_breakpoint(ctl);
    const v = await pane(ctl, 'events', true);
    expect(v.body.kind).toBe('events');
    if (v.body.kind !== 'events') return;
    expect(v.body.window.rows).toHaveLength(v.height - 1);
    const lines = plain(draw(h(Pane, { view: v, color: false })).lastFrame()).split('\n');
    expect(lines).toHaveLength(v.height);
    expect(lines[0]).toMatch(/▶ \[Events\]/);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^▶\\s+${await unmap_step()}\\s+vcpu1\\s+request\\.make\\s+req=NESTED_S2_UNMAP`));
  });

  it('breakpoint matches are marked; `/` filters; scrolling goes back in time', async () => {
    const ctl = controller(NV, { cols: 100, rows: 30 });
    await at_breakpoint(ctl);
    await ctl.submit('step 300');
    ctl.key('/');
    ctl.key('request.make');
    ctl.key('', { return: true });
    await wait_for(() => ctl.filter, 'request.make');
    let v = await pane(ctl, 'events', true);
    let f = plain(draw(h(Pane, { view: v, color: false })).lastFrame());
    expect(f).toContain('Events  /request.make');
    const rows = f.split('\n').slice(1).filter((l) => l.trim());
    expect(rows.length).toBeGreaterThan(0);
    for (const l of rows) expect(l).toContain('request.make');
    expect(f).toMatch(new RegExp(`●\\s+${await unmap_step()}\\s+vcpu1\\s+request\\.make\\s+req=NESTED_S2_UNMAP`));
    await ctl.submit('filter');
    ctl.key('', { upArrow: true });
    ctl.key('', { upArrow: true });
    v = await pane(ctl, 'events');
    f = plain(draw(h(Pane, { view: v, color: false })).lastFrame());
    expect(f).toContain('(2 newer below)');
    expect(v.body.kind === 'events' && v.body.window.scroll).toBe(2);
  });

  it('a filter that needs older history searches back a bounded amount per frame until it finds it', async () => {
    const ctl = controller(NV);
    await ctl.submit('continue');
    const v0 = await pane(ctl, 'events', true);
    expect(v0.body.kind).toBe('events');
    await ctl.submit('filter thread.start');
    // Done in one frame or several, the rows come.
    const f = await wait_for(() => {
      for (const b of ctl.view().bands) for (const s of b.slots) if (s.pane === 'events') return plain(draw(h(Pane, { view: s as PaneView, color: false })).lastFrame());
      return '';
    }, /thread\.start/);
    expect(f).not.toContain('request.make');
  });

  it('violations are rows of their own, highlighted', async () => {
    const file = NV;
    const { seed } = find_violation(file, ['nv.no_unmap_request'], 'nv.entry_with_pending_unmap');
    const ctl = controller(file, { variant: ['nv.no_unmap_request'], seed });
    await ctl.submit('continue');
    expect(ctl.view().status.stop).toBe('violation nv.entry_with_pending_unmap');
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'events', true), color: false })).lastFrame());
    expect(f).toMatch(/✗\s+\d+\s+vcpu\d\s+violation nv\.entry_with_pending_unmap: /);
  });
});

describe('breakpoints pane', () => {
  it('one row each: number, type, disposition, enabled, hits, what', async () => {
    const ctl = controller(NV, { cols: 100, rows: 30 });
    await at_breakpoint(ctl);
    await ctl.submit('tbreak tlbi');
    await ctl.submit('watch w.kvm.vcpus[0].mode');
    await ctl.submit('disable 3');
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'breakpoints', true), color: false })).lastFrame());
    expect(f).toMatch(/NUM\s+TYPE\s+DISP\s+ENB\s+HITS\s+WHAT/);
    expect(f).toMatch(/> +1\s+breakpoint\s+keep\s+y\s+1\s+request\.make req=NESTED_S2_UNMAP/);
    expect(f).toMatch(/2\s+breakpoint\s+del\s+y\s+0\s+tlbi/);
    expect(f).toMatch(/3\s+watchpoint\s+keep\s+n\s+0\s+w\.kvm\.vcpus\[0\]\.mode/);
  });

  it('d deletes the selected breakpoint and e toggles it, both as commands', async () => {
    const ctl = controller();
    await ctl.submit('break tlbi');
    await ctl.submit('break retry');
    await ctl.submit('focus breakpoints');
    ctl.key('e');
    await wait_for(() => String(ctl.session.breakpoints.all()[0]!.enabled), 'false');
    ctl.key('', { downArrow: true });
    ctl.key('d');
    await wait_for(() => String(ctl.session.breakpoints.all().length), '1');
    expect(ctl.console.map((l) => l.text)).toEqual(expect.arrayContaining(['kvmdbg[0]> disable 1', 'kvmdbg[0]> delete 2']));
  });

  it('none yet: says how to make one', async () => {
    const ctl = controller();
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'breakpoints', true), color: false })).lastFrame());
    expect(f).toContain('No breakpoints');
  });
});

describe('inspector', () => {
  it("the selected thread's full backtrace and locals by default", async () => {
    const ctl = controller();
    await at_breakpoint(ctl);
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'inspector', true), color: false })).lastFrame());
    expect(f).toContain('Inspector: where vcpu0');
    const v0 = where(ctl, 'vcpu0');
    expect(v0.frames.length).toBeGreaterThan(1);
    v0.frames.forEach((fr, i) => expect(f).toContain(`#${i}  ${fr.split('  ')[0]}`));
    // ...with the innermost frame's locals.
    expect(f).toContain(`#0  ${v0.frames[0]!.split('\n')[0]}`);
  });

  it('a page-table walk typed at : stays there and follows the state', async () => {
    const ctl = controller();
    await at_breakpoint(ctl);
    await ctl.submit('pt walk nested[0] 0x1000');
    let f = plain(draw(h(Pane, { view: await pane(ctl, 'inspector', true), color: false })).lastFrame());
    expect(f).toContain('Inspector: pt walk nested[0] 0x1000');
    expect(f).toMatch(/L3\s+1\s+page \d+\s+0x[0-9a-f]{16}\s+4K page PA 0x10000000/);
    expect(f).toContain('PA: 0x10000000');
    await ctl.submit('reset');
    f = plain(draw(h(Pane, { view: await pane(ctl, 'inspector'), color: false })).lastFrame());
    expect(f).toContain('PA: not mapped');
  });

  it('a maple tree: mt dump of a scratch tree', async () => {
    const ctl = controller();
    await ctl.submit('mt new t');
    await ctl.submit('mt store t 0x1000 0x1fff 0x1234');
    await ctl.submit('inspect mt dump t');
    const f = plain(draw(h(Pane, { view: await pane(ctl, 'inspector', true), color: false })).lastFrame());
    expect(f).toContain('Inspector: mt dump t');
    expect(f).toMatch(/1000-1fff: 0x1234/);
  });

  it('long output scrolls', async () => {
    const ctl = controller(NV, { cols: 100, rows: 30 });
    await ctl.submit('help');
    await ctl.submit('focus inspector');
    const v = await pane(ctl, 'inspector');
    expect(v.body.kind === 'text' && v.body.lines.length).toBeGreaterThan(v.height);
    ctl.key('', { pageDown: true });
    const v2 = await pane(ctl, 'inspector');
    expect(v2.body.kind === 'text' && v2.body.offset).toBeGreaterThan(0);
  });
});

describe('console and command line', () => {
  it('the console shows the commands and their output, newest last', async () => {
    const ctl = controller();
    await at_breakpoint(ctl);
    const f = plain(draw(h(Console, { view: console_view(ctl), candidates: [], color: false })).lastFrame());
    const at = await unmap_step();
    expect(f).toMatch(new RegExp(`Breakpoint 1, step ${at}, vcpu1: request\\.make req=NESTED_S2_UNMAP`));
    expect(f.trim().split('\n').pop()).toBe(`step ${at}: vcpu1 at kvm_vcpu_load_hw_mmu:unlock`);
  });

  it('`:` opens the prompt: typing, the cursor, Tab candidates, history', async () => {
    const ctl = controller();
    ctl.key(':');
    ctl.key('rev');
    ctl.key('', { tab: true });
    let v = ctl.view();
    expect(v.command).toMatchObject({ open: true, prompt: ':', text: 'reverse-' });
    expect(v.command.candidates).toEqual(['reverse-continue', 'reverse-step']);
    let f = plain(draw(h(CommandLine, { view: v.command, width: 80, color: false })).lastFrame());
    expect(f.trimEnd()).toBe(':reverse-');
    const c = plain(draw(h(Console, { view: console_view(ctl), candidates: v.command.candidates, color: false })).lastFrame());
    expect(c.trim().split('\n').pop()).toBe('reverse-continue  reverse-step');
    ctl.key('', { escape: true });
    expect(ctl.view().command.open).toBe(false);
    ctl.key(':');
    ctl.key('step 2');
    ctl.key('', { return: true });
    await wait_for(() => String(ctl.session.step_no), '2');
    ctl.key(':');
    ctl.key('', { upArrow: true });
    v = ctl.view();
    expect(v.command.text).toBe('step 2');
    f = plain(draw(h(CommandLine, { view: v.command, width: 80, color: false })).lastFrame());
    expect(f.trimEnd()).toBe(':step 2');
  });

  it('the TUI commands complete too', () => {
    const ctl = controller();
    expect(ctl.complete('lay')).toEqual([['layout'], 'lay']);
    expect(ctl.complete('layout s')[0]).toEqual(['split', 'state', 'swimlane']);
    expect(ctl.complete('focus b')[0]).toEqual(['breakpoints']);
    expect(ctl.complete('inspect pt w')[0]).toEqual(['walk']);
  });

  it('without a prompt, the command line shows the keys', () => {
    const ctl = controller();
    const f = plain(draw(h(CommandLine, { view: ctl.view().command, width: 200, color: false })).lastFrame());
    expect(f).toContain('s step  n thread  c cont  r rev  R rev-cont  b break  : cmd  / filter');
  });
});

describe('help overlay and the whole screen', () => {
  it('? shows every key', () => {
    const ctl = controller();
    ctl.key('?');
    const v = ctl.view();
    expect(v.help).not.toBeNull();
    const f = plain(draw(h(HelpOverlay, { lines: v.help!.lines, offset: 0, width: 100, height: 40 })).lastFrame());
    for (const k of ['s ', 'n ', 'c ', 'r ', 'R ', 'b ', ':', '/', 'Tab / Shift-Tab', '?', 'q ']) expect(f).toContain(`   ${k}`);
    expect(f).toContain('layout [NAME|next|prev]');
    ctl.key('', { escape: true });
    expect(ctl.view().help).toBeNull();
  });

  it('80x24: exactly 24 lines of at most 80 columns', async () => {
    const ctl = controller(NV, { cols: 80, rows: 24 });
    await at_breakpoint(ctl);
    const r = draw(h(Screen, { view: ctl.view() }));
    const lines = plain(r.lastFrame()).split('\n');
    expect(lines).toHaveLength(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const at = await unmap_step();
    expect(lines[0]).toMatch(new RegExp(`step ${at} \\| breakpoint 1`));
    expect(lines.join('\n')).toMatch(new RegExp(`▶\\s+${at}\\s+vcpu1\\s+request\\.make`));
  });

  it('layout and focus switch what is drawn', async () => {
    const ctl = controller(NV, { cols: 80, rows: 24 });
    await ctl.submit('layout events');
    let lines = plain(draw(h(Screen, { view: ctl.view() })).lastFrame()).split('\n');
    expect(lines[1]).toMatch(/▶ Events/);
    expect(lines.join('\n')).not.toContain('Threads');
    await ctl.submit('focus mmus');
    expect(ctl.layout).toBe('default');
    lines = plain(draw(h(Screen, { view: ctl.view() })).lastFrame()).split('\n');
    expect(lines.join('\n')).toMatch(/▶ MMUs/);
    await ctl.submit('layout nosuch');
    expect(ctl.console[ctl.console.length - 1]!.text).toMatch(/EINVAL: no layout "nosuch"/);
  });
});
