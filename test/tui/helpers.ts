// Building TUI controllers over the bundled scenarios, and waiting on Ink
// frames by polling (never a fixed sleep).
import { join } from 'node:path';
import { Session } from '../../src/debugger/session.js';
import { load_world } from '../../src/repl/main.js';
import { Controller } from '../../src/tui/controller.js';
import { ROOT } from '../cli/helpers.js';

export const NV = join(ROOT, 'scenarios', 'nv-s2-recycle.yaml');

export function controller(scenario = NV, o: { cols?: number; rows?: number; variant?: string[]; seed?: number; color?: boolean } = {}): Controller {
  const lw = load_world(scenario, { variant: o.variant ?? [], ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  const session = new Session({ world: lw.world, slice: 256 });
  return new Controller({
    session,
    host: { session, load: (p) => load_world(p, {}), scenario: { name: lw.name, path: lw.path } },
    cols: o.cols ?? 100,
    rows: o.rows ?? 30,
    color: o.color ?? false,
    frame_ms: 5,
  });
}

/** Poll `frame()` until `want` matches it; the last frame is in the error otherwise. */
export async function wait_for(frame: () => string | undefined, want: RegExp | string | ((f: string) => boolean), ms = 10_000): Promise<string> {
  const test = typeof want === 'function' ? want : typeof want === 'string' ? (f: string) => f.includes(want) : (f: string) => want.test(f);
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    last = frame() ?? '';
    if (test(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${String(want)}; the last frame:\n${last}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Strip ANSI escapes (the frames are drawn without colour, but Ink still styles with inverse and bold). */
export function plain(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/**
 * The step at which nv-s2-recycle (its own seed) first makes
 * NESTED_S2_UNMAP, found by running a Session there: model changes move it,
 * and the TUI tests check what is drawn at it, not where it is.
 */
let unmap_step_memo: Promise<number> | null = null;
export function unmap_step(): Promise<number> {
  return (unmap_step_memo ??= (async () => {
    const ctl = controller();
    await ctl.submit('break request.make req=NESTED_S2_UNMAP');
    await ctl.submit('continue');
    if (ctl.view().status.stop !== 'breakpoint 1') throw new Error(`nv-s2-recycle never makes NESTED_S2_UNMAP (stopped: ${ctl.view().status.stop})`);
    return ctl.session.step_no;
  })());
}

/** `where THREAD` split into its state (first line) and frames ("fn:label  locals"). */
export function where(ctl: Controller, thread: string): { state: string; frames: string[] } {
  const text = ctl.interp.exec(`where ${thread}`)!.text;
  const lines = text.split('\n');
  const state = /: (.*)$/.exec(lines[0]!)![1]!;
  const frames = lines.filter((l) => /^#\d+ {2}/.test(l)).map((l) => l.replace(/^#\d+ {2}/, ''));
  return { state, frames };
}

/** A RegExp that matches `s` literally. */
export const lit = (s: string | number) => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
