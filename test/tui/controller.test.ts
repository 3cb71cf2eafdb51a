// The controller without Ink: every key is a command run through the REPL's
// interpreter (so `save` scripts what was clicked through), long runs are
// interruptible, the TUI's own commands change only the view.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run_batch } from '../../src/repl/batch.js';
import { ROOT } from '../cli/helpers.js';
import { scenario_interp } from '../repl/helpers.js';
import { controller, NV, unmap_step, wait_for } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-tui-'));

/** The default scenario made long (about 80,000 steps) so that a continue runs many slices. */
function long_scenario(): string {
  const file = join(dir, 'long.yaml');
  const text = readFileSync(join(ROOT, 'scenarios', 'default.yaml'), 'utf8').replace(/times: 3/g, 'times: 20000').replace(/^name: default/m, 'name: long');
  writeFileSync(file, text);
  return file;
}

const cmds = (ctl: ReturnType<typeof controller>) => ctl.console.filter((l) => l.tone === 'cmd').map((l) => l.text.replace(/^kvmdbg\[\d+\]> /, ''));

describe('keys are commands', () => {
  it('s, n, c, r, R, b and : each run a REPL command line', async () => {
    const ctl = controller();
    ctl.key('s');
    await wait_for(() => String(ctl.session.step_no), '1');
    ctl.key('', { downArrow: true });
    ctl.key('n');
    await wait_for(() => String(ctl.session.step_no), '2');
    expect(ctl.session.last_thread?.name).toBe('vcpu1');
    ctl.key('b');
    expect(ctl.view().command).toMatchObject({ open: true, text: 'break ' });
    ctl.key('request.make req=NESTED_S2_UNMAP');
    ctl.key('', { return: true });
    await wait_for(() => String(ctl.session.breakpoints.all().length), '1');
    ctl.key('c');
    await wait_for(() => ctl.view().status.stop ?? '', 'breakpoint 1');
    const at = ctl.session.step_no;
    ctl.key('r');
    await wait_for(() => String(ctl.session.step_no), String(at - 1));
    ctl.key('R');
    await wait_for(() => cmds(ctl).join(','), 'reverse-continue');
    await wait_for(() => String(ctl.busy === null), 'true');
    expect(cmds(ctl)).toEqual(['step', 'step vcpu1', 'break request.make req=NESTED_S2_UNMAP', 'continue', 'reverse-step', 'reverse-continue']);
    expect(ctl.view().status.stop).toBe('start');
  });

  it('a chunk of typed keys (as a terminal delivers a paste) is split into keys', async () => {
    const ctl = controller();
    ctl.key(':break request.make req=NESTED_S2_UNMAP\rc');
    await wait_for(() => ctl.view().status.stop ?? '', 'breakpoint 1');
    expect(ctl.session.step_no).toBe(await unmap_step());
  });

  it('`save FILE` from the TUI writes a script that brings a REPL to the same place', async () => {
    const ctl = controller();
    await ctl.submit('break request.make req=NESTED_S2_UNMAP');
    ctl.key('c');
    await wait_for(() => ctl.view().status.stop ?? '', 'breakpoint 1');
    ctl.key('', { downArrow: true });
    ctl.key('r');
    const at = await unmap_step();
    await wait_for(() => String(ctl.session.step_no), String(at - 1));
    ctl.key('s');
    await wait_for(() => String(ctl.session.step_no), String(at));
    const file = join(dir, 'session.kvm');
    await ctl.submit(`save ${file}`);
    const script = readFileSync(file, 'utf8');
    expect(script).toContain('break request.make req=NESTED_S2_UNMAP');
    const i = scenario_interp(NV);
    const r = run_batch(i, [{ name: file, lines: script.split('\n') }], { out: () => undefined, err: () => undefined });
    expect(r).toBe(0);
    expect(i.session.step_no).toBe(at);
    expect(i.session.breakpoints.all().map((b) => b.kind)).toEqual(['request.make']);
  });

  it('q quits, through the interpreter', async () => {
    const ctl = controller();
    ctl.key('q');
    await wait_for(() => String(ctl.view().quit), 'true');
  });

  it('Ctrl-C twice quits when nothing runs; once only says so', async () => {
    const ctl = controller();
    ctl.key('c', { ctrl: true });
    expect(ctl.view().quit).toBe(false);
    expect(ctl.console[ctl.console.length - 1]!.text).toMatch(/Ctrl-C again/);
    ctl.key('\x03');
    await wait_for(() => String(ctl.view().quit), 'true');
  });
});

