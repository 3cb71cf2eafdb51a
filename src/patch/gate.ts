// A recording's patches are code: `replay`, `repl`, `tui` and `export` of
// a recording that carries patches refuse to run them unless the user
// said --trust-patch (after reading them: `kvmdbg replay REC
// --show-patches`). Opening a scenario never runs code; only --patch does.
import { readFileSync } from 'node:fs';
import { UserError } from '../scenario/errors.js';
import { active_patches, unload_patches, type PatchSource } from './scope.js';

let trusted = false;

/** --trust-patch: run the patches recordings carry. */
export function trust_patches(on: boolean): void {
  trusted = on;
}

const short = (p: PatchSource) => `${p.file} (sha256 ${p.sha256})`;
const plural = (n: number) => `${n} patch${n === 1 ? '' : 'es'}`;
const same = (a: PatchSource[], b: PatchSource[]) => a.length === b.length && a.every((p, i) => p.sha256 === b[i]!.sha256);

/**
 * Called while a recording is parsed, before its scenario is: make the
 * loaded patches those the recording was made with, or say why not.
 * `load` loads the texts (src/patch/load.ts; passed in so that a recording
 * without patches never loads esbuild).
 */
export function recording_patches(rec: string, patches: PatchSource[], load: (p: PatchSource[]) => void): void {
  const cli = active_patches('cli');
  const now = active_patches();
  if (same(now, patches)) return;
  if (cli.length) {
    const has = patches.length ? `was made with ${plural(patches.length)}: ${patches.map(short).join(', ')}` : 'was made without patches';
    throw new UserError(`${rec}: the recording ${has}, and --patch loaded ${cli.map(short).join(', ')}; expected no --patch with a recording (it brings its own)`);
  }
  if (patches.length && !trusted) {
    throw new UserError(
      `${rec}: the recording carries ${plural(patches.length)}, code that would run in kvmdbg: ${patches.map(short).join(', ')}; read ${patches.length === 1 ? 'it' : 'them'} with \`kvmdbg replay ${rec} --show-patches\`, then run with --trust-patch`,
    );
  }
  unload_patches('recording');
  if (patches.length) load(patches);
}

/** The patches in a recording's header, for --show-patches (nothing runs). */
export function read_recording_patches(file: string): PatchSource[] {
  let first: string;
  try {
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    first = nl < 0 ? text : text.slice(0, nl);
  } catch (e) {
    throw new UserError(`${file}: cannot read the recording (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let h: unknown;
  try {
    h = JSON.parse(first);
  } catch {
    throw new UserError(`${file}:1: not a kvmdbg recording: the first line is not JSON`);
  }
  const patches = (h as { patches?: unknown }).patches;
  if (patches === undefined) return [];
  const bad = check_patches(patches);
  if (bad) throw new UserError(`${file}:1: ${bad}`);
  return patches as PatchSource[];
}

/** What is wrong with a header's `patches` field, or null. */
export function check_patches(v: unknown): string | null {
  if (!Array.isArray(v)) return `header field "patches" is not a list; expected [{"file", "sha256", "text"}, ...]`;
  for (let i = 0; i < v.length; i++) {
    const p = v[i] as Partial<PatchSource> | null;
    if (!p || typeof p !== 'object' || typeof p.file !== 'string' || typeof p.text !== 'string' || typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)) {
      return `header field "patches"[${i}] is not {"file": NAME, "sha256": 64 hex digits, "text": SOURCE}`;
    }
  }
  return null;
}

/** A recording's text is anyone's: no control characters reach the terminal but newlines and tabs. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `kvmdbg replay REC --show-patches`: each patch's name, hash and text. */
export function show_patches(file: string, write: (s: string) => void): void {
  const patches = read_recording_patches(file);
  if (!patches.length) {
    write(`${file}: the recording carries no patches\n`);
    return;
  }
  for (const p of patches) {
    write(`// ===== ${printable(p.file.replace(/\s/g, ' '))}  sha256 ${p.sha256}\n`);
    write(printable(p.text.endsWith('\n') ? p.text : `${p.text}\n`));
  }
}
