// start_app, the way main.ts runs the App: on a (fake) terminal whose
// bytes go through a terminal emulator. Ink decides once, when it is
// imported, whether it runs in CI (and then draws nothing until it exits):
// this file imports it only after saying no, as main.ts does.
import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { controller, wait_for } from './helpers.js';
import { VirtualTerminal } from './vterm.js';

let start_app: typeof import('../../src/tui/app.js').start_app;
beforeAll(async () => {
  process.env['CI'] = 'false';
  process.env['CONTINUOUS_INTEGRATION'] = 'false';
  ({ start_app } = await import('../../src/tui/app.js'));
});

describe('start_app', () => {
  it('start_app: full-screen frames on a terminal; console output goes to the console pane; resize re-lays out; q ends it', async () => {
    const vt = new VirtualTerminal(80, 24, { convertEol: true });
    const stdout = Object.assign(new EventEmitter(), { isTTY: true, columns: 80, rows: 24, write: (s: string) => (vt.write(s), true) });
    const stdin = new FakeStdin();
    const ctl = controller(undefined, { cols: 80, rows: 24 });
    const log = console.log;
    const done = start_app(ctl, { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, stderr: stdout as unknown as NodeJS.WriteStream });
    let f = await wait_for(() => vt.text(), 'step 0');
    expect(f.split('\n')[0]).toMatch(/^ kvmdbg \| nv-s2-recycle/);
    expect(f.split('\n')[23]).toMatch(/^s step/);
    console.log('hello from the model');
    expect(console.log).not.toBe(log);
    await wait_for(() => vt.text(), 'hello from the model');
    stdin.write('c');
    f = await wait_for(() => vt.text(), /step \d+ \| end/);
    vt.resize(120, 40);
    Object.assign(stdout, { columns: 120, rows: 40 });
    stdout.emit('resize');
    f = await wait_for(() => vt.text(), (t) => t.split('\n')[39]!.startsWith('s step') && t.includes('default | threads'));
    expect(`${ctl.cols}x${ctl.rows}`).toBe('120x40');
    // Every row of the new size is drawn once: no stale rows from the old frame.
    expect(f.match(/kvmdbg \| nv-s2-recycle/g)).toHaveLength(1);
    stdin.write('q');
    await done;
    expect(console.log).toBe(log);
  });
});

/** A stdin Ink accepts (what ink-testing-library's does). */
class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read(): string | null {
    const d = this.data;
    this.data = null;
    return d;
  }
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}
