import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/debugger/session.js';
import { history_path, run_interactive } from '../../src/repl/interactive.js';
import { Interpreter } from '../../src/repl/interpreter.js';
import { small_world, test_world } from '../debugger/worlds.js';

describe('the interactive REPL', () => {
  it('prompts with the step number, runs commands, keeps going after errors and leaves on quit', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    const i = new Interpreter({ session: new Session({ world: () => small_world(1, 3) }) });
    const done = run_interactive(i, { input, output, terminal: false, history: false });
    for (const line of ['step 2', 'bogus', 'print w.step', 'commands', 'print 1', 'end', 'quit']) input.write(`${line}\n`);
    expect(await done).toBe(0);
    expect(text).toContain('kvmdbg[0]> ');
    expect(text).toContain('kvmdbg[2]> ');
    expect(text).toContain('EINVAL: undefined command "bogus"');
    expect(text).toMatch(/kvmdbg\[2\]> 2\n/);
    expect(text).toContain('ENOENT: no breakpoint yet');
  });

  it('a long continue yields between slices and stops when interrupted', async () => {
    const world = () => test_world({ threads: [{ write: false, times: 1_000_000 }, { write: true, times: 1_000_000 }], policy: 'random', seed: 1 });
    const s = new Session({ world, slice: 1000 });
    s.breakpoints.add_catch(null, 'false');
    const i = new Interpreter({ session: s }, { json: true });
    setTimeout(() => s.interrupt(), 50);
    const o = await i.exec_async('continue');
    expect(o!.ok).toBe(true);
    expect(o!.result).toMatchObject({ stopped: { reason: 'interrupted' } });
    expect(s.step_no).toBeGreaterThan(0);
    expect(s.step_no % 1000).toBe(0);
  });

  it('keeps its history in the XDG state directory', () => {
    expect(history_path({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/kvmdbg/history');
    expect(history_path({})).toMatch(/\.local\/state\/kvmdbg\/history$/);
  });
});
