// Looking at the state: print, where, events, check, assert.
import { EVENT_KINDS, type Event } from '../core/machine/events.js';
import { describe_wait } from '../core/machine/model.js';
import type { Thread } from '../core/machine/world.js';
import { DebugError, clip, one_line } from '../debugger/errors.js';
import { compile_expr, plain } from '../debugger/expr.js';
import { evaluate } from './expr_job.js';
import type { Session } from '../debugger/session.js';
import { usage, type Command, type Reply } from './command.js';
import { event_to_json, format_event, json_value } from './format.js';
import { nat } from './parse.js';
import { violation_json } from './print_stop.js';
import { pairs, show_value } from './text.js';

export function thread_state(s: Session, t: Thread): string {
  if (t.done) return 'finished';
  if (t.wait) return `blocked: ${describe_wait(t.wait)}`;
  return s.world.threads.length && s.last_thread?.id === t.id ? 'running' : 'runnable';
}

function where(s: Session, name?: string): Reply {
  const t = name !== undefined ? s.thread(name) : (s.last_thread ?? s.world.threads.find((x) => !x.done) ?? s.world.threads[0]);
  if (!t) throw new DebugError('ENOENT', 'this World has no threads');
  const frames = [...t.stack].reverse().map((f, i) => ({ level: i, fn: f.fn, pc: f.pc, locals: f.locals }));
  const head = `Thread ${t.name} (${t.kind}${t.vcpu >= 0 ? ` ${t.vcpu}` : ''}, cpu ${t.cpu}): ${thread_state(s, t)}${t.preempt_count ? `, preempt_count=${t.preempt_count}` : ''}${t.irqs_disabled ? ', irqs off' : ''}`;
  const lines = frames.map((f) => `#${f.level}  ${f.fn}:${f.pc}${Object.keys(f.locals).length ? `  ${pairs(f.locals)}` : ''}`);
  if (t.prog.length) lines.push(`    program: op ${Math.min(t.ip + 1, t.prog.length)} of ${t.prog.length}${t.prog[t.ip] ? ` (${t.prog[t.ip]!.op})` : ' (done)'}`);
  return {
    json: { thread: t.name, state: thread_state(s, t), frames: frames.map((f) => ({ ...f, locals: json_value(plain(f.locals)) })) },
    text: [head, ...(lines.length ? lines : ['(no frames)'])].join('\n'),
  };
}

/** `events` kind arguments: exact kinds or families (`request` is request.*). */
function kind_filter(words: string[]): (e: Event) => boolean {
  if (words.length === 0) return () => true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const w of words) {
    const is_kind = (EVENT_KINDS as string[]).includes(w);
    const is_family = EVENT_KINDS.some((k) => k.startsWith(`${w}.`));
    if (!is_kind && !is_family) throw new DebugError('EINVAL', `unknown event kind "${w}"; kinds look like request.make, families like request`);
    if (is_kind) exact.add(w);
    if (is_family) prefixes.push(`${w}.`);
  }
  return (e) => exact.has(e.kind) || prefixes.some((p) => e.kind.startsWith(p));
}

