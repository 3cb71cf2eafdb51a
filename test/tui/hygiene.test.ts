// Terminal hygiene in a real pseudo-terminal: however the TUI ends (an
// uncaught exception, an unhandled rejection, a render that throws inside
// Ink, SIGINT), the alternate screen is left and the cursor shown, and the
// error is said on the normal screen.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTER_SCREEN, LEAVE_SCREEN } from '../../src/tui/terminal.js';
import { ROOT } from '../cli/helpers.js';
import { wait_for } from './helpers.js';
import { VirtualTerminal } from './vterm.js';

type Pty = typeof import('node-pty');
let pty: Pty | null = null;
try {
  const m = (await import('node-pty')) as Pty & { default?: Pty };
  pty = m.default ?? m;
} catch {
  pty = null;
}

const dist = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', p)).href);

/** Run an ES module script in a pty; resolves with its exit code, the raw output and the final screen. */
function run(script: string, keys: { after: string | RegExp; send: string }[] = []): Promise<{ code: number | null; signal: number; raw: string; screen: string; buffer: string }> {
  const vt = new VirtualTerminal(100, 30);
  const p = pty!.spawn(process.execPath, ['--input-type=module', '-e', script], { name: 'xterm-256color', cols: 100, rows: 30, cwd: ROOT, env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string> });
  p.onData((d) => vt.write(d));
  const exited = new Promise<{ code: number; signal: number }>((res) => p.onExit((e) => res({ code: e.exitCode, signal: e.signal ?? 0 })));
  return (async () => {
    for (const k of keys) {
      await wait_for(() => vt.text(), k.after, 30_000);
      p.write(k.send);
    }
    const e = await exited;
    // Let the emulator take the last bytes.
    await new Promise<void>((r) => vt.term.write('', r));
    return { code: e.code, signal: e.signal, raw: vt.raw, screen: vt.text(), buffer: vt.buffer() };
  })();
}

function left_cleanly(r: { raw: string; buffer: string }): void {
  expect(r.raw).toContain(ENTER_SCREEN);
  expect(r.raw.lastIndexOf(LEAVE_SCREEN)).toBeGreaterThan(r.raw.lastIndexOf(ENTER_SCREEN));
  expect(r.buffer).toBe('normal');
}

const TERMINAL = `const { Terminal } = await import(${dist('src/tui/terminal.js')}); const t = new Terminal(process.stdout, process.stdin); t.enter(); process.stdout.write('drawn\\n');`;

describe.skipIf(pty === null)('terminal hygiene', () => {
  it('an uncaught exception: the terminal comes back, then the error, exit 2', async () => {
    const r = await run(`${TERMINAL} setTimeout(() => { throw new Error('boom in a timer'); }, 50);`);
    left_cleanly(r);
    expect(r.code).toBe(2);
    expect(r.screen).toContain('kvmdbg: internal error: boom in a timer');
  }, 60_000);

  it('an unhandled rejection: the same', async () => {
    const r = await run(`${TERMINAL} setTimeout(() => { Promise.reject(new Error('rejected')); }, 50);`);
    left_cleanly(r);
    expect(r.code).toBe(2);
    expect(r.screen).toContain('kvmdbg: internal error: rejected');
  }, 60_000);

  it('SIGINT from outside: the terminal comes back, exit 130', async () => {
    const r = await run(`${TERMINAL} setTimeout(() => process.kill(process.pid, 'SIGINT'), 50); setTimeout(() => {}, 10000);`);
    left_cleanly(r);
    expect(r.code).toBe(130);
  }, 60_000);

  it('a render that throws inside Ink: Ink unmounts, the terminal comes back, the CLI says so (exit 2)', async () => {
    // The TUI's own entry point, with a controller whose view throws after the first frame on `x`.
    const script = `
      const { Controller } = await import(${dist('src/tui/controller.js')});
      const view = Controller.prototype.view;
      Controller.prototype.view = function () {
        if (this.console.some((l) => l.text.includes('boom'))) throw new Error('the view broke');
        return view.call(this);
      };
      const key = Controller.prototype.key;
      Controller.prototype.key = function (input, k) {
        if (input === 'x') { this.note('boom'); this.changed(); return; }
        return key.call(this, input, k);
      };
      const { main } = await import(${dist('commands/main.js')});
      process.exitCode = await main(['node', 'kvmdbg', 'tui', 'scenarios/nv-s2-recycle.yaml']);
    `;
    const r = await run(script, [{ after: /step 0/, send: 'x' }]);
    left_cleanly(r);
    expect(r.code).toBe(2);
    expect(r.screen).toContain('kvmdbg: internal error: the view broke');
  }, 60_000);
});
