// The bundled CLI (scripts/build.mjs): what each file holds, which decides
// what a command loads, and the launcher's code cache, which must never stop
// kvmdbg from starting.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensure_built, kvmdbg, ROOT } from './helpers.js';

const CLI = join(ROOT, 'dist', 'cli');

/** The inputs a bundle file was built from, from its source map. */
function inputs(file: string): string[] {
  return (JSON.parse(readFileSync(join(CLI, `${file}.map`), 'utf8')) as { sources: string[] }).sources;
}
const packages = (srcs: string[]) => new Set(srcs.filter((s) => s.includes('node_modules/')).map((s) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(s)![1]!));
const ours = (srcs: string[]) => srcs.filter((s) => !s.includes('node_modules/')).map((s) => s.replace(/^(\.\.\/)+/, ''));

beforeAll(() => ensure_built());

describe('the bundle', () => {
  it('main.js holds the CLI without Ink, React or ajv\'s compiler; the validators are precompiled', () => {
    const srcs = inputs('main.js');
    const pk = packages(srcs);
    for (const p of ['commander', 'yaml', 'pure-rand']) expect(pk.has(p), p).toBe(true);
    for (const p of ['ink', 'react', 'react-reconciler', 'yoga-layout', '@alcalzone/ink-table']) expect(pk.has(p), p).toBe(false);
    // Of ajv, only the runtime helpers the standalone code calls.
    expect(srcs.filter((s) => s.includes('node_modules/ajv/')).every((s) => /node_modules\/ajv\/(dist|lib)\/runtime\//.test(s))).toBe(true);
    expect(ours(srcs)).toContain('kvmdbg-swap:src/scenario/validators.ts');
    expect(ours(srcs)).toContain('src/tui/controller.ts');
    expect(ours(srcs)).toContain('src/core/world_init.ts');
  });

  it('tui.mjs holds the Ink view and takes every module of ours from main.js (one Session, one set of registries)', () => {
    const srcs = inputs('tui.mjs');
    expect(packages(srcs).has('ink')).toBe(true);
    const own = ours(srcs);
    expect(own).toContain('src/tui/app.tsx');
    expect(own.filter((s) => s.startsWith('src/') || s.startsWith('commands/'))).toEqual(own.filter((s) => s.endsWith('.tsx')));
    expect(own.filter((s) => s.startsWith('kvmdbg-bridge:')).sort()).toEqual(['kvmdbg-bridge:src/tui/layout.ts', 'kvmdbg-bridge:src/tui/view.ts']);
  });
});

describe('the code cache', () => {
  /** A copy of the package's runnable parts (no node_modules: the bundle needs none), to spoil its cache without touching dist/. */
  function copy(): string {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-cache-'));
    for (const p of ['package.json', 'bin', 'scenarios', join('dist', 'cli')]) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    return dir;
  }
  const run = (dir: string, args: string[]) => spawnSync(process.execPath, [join(dir, 'bin', 'kvmdbg.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  it('a cache V8 rejects (another Node, a rebuilt bundle) still starts kvmdbg, and is rewritten', () => {
    const dir = copy();
    const cache = join(dir, 'dist', 'cli', 'main.js.cache');
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const want = kvmdbg(['run', 'fault-vs-invalidate', '--json']);
    const r = run(dir, ['run', 'fault-vs-invalidate', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(want.code);
    expect(r.stdout.replace(/"file":"[^"]*"/, '')).toBe(want.stdout.replace(/"file":"[^"]*"/, ''));
    const rewritten = readFileSync(cache);
    expect(rewritten.length).toBeGreaterThan(4096);
    expect(rewritten.equals(Buffer.alloc(rewritten.length, 7))).toBe(false);
    // And the next start takes it as it is.
    const t = statSync(cache).mtimeMs;
    const again = run(dir, ['--version']);
    expect(again.stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    expect(statSync(cache).mtimeMs).toBe(t);
  });

  it('without a cache, or where it cannot be written, kvmdbg starts all the same', () => {
    const dir = copy();
    const cache = join(dir, 'dist', 'cli', 'main.js.cache');
    // A directory where the cache would go: reading and writing it fail.
    rmSync(cache);
    mkdirSync(cache);
    const r = run(dir, ['repl', '--json', '-e', 'info vcpus']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout) as { ok: boolean }).toMatchObject({ ok: true, cmd: 'info vcpus' });
    expect(statSync(cache).isDirectory()).toBe(true);
    expect(readdirSync(join(dir, 'dist', 'cli')).filter((f) => f.startsWith('main.js.cache.'))).toEqual([]);
  });
});
