// The Ink side of the TUI: the App component (subscribes to the controller,
// reads keys, draws the Screen) and start_app(), which renders it and
// resolves when the user quits. Loaded lazily by main.ts: importing Ink
// costs about half a second, which `run` and `repl` never pay.
import { render, useApp, useInput, useStdin } from 'ink';
import { useCallback, useEffect, useSyncExternalStore, type ReactNode } from 'react';
import type { Controller, KeyInfo } from './controller.js';
import { Screen } from './panes.js';
import type { Terminal } from './terminal.js';

export function App(props: { ctl: Controller }): ReactNode {
  const ctl = props.ctl;
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  useSyncExternalStore(ctl.subscribe, ctl.get_version);
  const view = ctl.view();
  const on_key = useCallback((input: string, key: KeyInfo) => ctl.key(input, key), [ctl]);
  useInput(on_key, { isActive: Boolean(isRawModeSupported) });
  useEffect(() => {
    if (view.quit) exit();
  }, [view.quit, exit]);
  return <Screen view={view} />;
}

export interface AppStreams {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

/** Render the App full screen until the user quits (rejects with the error when rendering throws). */
export async function start_app(ctl: Controller, io: AppStreams, term?: Terminal): Promise<void> {
  const instance = render(<App ctl={ctl} />, {
    stdout: io.stdout,
    stdin: io.stdin,
    stderr: io.stderr,
    exitOnCtrlC: false,
    // Console output would scroll the full-screen frame: it goes to the console pane instead (below).
    patchConsole: false,
    maxFps: 30,
    onRender: (m) => ctl.rendered(m.renderTime),
    // Off on purpose. The frame fills the terminal, so Ink repaints it whole
    // each time (clear + frame, inside a synchronized update: no flicker
    // where the terminal supports mode 2026), and a frame one row shorter
    // would take Ink 6.8's incremental writer, which moves the cursor up one
    // row too few and shifts every frame down a line.
    incrementalRendering: false,
  });
  // A resize redraws every line from the top (incremental rendering would
  // otherwise keep lines the terminal has already thrown away).
  const on_resize = () => {
    instance.clear();
    io.stdout.write('\x1b[2J\x1b[H');
    ctl.resize(io.stdout.columns || 80, io.stdout.rows || 24);
  };
  io.stdout.on('resize', on_resize);
  // A signal or a crash leaves the alternate screen: unmount first, so Ink's last frame lands there.
  if (term) term.before_leave = () => instance.unmount();
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const to_pane = (...args: unknown[]) => {
    ctl.note(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' '));
    ctl.changed();
  };
  console.log = console.info = console.warn = console.error = console.debug = to_pane;
  try {
    await instance.waitUntilExit();
  } finally {
    Object.assign(console, saved);
    io.stdout.off('resize', on_resize);
    instance.cleanup();
  }
}
