// The TUI's share of explain: a recording opened at its violating step
// says so in the status bar, the inspector wraps a long violation message
// at 80x24, `x` draws the race diagram in the inspector, and the swimlane
// layout shows the history in thread columns with the slice marked.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { record_run } from '../../src/record/run.js';
import { open_session } from '../../src/repl/main.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { Controller, wrap_prose, type PaneView } from '../../src/tui/controller.js';

const TMP = mkdtempSync(join(tmpdir(), 'kvmdbg-explain-tui-'));
const REC = join(TMP, 'fvi.rec');
const FVI = bundled_scenarios().find((s) => s.id === 'fault-vs-invalidate')!.path;

function open(path: string, cols = 80, rows = 24, goto?: number): Controller {
  const host = open_session(path, goto !== undefined ? { goto } : {}, () => undefined);
  return new Controller({ session: host.session, host, cols, rows, color: false, frame_ms: 5 });
}

function pane(ctl: Controller, name: string): PaneView | null {
  for (const b of ctl.view().bands) for (const s of b.slots) if (s.pane === name) return s as PaneView;
  return null;
}

function text_lines(p: PaneView): string[] {
  if (p.body.kind !== 'text') throw new Error(`${p.pane} is not text`);
  return p.body.lines;
}

let message = '';
let vstep = 0;

beforeAll(async () => {
  const r = await record_run(load_scenario(FVI, { variants: ['mmu.no_retry_check'], seed: 1 }), { path: REC, keep_events: false, signals: [] });
  expect(r.violation?.invariant).toBe('mmu.stale_mapping');
  message = r.violation!.message;
  vstep = r.violation!.step;
});

describe('TUI: explain', () => {
  it('a recording that ends at its violation opens with the stop reason in the status bar', () => {
    const ctl = open(REC);
    expect(ctl.session.step_no).toBe(vstep);
    expect(ctl.view().status.stop).toBe('violation mmu.stale_mapping');
    // Opened elsewhere (--goto), there is no stop to show.
    expect(open(REC, 80, 24, vstep - 1).view().status.stop).toBeNull();
  });

  it('the inspector shows the whole violation message at 80x24, wrapped to the pane', async () => {
    const ctl = open(REC);
    await ctl.submit('focus inspector');
    await ctl.submit('check');
    const p = pane(ctl, 'inspector')!;
    const lines = text_lines(p);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(p.width - 2);
    expect(message.length).toBeGreaterThan(p.width);
    // Every word of the message is there, in order.
    expect(lines.map((l) => l.trim()).join(' ').replace(/\s+/g, ' ')).toContain(message.replace(/\s+/g, ' '));
  });

  it('wrap_prose wraps prose and leaves tables and diagrams alone', () => {
    const row = '   12 kvm_arch_vcpu_ioctl_run: enter guest          get_s2_mmu_nested: recycle nested_mmus[0]';
    expect(wrap_prose([row], 40)).toEqual([row]);
    const prose = 'vcpu1 installed IPA 0x80001000 -> PA 0x10000000 in s2, but the host now maps hva 0x7f0000001000';
    const w = wrap_prose([prose], 40);
    expect(w.length).toBeGreaterThan(1);
    for (const l of w) expect(l.length).toBeLessThanOrEqual(40);
    expect(w.map((l) => l.trim()).join(' ')).toBe(prose);
  });

  it('x: the race diagram in the inspector, shown and focused', async () => {
    const ctl = open(REC);
    expect(ctl.visible().has('inspector')).toBe(false);
    await ctl.explain();
    const p = pane(ctl, 'inspector')!;
    expect(p).not.toBeNull();
    expect(p.title).toBe('Inspector: explain (output)');
    const lines = text_lines(p);
    expect(lines[0]).toMatch(/^ step vcpu\d \(CPU \d\)\s+mm \(CPU 2\)$/);
    expect(lines.at(-1)).toMatch(new RegExp(`^${vstep} mmu\\.stale_mapping: `));
    expect(ctl.session.step_no).toBe(vstep);
  });

  it('layout swimlane: one column per thread, time downwards, the slice marked, the violation last', async () => {
    const ctl = open(REC, 100, 30);
    await ctl.submit('layout swimlane');
    const p = pane(ctl, 'swimlane')!;
    expect(p).not.toBeNull();
    const lines = text_lines(p);
    expect(lines.length).toBeLessThanOrEqual(p.height - 1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(p.width - 2);
    expect(lines[0]).toMatch(/vcpu0 \(CPU 0\).*vcpu1 \(CPU 1\).*mm \(CPU 2\)/);
    const steps = lines.slice(1, -1).map((l) => Number(/^\s*(\d+)/.exec(l)![1]));
    // The last steps up to the current one, in order.
    expect(steps.at(-1)).toBe(vstep);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBe(steps[i - 1]! + 1);
    // The current step is in its own slice, and so are some of the steps before it.
    const marked = lines.slice(1, -1).filter((l) => /^\s*\d+\*/.test(l));
    expect(marked.at(-1)).toMatch(new RegExp(`^\\s*${vstep}\\* .*\\[user_mem_abort:`));
    expect(marked.length).toBeGreaterThan(2);
    expect(lines.at(-1)).toMatch(new RegExp(`^${vstep} mmu\\.stale_mapping: `));
    // A step back: the pane follows.
    await ctl.submit('reverse-step');
    const back = text_lines(pane(ctl, 'swimlane')!);
    expect(back.at(-1)).toMatch(new RegExp(`^\\s*${vstep - 1}\\*`));
  });
});
