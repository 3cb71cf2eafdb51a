// The session itself: load, reset, variant, seed, record, save, source,
// help, quit.
import { readFileSync, writeFileSync } from 'node:fs';
import { all_variants, variant_named } from '../core/machine/variants.js';
import { DebugError, describe_error } from '../debugger/errors.js';
import { start_recording, stop_recording } from './record.js';
import { output_problem } from '../record/output.js';
import { resolve, usage, type Command, type Ctx, type NestedResult, type Reply } from './command.js';
import { nat } from './parse.js';
import { session_script } from './save.js';
import { table } from './text.js';

function variants(ctx: Ctx): Reply {
  const w = ctx.s.world;
  const list = all_variants().filter((v) => !v.arch || v.arch === w.arch);
  return {
    json: { variants: list.map((v) => ({ name: v.name, on: w.variants[v.name] === true, breaks: v.breaks, description: v.description })) },
    text: list.length ? table(['VARIANT', 'ON', 'BREAKS'], list.map((v) => [v.name, w.variants[v.name] ? 'on' : 'off', v.breaks])) : 'No variants for this architecture.',
  };
}

function read_script(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DebugError(code === 'ENOENT' ? 'ENOENT' : 'EINVAL', `${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : describe_error(e).message}`);
  }
}

/** Run the lines of a script through the interpreter; the first failure ends it (unless --keep-going). */
export function run_script(ctx: Ctx, path: string, lines: string[]): Reply {
  if (ctx.depth >= 16) throw new DebugError('EINVAL', `${path}: source nested too deeply`);
  const results: NestedResult[] = [];
  const texts: string[] = [];
  let first_error: { code: string; message: string } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const r = ctx.exec_nested(lines[i]!);
    if (r.cmd === '') continue;
    results.push(r);
    if (r.text) texts.push(r.text);
    if (!r.ok) {
      first_error ??= { code: r.error!.code, message: `${path}:${i + 1}: ${r.error!.message}` };
      if (!ctx.keep_going) break;
    }
  }
  if (first_error) throw new DebugError(first_error.code as never, first_error.message);
  return { json: { file: path, results: results.map(({ text: _t, ...r }) => r) }, text: texts.join('\n') };
}

function help(ctx: Ctx, words: string[]): Reply {
  if (words.length === 0) {
    const rows = ctx.table.map((c) => [c.name + (c.aliases?.length ? ` (${c.aliases.join(', ')})` : ''), c.summary]);
    return {
      json: { commands: ctx.table.map((c) => ({ name: c.name, aliases: c.aliases ?? [], usage: c.usage, summary: c.summary })) },
      text: [table(['COMMAND', 'WHAT IT DOES'], rows), '', 'Any unique prefix of a command works. `help CMD` for more. Numbers: decimal or 0x-hex, `_` allowed, sizes 4K/2M/1G.'].join('\n'),
    };
  }
  let c = resolve(ctx.table, words[0]!);
  if (words[1] !== undefined && c.sub) c = resolve(c.sub, words[1], `${c.name} subcommand`);
  const lines = [`usage: ${c.usage}`, c.summary];
  if (c.help) lines.push('', c.help);
  if (c.sub) lines.push('', table(['SUBCOMMAND', 'WHAT IT DOES'], c.sub.map((x) => [x.usage, x.summary])));
  return { json: { name: c.name, usage: c.usage, summary: c.summary, help: c.help ?? '', subcommands: (c.sub ?? []).map((x) => ({ usage: x.usage, summary: x.summary })) }, text: lines.join('\n') };
}

