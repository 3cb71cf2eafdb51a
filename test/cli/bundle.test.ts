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
const ours = (srcs: string[]) => srcs.filter((s) => !s.includes('node_modules/') && !s.includes('kvmdbg-')).map((s) => s.replace(/^(\.\.\/)+/, ''));

beforeAll(() => ensure_built());

describe('the bundle', () => {
  it('main.js is the command line alone: commander and the flag declarations, no YAML parser, no model', () => {
    const srcs = inputs('main.js');
    expect([...packages(srcs)]).toEqual(['commander']);
    const own = ours(srcs);
    expect(own).toContain('commands/main.ts');
    // (src/core/baseline.ts is one string, the release --version names.)
    expect(own.filter((s) => /^src\/(core|repl|debugger|record|explore|tui)\//.test(s) && s !== 'src/core/baseline.ts')).toEqual([]);
    // What the commands run comes from core.js, on the first `await import()`.
    for (const m of ['commands/run.ts', 'src/repl/main.ts', 'src/explore/cli.ts', 'src/tui/main.ts']) expect(own).toContain(`core:${m}`);
  });

  it('--version loads no more of Node than it needs: not child_process (commander\'s, for subcommands kvmdbg has none of), not the REPL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-modules-'));
    const preload = join(dir, 'list.cjs');
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, JSON.stringify(process.moduleLoadList)));");
    const builtins = (args: string[]) => {
      const r = spawnSync(process.execPath, ['-r', preload, join(ROOT, 'bin', 'kvmdbg.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status).toBe(0);
      return (JSON.parse(r.stderr) as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
    };
    const v = builtins(['--version']);
    for (const m of ['child_process', 'repl', 'readline', 'v8', 'worker_threads']) expect(v, m).not.toContain(m);
    // The check sees them when they are loaded.
    expect(builtins(['explore', 'fault-vs-invalidate', '--budget', '1', '--workers', '1', '--json', '--out', join(dir, 'x.rec')])).toContain('worker_threads');
  });

  it("core.js holds the rest but Ink and React, and ajv's runtime helpers but not its compiler; it shares main.js's modules", () => {
    const srcs = inputs('core.js');
    const pk = packages(srcs);
    for (const p of ['yaml', 'pure-rand']) expect(pk.has(p), p).toBe(true);
    for (const p of ['commander', 'ink', 'react', 'react-reconciler', 'yoga-layout', '@alcalzone/ink-table']) expect(pk.has(p), p).toBe(false);
    expect(srcs.filter((s) => s.includes('node_modules/ajv/')).every((s) => /node_modules\/ajv\/(dist|lib)\/runtime\//.test(s))).toBe(true);
    const own = ours(srcs);
    for (const m of ['src/core/world_init.ts', 'src/scenario/load.ts', 'src/repl/main.ts', 'src/tui/controller.ts', 'swap:src/scenario/validators.ts']) expect(own).toContain(m);
    // One UserError class for both files, or `instanceof` in commands/main.ts would miss core.js's errors.
    expect(own).toContain('main:src/scenario/errors.ts');
    expect(own).not.toContain('src/scenario/errors.ts');
    const main_own = ours(inputs('main.js')).filter((s) => !s.includes(':'));
    expect(own.filter((s) => main_own.includes(s))).toEqual([]);
  });

  it('tui.mjs holds the Ink view and takes every module of ours from core.js (one Session, one set of registries)', () => {
    const srcs = inputs('tui.mjs');
    expect(packages(srcs).has('ink')).toBe(true);
    const own = ours(srcs);
    expect(own).toContain('src/tui/app.tsx');
    expect(own.filter((s) => !s.includes(':')).every((s) => s.endsWith('.tsx'))).toBe(true);
    expect(own.filter((s) => s.startsWith('bridge:')).sort()).toEqual(['bridge:src/tui/layout.ts', 'bridge:src/tui/view.ts']);
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
    const cache = join(dir, 'dist', 'cli', 'core.js.cache');
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
    const again = run(dir, ['run', 'fault-vs-invalidate', '--json']);
    expect(again.stdout).toBe(r.stdout);
    expect(statSync(cache).mtimeMs).toBe(t);
  });

  it('without a cache, or where it cannot be written, kvmdbg starts all the same', () => {
    const dir = copy();
    // Directories where the caches would go: reading and writing them fail.
    for (const f of ['main.js.cache', 'core.js.cache']) {
      rmSync(join(dir, 'dist', 'cli', f));
      mkdirSync(join(dir, 'dist', 'cli', f));
    }
    const r = run(dir, ['repl', '--json', '-e', 'info vcpus']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout) as { ok: boolean }).toMatchObject({ ok: true, cmd: 'info vcpus' });
    expect(readdirSync(join(dir, 'dist', 'cli')).filter((f) => /\.cache\./.test(f))).toEqual([]);
  });
});
