// Breakpoints on events, watchpoints, catchpoints, dprintf, and their
// management: break, tbreak, dprintf, watch, catch, delete, disable, enable,
// ignore, condition, commands (the block itself is read by the interpreter).
import { EVENT_KINDS, is_event_kind, type Event } from '../core/machine/events.js';
import { all_invariants, invariant_named } from '../core/machine/invariants.js';
import { kvm_requests } from '../core/kvm/kvm_host.js';
import { fields_of, format_filter, parse_filter, sample_violation, type BreakSpec, type Breakpoint, type Filter } from '../debugger/breakpoints.js';
import { DebugError } from '../debugger/errors.js';
import type { Session } from '../debugger/session.js';
import { usage, type Args, type Command, type Ctx, type Pending, type Reply } from './command.js';
import { cond_context, evaluate, type ExprItem } from './expr_job.js';
import { ids, nat, split_words, type Word } from './parse.js';

/** The kinds `break` accepts: event kinds and the convenience names. */
export const CONVENIENCE = ['request', 'tlbi', 'pending_unmap', 'retry'] as const;

interface Parsed {
  kind: string;
  filters: Filter[];
  cond: string | null;
}

/** `KIND [field=value ...] [if EXPR]`, with the convenience kinds expanded. */
export function parse_break_spec(s: Session, tokens: Word[], rest: string): Parsed {
  const if_at = tokens.findIndex((t) => t.text === 'if' && rest.slice(t.start, t.end) === 'if');
  const words = (if_at < 0 ? tokens : tokens.slice(0, if_at)).map((t) => t.text);
  const cond = if_at < 0 ? null : rest.slice(tokens[if_at]!.end).trim();
  if (cond === '') throw new DebugError('EINVAL', '"if" needs an expression');
  const [word, ...more] = words;
  if (word === undefined) throw new DebugError('EINVAL', 'an event kind is needed; `help break` lists them');
  let kind = word;
  const filters: Filter[] = [];
  let args = more;
  switch (word) {
    case 'request': {
      kind = 'request.make';
      if (args[0] !== undefined && !args[0].includes('=')) {
        const name = args[0].replace(/^KVM_REQ_/, '').toUpperCase();
        const known = Object.keys(kvm_requests(s.world.arch));
        if (!known.includes(name)) throw new DebugError('EINVAL', `unknown request ${args[0]}; the requests are ${known.join(', ')}`);
        filters.push({ field: 'req', op: '=', value: name });
        args = args.slice(1);
      }
      break;
    }
    case 'pending_unmap':
      kind = 'pending_unmap.set';
      args = args.map((a) => a.replace(/^mmu(!?=)(?:nested\[(\d+)\]|(.*))$/, (_m, op: string, i?: string, v?: string) => `index${op}${i ?? v}`));
      break;
    case 'retry':
      kind = 'fault.retry';
      break;
    default:
      if (!is_event_kind(word)) {
        const hits = EVENT_KINDS.filter((k) => k.startsWith(word));
        if (hits.length === 1) kind = hits[0]!;
      }
  }
  for (const a of args) filters.push(parse_filter(a));
  return { kind, filters, cond };
}

function describe(bp: Breakpoint): string {
  switch (bp.type) {
    case 'watchpoint':
      return `Watchpoint ${bp.id}: ${bp.expr}`;
    case 'catchpoint':
      return `Catchpoint ${bp.id} (violation${bp.invariant ? ` ${bp.invariant}` : ''})`;
    default:
      return `${bp.type === 'dprintf' ? 'Dprintf' : bp.temporary ? 'Temporary breakpoint' : 'Breakpoint'} ${bp.id}: ${[bp.kind, ...bp.filters.map(format_filter)].join(' ')}${bp.cond ? ` if ${bp.cond}` : ''}`;
  }
}

export function bp_json(bp: Breakpoint): Record<string, unknown> {
  const out: Record<string, unknown> = { id: bp.id, type: bp.type, enabled: bp.enabled, temporary: bp.temporary, hits: bp.hits, ignore: bp.ignore };
  if (bp.kind) out['kind'] = bp.kind;
  if (bp.filters.length) out['filters'] = bp.filters.map(format_filter);
  if (bp.cond) out['condition'] = bp.cond;
  if (bp.expr) out['expr'] = bp.expr;
  if (bp.type === 'catchpoint') out['invariant'] = bp.invariant ?? null;
  if (bp.format) out['format'] = bp.format;
  if (bp.commands.length) out['commands'] = bp.commands;
  return out;
}

