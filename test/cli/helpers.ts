// Running the built CLI in a child process. The CLI runs from the bundle in
// dist/cli/ (bin/kvmdbg.js), so the tests need a build: test/global-setup.ts
// builds once per test run, and ensure_built() here builds when the bundle
// is missing or older than the sources (for runs of a single file without
// the global setup). scripts/build.mjs (esbuild) takes a few seconds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Written last by the build. */
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const LOCK = join(ROOT, 'dist', '.build-lock');

function newest_source(dir: string): number {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest_source(p));
    else if (/\.(tsx?|mjs)$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function fresh(): boolean {
  if (!existsSync(MAIN)) return false;
  const built = statSync(MAIN).mtimeMs;
  return ['src', 'commands', 'scripts'].every((d) => newest_source(join(ROOT, d)) <= built);
}

/** Build dist/ (scripts/build.mjs) unless it is up to date. Type errors do not stop the build (the typecheck script reports them). */
export function ensure_built(): void {
  if (fresh()) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  // One builder at a time: parallel test files may all get here.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${LOCK} held for 2 minutes; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0 || !existsSync(MAIN)) throw new Error(`scripts/build.mjs failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  } finally {
    rmdirSync(LOCK);
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `node bin/kvmdbg.js ...args` from the package root (non-TTY, so no colour unless asked). */
export function kvmdbg(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'kvmdbg.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
