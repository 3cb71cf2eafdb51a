// `kvmdbg tui` on the command line without a terminal, bare `kvmdbg`, and
// which commands load Ink (only the TUI: it costs about half a second).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NO_TTY_MESSAGE } from '../../src/tui/main.js';
import { kvmdbg, ROOT } from '../cli/helpers.js';

describe('kvmdbg tui without a terminal', () => {
  it('says it needs one, on one line, and exits 2', () => {
    const r = kvmdbg(['tui', 'scenarios/nv-s2-recycle.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${NO_TTY_MESSAGE}\n`);
    expect(r.stdout).toBe('');
    expect(NO_TTY_MESSAGE).toBe('kvmdbg tui: needs a terminal (stdin and stdout must be a TTY); try `kvmdbg repl`');
  });

  it('bare kvmdbg without a terminal prints the help, which lists tui', () => {
    const r = kvmdbg([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kvmdbg/);
    expect(r.stdout).toMatch(/\n {2}tui \[options\] \[scenario\] +the full-screen debugger/);
  });

  it('tui --help', () => {
    const r = kvmdbg(['tui', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: kvmdbg tui \[options\] \[scenario\]/);
    expect(r.stdout).toContain('--variant');
    expect(r.stdout).toContain('--record <file>');
    expect(r.stdout).toContain('--goto <step>');
  });
});

/** Run the CLI in a child process and list the React modules it loaded (Ink needs React). */
function react_loaded(args: string[], preload = ''): { code: number; loaded: string[] } {
  const main = pathToFileURL(join(ROOT, 'dist', 'commands', 'main.js')).href;
  const script = `
    import { createRequire } from 'node:module';
    ${preload}
    const { main } = await import(${JSON.stringify(main)});
    const code = await main(['node', 'kvmdbg', ...${JSON.stringify(args)}]);
    const cache = createRequire(import.meta.url).cache;
    const loaded = Object.keys(cache).filter((p) => /node_modules[\\\\/](react|react-reconciler)[\\\\/]/.test(p));
    process.stderr.write('RESULT ' + JSON.stringify({ code, loaded }) + '\\n');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from the child:\n${r.stderr}`);
  return JSON.parse(line.slice(7)) as { code: number; loaded: string[] };
}

describe('Ink is loaded only by the TUI', () => {
  it('the check sees React when Ink is loaded', () => {
    const r = react_loaded(['scenarios'], "await import('ink');");
    expect(r.loaded.length).toBeGreaterThan(0);
  });

  it('run, repl (batch) and tui without a terminal never load it', () => {
    for (const args of [['run', 'scenarios/default.yaml', '--steps', '10'], ['repl', 'scenarios/default.yaml', '-e', 'info vcpus'], ['tui', 'scenarios/default.yaml'], []]) {
      const r = react_loaded(args);
      expect(r.loaded, args.join(' ')).toEqual([]);
    }
  });
});