describe('long runs', () => {
  for (const how of ['Esc', 'Ctrl-C'] as const) {
    it(`run in slices with the screen live; ${how} interrupts`, async () => {
      const ctl = controller(long_scenario());
      const done = ctl.submit('continue');
      // The screen is redrawn while it runs (and the panes query the Session between slices).
      await wait_for(() => {
        ctl.view();
        return ctl.busy && ctl.session.step_no > 0 ? 'running' : '';
      }, 'running');
      expect(ctl.view().status.busy).toBe('continue...');
      const frames = new Set<number>();
      await wait_for(() => {
        frames.add(ctl.view().bands.length && ctl.session.step_no);
        return frames.size >= 2 ? 'moving' : '';
      }, 'moving');
      if (how === 'Esc') ctl.key('', { escape: true });
      else ctl.key('c', { ctrl: true });
      // Redraws after the interrupt must not lose it.
      for (let i = 0; i < 5; i++) {
        ctl.changed();
        ctl.view();
      }
      const o = await done;
      expect(o?.ok).toBe(true);
      expect(ctl.view().status.stop).toBe('interrupted');
      expect(ctl.session.step_no).toBeLessThan(80_000);
      expect(ctl.view().quit).toBe(false);
    });
  }

  it('a second run command while one runs is refused; view commands still work', async () => {
    const ctl = controller(long_scenario());
    const done = ctl.submit('continue');
    await wait_for(() => (ctl.busy?.long ? 'busy' : ''), 'busy');
    await ctl.submit('step');
    expect(ctl.console[ctl.console.length - 1]!.text).toMatch(/^busy running "continue"/);
    await ctl.submit('layout events');
    expect(ctl.layout).toBe('events');
    ctl.interrupt();
    await done;
  });

  it('commands typed ahead of a short one wait their turn', async () => {
    const ctl = controller();
    const a = ctl.submit('step');
    const b = ctl.submit('step 2');
    const c = ctl.submit('print w.step');
    await Promise.all([a, b, c]);
    expect(ctl.session.step_no).toBe(3);
    expect(ctl.console[ctl.console.length - 1]!.text).toBe('3');
  });
});

describe('the TUI commands and the interpreter', () => {
  it('inspect pins a command; Enter on a thread goes back to its backtrace', async () => {
    const ctl = controller();
    await ctl.submit('inspect info vcpus');
    expect(ctl.inspector).toEqual({ cmd: 'info vcpus' });
    await ctl.submit('focus threads');
    ctl.key('', { return: true });
    await wait_for(() => String(ctl.inspector), 'null');
    await ctl.submit('print w.step');
    expect(ctl.inspector).toEqual({ cmd: 'print w.step' });
    expect(ctl.console[ctl.console.length - 1]!.text).toBe('0');
    expect(ctl.is_look('step')).toBe(false);
    expect(ctl.is_look('i mm')).toBe(true);
    expect(ctl.is_look('pt map s2 0x1000 0x2000')).toBe(false);
  });

  it('a `commands` block typed at the prompt: the prompt says so and the panes keep working', async () => {
    const ctl = controller();
    await ctl.submit('break request.make req=NESTED_S2_UNMAP');
    await ctl.submit('commands 1');
    ctl.key(':');
    expect(ctl.view().command.prompt).toBe('>');
    ctl.key('', { escape: true });
    await ctl.submit('print w.step');
    // The threads pane's queries do not end up in the block.
    expect(ctl.view().bands[0]!.slots[0]).toMatchObject({ pane: 'threads' });
    await ctl.submit('end');
    await ctl.submit('continue');
    const out = ctl.console.map((l) => l.text).join('\n');
    const at = await unmap_step();
    expect(out).toContain(`Breakpoint 1, step ${at}`);
    expect(out).toMatch(new RegExp(`\\n${at}\\n|\\n${at}$`));
  });

  it('load switches the scenario in the status bar', async () => {
    const ctl = controller();
    await ctl.submit(`load ${join(ROOT, 'scenarios', 'default.yaml')}`);
    expect(ctl.view().status.scenario).toBe('default');
    expect(ctl.view().status.step).toBe('step 0');
  });

  it('errors go to the console in the interpreter’s words', async () => {
    const ctl = controller();
    await ctl.submit('frobnicate');
    expect(ctl.console[ctl.console.length - 1]).toMatchObject({ tone: 'err', text: 'EINVAL: undefined command "frobnicate"; try "help"' });
    await ctl.submit('focus nowhere');
    expect(ctl.console[ctl.console.length - 1]!.text).toMatch(/^EINVAL: no pane "nowhere"/);
  });
});