export const SESSION_COMMANDS: Command[] = [
  {
    name: 'load',
    usage: 'load SCENARIO|RECORDING [--variant NAME]... [--seed N]',
    summary: 'a new scenario from step 0, or a recording at its end (breakpoints stay)',
    help: '--variant and --seed replace the command line\'s for this scenario; without them, the command line\'s apply.\nA recording brings its own variants, seed and history: time travel works through it.',
    run: (ctx, a) => {
      const path: string[] = [];
      const variant: string[] = [];
      let seed: number | undefined;
      for (let i = 0; i < a.words.length; i++) {
        const w = a.words[i]!;
        if (w === '--variant') variant.push(a.words[++i] ?? usage(SESSION_COMMANDS[0]!, '--variant needs a name'));
        else if (w === '--seed') seed = nat(a.words[++i], '--seed');
        else if (w.startsWith('--')) usage(SESSION_COMMANDS[0]!, `unknown option ${w}`);
        else path.push(w);
      }
      if (path.length !== 1) usage(SESSION_COMMANDS[0]!);
      if (!ctx.host.load) throw new DebugError('ENOSYS', 'this front end cannot load scenarios');
      const over = variant.length || seed !== undefined ? { variant, ...(seed !== undefined ? { seed } : {}) } : undefined;
      let loaded;
      try {
        loaded = ctx.host.load(path[0]!, over);
      } catch (e) {
        const { message } = describe_error(e);
        throw new DebugError(/no such file|cannot read/.test(message) ? 'ENOENT' : 'EINVAL', message);
      }
      stop_recording(ctx.host);
      ctx.s.load(loaded.world, { history: loaded.history ?? null, schedule: loaded.schedule ?? null });
      ctx.host.scenario = { name: loaded.name, path: loaded.path };
      ctx.host.loaded = loaded.loaded ?? null;
      if (loaded.origin) ctx.host.origin = loaded.origin;
      (ctx.host.inputs ??= []).push({ path: loaded.path, what: `a ${loaded.history || loaded.schedule ? 'recording' : 'scenario'} this session loaded` });
      if (loaded.end_step !== undefined) {
        const st = ctx.s.goto(loaded.end_step);
        if (st.reason === 'error') throw new DebugError('EINVAL', `${loaded.path}: the recording does not replay (${st.error}); \`kvmdbg replay ${loaded.path} --verify\` says where it diverges`);
        return { json: { recording: loaded.name, path: loaded.path, step: ctx.s.step_no }, text: `Loaded the recording ${loaded.path} (${loaded.name}) at its end, step ${ctx.s.step_no}.` };
      }
      return { json: { scenario: loaded.name, path: loaded.path, step: 0 }, text: `Loaded ${loaded.name} (${loaded.path}).` };
    },
  },
  {
    name: 'reset',
    usage: 'reset',
    summary: 'back to step 0 with an empty history (breakpoints stay)',
    run: (ctx, a) => {
      if (a.words.length) usage(SESSION_COMMANDS[1]!, 'no arguments');
      ctx.s.reset();
      return { json: { step: 0 }, text: 'Reset to step 0.' };
    },
  },
  {
    name: 'variant',
    usage: 'variant [NAME on|off]',
    summary: 'list the variants, or switch one at this step (recorded like a poke)',
    complete: (s, words) =>
      words.length === 0
        ? all_variants()
            .filter((v) => !v.arch || v.arch === s.world.arch)
            .map((v) => v.name)
        : words.length === 1
          ? ['on', 'off']
          : [],
    run: (ctx, a) => {
      if (a.words.length === 0) return variants(ctx);
      if (a.words.length !== 2 || !['on', 'off'].includes(a.words[1]!)) usage(SESSION_COMMANDS[2]!);
      const name = a.words[0]!;
      if (!variant_named(name)) throw new DebugError('ENOENT', `no variant ${name}; \`variant\` lists them`);
      const on = a.words[1] === 'on';
      ctx.s.poke('variant', { name, on }, `variant ${name} ${a.words[1]}`);
      return { json: { variant: name, on }, text: `Variant ${name} ${on ? 'on' : 'off'} from step ${ctx.s.step_no}.` };
    },
  },
  {
    name: 'seed',
    usage: 'seed N',
    summary: "restart from step 0 with the scheduler's random seed N (history goes, breakpoints stay)",
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(SESSION_COMMANDS[3]!);
      const n = nat(a.words[0], 'the seed');
      if (n > 2 ** 32 - 1) throw new DebugError('EINVAL', 'the seed is a 32-bit number');
      stop_recording(ctx.host);
      ctx.s.set_seed(n);
      const policy = ctx.s.world.sched.policy;
      return { json: { seed: n, policy, step: 0 }, text: `Seed ${n}, back at step 0${policy === 'random' ? '' : ` (the ${policy} policy does not use it)`}.` };
    },
  },
  {
    name: 'record',
    usage: 'record start FILE [--force] | record stop',
    summary: 'write a recording of this session from step 0 (time travel included) to FILE, until `record stop`',
    run: (ctx, a) => {
      const force = a.words.includes('--force');
      const [verb, file, ...rest] = a.words.filter((w) => w !== '--force');
      if (verb === 'stop' && file === undefined) {
        const rec = ctx.host.recorder;
        if (!rec) throw new DebugError('ENOENT', 'no recording in progress');
        rec.close('stopped');
        ctx.host.recorder = null;
        return { json: { file: rec.path, steps: rec.steps }, text: `Recording ${rec.path} closed (${rec.steps} steps).` };
      }
      if (verb !== 'start' || file === undefined || rest.length) usage(SESSION_COMMANDS.find((c) => c.name === 'record')!);
      if (ctx.host.recorder && !ctx.host.recorder.closed) throw new DebugError('EBUSY', `already recording to ${ctx.host.recorder.path} (record stop first)`);
      if (!ctx.host.loaded) throw new DebugError('ENOSYS', 'this session did not come from a scenario file: nothing to record it against');
      ctx.host.recorder = start_recording(ctx.s, ctx.host.loaded, file, { inputs: ctx.host.inputs ?? [], force });
      return { json: { file }, text: `Recording to ${file}.` };
    },
  },
  {
    name: 'save',
    usage: 'save FILE [--force]',
    summary: 'write the session so far as a script that reproduces it (`kvmdbg repl -x FILE`); never over its scenario or a recording (without --force)',
    run: (ctx, a) => {
      const force = a.words.includes('--force');
      const words = a.words.filter((w) => w !== '--force');
      if (words.length !== 1) usage(SESSION_COMMANDS[5]!);
      const file = words[0]!;
      const why = output_problem(file, { inputs: ctx.host.inputs ?? [], force, what: 'the saved session' });
      if (why) throw new DebugError(/exists/.test(why) ? 'EEXIST' : 'EINVAL', why);
      const lines = session_script(ctx.s, ctx.host);
      try {
        writeFileSync(file, `${lines.join('\n')}\n`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DebugError(code === 'ENOENT' ? 'ENOENT' : 'EINVAL', `${file}: cannot write: ${describe_error(e).message}`);
      }
      return { json: { file, lines: lines.length }, text: `Saved ${lines.length} lines to ${file}.` };
    },
  },
  {
    name: 'source',
    usage: 'source FILE',
    summary: 'run the commands in FILE',
    run: (ctx, a) => {
      if (a.words.length !== 1) usage(SESSION_COMMANDS[6]!);
      const lines = read_script(a.words[0]!);
      (ctx.host.inputs ??= []).push({ path: a.words[0]!, what: 'a script this session runs' });
      return run_script(ctx, a.words[0]!, lines);
    },
  },
  {
    name: 'help',
    aliases: ['h', '?'],
    usage: 'help [CMD [SUBCMD]]',
    summary: 'the commands, or one in detail',
    run: (ctx, a) => help(ctx, a.words),
  },
  {
    name: 'quit',
    aliases: ['q', 'exit'],
    usage: 'quit',
    summary: 'leave the REPL',
    run: () => ({ json: {}, text: '', quit: true }),
  },
];
