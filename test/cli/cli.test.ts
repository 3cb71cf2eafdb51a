import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, ensure_built, kvmdbg } from './helpers.js';

beforeAll(() => ensure_built(), 300_000);

const tmp = mkdtempSync(join(tmpdir(), 'kvmdbg-cli-'));
function scenario(name: string, text: string): string {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
}

/** stderr is exactly one line, names `where`, and has no stack trace. */
function one_error_line(stderr: string, where: RegExp | string): void {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]!.startsWith('kvmdbg: ')).toBe(true);
  if (typeof where === 'string') expect(lines[0]).toContain(where);
  else expect(lines[0]).toMatch(where);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('kvmdbg: usage', () => {
  it('without arguments and without a terminal prints help and exits 0', () => {
    const r = kvmdbg([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: kvmdbg');
    for (const c of ['run', 'scenarios', 'variants']) expect(r.stdout).toContain(c);
  });

  it('--version prints the package version and the upstream release the model follows', async () => {
    const { BASELINE } = await import('../../src/core/baseline.js');
    const r = kvmdbg(['--version']);
    expect(r.code).toBe(0);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    expect(r.stdout.trim()).toBe(`kvmdbg ${version} (model: ${BASELINE})`);
    expect(BASELINE).toMatch(/^Linux v\d+\.\d+$/);
  });

  it('usage errors exit 2 with one line', () => {
    for (const args of [['bogus'], ['run'], ['run', '--bogus', 'x.yaml'], ['--seed', 'x', 'run', 'default'], ['run', 'default', '--steps', '0'], ['--arch', 'sparc', 'variants']]) {
      const r = kvmdbg(args);
      expect(r.code, args.join(' ')).toBe(2);
      one_error_line(r.stderr, /^kvmdbg: /);
    }
  });
});

describe('kvmdbg scenarios', () => {
  it('lists every bundled scenario with its summary, from any directory', () => {
    const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const r = kvmdbg(['scenarios'], { cwd: tmp });
    expect(r.code).toBe(0);
    for (const f of files) {
      const id = f.replace(/\.yaml$/, '');
      const summary = (parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8')) as { summary?: string }).summary ?? '';
      const line = r.stdout.split('\n').find((l) => l.startsWith(`${id} `));
      expect(line, id).toBeDefined();
      expect(line).toContain(summary);
    }
    const j = kvmdbg(['scenarios', '--json']);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(rows.map((x) => x.id).sort()).toEqual(files.map((f) => f.replace(/\.yaml$/, '')).sort());
  });
});

describe('kvmdbg run: bad input', () => {
  const cases: [string, string, string][] = [
    ['bad YAML', 'arch: arm64\nvm: {vcpus: 1\nthreads: {}\n', ':3:1: invalid YAML'],
    ['unknown key', 'arch: arm64\nvm: {vcpus: 1}\nthreads: {}\ncolour: blue\n', ':4:1: unknown key "colour" at the top level; expected one of: name,'],
    ['wrong type', 'arch: arm64\nvm:\n  vcpus: many\nthreads: {}\n', ':3:10: wrong type: vm.vcpus is the string "many"; expected an integer'],
    ['unknown variant', 'arch: arm64\nvm: {vcpus: 1}\nthreads: {}\nvariants: [no.such.variant]\n', ':4:12: unknown variant "no.such.variant"; expected one of: '],
    ['unknown op', 'arch: arm64\nvm: {vcpus: 1}\nthreads:\n  vcpu0:\n    - acces: {ipa: 0}\n', ':5:7: unknown op "acces" in thread vcpu0; expected an op of a vcpu thread: '],
    ['unknown thread', 'arch: arm64\nvm: {vcpus: 1}\nthreads:\n  vcpu1: []\n', ':4:3: thread "vcpu1" but the VM has 1 vCPU'],
  ];
  for (const [what, text, msg] of cases) {
    it(`${what}: exit 2, one line naming file:line:col, no stack trace`, () => {
      const f = scenario(`${what.replace(/ /g, '-')}.yaml`, text);
      const r = kvmdbg(['run', f]);
      expect(r.code).toBe(2);
      one_error_line(r.stderr, `kvmdbg: ${f}${msg}`);
      expect(r.stdout).toBe('');
    });
  }

  it('--debug adds the stack trace', () => {
    const f = scenario('debug.yaml', 'arch: arm64\nvm: {vcpus: 1}\nthreads: {}\ncolour: blue\n');
    const r = kvmdbg(['run', f, '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('a missing file, an unknown --variant and an unknown --events kind exit 2', () => {
    let r = kvmdbg(['run', join(tmp, 'nope.yaml')]);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, 'nope.yaml: cannot read the scenario: no such file');
    r = kvmdbg(['run', 'default', '--variant', 'no.such.variant']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, 'kvmdbg: --variant no.such.variant: unknown variant; expected one of: ');
    r = kvmdbg(['run', 'default', '--events', 'request,nonsense']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, 'kvmdbg: --events: unknown event kind "nonsense"');
  });
});

describe('kvmdbg variants', () => {
  it('lists every registered variant with its arch, what it breaks, description and source', async () => {
    await import('../../src/core/world_init.js');
    const { all_variants } = await import('../../src/core/machine/variants.js');
    const vs = all_variants();
    expect(vs.length).toBeGreaterThan(0);
    const r = kvmdbg(['variants']);
    expect(r.code).toBe(0);
    for (const v of vs) {
      const row = r.stdout.split('\n').find((l) => l.startsWith(`${v.name} `));
      expect(row, v.name).toBeDefined();
      expect(row).toContain(v.breaks);
      expect(r.stdout).toContain(v.description);
      expect(r.stdout).toContain(v.source);
    }
    const j = kvmdbg(['variants', '--json']);
    expect(j.code).toBe(0);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; breaks: string; source: string });
    expect(rows.map((x) => x.name)).toEqual(vs.map((v) => v.name));
    expect(rows.map((x) => x.source)).toEqual(vs.map((v) => v.source));
  });
});

describe('kvmdbg run', () => {
  it('default: events, the invariant report, exit 0', () => {
    const r = kvmdbg(['run', 'scenarios/default.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^# default \(arm64/);
    expect(r.stdout).toMatch(/^no violation in \d+ steps \(\d+ invariants checked\)$/m);
    expect(r.stdout).toMatch(/^\s+\d+ {2}vcpu0 +\S+/m);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('--json: JSON Lines, one per event, then a summary', () => {
    const r = kvmdbg(['run', 'default', '--json']);
    expect(r.code).toBe(0);
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = objs.pop()!.summary as Record<string, unknown>;
    expect(objs.length).toBeGreaterThan(0);
    for (const o of objs) expect(Object.keys(o).slice(0, 6)).toEqual(['seq', 'step', 'thread', 'cpu', 'vcpu', 'kind']);
    expect(summary).toMatchObject({ scenario: 'default', status: 'end', violation: null, expect: 'none', expect_met: true });
    expect(summary.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof summary.steps).toBe('number');
    // Addresses are "0x..." strings.
    const access = objs.find((o) => o.kind === 'fault.start');
    if (access) expect(access.gpa).toMatch(/^0x[0-9a-f]+$/);
  });

  it('--events filters kinds; a family name matches its kinds', () => {
    const r = kvmdbg(['run', 'default', '--json', '--events', 'request,fault.start']);
    expect(r.code).toBe(0);
    const kinds = new Set(r.stdout.trim().split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { kind: string }).kind));
    expect(kinds.size).toBeGreaterThan(0);
    for (const k of kinds) expect(k === 'fault.start' || k.startsWith('request.')).toBe(true);
  });

  it('--steps stops early', () => {
    const r = kvmdbg(['run', 'default', '--json', '--steps', '7']);
    expect(r.code).toBe(0);
    const s = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { summary: { steps: number; status: string } }).summary;
    expect(s).toMatchObject({ steps: 7, status: 'limit' });
    expect(kvmdbg(['run', 'default', '--steps', '7']).stdout).toContain('stopped at the step limit (7 steps)');
  });

  it('is deterministic across processes; different seeds give different schedules', () => {
    const a = kvmdbg(['run', 'default', '--seed', '5']);
    const b = kvmdbg(['run', 'default', '--seed', '5']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const hash = (seed: string) => (JSON.parse(kvmdbg(['run', 'default', '--json', '--seed', seed]).stdout.trim().split('\n').pop()!) as { summary: { hash: string } }).summary.hash;
    expect(hash('5')).toBe(hash('5'));
    const streams = new Set(['1', '2', '3'].map((s) => kvmdbg(['run', 'default', '--seed', s]).stdout.split('\n').slice(1).join('\n')));
    expect(streams.size).toBeGreaterThan(1);
  });

  it('colour: on with FORCE_COLOR, off with NO_COLOR or --no-color', () => {
    expect(kvmdbg(['run', 'default', '--steps', '20'], { env: { FORCE_COLOR: '1' } }).stdout).toContain('\x1b[');
    expect(kvmdbg(['run', 'default', '--steps', '20'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toContain('\x1b[');
    expect(kvmdbg(['run', 'default', '--steps', '20', '--no-color'], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain('\x1b[');
  });

  it('--arch that does not match the scenario is bad input', () => {
    const r = kvmdbg(['run', 'default', '--arch', 'x86']);
    expect(r.code).toBe(2);
    one_error_line(r.stderr, 'the scenario is for arm64, not x86');
  });
});

describe('kvmdbg run: the stale-mapping race', () => {
  it('fault-vs-invalidate with mmu.no_retry_check exits 1 with the explanation for some seed', async () => {
    // Find the first seed that shows it in-process (cheap), then check the CLI.
    await import('../../src/core/world_init.js');
    const { load_scenario } = await import('../../src/scenario/load.js');
    const { run_scenario } = await import('../../src/scenario/run.js');
    const file = join(ROOT, 'scenarios', 'fault-vs-invalidate.yaml');
    let seed = 0;
    for (let s = 1; s <= 2000 && !seed; s++) {
      if (run_scenario(load_scenario(file, { seed: s, variants: ['mmu.no_retry_check'] }), { keep_events: false }).violation) seed = s;
    }
    expect(seed, 'no seed in 1..2000 shows the race').toBeGreaterThan(0);
    const r = kvmdbg(['run', 'scenarios/fault-vs-invalidate.yaml', '--variant', 'mmu.no_retry_check', '--seed', String(seed)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^VIOLATION mmu\.stale_mapping at step \d+ \(vcpu\d+\): .+/m);
    expect(r.stdout).toContain('note: the scenario expects no violation, but mmu.stale_mapping was violated (with variants mmu.no_retry_check)');
    const j = kvmdbg(['run', 'scenarios/fault-vs-invalidate.yaml', '--variant', 'mmu.no_retry_check', '--seed', String(seed), '--json']);
    expect(j.code).toBe(1);
    const s = (JSON.parse(j.stdout.trim().split('\n').pop()!) as { summary: { status: string; violation: { invariant: string }; expect_met: boolean } }).summary;
    expect(s).toMatchObject({ status: 'violation', violation: { invariant: 'mmu.stale_mapping' }, expect_met: false });
    // The same seed without the variant: no violation.
    expect(kvmdbg(['run', 'scenarios/fault-vs-invalidate.yaml', '--seed', String(seed)]).code).toBe(0);
  });
});
