// scenarios/hv-tlb-flush-inhibit.yaml through the scenario loader and runner.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { load_scenario, parse_scenario } from '../../src/scenario/load.js';
import { compare_expect, run_scenario } from '../../src/scenario/run.js';

const FILE = fileURLToPath(new URL('../../scenarios/hv-tlb-flush-inhibit.yaml', import.meta.url));

describe('scenarios/hv-tlb-flush-inhibit.yaml', () => {
  it('loads as an x86 scenario with the x86 ops', () => {
    const s = load_scenario(FILE);
    expect(s.config.arch).toBe('x86');
    expect(s.config.vcpus).toBe(3);
    const ops = new Set(s.config.threads.flatMap((t) => t.prog.map((o) => o.op)));
    expect([...ops].sort()).toEqual(['access_gva', 'hv_flush', 'set_tlb_flush_inhibit', 'userspace_exit']);
    expect(s.config.variants).toEqual(['hv.tlb_flush_inhibit']);
  });

  it('runs to its end as it expects, and the same seed gives the same run', () => {
    const s = load_scenario(FILE);
    const a = run_scenario(s);
    expect(a.status).toBe('end');
    expect(compare_expect(s, a)?.met).toBe(true);
    const b = run_scenario(load_scenario(FILE));
    expect(b.hash).toBe(a.hash);
    expect(b.schedule).toEqual(a.schedule);
  });

  it('the x86 ops are refused in an arm64 scenario, with the place', () => {
    const text = 'arch: arm64\nvm: {vcpus: 1}\nthreads:\n  vcpu0:\n    - hv_flush: {code: 2}\n';
    expect(() => parse_scenario(text, 'x.yaml')).toThrow(/x\.yaml:5:.*x86-only/);
  });

  it('bad hypercall arguments are refused by the op schema', () => {
    const text = 'arch: x86\nvm: {vcpus: 2}\nthreads:\n  vcpu0:\n    - hv_flush: {code: 3, format: sparse}\n';
    expect(() => parse_scenario(text, 'y.yaml')).toThrow(/y\.yaml:5/);
  });
});
