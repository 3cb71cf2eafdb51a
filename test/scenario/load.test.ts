import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './fixtures.js';
import { load_scenario, parse_scenario } from '../../src/scenario/load.js';
import { ScenarioError, UserError } from '../../src/scenario/errors.js';

/** A valid prefix: arch, a 2-vCPU VM with one memslot, then `threads:` and `rest`. */
const base = (rest: string) => `arch: arm64\nvm:\n  vcpus: 2\n  memslots: [{gpa: 0x8000_0000, size: 2M}]\nthreads:\n${rest}`;

function err(text: string): ScenarioError {
  try {
    parse_scenario(text, 's.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    const se = e as ScenarioError;
    expect(se.message).not.toContain('\n');
    expect(se.message.startsWith(`s.yaml:${se.line}:${se.col}: `)).toBe(true);
    return se;
  }
  throw new Error('no error');
}

/** Assert the position and that the message contains each fragment. */
function expect_error(text: string, line: number, col: number, ...fragments: string[]): void {
  const e = err(text);
  expect([e.line, e.col], e.message).toEqual([line, col]);
  for (const f of fragments) expect(e.message).toContain(f);
}

describe('scenario loader: values', () => {
  it('converts integer literals: hex, separators, sizes, bigints for u64', () => {
    const s = parse_scenario(
      `name: nums
summary: numbers
arch: arm64
vm:
  vcpus: 2
  memslots: [{gpa: 0x8000_0000, size: 2M}, {gpa: 0x1_0000_0000, size: 1G, hva: 0x7f00_0000_0000}]
  nested_mmus: 4
threads:
  vcpu0:
    - t_access: {ipa: 0x1000, write: true}
    - t_eret: {vttbr: 0x0001_0000_4000_0000}
    - t_eret: {vttbr: 0xffff_0000_4000_0000}
    - t_eret: {vttbr: "0xffff_ffff_ffff_ffff"}
    - t_eret: {vttbr: 4K}
    - t_count: {n: 1_000}
    - t_exit
    - t_exit:
  mm:
    - t_invalidate: {gpa: 0x8000_0000, size: 4K}
`,
      'nums.yaml',
    );
    expect(s.config.memslots).toEqual([
      { gpa: 0x8000_0000, size: 2 * 1024 * 1024 },
      { gpa: 0x1_0000_0000, size: 1024 ** 3, hva: 0x7f00_0000_0000 },
    ]);
    expect(s.config.nested_mmus).toBe(4);
    const v0 = s.config.threads.find((t) => t.name === 'vcpu0')!;
    expect(v0.kind).toBe('vcpu');
    expect(v0.prog).toEqual([
      { op: 't_access', args: { ipa: 0x1000, write: true } },
      { op: 't_eret', args: { vttbr: 0x0001_0000_4000_0000 } },
      { op: 't_eret', args: { vttbr: 0xffff_0000_4000_0000n } },
      { op: 't_eret', args: { vttbr: 0xffff_ffff_ffff_ffffn } },
      { op: 't_eret', args: { vttbr: 4096 } },
      { op: 't_count', args: { n: 1000 } },
      { op: 't_exit', args: {} },
      { op: 't_exit', args: {} },
    ]);
    expect(s.config.threads.find((t) => t.name === 'mm')).toEqual({ name: 'mm', kind: 'mm', prog: [{ op: 't_invalidate', args: { gpa: 0x8000_0000, size: 4096 } }] });
    expect(s.meta).toMatchObject({ name: 'nums', summary: 'numbers', path: 'nums.yaml', expect: null });
  });

  it('expands repeat, nested, into separate ops', () => {
    const s = parse_scenario(base(`  vcpu0:
    - t_count: {n: 1}
    - repeat: {times: 3, do: [{t_access: {ipa: 0x1000}}, {repeat: {times: 2, do: [t_exit]}}]}
    - repeat: {times: 0, do: [t_exit]}
    - t_count: {n: 2}
`), 's.yaml');
    const prog = s.config.threads[0]!.prog;
    expect(prog.map((o) => o.op)).toEqual(['t_count', ...Array(3).fill(['t_access', 't_exit', 't_exit']).flat(), 't_count']);
    expect(prog[1]!.args).not.toBe(prog[4]!.args);
  });

  it('defaults: name from the file, random schedule with seed 1, no variants', () => {
    const s = parse_scenario(base('  vcpu0: []\n'), 'dir/my-scenario.yaml');
    expect(s.meta.name).toBe('my-scenario');
    expect(s.config.sched).toEqual({ policy: 'random', seed: 1 });
    expect(s.config.variants).toEqual([]);
    expect(s.config.arch).toBe('arm64');
    expect(s.config.vcpus).toBe(2);
  });

  it('host thread names give their kind; vCPUs need not all appear', () => {
    const s = parse_scenario(base('  vcpu1: [t_exit]\n  mm: []\n  mm_numa: [{t_count: {n: 3}}]\n  vmm: [{t_ioctl: {req: TLB_FLUSH}}]\n'), 's.yaml');
    expect(s.config.threads.map((t) => [t.name, t.kind])).toEqual([
      ['vcpu1', 'vcpu'],
      ['mm', 'mm'],
      ['mm_numa', 'mm'],
      ['vmm', 'vmm'],
    ]);
  });

  it('schedule: a script implies the script policy; --seed overrides; variants add up', () => {
    const s = parse_scenario(
      base('  vcpu0: []\n  mm: []\n') + 'variants: [t.no_retry]\nschedule:\n  seed: 7\n  script: [vcpu0, mm, t_drop=1, vcpu1]\nexpect: {violation: t.stale}\n',
      's.yaml',
      { seed: 9, variants: ['t.no_retry'] },
    );
    expect(s.config.sched).toEqual({ policy: 'script', seed: 9, script: ['vcpu0', 'mm', 't_drop=1', 'vcpu1'] });
    expect(s.config.variants).toEqual(['t.no_retry']);
    expect(s.meta.expect).toEqual({ violation: 't.stale' });
    const r = parse_scenario(base('  vcpu0: []\n') + 'schedule: {policy: rr}\n', 's.yaml', { seed: 3 });
    expect(r.config.sched).toEqual({ policy: 'rr', seed: 3 });
  });

  it('YAML anchors and aliases work', () => {
    const s = parse_scenario(base('  vcpu0: &prog\n    - t_access: {ipa: 4K}\n  vcpu1: *prog\n'), 's.yaml');
    expect(s.config.threads[1]!.prog).toEqual([{ op: 't_access', args: { ipa: 4096 } }]);
  });
});

describe('scenario loader: errors name file:line:col and what is allowed', () => {
  it('bad YAML syntax', () => {
    expect_error('arch: arm64\nvm: {vcpus: 1\nthreads: {}\n', 3, 1, 'invalid YAML');
    expect_error('arch: arm64\n  vm: 1\n', 1, 7, 'invalid YAML', 'Nested mappings');
    expect_error('arch: arm64\narch: x86\n', 2, 1, 'invalid YAML', 'unique');
  });

  it('empty files and non-mappings', () => {
    expect_error('', 1, 1, 'the scenario is empty', 'expected a mapping with keys: name, summary');
    expect_error('- a\n', 1, 1, 'a scenario is a YAML mapping');
  });

  it('unknown keys, at the top level and inside', () => {
    expect_error(base('  vcpu0: []\n') + 'foo: 1\n', 7, 1, 'unknown key "foo" at the top level', 'expected one of: name, summary, source, arch, vm, variants, threads, schedule, expect');
    expect_error('arch: arm64\nvm:\n  vcpus: 2\n  cpus: 1\nthreads: {}\n', 4, 3, 'unknown key "cpus" in vm', 'expected one of: vcpus, memslots, nested_mmus, ipa_bits');
    expect_error(base('  vcpu0:\n    - t_access: {ipa: 0x1000, wrte: true}\n'), 7, 31, 'unknown key "wrte" in the arguments of op t_access', 'expected one of: ipa, write');
    expect_error(base('  vcpu0:\n    - repeat: {times: 2, do: [t_exit], x: 1}\n'), 7, 40, 'unknown key "x" in repeat', 'times, do');
  });

  it('missing required keys', () => {
    expect_error('arch: arm64\nthreads: {}\n', 1, 1, 'missing the required key "vm"', 'arch, vm, threads');
    expect_error('arch: arm64\nvm: {}\nthreads: {}\n', 2, 5, 'missing the required key "vcpus" in vm');
    expect_error(base('  vcpu0:\n    - t_access: {write: true}\n'), 7, 17, 'missing the required key "ipa" in the arguments of op t_access');
  });

  it('unknown ops list the ops of the thread kind', () => {
    expect_error(base('  vcpu0:\n    - t_acess: {ipa: 0x1000}\n'), 7, 7, 'unknown op "t_acess" in thread vcpu0', 'expected an op of a vcpu thread: t_access, t_eret, t_exit, t_count or repeat');
    expect_error(base('  mm:\n    - bogus\n'), 7, 7, 'unknown op "bogus" in thread mm', 't_count, t_invalidate or repeat');
  });

  it('ops not allowed for the thread kind or the arch', () => {
    expect_error(base('  vcpu0:\n    - t_invalidate: {gpa: 0, size: 4K}\n'), 7, 7, 'op "t_invalidate" runs on mm threads, not on vcpu0', 't_access');
    expect_error(base('  vmm:\n    - t_access: {ipa: 0}\n'), 7, 7, 'op "t_access" runs on vcpu threads, not on vmm', 't_ioctl or repeat');
    expect_error(base('  vcpu0:\n    - t_hv_flush: {}\n'), 7, 7, 'op "t_hv_flush" is x86-only (this scenario is arm64)');
  });

  it('wrong types', () => {
    expect_error('arch: arm64\nvm:\n  vcpus: two\nthreads: {}\n', 3, 10, 'wrong type: vm.vcpus is the string "two"', 'expected an integer');
    expect_error(base('  vcpu0:\n    - t_access: {ipa: 0x1000, write: yes}\n'), 7, 38, 'wrong type: t_access.write is the string "yes"', 'expected true or false');
    expect_error(base('  vcpu0:\n    - t_eret: {vttbr: abc}\n'), 7, 23, 'wrong type: t_eret.vttbr', 'unsigned 64-bit integer');
    expect_error(base('  vcpu0: {a: 1}\n'), 6, 10, 'wrong type: threads.vcpu0 is a mapping', 'expected a list');
    expect_error(base('  vcpu0:\n    - t_access: 5\n'), 7, 17, 'the arguments of op "t_access" must be a mapping', 'ipa, write');
    expect_error(base('  vcpu0:\n    - {t_access: {ipa: 0}, t_exit: {}}\n'), 7, 28, 'exactly one key');
    expect_error('arch: arm65\nvm: {vcpus: 1}\nthreads: {}\n', 1, 7, 'arch is the string "arm65"', 'one of: arm64, x86');
    expect_error(base('  mm:\n    - t_invalidate: {gpa: 0, size: 4K, change: zap}\n'), 7, 48, 't_invalidate.change is the string "zap"', 'one of: migrate, numa');
  });

  it('out-of-range values', () => {
    expect_error('arch: arm64\nvm:\n  vcpus: 0\nthreads: {}\n', 3, 10, 'out of range: vm.vcpus is 0', 'an integer from 1 to 64');
    expect_error('arch: arm64\nvm:\n  vcpus: 1\n  memslots: [{gpa: 0x1_0000_0000_0000_0000, size: 4K}]\nthreads: {}\n', 4, 20, 'out of range: vm.memslots[0].gpa is 0x1_0000_0000_0000_0000');
    expect_error('arch: arm64\nvm:\n  vcpus: 1\n  memslots: [{gpa: 0x1234, size: 4K}]\nthreads: {}\n', 4, 20, 'not a multiple of 0x1000', 'a multiple of 4K');
    expect_error(base('  vcpu0:\n    - t_count: {n: 10_001}\n'), 7, 20, 'out of range: t_count.n is 10_001', 'from 0 to 10000');
    expect_error(base('  vcpu0:\n    - t_eret: {vttbr: 0x1_0000_0000_0000_0000}\n'), 7, 23, 'out of range: t_eret.vttbr', '0xffff_ffff_ffff_ffff');
    expect_error(base('  vcpu0:\n    - t_access: {ipa: 0xffff_0000_0000_0000}\n'), 7, 23, 'out of range: t_access.ipa is 0xffff_0000_0000_0000');
    expect_error(base('  vcpu0:\n    - repeat:\n        times: 2\n        do:\n          - t_access: {ipa: -1}\n'), 10, 29, 'out of range: t_access.ipa is -1');
    expect_error(base('  vcpu0: []\n') + 'schedule: {seed: -1}\n', 7, 18, 'out of range: schedule.seed');
    expect_error('arch: arm64\nvm:\n  vcpus: 1\n  memslots:\n    - {gpa: 0, size: 8K}\n    - {gpa: 4K, size: 4K}\nthreads: {}\n', 6, 7, 'memslot 1 [0x1000, 0x2000) overlaps memslot 0');
    expect_error('arch: x86\nvm: {vcpus: 1, nested_mmus: 2}\nthreads: {}\n', 2, 16, 'vm.nested_mmus is arm64-only');
  });

  it('repeat is capped', () => {
    expect_error(base('  vcpu0:\n    - repeat: {times: 1000, do: [{repeat: {times: 1000, do: [t_exit]}}]}\n'), 7, 7, 'more than 100000 ops');
  });

  it('unknown variants, and variants of another arch', () => {
    expect_error(base('  vcpu0: []\n') + 'variants: [t.no_retry, t.nope]\n', 7, 24, 'unknown variant "t.nope"', 'expected one of: t.no_retry');
    expect_error(base('  vcpu0: []\n') + 'variants:\n  - t.x86_only\n', 8, 5, 'variant "t.x86_only" is x86-only');
  });

  it('unknown thread names', () => {
    expect_error(base('  cpu0:\n    - t_exit\n'), 6, 3, 'unknown thread "cpu0"', 'expected vcpu0..vcpu1, mm or vmm');
    expect_error(base('  vcpu2:\n    - t_exit\n'), 6, 3, 'thread "vcpu2" but the VM has 2 vCPUs', 'vcpu0..vcpu1');
  });

  it('schedules and expectations', () => {
    expect_error(base('  vcpu0: []\n') + 'schedule: {policy: script, script: [vcpu0, vcpu7]}\n', 7, 44, 'unknown thread "vcpu7"', 'vcpu0 or vcpu1');
    expect_error(base('  vcpu0: []\n') + 'schedule:\n  script: [vcpu0, t_drop=5]\n', 8, 19, '"t_drop=5"', 't_drop=N with N from 0 to 1');
    expect_error(base('  vcpu0: []\n') + 'schedule:\n  script: [vcpu0, nope=1]\n', 8, 19, 'unknown choice "nope"');
    expect_error(base('  vcpu0: []\n') + 'schedule: {policy: rr, script: [vcpu0]}\n', 7, 24, 'only read by the script policy');
    expect_error(base('  vcpu0: []\n') + 'schedule: {policy: script}\n', 7, 20, 'policy script needs a schedule.script');
    expect_error(base('  vcpu0: []\n') + 'expect: {violation: t.nope}\n', 7, 21, 'unknown invariant "t.nope"', 'one of: none or t.stale');
  });

  it('command-line variants are checked without a position', () => {
    expect(() => parse_scenario(base('  vcpu0: []\n'), 's.yaml', { variants: ['nope'] })).toThrow(/^--variant nope: unknown variant; expected one of: t\.no_retry$/);
    expect(() => parse_scenario(base('  vcpu0: []\n'), 's.yaml', { variants: ['t.x86_only'] })).toThrow(/x86-only/);
  });

  it('load_scenario reads files and reports unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-load-'));
    const f = join(dir, 'ok.yaml');
    writeFileSync(f, base('  vcpu0: [t_exit]\n'));
    const s = load_scenario(f, { seed: 5 });
    expect(s.meta.path).toBe(f);
    expect(s.meta.text).toContain('t_exit');
    expect(s.config.sched.seed).toBe(5);
    const missing = join(dir, 'missing.yaml');
    expect(() => load_scenario(missing)).toThrow(UserError);
    expect(() => load_scenario(missing)).toThrow(`${missing}: cannot read the scenario: no such file`);
    writeFileSync(join(dir, 'bad.yaml'), 'arch: arm64\nvm: {vcpus: 1}\nthreads: {}\nbogus: 1\n');
    expect(() => load_scenario(join(dir, 'bad.yaml'))).toThrow(`${join(dir, 'bad.yaml')}:4:1: unknown key "bogus"`);
  });
});
