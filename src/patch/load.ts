// Loading a patch: its text to CommonJS with esbuild's transform (types
// stripped, no type check: `npm run typecheck` or an editor does that),
// then evaluated in this process with `kvmdbg/model` resolved to the
// running kvmdbg's own API (./model.ts), so that what it defines changes
// the model that runs. A patch is one file: a recording carries its text,
// so the only import is kvmdbg/model. esbuild is required on the first
// patch only (start-up without --patch does not pay for it).
//
// Evaluated with vm.runInThisContext rather than import(): it is
// synchronous (a recording's patches load while the recording is parsed),
// needs no file on disk (a recording's text), and the script's name lets
// src/patch/locate.ts find the patch's frames in a stack.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, relative, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';
import '../core/world_init.js';
import { UserError, one_line } from '../scenario/errors.js';
import { add_script, key_place, patch_place, place_str } from './locate.js';
import * as api from './model.js';
import { PatchDefError } from './model.js';
import { active_patches, with_patch, type PatchOrigin, type PatchSource } from './scope.js';

type Esbuild = typeof import('esbuild');
let esbuild: Esbuild | null = null;

function load_esbuild(): Esbuild {
  return (esbuild ??= createRequire(import.meta.url)('esbuild') as Esbuild);
}

export const PATCH_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Read `--patch FILE` and load it; the recorded name is FILE relative to the working directory. */
export function load_patch_file(file: string, origin: PatchOrigin = 'cli'): PatchSource {
  if (!PATCH_EXTENSIONS.some((e) => file.endsWith(e))) throw new UserError(`${file}: a patch is a TypeScript or JavaScript module; expected a file ending in ${PATCH_EXTENSIONS.join(', ')}`);
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(`${file}: cannot read the patch (${err.code ?? err.message})`);
  }
  const rel = relative(process.cwd(), abs).split('\\').join('/');
  const name = rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
  const source = { file: name, sha256: sha256(text), text };
  load_patch_source(source, origin);
  return source;
}

let scripts = 0;

/** Load a patch from its text (a file's, or a recording's). Errors are one located UserError line. */
export function load_patch_source(source: PatchSource, origin: PatchOrigin): void {
  const { file, text } = source;
  if (sha256(text) !== source.sha256) throw new UserError(`${file}: the patch's text does not match its sha256 ${source.sha256}`);
  const twin = active_patches().find((p) => p.sha256 === source.sha256);
  if (twin) throw new UserError(`${file}: this patch is loaded already (as ${twin.file})`);
  const ts = /\.[mc]?ts$/.test(file);
  let code: string;
  let map: string;
  try {
    const r = load_esbuild().transformSync(text, { loader: ts ? 'ts' : 'js', format: 'cjs', target: 'node20', sourcefile: file, sourcemap: 'external', logLevel: 'silent' });
    code = r.code;
    map = r.map;
  } catch (e) {
    const m = (e as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors?.[0];
    if (!m) throw e;
    const at = m.location ? `${file}:${m.location.line}:${m.location.column + 1}` : file;
    throw new UserError(`${at}: ${one_line(m.text)}`);
  }
  // The script's name is how a stack frame is known to be this patch's (no spaces or parentheses: locate.ts).
  const script = `kvmdbg-patch/${++scripts}/${file.replace(/[^\w./-]/g, '_')}`;
  add_script(script, file, text, map, 1);
  const require_model = (id: string): unknown => {
    if (id === 'kvmdbg/model') return api;
    throw new PatchDefError(`a patch imports only 'kvmdbg/model', not ${JSON.stringify(id)} (a patch is one file: a recording carries its text)`);
  };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(limit, 50);
  try {
    with_patch(source, origin, () => {
      const wrapper = runInThisContext(`(function (exports, require, module) {\n${code}\n})`, { filename: script }) as (e: object, r: (id: string) => unknown, m: object) => void;
      const mod = { exports: {} };
      wrapper(mod.exports, require_model, mod);
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    const at = patch_place(e) ?? { file, line: 1, col: 1 };
    if (e instanceof PatchDefError) throw new UserError(`${place_str(e.key ? key_place(at, e.key) : at)}: ${e.message}`);
    const err = e as Error;
    throw new UserError(`${place_str(at)}: the patch threw ${err?.name ?? 'an error'}: ${one_line(err?.message ?? String(e))}`);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Load patches from files (`--patch`, repeatable), in order. */
export function load_patch_files(files: string[]): PatchSource[] {
  return files.map((f) => load_patch_file(f, 'cli'));
}

/** Load patches from their texts (the explorer's workers; a trusted recording). */
export function load_patch_sources(sources: PatchSource[], origin: PatchOrigin): void {
  for (const s of sources) load_patch_source(s, origin);
}
