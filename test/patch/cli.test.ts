// --patch, --trust-patch and --show-patches on the built CLI: the example
// patch exits 1 with the race, recordings carry the patches and refuse to
// run them untrusted, the explorer's workers run the same patches.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensure_built, kvmdbg } from '../cli/helpers.js';
import { sha256 } from '../../src/patch/load.js';

const NV = 'patches/examples/nv-no-unmap-request.ts';
const SEQ = 'patches/examples/mmu-seq-after-faultin.ts';
const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-patch-cli-'));

beforeAll(() => ensure_built());

describe('kvmdbg run --patch', () => {
  it('the nv-no-unmap-request example exits 1 with nv.entry_with_pending_unmap; without it, 0', () => {
    const r = kvmdbg(['run', 'nv-s2-recycle', '--patch', NV]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^# nv-s2-recycle .*; patches patches\/examples\/nv-no-unmap-request\.ts; /);
    expect(r.stdout).toMatch(/VIOLATION nv\.entry_with_pending_unmap at step \d+ \(vcpu\d\)/);
    const clean = kvmdbg(['run', 'nv-s2-recycle']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/no violation/);
    expect(clean.code).toBe(0);
  });

  it('--json names the patches with their sha256', () => {
    const r = kvmdbg(['run', 'nv-s2-recycle', '--patch', NV, '--json', '--events', 'thread.exit']);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!).summary;
    expect(summary.patches).toEqual([{ file: NV, sha256: sha256(readFileSync(join(ROOT, NV), 'utf8')) }]);
    expect(summary.violation.invariant).toBe('nv.entry_with_pending_unmap');
  });

  it('a mistake in a patch is one located line on stderr, exit 2', () => {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, `import { patch_fn, ret } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', {\n  outt: (w, t) => ret(t, 0),\n});\n`);
    const r = kvmdbg(['run', 'nv-s2-recycle', '--patch', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kvmdbg: ${bad}:3:3: get_s2_mmu_nested has no step "outt"; its steps are: lookup, assign, out (a new label goes in patch_fn's { insert: ['outt'] })\n`);
    writeFileSync(bad, `import { patch_fn } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', { out: (w, t) => { return ( } });\n`);
    const s = kvmdbg(['run', 'nv-s2-recycle', '--patch', bad]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(new RegExp(`^kvmdbg: ${bad.replace(/[.]/g, '\\.')}:2:\\d+: Unexpected "}"\\n$`));
  });

  it('a patch variant is listed by `variants` and named by --variant', () => {
    const p = join(dir, 'v.ts');
    writeFileSync(p, `import { define_variant } from 'kvmdbg/model';\ndefine_variant({ name: 'my.variant', description: 'mine', source: 'hypothetical: a test', breaks: 'nothing', arch: 'arm64' });\n`);
    const r = kvmdbg(['variants', '--json', '--patch', p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/"name":\s*"my\.variant"/);
    expect(kvmdbg(['run', 'fault-vs-invalidate', '--variant', 'my.variant', '--patch', p]).code).toBe(0);
    expect(kvmdbg(['run', 'fault-vs-invalidate', '--variant', 'my.variant']).code).toBe(2);
  });
});

describe('start-up', () => {
  it('esbuild is loaded for --patch only', () => {
    const preload = join(dir, 'cache.cjs');
    writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, '\\nMODULES ' + JSON.stringify(Object.keys(require.cache))));");
    const loaded = (args: string[]) => {
      const r = spawnSync(process.execPath, ['-r', preload, join(ROOT, 'bin', 'kvmdbg.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
      const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '))!;
      return (JSON.parse(line.slice('MODULES '.length)) as string[]).some((m) => /node_modules[\\/]esbuild[\\/]/.test(m));
    };
    expect(loaded(['run', 'fault-vs-invalidate'])).toBe(false);
    expect(loaded(['run', 'fault-vs-invalidate', '--patch', SEQ])).toBe(true);
  });
});

describe('recordings of patched runs', () => {
  const rec = join(dir, 'nv.rec');

  beforeAll(() => {
    expect(kvmdbg(['run', 'nv-s2-recycle', '--patch', NV, '--record', rec]).code).toBe(1);
  });

  it('carry each patch: its name, sha256 and text', () => {
    const header = JSON.parse(readFileSync(rec, 'utf8').split('\n')[0]!);
    const text = readFileSync(join(ROOT, NV), 'utf8');
    expect(header.patches).toEqual([{ file: NV, sha256: sha256(text), text }]);
  });

  it('replay, repl and export refuse to run them without --trust-patch (exit 2, naming them and --show-patches)', () => {
    for (const args of [['replay', rec], ['repl', rec, '-e', 'info vcpus'], ['export', rec, '--format', 'ftrace', '-o', '-']]) {
      const r = kvmdbg(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`the recording carries 1 patch, code that would run in kvmdbg: ${NV} (sha256 ${sha256(readFileSync(join(ROOT, NV), 'utf8'))})`);
      expect(r.stderr).toContain(`kvmdbg replay ${rec} --show-patches`);
      expect(r.stderr).toContain('--trust-patch');
    }
  });

  it('the TUI refuses too (in a pseudo-terminal)', async (ctx) => {
    let pty: typeof import('node-pty');
    try {
      const m = (await import('node-pty')) as typeof import('node-pty') & { default?: typeof import('node-pty') };
      pty = m.default ?? m;
    } catch {
      ctx.skip();
      return;
    }
    let out = '';
    const p = pty.spawn(process.execPath, [join(ROOT, 'bin', 'kvmdbg.js'), 'tui', rec], { name: 'xterm-256color', cols: 400, rows: 30, cwd: ROOT, env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string> });
    p.onData((d) => (out += d));
    const code = await new Promise<number>((res) => p.onExit((e) => res(e.exitCode)));
    expect(code).toBe(2);
    expect(out.replace(/\s+/g, ' ')).toContain('the recording carries 1 patch, code that would run in kvmdbg');
  });

  it('--show-patches prints them and runs nothing', () => {
    const r = kvmdbg(['replay', rec, '--show-patches']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`// ===== ${NV}  sha256 `);
    expect(r.stdout).toContain(readFileSync(join(ROOT, NV), 'utf8'));
  });

  it('--trust-patch replays them to the same hashes and the same violation', () => {
    const run = kvmdbg(['run', 'nv-s2-recycle', '--patch', NV]);
    const r = kvmdbg(['replay', rec, '--trust-patch', '--verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/final state matches|state hashes match/);
    const hash = (s: string) => /hash ([0-9a-f]+)/.exec(s)?.[1];
    expect(hash(r.stdout)).toBe(hash(run.stdout));
    const repl = kvmdbg(['repl', rec, '--trust-patch', '--json', '-e', 'info vcpus']);
    expect(repl.code).toBe(0);
  });

  it('a recording brings its own patches: --patch with one is an error', () => {
    const r = kvmdbg(['replay', rec, '--patch', SEQ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected no --patch with a recording/);
  });

  it('a recording whose patch text was changed is refused', () => {
    const lines = readFileSync(rec, 'utf8').split('\n');
    const h = JSON.parse(lines[0]!);
    h.patches[0].text = h.patches[0].text.replace('mmu.refcnt++', 'mmu.refcnt += 2');
    const bad = join(dir, 'tampered.rec');
    writeFileSync(bad, [JSON.stringify(h), ...lines.slice(1)].join('\n'));
    const r = kvmdbg(['replay', bad, '--trust-patch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tampered\.rec:1: header field "patches"\[0\] \(patches\/examples\/nv-no-unmap-request\.ts\): its text does not match its sha256/);
  });
});

describe('kvmdbg explore --patch', () => {
  it('the workers run the patch: the hypothetical late mmu_seq snapshot is found and shrunk (mmu.stale_mapping)', () => {
    const out = join(dir, 'seq.rec');
    const r = kvmdbg(['explore', 'fault-vs-invalidate', '--patch', SEQ, '--workers', '2', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/VIOLATION mmu\.stale_mapping/);
    expect(r.stdout).toMatch(/^# explore fault-vs-invalidate \(arm64\): variants none; patches patches\/examples\/mmu-seq-after-faultin\.ts; .*2 workers/);
    expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!).patches.map((p: { file: string }) => p.file)).toEqual([SEQ]);
    expect(kvmdbg(['replay', out, '--trust-patch', '--verify']).code).toBe(1);
    const clean = kvmdbg(['explore', 'fault-vs-invalidate', '--workers', '2', '--out', join(dir, 'clean.rec')]);
    expect(clean.stdout).toMatch(/no violation/);
    expect(clean.code).toBe(0);
  });
});
