// Execution and time: step, continue, reverse-step, reverse-continue, goto,
// checkpoint, restart.
import type { Session, Stop } from '../debugger/session.js';
import { usage, type Command, type Pending, type Reply } from './command.js';
import { nat } from './parse.js';
import { stop_json, stop_text } from './print_stop.js';

function run(s: Session, op: Parameters<Session['start']>[0], events = false): Pending {
  return { job: s.start(op), finish: (st: Stop) => stopped(s, st, events) };
}

export function stopped(s: Session, st: Stop, events = false): Reply {
  return { json: stop_json(st), text: stop_text(s, st, { events }), stop: st };
}

const thread_names = (s: Session) => s.world.threads.map((t) => t.name);

export const EXEC_COMMANDS: Command[] = [
  {
    name: 'step',
    aliases: ['s'],
    usage: 'step [N] | step THREAD [N]',
    summary: 'run one scheduler step (or N); with THREAD, force that thread to run',
    help: 'Stops early at a breakpoint, a watchpoint or a violation, as gdb does.\nForcing a thread other than the one the history recorded starts a new timeline from here.',
    complete: (s, words) => (words.length === 0 ? thread_names(s) : []),
    run: (ctx, a) => {
      const [x, y] = a.words;
      if (a.words.length > 2) usage(EXEC_COMMANDS[0]!, 'too many arguments');
      if (x === undefined) return run(ctx.s, { op: 'step', n: 1 }, true);
      if (/^[0-9]/.test(x)) {
        if (y !== undefined) usage(EXEC_COMMANDS[0]!, 'a thread name comes first');
        return run(ctx.s, { op: 'step', n: nat(x, 'the number of steps') }, true);
      }
      ctx.s.thread(x);
      return run(ctx.s, { op: 'step', thread: x, n: y === undefined ? 1 : nat(y, 'the number of steps') }, true);
    },
  },
  {
    name: 'continue',
    aliases: ['c', 'cont'],
    usage: 'continue [N]',
    summary: 'run until a breakpoint, a watchpoint, a violation, the end, or N steps',
    run: (ctx, a) => {
      if (a.words.length > 1) usage(EXEC_COMMANDS[1]!, 'too many arguments');
      return run(ctx.s, { op: 'continue', limit: a.words[0] === undefined ? Infinity : nat(a.words[0], 'the step limit') });
    },
  },
  {
    name: 'reverse-step',
    aliases: ['rs'],
    usage: 'reverse-step [N]',
    summary: 'go back one step (or N), exactly',
    run: (ctx, a) => {
      if (a.words.length > 1) usage(EXEC_COMMANDS[2]!, 'too many arguments');
      return run(ctx.s, { op: 'reverse-step', n: a.words[0] === undefined ? 1 : nat(a.words[0], 'the number of steps') }, true);
    },
  },
  {
    name: 'reverse-continue',
    aliases: ['rc'],
    usage: 'reverse-continue',
    summary: 'go back to the last step where a breakpoint, watchpoint or violation would have stopped',
    run: (ctx, a) => {
      if (a.words.length) usage(EXEC_COMMANDS[3]!, 'no arguments');
      return run(ctx.s, { op: 'reverse-continue' });
    },
  },
  {
    name: 'goto',
    usage: 'goto STEP',
    summary: 'go to a step: back by re-execution, forward along the history (breakpoints are not consulted)',
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(EXEC_COMMANDS[4]!);
      return run(ctx.s, { op: 'goto', step: nat(a.words[0], 'the step') }, true);
    },
  },
  {
    name: 'checkpoint',
    usage: 'checkpoint',
    summary: 'remember this position; `restart ID` returns to it, even from another timeline',
    run: (ctx, a) => {
      if (a.words.length) usage(EXEC_COMMANDS[5]!, 'no arguments');
      const cp = ctx.s.checkpoint();
      return { json: { id: cp.id, step: cp.step }, text: `Checkpoint ${cp.id} at step ${cp.step}.` };
    },
  },
  {
    name: 'restart',
    usage: 'restart ID',
    summary: 'go back to a checkpoint made with `checkpoint`',
    complete: (s) => s.user_checkpoints().map((c) => String(c.id)),
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(EXEC_COMMANDS[6]!);
      const st = ctx.s.restart(nat(a.words[0], 'the checkpoint id'));
      return stopped(ctx.s, st, true);
    },
  },
];