function made(bp: Breakpoint): Reply {
  return { json: bp_json(bp), text: describe(bp) };
}

/** A sample event for `kind` (the latest one held, else a neutral one), and how to name it. */
function sample(s: Session, kind: string): { e: Event; name: string } {
  const { e, real } = s.sample_event(kind);
  return { e, name: real ? `the latest ${kind} event (step ${e.step})` : `a sample ${kind} event (every field 0, "" or [])` };
}

/** Add a breakpoint once its condition and dprintf arguments evaluate on a sample event. */
function checked_break(ctx: Ctx, spec: BreakSpec): Reply | Pending<unknown[]> {
  // Refuse what does not parse before anything runs.
  ctx.s.breakpoints.check_spec(spec);
  const { e, name } = sample(ctx.s, spec.kind);
  const items: ExprItem[] = [];
  if (spec.cond) items.push({ src: spec.cond, scope: { w: ctx.s.world, e }, context: cond_context(name) });
  if (spec.format !== undefined) items.push({ src: `[${spec.format}]`, scope: { w: ctx.s.world, e }, context: `refused: the dprintf arguments throw on ${name}` });
  if (!items.length) return made(ctx.s.breakpoints.add_break(spec));
  return evaluate(ctx, items, () => made(ctx.s.breakpoints.add_break(spec)));
}

function do_break(temporary: boolean) {
  return (ctx: Ctx, a: Args): Reply | Pending<unknown[]> => {
    const p = parse_break_spec(ctx.s, a.tokens, a.rest);
    return checked_break(ctx, { kind: p.kind, filters: p.filters, cond: p.cond, temporary });
  };
}

/** Split `SPEC, FORMAT...` at the first comma outside quotes and brackets. */
function split_comma(s: string): [string, string] | null {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === "'" || c === '`') {
      const j = s.indexOf(c, i + 1);
      if (j < 0) return null;
      i = j;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) return [s.slice(0, i), s.slice(i + 1)];
  }
  return null;
}

const kinds_and_fields = (s: Session, words: string[]): string[] => {
  if (words.length === 0) return [...CONVENIENCE, ...EVENT_KINDS];
  const k = words[0]!;
  const kind = k === 'request' ? 'request.make' : k === 'retry' ? 'fault.retry' : k === 'pending_unmap' ? 'pending_unmap.set' : k;
  if (!is_event_kind(kind)) return [];
  const out = fields_of(kind).map((f) => `${f}=`);
  if (k === 'request' && words.length === 1) out.push(...Object.keys(kvm_requests(s.world.arch)));
  return [...out, 'if'];
};

const bp_ids = (s: Session) => s.breakpoints.all().map((b) => String(b.id));

