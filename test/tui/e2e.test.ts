// End to end in a real pseudo-terminal: the built `kvmdbg` (dist/, built
// by test/global-setup.ts) in node-pty, its output through a terminal
// emulator (@xterm/headless). Without node-pty (its native addon did not
// build) the same test drives tmux instead. The child gets CI=true: Ink
// would then draw nothing until it exits, so this also checks that the TUI
// turns that off.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEAVE_SCREEN } from '../../src/tui/terminal.js';
import { ROOT } from '../cli/helpers.js';
import { unmap_step, wait_for } from './helpers.js';
import { VirtualTerminal } from './vterm.js';

const BIN = join(ROOT, 'bin', 'kvmdbg.js');

interface Tty {
  screen(): string;
  /** Every byte the program wrote. */
  raw(): string;
  /** Keys as a terminal sends them (`\r` for Enter). */
  type(s: string): void;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<{ code: number | null }>;
  close(): void;
}

function child_env(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NO_COLOR' && k !== 'FORCE_COLOR') env[k] = v;
  return { ...env, TERM: 'xterm-256color', CI: 'true' };
}

async function open_pty(args: string[], cols: number, rows: number): Promise<Tty | null> {
  let pty: typeof import('node-pty');
  try {
    const m = (await import('node-pty')) as typeof import('node-pty') & { default?: typeof import('node-pty') };
    pty = m.default ?? m;
  } catch {
    return null;
  }
  const vt = new VirtualTerminal(cols, rows);
  const p = pty.spawn(process.execPath, [BIN, ...args], { name: 'xterm-256color', cols, rows, cwd: ROOT, env: child_env() });
  p.onData((d) => vt.write(d));
  const exited = new Promise<{ code: number | null }>((res) => p.onExit((e) => res({ code: e.signal ? null : e.exitCode })));
  return {
    screen: () => vt.text(),
    raw: () => vt.raw,
    type: (s) => p.write(s),
    signal: (sig) => p.kill(sig),
    exited,
    close: () => {
      try {
        p.kill('SIGKILL');
      } catch {
        // gone already
      }
    },
  };
}

