// `kvmdbg repl`: open the scenario in a Session, then the interactive REPL
// on a terminal, or batch mode for -x/-e (and for a stdin that is not a
// terminal, with no prompts). Exit codes: 0 every command and assert
// succeeded, 1 one failed, 2 bad input (scenario, script file).
import { readFileSync } from 'node:fs';
import '../core/world_init.js';
import { create_world } from '../core/world_init.js';
import { Session } from '../debugger/session.js';
import { resolve_scenario_arg } from '../scenario/bundled.js';
import { UserError } from '../scenario/errors.js';
import { load_scenario } from '../scenario/load.js';
import { run_batch, type BatchSource } from './batch.js';
import type { LoadedWorld, ReplHost } from './command.js';
import { start_recording, stop_recording } from './record.js';
import { is_recording_file, load_recording } from '../record/load.js';
import { session_input } from '../record/open.js';
import { Interpreter } from './interpreter.js';

export interface ReplOptions {
  /** -x FILE and -e CMD in command-line order. */
  inputs: { kind: 'script' | 'eval'; value: string }[];
  json?: boolean;
  keep_going?: boolean;
  variant?: string[];
  seed?: number;
  arch?: 'arm64' | 'x86';
  /** --record FILE: record the session from step 0. */
  record?: string;
  /** --goto N: where to stand when opening a recording (default: its end). */
  goto?: number;
  /** --force: --record may replace an existing recording. */
  force?: boolean;
}

/** A scenario file (or bundled name), or a recording, as a World factory; errors are UserError. */
export function load_world(arg: string, opts: Pick<ReplOptions, 'variant' | 'seed' | 'arch'>): LoadedWorld {
  if (is_recording_file(arg)) {
    if (opts.variant?.length || opts.seed !== undefined) throw new UserError(`${arg}: a recording fixes its variants and seed; --variant and --seed do not apply`);
    const rec = load_recording(arg);
    const inp = session_input(rec);
    return {
      world: inp.world,
      name: inp.name,
      path: arg,
      loaded: rec.scenario,
      history: inp.history,
      schedule: inp.schedule,
      end_step: inp.end_step,
      origin: { kind: 'recording', picks: rec.picks.slice(), pokes: inp.pokes.map((p) => ({ step: p.step, text: p.text })) },
    };
  }
  const path = resolve_scenario_arg(arg);
  const loaded = load_scenario(path, { variants: opts.variant ?? [], ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  if (opts.arch && opts.arch !== loaded.config.arch) {
    throw new UserError(`${path}: the scenario is for ${loaded.config.arch}, not ${opts.arch} (--arch)`);
  }
  return { world: () => create_world(loaded.config), name: loaded.meta.name, path, loaded, origin: { kind: 'scenario', variants: [...(opts.variant ?? [])], ...(opts.seed !== undefined ? { seed: opts.seed } : {}) } };
}

/**
 * The Session a front end starts with: on a scenario, at step 0; on a
 * recording, with the recorded history as its timeline, at its end (or
 * `goto`). Shared by the REPL and the TUI.
 */
export function open_session(arg: string, opts: Pick<ReplOptions, 'variant' | 'seed' | 'arch' | 'record' | 'goto' | 'force'> & { scripts?: string[] }, warn: (s: string) => void): ReplHost {
  let host: ReplHost;
  if (is_recording_file(arg)) {
    if (opts.variant?.length || opts.seed !== undefined) throw new UserError(`${arg}: a recording fixes its variants and seed; --variant and --seed do not apply`);
    const rec = load_recording(arg);
    if (rec.warning) warn(`kvmdbg: ${rec.warning}`);
    const inp = session_input(rec);
    const session = new Session({ world: inp.world, history: inp.history, ...(inp.schedule ? { schedule: inp.schedule } : {}) });
    host = {
      session,
      load: (p, over) => load_world(p, over ?? opts),
      scenario: { name: inp.name, path: arg },
      loaded: rec.scenario,
      inputs: [{ path: arg, what: 'the recording this session opened' }],
      origin: { kind: 'recording', picks: rec.picks.slice(), pokes: inp.pokes.map((p) => ({ step: p.step, text: p.text })) },
    };
    if (opts.goto !== undefined && opts.goto > inp.end_step) throw new UserError(`--goto ${opts.goto}: ${arg} ends at step ${inp.end_step}; expected a step from 0 to ${inp.end_step}`);
    let why: string | null = null;
    try {
      const at = session.goto(opts.goto ?? inp.end_step);
      if (at.reason === 'error') why = at.error ?? 'a model error';
    } catch (e) {
      why = (e as Error).message;
    }
    if (why) throw new UserError(`${arg}: the recording does not replay (${why}); \`kvmdbg replay ${arg} --verify\` says where it diverges`);
  } else {
    if (opts.goto !== undefined) throw new UserError('--goto applies to a recording, not a scenario');
    const first = load_world(arg, opts);
    host = {
      session: new Session({ world: first.world }),
      load: (p, over) => load_world(p, over ?? opts),
      scenario: { name: first.name, path: first.path },
      loaded: first.loaded ?? null,
      inputs: [{ path: first.path, what: 'the scenario of this session' }],
      origin: first.origin!,
    };
  }
  for (const f of opts.scripts ?? []) host.inputs!.push({ path: f, what: 'a script this session runs' });
  if (opts.record) {
    try {
      host.recorder = start_recording(host.session, host.loaded!, opts.record, { inputs: host.inputs ?? [], force: opts.force === true });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  return host;
}

function read_stdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

export async function repl_main(scenario: string, opts: ReplOptions): Promise<number> {
  const scripts = opts.inputs.filter((i) => i.kind === 'script' && i.value !== '-').map((i) => i.value);
  const host = open_session(scenario, { ...opts, scripts }, (s) => process.stderr.write(`${s}\n`));
  try {
    return await repl_on(host, opts);
  } finally {
    stop_recording(host);
  }
}

async function repl_on(host: ReplHost, opts: ReplOptions): Promise<number> {
  const interp = new Interpreter(host, { json: opts.json ?? false, keep_going: opts.keep_going ?? false });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const err = (s: string) => process.stderr.write(`${s}\n`);

  let sources: BatchSource[] = [];
  for (const i of opts.inputs) {
    if (i.kind === 'eval') {
      sources.push({ name: '-e', lines: [i.value] });
      continue;
    }
    let text: string;
    try {
      text = i.value === '-' ? read_stdin() : readFileSync(i.value, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      err(`kvmdbg: ${i.value}: cannot read the script: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message)}`);
      return 2;
    }
    sources.push({ name: i.value === '-' ? '<stdin>' : i.value, lines: text.split(/\r?\n/) });
  }
  if (sources.length === 0 && !process.stdin.isTTY) sources = [{ name: '<stdin>', lines: read_stdin().split(/\r?\n/) }];
  if (sources.length) return run_batch(interp, sources, { out, err });
  // node:repl (with readline, vm and acorn) only for an interactive session.
  const { run_interactive } = await import('./interactive.js');
  return run_interactive(interp);
}