export const BREAK_COMMANDS: Command[] = [
  {
    name: 'break',
    aliases: ['b', 'br'],
    usage: 'break KIND [field=value ...] [if EXPR]',
    summary: 'stop when an event of KIND happens (fields compared: numbers numerically, strings exactly)',
    help: [
      'Convenience kinds: break request [NAME] (request.make req=NAME), break tlbi [vmid=N],',
      'break pending_unmap [mmu=N] (pending_unmap.set index=N), break retry (fault.retry).',
      'EXPR is JavaScript over the event `e` (also `ev`) and a read-only World `w`;',
      'a condition that throws stops with the error. Filters: field=value or field!=value.',
      'e.g. break request.make req=NESTED_S2_UNMAP vcpu=1',
    ].join('\n'),
    complete: kinds_and_fields,
    run: do_break(false),
  },
  {
    name: 'tbreak',
    usage: 'tbreak KIND [field=value ...] [if EXPR]',
    summary: 'a breakpoint deleted when it first stops',
    complete: kinds_and_fields,
    run: do_break(true),
  },
  {
    name: 'dprintf',
    usage: 'dprintf KIND [field=value ...] [if EXPR], "FORMAT", ARG, ...',
    summary: 'print a line (C printf format over e and w) when the event happens, without stopping',
    complete: kinds_and_fields,
    run: (ctx, a) => {
      const parts = split_comma(a.rest);
      if (!parts) usage(BREAK_COMMANDS[2]!, 'the format comes after a comma');
      const [spec, format] = parts;
      if (!/^\s*["'`]/.test(format)) usage(BREAK_COMMANDS[2]!, 'the format is a quoted string');
      const sub = spec.trimEnd();
      const p = parse_break_spec(ctx.s, split_words(sub), sub);
      return checked_break(ctx, { kind: p.kind, filters: p.filters, cond: p.cond, format: format.trim() });
    },
  },
  {
    name: 'watch',
    usage: 'watch EXPR',
    summary: 'stop when the value of EXPR (JavaScript over the World w) changes, forwards or in reverse',
    run: (ctx, a) => {
      if (!a.rest.trim()) usage(BREAK_COMMANDS[3]!);
      const expr = a.rest.trim();
      ctx.s.breakpoints.check_expr(expr);
      return evaluate(ctx, [{ src: expr, scope: { w: ctx.s.world }, context: 'refused: the expression throws now' }], ([first]) => {
        const bp = ctx.s.watch(expr, { value: first });
        const r = made(bp);
        return { json: { ...(r.json as object), value: ctx.s.watch_now(bp.id) }, text: r.text };
      });
    },
  },
  {
    name: 'catch',
    usage: 'catch violation [NAME] [if EXPR]',
    summary: 'stop on violations of invariant NAME (any without NAME); once one exists, only caught violations stop',
    help: 'Without catchpoints every violation stops a run. EXPR sees the violation `v` and the World `w`.',
    complete: (_s, words) => (words.length === 0 ? ['violation'] : words.length === 1 ? all_invariants().map((i) => i.name) : ['if']),
    run: (ctx, a) => {
      const [what, ...more] = a.tokens;
      if (!what || !'violation'.startsWith(what.text)) usage(BREAK_COMMANDS[4]!);
      const if_at = more.findIndex((t) => t.text === 'if');
      const before = if_at < 0 ? more : more.slice(0, if_at);
      if (before.length > 1) usage(BREAK_COMMANDS[4]!, `unexpected "${before[1]!.text}"`);
      const name = before[0]?.text ?? null;
      const cond = if_at < 0 ? null : a.rest.slice(more[if_at]!.end).trim();
      if (cond === '') throw new DebugError('EINVAL', '"if" needs an expression');
      if (name !== null && !invariant_named(name)) throw new DebugError('ENOENT', `no invariant ${name}`);
      if (!cond) return made(ctx.s.breakpoints.add_catch(name, cond));
      ctx.s.breakpoints.check_expr(cond);
      const v = sample_violation(name, ctx.s.world);
      return evaluate(ctx, [{ src: cond, scope: { w: ctx.s.world, v }, context: cond_context(`a sample ${name ?? ''} violation`.replace('  ', ' ')) }], () => made(ctx.s.breakpoints.add_catch(name, cond)));
    },
  },
  {
    name: 'delete',
    aliases: ['d'],
    usage: 'delete [ID...]',
    summary: 'delete breakpoints (all without ID)',
    complete: bp_ids,
    run: (ctx, a) => {
      const gone = ctx.s.breakpoints.delete(ids(a.words));
      return { json: { deleted: gone }, text: gone.length ? `Deleted ${gone.join(', ')}.` : 'No breakpoints.' };
    },
  },
  {
    name: 'disable',
    usage: 'disable [ID...]',
    summary: 'disable breakpoints (all without ID)',
    complete: bp_ids,
    run: (ctx, a) => {
      const done = ctx.s.breakpoints.enable(ids(a.words), false);
      return { json: { disabled: done }, text: done.length ? `Disabled ${done.join(', ')}.` : 'No breakpoints.' };
    },
  },
  {
    name: 'enable',
    usage: 'enable [ID...]',
    summary: 'enable breakpoints (all without ID)',
    complete: bp_ids,
    run: (ctx, a) => {
      const done = ctx.s.breakpoints.enable(ids(a.words), true);
      ctx.s.refresh_watches();
      return { json: { enabled: done }, text: done.length ? `Enabled ${done.join(', ')}.` : 'No breakpoints.' };
    },
  },
  {
    name: 'ignore',
    usage: 'ignore ID N',
    summary: 'let the next N hits of breakpoint ID pass',
    complete: (s, words) => (words.length === 0 ? bp_ids(s) : []),
    run: (ctx, a) => {
      if (a.words.length !== 2) usage(BREAK_COMMANDS[8]!);
      const bp = ctx.s.breakpoints.set_ignore(nat(a.words[0], 'the breakpoint id'), nat(a.words[1], 'the count'));
      return { json: bp_json(bp), text: bp.ignore ? `Will ignore next ${bp.ignore} crossings of breakpoint ${bp.id}.` : `Will stop next time breakpoint ${bp.id} is reached.` };
    },
  },
  {
    name: 'condition',
    usage: 'condition ID [EXPR]',
    summary: 'set (or, without EXPR, remove) the condition of breakpoint ID',
    complete: (s, words) => (words.length === 0 ? bp_ids(s) : []),
    run: (ctx, a) => {
      const first = a.tokens[0];
      if (!first) usage(BREAK_COMMANDS[9]!);
      const expr = a.rest.slice(first.end).trim();
      const id = nat(first.text, 'the breakpoint id');
      const set = () => {
        const bp = ctx.s.breakpoints.set_condition(id, expr || null);
        return { json: bp_json(bp), text: expr ? `Breakpoint ${bp.id} now stops if ${expr}.` : `Breakpoint ${bp.id} now unconditional.` };
      };
      const target = ctx.s.breakpoints.get(id);
      if (!expr || target.type === 'watchpoint') return set();
      ctx.s.breakpoints.check_expr(expr);
      let item: ExprItem;
      if (target.type === 'catchpoint') {
        item = { src: expr, scope: { w: ctx.s.world, v: sample_violation(target.invariant ?? null, ctx.s.world) }, context: cond_context('a sample violation') };
      } else {
        const { e, name } = sample(ctx.s, target.kind!);
        item = { src: expr, scope: { w: ctx.s.world, e }, context: cond_context(name) };
      }
      return evaluate(ctx, [item], set);
    },
  },
  {
    name: 'commands',
    usage: 'commands [ID]  (then one command per line, then `end`)',
    summary: 'commands to run when breakpoint ID (default: the last one made) stops',
    complete: bp_ids,
  },
];

/** The breakpoint a `commands` block is for. */
export function commands_target(s: Session, words: string[]): number {
  if (words.length > 1) throw new DebugError('EINVAL', 'usage: commands [ID]');
  const id = words.length ? nat(words[0], 'the breakpoint id') : s.breakpoints.last_id;
  if (id < 1) throw new DebugError('ENOENT', 'no breakpoint yet');
  s.breakpoints.get(id);
  return id;
}

export function info_breakpoints(s: Session): Reply {
  const all = s.breakpoints.all();
  if (all.length === 0) return { json: { breakpoints: [] }, text: 'No breakpoints, watchpoints or catchpoints.' };
  const lines = ['Num  Type        Disp  Enb  What'];
  for (const bp of all) {
    const what =
      bp.type === 'watchpoint'
        ? (bp.expr ?? '')
        : bp.type === 'catchpoint'
          ? `violation${bp.invariant ? ` ${bp.invariant}` : ''}`
          : [bp.kind, ...bp.filters.map(format_filter)].join(' ') + (bp.format ? `, ${bp.format}` : '');
    lines.push(`${String(bp.id).padEnd(4)} ${bp.type.padEnd(11)} ${(bp.temporary ? 'del' : 'keep').padEnd(5)} ${(bp.enabled ? 'y' : 'n').padEnd(4)} ${what}`);
    if (bp.cond) lines.push(`        stop only if ${bp.cond}`);
    if (bp.hits) lines.push(`        already hit ${bp.hits} time${bp.hits === 1 ? '' : 's'}`);
    if (bp.ignore) lines.push(`        will ignore next ${bp.ignore} hits`);
    if (bp.type === 'watchpoint') lines.push(`        value = ${JSON.stringify(s.watch_now(bp.id), (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`);
    for (const c of bp.commands) lines.push(`        ${c}`);
  }
  return { json: { breakpoints: all.map(bp_json) }, text: lines.join('\n') };
}
