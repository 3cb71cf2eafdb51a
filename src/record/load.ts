// Reading a recording back. A last line cut short (a crash while writing
// it) is dropped with a warning; anything else malformed is a
// RecordingError naming the file and line (the CLI exits 2).
import { BASELINE } from '../core/baseline.js';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { package_version } from '../scenario/bundled.js';
import { UserError, clip, one_line } from '../scenario/errors.js';
import { parse_scenario, type LoadedScenario } from '../scenario/load.js';
import {
  DEFAULT_HASH_EVERY,
  FORMAT,
  VERSION,
  revive_bigints,
  type Drive,
  type EndLine,
  type EndStatus,
  type HashLine,
  type Header,
  type RecCmd,
} from './format.js';
import { check_patches, recording_patches } from '../patch/gate.js';
import { load_patch_sources, sha256 } from '../patch/load.js';
import type { PatchSource } from '../patch/scope.js';

/** A malformed recording: `FILE:LINE: what is wrong`. */
export class RecordingError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly what: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${what}`);
    this.name = 'RecordingError';
  }
}

export interface Recording {
  /** The recording's path. */
  path: string;
  header: Header;
  /** The scenario rebuilt from the embedded text, variants and seed. */
  scenario: LoadedScenario;
  /** Thread index that ran each step (index i is step i+1); ~index where the user forced it. */
  picks: Int32Array;
  /** Injected-fault answers by the step that consumed them. */
  choices: Map<number, number[]>;
  /** State changes, by step (stable). */
  cmds: RecCmd[];
  /** State hashes by step. */
  hashes: Map<number, HashLine>;
  /** The end line, or null when the recording was not closed cleanly. */
  end: EndLine | null;
  /** One line for stderr when something was recovered (a cut-short last line, no end line), else null. */
  warning: string | null;
}

/** Steps in the recording. */
export function recording_steps(r: Recording): number {
  return r.picks.length;
}

const END_STATUSES: EndStatus[] = ['end', 'deadlock', 'violation', 'limit', 'interrupted', 'stopped'];

/** Whether `path` looks like a recording (its first bytes are a recording header): for `repl FILE` / `tui FILE`. */
export function is_recording_file(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return /^\s*\{\s*"format"\s*:\s*"kvmdbg-recording"/.test(buf.subarray(0, n).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function load_recording(path: string): Recording {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : ((e as Error).message ?? String(e));
    throw new RecordingError(path, 0, `cannot read the recording: ${why}`);
  }
  return parse_recording(text, path);
}

/** Steps a recording may hold at most (4 bytes each when read): far beyond any session, far below the memory a crafted count would take. */
export const MAX_RECORDING_STEPS = 100_000_000;

class Growable {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) this.grow(this.n + 1);
    this.a[this.n++] = v;
  }
  /** `count` copies of `v` (the caller has checked the count). */
  run(v: number, count: number): void {
    if (this.n + count > this.a.length) this.grow(this.n + count);
    this.a.fill(v, this.n, this.n + count);
    this.n += count;
  }
  private grow(need: number): void {
    let len = this.a.length;
    while (len < need) len *= 2;
    const b = new Int32Array(len);
    b.set(this.a.subarray(0, this.n));
    this.a = b;
  }
}

function is_int(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function is_nat(v: unknown): v is number {
  return is_int(v) && v >= 0;
}

function is_parts(v: unknown): v is Record<string, string> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** A JSON value quoted in a message: at most 200 characters, control characters escaped. */
function q(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return clip(s, 200, false);
}

/** The steps the end line says the recording has, read first to bound what the schedule lines may expand to (null: no end line). */
function end_steps(lines: string[]): number | null {
  for (let i = lines.length - 1; i > 0; i--) {
    const s = lines[i]!;
    if (s.trim() === '') continue;
    if (!s.startsWith('{"end"')) return null;
    try {
      const v = JSON.parse(s) as { end?: unknown };
      return typeof v.end === 'number' && Number.isSafeInteger(v.end) && v.end >= 0 ? v.end : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Parse a recording's text; `path` names it in messages. */
export function parse_recording(text: string, path: string): Recording {
  const err = (line: number, what: string) => new RecordingError(path, line, what);
  const raw_lines = text.split('\n');
  // The text after the last newline is a line cut short (or nothing).
  const tail = raw_lines.pop()!;
  let warning: string | null = null;
  let cut: number | null = null;
  if (tail.trim() !== '') {
    let ok = false;
    try {
      JSON.parse(tail);
      ok = true;
    } catch {
      // cut short: dropped below
    }
    if (ok) raw_lines.push(tail);
    else cut = raw_lines.length + 1;
  }
  if (raw_lines.length === 0 || raw_lines[0]!.trim() === '') {
    throw err(1, cut === 1 ? 'the header line is cut short: the recording is empty' : 'empty file: not a kvmdbg recording');
  }

  // The header.
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(raw_lines[0]!) as Record<string, unknown>;
  } catch {
    throw err(1, `not a kvmdbg recording: the first line is not JSON; expected a {"format": "${FORMAT}", ...} header`);
  }
  if (!h || typeof h !== 'object' || Array.isArray(h) || h.format !== FORMAT) {
    throw err(1, `not a kvmdbg recording: expected a header with "format": "${FORMAT}"${h && typeof h === 'object' && 'format' in h ? `, not ${q(h.format)}` : ''}`);
  }
  if (h.version !== VERSION) {
    throw err(1, `recording format version ${q(h.version)} is not supported; this kvmdbg (${package_version()}) reads version ${VERSION}`);
  }
  const bad_header = (field: string, want: string) => err(1, `header field "${clip(field, 60, false)}" is ${field in h ? q(h[field]) : 'missing'}; expected ${want}`);
  if (typeof h.scenario !== 'string') throw bad_header('scenario', 'the scenario YAML text');
  if (!Array.isArray(h.variants) || !h.variants.every((v) => typeof v === 'string')) throw bad_header('variants', 'a list of variant names');
  if (!is_nat(h.seed)) throw bad_header('seed', 'an integer seed');
  if (h.hash_every !== undefined && !(is_int(h.hash_every) && h.hash_every >= 1)) throw bad_header('hash_every', 'a step count >= 1');
  if (h.drive !== undefined && h.drive !== 'policy' && h.drive !== 'schedule') throw bad_header('drive', '"policy" or "schedule"');
  if (h.patches !== undefined) {
    const bad = check_patches(h.patches);
    if (bad) throw err(1, bad);
    for (const [i, p] of (h.patches as PatchSource[]).entries()) {
      if (sha256(p.text) !== p.sha256) throw err(1, `header field "patches"[${i}] (${clip(p.file, 100, false)}): its text does not match its sha256`);
    }
  }
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    tool: typeof h.tool === 'string' ? h.tool : '?',
    ...(typeof h.model === 'string' ? { model: h.model } : {}),
    scenario: h.scenario,
    file: typeof h.file === 'string' ? h.file : '<recording>',
    variants: h.variants as string[],
    seed: h.seed,
    hash_every: (h.hash_every as number | undefined) ?? DEFAULT_HASH_EVERY,
    drive: (h.drive as Drive | undefined) ?? 'policy',
    ...(h.patches !== undefined && (h.patches as PatchSource[]).length ? { patches: h.patches as PatchSource[] } : {}),
  };
  // Before the scenario, which may name a patch's variants: load them, or refuse to (src/patch/gate.ts).
  recording_patches(path, header.patches ?? [], (ps) => load_patch_sources(ps, 'recording'));
  let scenario: LoadedScenario;
  try {
    scenario = parse_scenario(header.scenario, `${path} (scenario ${header.file})`, { variants: header.variants, seed: header.seed });
  } catch (e) {
    if (e instanceof UserError) throw err(1, `the embedded scenario does not load: ${one_line(e.message)}`);
    throw e;
  }

  // The body. Runs are bounded before they expand: by the end line's step count when no rewind can
  // take steps back (every schedule line adds to the total), and always by MAX_RECORDING_STEPS.
  const end_at = end_steps(raw_lines);
  const rewinds = text.includes('{"rewind"');
  const bound = Math.min(MAX_RECORDING_STEPS, end_at !== null && !rewinds ? end_at : MAX_RECORDING_STEPS);
  const bound_why = bound === MAX_RECORDING_STEPS ? `${MAX_RECORDING_STEPS} steps (the limit of a recording)` : `the ${bound} steps its end line says`;
  const picks = new Growable();
  const choices = new Map<number, number[]>();
  const cmds: RecCmd[] = [];
  const hashes = new Map<number, HashLine>();
  let end: EndLine | null = null;
  for (let i = 1; i < raw_lines.length; i++) {
    const ln = i + 1;
    const s = raw_lines[i]!;
    if (s.trim() === '') continue;
    if (end) throw err(ln, `a line after the end line (line ${ln - 1}...)`);
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(s) as Record<string, unknown>;
    } catch (e) {
      throw err(ln, `not valid JSON (${clip((e as Error).message, 200, false)})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw err(ln, 'expected a JSON object');
    if ('p' in v) {
      // A schedule chunk.
      if (v.s !== picks.n + 1) throw err(ln, `the schedule line starts at step ${q(v.s)}; expected step ${picks.n + 1}`);
      if (!Array.isArray(v.p)) throw err(ln, '"p" must be a list of thread indices and [index, count] runs');
      for (const e of v.p) {
        let count: number;
        let pick: number;
        if (is_int(e)) [pick, count] = [e, 1];
        else if (Array.isArray(e) && e.length === 2 && is_int(e[0]) && is_int(e[1]) && e[1] >= 1) [pick, count] = [e[0], e[1]];
        else throw err(ln, `bad pick ${q(e)}; expected a thread index or [index, count]`);
        if (pick < -0x8000_0000 || pick > 0x7fff_ffff) throw err(ln, `bad pick ${q(e)}; expected a thread index`);
        if (count > bound - picks.n) throw err(ln, `the schedule runs past step ${bound} (a run of ${q(count)} after step ${picks.n}); expected at most ${bound_why}`);
        picks.run(pick, count);
      }
      if (v.c !== undefined) {
        if (!Array.isArray(v.c)) throw err(ln, '"c" must be a list of [step, answer...]');
        for (const e of v.c) {
          if (!Array.isArray(e) || e.length < 2 || !e.every(is_int)) throw err(ln, `bad choice entry ${q(e)}; expected [step, answer...]`);
          const st = e[0] as number;
          if (st < (v.s as number) || st > picks.n) throw err(ln, `choice entry for step ${st} outside the line's steps ${v.s as number}..${picks.n}`);
          choices.set(st, e.slice(1) as number[]);
        }
      }
    } else if ('cmd' in v) {
      if (typeof v.cmd !== 'string' || !is_nat(v.step) || typeof v.poke !== 'string' || !v.args || typeof v.args !== 'object' || Array.isArray(v.args)) {
        throw err(ln, 'a command line needs "cmd" (text), "step", "poke" (handler) and "args" (object)');
      }
      if (v.step > picks.n) throw err(ln, `command at step ${v.step} after only ${picks.n} recorded steps`);
      const prev = cmds[cmds.length - 1];
      if (prev && prev.step > v.step) throw err(ln, `command at step ${v.step} after one at step ${prev.step}`);
      cmds.push({ step: v.step, cmd: v.cmd, poke: v.poke, args: revive_bigints(v.args) as Record<string, unknown> });
    } else if ('rewind' in v) {
      if (!is_nat(v.rewind) || v.rewind > picks.n) throw err(ln, `rewind to ${q(v.rewind)}; expected a step from 0 to ${picks.n}`);
      if (!is_nat(v.cmds) || v.cmds > cmds.length) throw err(ln, `rewind keeps ${q(v.cmds)} commands; expected 0 to ${cmds.length}`);
      const st = v.rewind;
      picks.n = st;
      for (const k of [...choices.keys()]) if (k > st) choices.delete(k);
      cmds.length = v.cmds;
      if (cmds.some((c) => c.step > st)) throw err(ln, `rewind to step ${st} keeps a command made after it`);
      for (const k of [...hashes.keys()]) if (k > st) hashes.delete(k);
    } else if ('end' in v) {
      if (!is_nat(v.end) || v.end !== picks.n) throw err(ln, `the end line says ${q(v.end)} steps; the recording has ${picks.n}`);
      if (!END_STATUSES.includes(v.status as EndStatus)) throw err(ln, `end status ${q(v.status)}; expected one of ${END_STATUSES.join(', ')}`);
      if (v.hash !== undefined && typeof v.hash !== 'string') throw err(ln, '"hash" must be a string');
      if (v.parts !== undefined && !is_parts(v.parts)) throw err(ln, '"parts" must map part names to hashes');
      if (v.run_hash !== undefined && typeof v.run_hash !== 'string') throw err(ln, '"run_hash" must be a string');
      end = v as unknown as EndLine;
    } else if ('hash' in v) {
      if (!is_nat(v.step) || v.step > picks.n) throw err(ln, `hash at step ${q(v.step)}; expected a step from 0 to ${picks.n}`);
      if (typeof v.hash !== 'string' || !is_parts(v.parts)) throw err(ln, 'a hash line needs "hash" (string) and "parts" (part name -> hash)');
      hashes.set(v.step, { step: v.step, hash: v.hash, parts: v.parts });
    } else {
      throw err(ln, `unknown line with keys ${clip(Object.keys(v).join(', '), 200, false) || '(none)'}; expected a schedule, command, hash, rewind or end line`);
    }
  }
  const n = picks.n;
  if (cut !== null) warning = `${path}:${cut}: the last line is cut short (the recording was not closed cleanly); replaying the ${n} steps before it`;
  else if (!end) warning = `${path}: no end line (the recording was not closed cleanly); replaying its ${n} steps`;
  // Another model may take other steps: say so up front (a replay would diverge).
  if (header.model !== undefined && header.model !== BASELINE) {
    const other = `${path}: recorded against the model of ${clip(header.model, 60, false)}; this kvmdbg models ${BASELINE}, so its steps may differ`;
    warning = warning ? `${warning}\n${other}` : other;
  }
  return { path, header, scenario, picks: picks.a.slice(0, n), choices, cmds, hashes, end, warning };
}