/** Split `EXPR [MESSAGE]`: a trailing quoted string is the message when what precedes it is an expression. */
export function split_assert(rest: string): { expr: string; message: string | null } {
  const text = rest.trim();
  const m = /^(.*\S)\s+(["'])((?:\\.|(?!\2).)*)\2$/.exec(text);
  if (m) {
    try {
      compile_expr(m[1]!);
      return { expr: m[1]!, message: m[3]!.replace(/\\(.)/g, '$1') };
    } catch {
      // the quoted string belongs to the expression
    }
  }
  return { expr: text, message: null };
}

export const INSPECT_COMMANDS: Command[] = [
  {
    name: 'print',
    aliases: ['p'],
    usage: 'print EXPR',
    summary: 'evaluate JavaScript over the World `w` (read-only); bigints print in hex',
    help: [
      'Helpers: hex(x), thread(name), vcpu(i), mmu("s2" | "nested[I]"), tree(name).',
      'e.g. print w.kvm.vcpus[1].mode   print mmu("nested[1]").pending_unmap',
      'Expressions run in a sandbox: no process, require or Function; the World is read-only.',
      'Property reads, operators, helpers and methods like some/map/filter/includes/slice with',
      'arrow callbacks run at once; anything else (loops, new, assignments, regular expressions)',
      'runs in a separate evaluator, stopped after 10 s or by Ctrl-C / Esc, with 256 MiB of memory.',
    ].join('\n'),
    run: (ctx, a) => {
      if (!a.rest.trim()) usage(INSPECT_COMMANDS[0]!);
      return evaluate(ctx, [{ src: a.rest, scope: { w: ctx.s.world } }], ([x]) => {
        const v = plain(x);
        return { json: { value: json_value(v) }, text: show_value(v) };
      });
    },
  },
  {
    name: 'where',
    aliases: ['bt', 'backtrace'],
    usage: 'where [THREAD]',
    summary: "a thread's model frames, innermost first (default: the thread that ran the last step)",
    complete: (s, words) => (words.length === 0 ? s.world.threads.map((t) => t.name) : []),
    run: (ctx, a) => {
      if (a.words.length > 1) usage(INSPECT_COMMANDS[1]!);
      return where(ctx.s, a.words[0]);
    },
  },
  {
    name: 'events',
    usage: 'events [--last N] [KIND...]',
    summary: 'the event log up to this step (default: the last 20); KIND may be a family like `request`',
    complete: () => ['--last', ...new Set(EVENT_KINDS.map((k) => k.split('.')[0]!)), ...EVENT_KINDS],
    run: (ctx, a) => {
      let n = 20;
      const kinds: string[] = [];
      for (let i = 0; i < a.words.length; i++) {
        const w = a.words[i]!;
        if (w === '--last' || w === '-n') n = nat(a.words[++i], '--last');
        else if (w.startsWith('--last=')) n = nat(w.slice(7), '--last');
        else if (w === '--all') n = Number.MAX_SAFE_INTEGER;
        else if (w.startsWith('-')) usage(INSPECT_COMMANDS[2]!, `unknown option ${w}`);
        else kinds.push(w);
      }
      const events = ctx.s.events(n, kind_filter(kinds));
      const tw = Math.max(6, ...ctx.s.world.threads.map((t) => t.name.length));
      return {
        json: { events: events.map(event_to_json) },
        text: events.length ? events.map((e) => format_event(e, { thread_width: tw })).join('\n') : 'No events.',
      };
    },
  },
  {
    name: 'check',
    usage: 'check',
    summary: 'evaluate every state invariant now, with the violations recorded so far',
    run: (ctx, a) => {
      if (a.words.length) usage(INSPECT_COMMANDS[3]!, 'no arguments');
      const v = ctx.s.check();
      return {
        json: { violations: v.map(violation_json) },
        text: v.length ? v.map((x) => `${x.invariant} at step ${x.step} (${x.thread}): ${x.message}`).join('\n') : `No violations at step ${ctx.s.step_no}.`,
      };
    },
  },
  {
    name: 'assert',
    usage: 'assert EXPR ["MESSAGE"]',
    summary: 'fail (code EASSERT) unless EXPR is true; a batch run then exits 1',
    run: (ctx, a) => {
      if (!a.rest.trim()) usage(INSPECT_COMMANDS[4]!);
      const { expr, message } = split_assert(a.rest);
      return evaluate(ctx, [{ src: expr, scope: { w: ctx.s.world } }], ([v]) => {
        if (!v) throw new DebugError('EASSERT', `assertion failed at step ${ctx.s.step_no}: ${clip(one_line(expr), 200, false)}${message ? ` (${clip(message, 200, false)})` : ''}`);
        return { json: {}, text: '' };
      });
    },
  },
];