let tmux_n = 0;
function open_tmux(args: string[], cols: number, rows: number): Tty | null {
  if (spawnSync('tmux', ['-V']).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-tmux-'));
  const sock = `kvmdbg-e2e-${process.pid}-${tmux_n++}`;
  const [log, go, code] = ['raw', 'go', 'code'].map((f) => join(dir, f)) as [string, string, string];
  const env = Object.entries(child_env())
    .filter(([k]) => /^(PATH|HOME|TERM|CI|LANG|LC_\w+)$/.test(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  const cmd = `while [ ! -f ${go} ]; do sleep 0.02; done; cd ${JSON.stringify(ROOT)} && env ${env} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args.map((a) => JSON.stringify(a)).join(' ')}; echo $? > ${code}; sleep 60`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 'e2e', '-x', String(cols), '-y', String(rows), cmd);
  tmux('pipe-pane', '-t', 'e2e', '-o', `cat >> ${log}`);
  writeFileSync(go, '');
  let done = false;
  const exited = new Promise<{ code: number | null }>((res) => {
    const poll = setInterval(() => {
      if (!existsSync(code)) return;
      const text = readFileSync(code, 'utf8');
      if (!text.trim()) return;
      clearInterval(poll);
      done = true;
      res({ code: Number(text.trim()) });
    }, 20);
  });
  return {
    screen: () =>
      tmux('capture-pane', '-p', '-t', 'e2e')
        .stdout.replace(/\n$/, '')
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n'),
    raw: () => (existsSync(log) ? readFileSync(log, 'latin1') : ''),
    type: (s) => {
      for (const part of s.split(/(\r)/)) if (part) tmux('send-keys', '-t', 'e2e', ...(part === '\r' ? ['Enter'] : ['-l', part]));
    },
    signal: (sig) => {
      const pid = tmux('list-panes', '-t', 'e2e', '-F', '#{pane_pid}').stdout.trim();
      spawnSync('pkill', [`-${sig.replace(/^SIG/, '')}`, '-P', pid]);
    },
    exited,
    close: () => {
      void done;
      tmux('kill-server');
    },
  };
}

type Driver = 'node-pty' | 'tmux';
const open: Tty[] = [];

async function start(driver: Driver, args: string[], cols = 100, rows = 30): Promise<Tty> {
  const t = driver === 'node-pty' ? await open_pty(args, cols, rows) : open_tmux(args, cols, rows);
  if (!t) throw new Error(`${driver} is not available`);
  open.push(t);
  return t;
}

/** node-pty, and tmux where it is installed; at least one of them. */
async function drivers(): Promise<Driver[]> {
  const out: Driver[] = [];
  try {
    await import('node-pty');
    out.push('node-pty');
  } catch {
    // its native addon did not build
  }
  if (spawnSync('tmux', ['-V']).status === 0) out.push('tmux');
  return out;
}

const DRIVERS = await drivers();

afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

const first_line = (s: string) => s.split('\n')[0] ?? '';

it('a pseudo-terminal is available (node-pty, which npm ci builds, or tmux)', () => {
  expect(DRIVERS.length).toBeGreaterThan(0);
});

describe.runIf(DRIVERS.length > 0)('kvmdbg tui on a recording', () => {
  it('opens at --goto and steps back through the recorded history', async () => {
    const rec = join(mkdtempSync(join(tmpdir(), 'kvmdbg-e2e-')), 'nv.rec');
    expect(spawnSync(process.execPath, [BIN, 'run', 'scenarios/nv-s2-recycle.yaml', '--record', rec], { cwd: ROOT }).status).toBe(0);
    const at = await unmap_step();
    const t = await start(DRIVERS[0]!, ['tui', rec, '--goto', String(at)]);
    const f = await wait_for(() => first_line(t.screen()), new RegExp(`nv-s2-recycle \\| step ${at} of (\\d+)`), 30_000);
    const end = /of (\d+)/.exec(f)![1];
    t.type('r');
    await wait_for(() => first_line(t.screen()), `step ${at - 1} of ${end}`);
    t.type('q');
    expect((await t.exited).code).toBe(0);
  }, 90_000);
});

describe.each(DRIVERS)('kvmdbg tui in a pseudo-terminal (%s)', (driver) => {
  it('break on a vCPU request through the command line, continue, reverse-step, quit to an intact terminal', async () => {
    const t = await start(driver, ['tui', 'scenarios/nv-s2-recycle.yaml']);
    await wait_for(() => first_line(t.screen()), /kvmdbg \| nv-s2-recycle \| step 0 \| no variants/, 30_000);
    expect(t.raw()).toContain('\x1b[?1049h');

    t.type(':break request.make req=NESTED_S2_UNMAP');
    await wait_for(t.screen, ':break request.make req=NESTED_S2_UNMAP');
    t.type('\r');
    await wait_for(t.screen, 'Breakpoint 1: request.make req=NESTED_S2_UNMAP');

    t.type('c');
    // The whole frame (a frame may reach the terminal in several writes).
    const stopped = await wait_for(t.screen, (s) => /step \d+ \| breakpoint 1/.test(first_line(s)) && /▶\s+\d+\s+vcpu\d\s+request\.make/.test(s) && /Breakpoint 1, step \d+/.test(s));
    const step = Number(/step (\d+) \| breakpoint 1/.exec(first_line(stopped))![1]);
    expect(step).toBeGreaterThan(0);
    // The stop's event, highlighted at the bottom of the log, and the stop in the console.
    expect(stopped).toMatch(new RegExp(`▶\\s+${step}\\s+vcpu\\d\\s+request\\.make\\s+req=NESTED_S2_UNMAP`));
    expect(stopped).toMatch(new RegExp(`Breakpoint 1, step ${step}, vcpu\\d: request\\.make req=NESTED_S2_UNMAP`));

    t.type('r');
    await wait_for(() => first_line(t.screen()), new RegExp(`step ${step - 1} of ${step}\\b`));

    t.type('q');
    const { code } = await t.exited;
    expect(code).toBe(0);
    const raw = t.raw();
    expect(raw).toContain('\x1b[?1049l');
    // Leaving is the last thing drawn: no frame after it.
    expect(raw.slice(raw.lastIndexOf('\x1b[?1049l'))).not.toMatch(/kvmdbg \|/);
    expect(raw.lastIndexOf('\x1b[?25h')).toBeGreaterThan(raw.lastIndexOf('\x1b[?25l'));
  }, 90_000);

  it('bare kvmdbg on a terminal opens the TUI on the default scenario; SIGTERM puts the terminal back', async () => {
    const t = await start(driver, [], 80, 24);
    const whole = await wait_for(t.screen, (s) => /kvmdbg \| default \| step 0 \| no variants/.test(first_line(s)) && /^s step/m.test(s), 30_000);
    const screen = whole.split('\n');
    expect(screen).toHaveLength(24);
    expect(screen[23]).toMatch(/^s step/);
    t.signal('SIGTERM');
    const { code } = await t.exited;
    expect(code === 143 || code === null).toBe(true);
    const raw = t.raw();
    expect(raw).toContain(LEAVE_SCREEN);
    expect(raw.slice(raw.lastIndexOf(LEAVE_SCREEN))).not.toMatch(/kvmdbg \|/);
  }, 90_000);
});
