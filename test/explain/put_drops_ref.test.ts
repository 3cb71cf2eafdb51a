// nv.put_drops_ref breaks nv.pending_unmap_cleared_early only under a
// goal-directed schedule (test/arm64/nv.test.ts, kvm_vcpu_put_hw_mmu():
// no random or PCT schedule of the bundled scenario reaches it). The same
// schedule here, explained: the diagram fits, and the slice holds vcpu1's
// recycle that set pending_unmap and vcpu0's clear of it.
import { describe, expect, it } from 'vitest';
import { COND_RESCHED } from '../../src/core/kvm/rwlock.js';
import { diagram, HEIGHT, WIDTH } from '../../src/explain/diagram.js';
import { slice } from '../../src/explain/slice.js';
import { schedule_history, trace_history } from '../../src/explain/trace.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { Driver, type Answer } from '../arm64/nv_driver.js';

const vttbr = (vmid: number) => `0x${vmid.toString(16).padStart(4, '0')}_0000_80${vmid.toString(16).padStart(2, '0')}_0000`;
const X = vttbr(1);
const l1_map = (vmid: number) => `    - l1_map: {vttbr: ${vttbr(vmid)}, nested_ipa: 0x1000, ipa: ${0x4000_0000 + vmid * 0x1000}}`;
const visit = (vmid: number) => [`    - eret_l2: {vttbr: ${vttbr(vmid)}}`, '    - access: {ipa: 0x1000, write: true}', '    - exit_l2: {}'].join('\n');
const on_stack = (t: { stack: { fn: string }[] }, fn: string) => t.stack.some((f) => f.fn === fn);

const YAML = `
name: put-drops-ref
summary: test/arm64/nv.test.ts, kvm_vcpu_put_hw_mmu()
arch: arm64
vm: {vcpus: 2, ipa_bits: 32, nested_mmus: 4, memslots: [{gpa: 0x4000_0000, size: 2M}]}
threads:
  vcpu0:
    - eret_l2: {vttbr: ${X}}
    - access: {ipa: 0x1000}
    - exit_l2: {}
  vcpu1:
${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(l1_map).concat([2, 3, 4, 5, 1, 6, 7, 8, 9].map(visit)).join('\n')}
schedule: {policy: rr}
`;

describe('explain: nv.put_drops_ref under its goal-directed schedule', () => {
  it('within 80x40; the slice holds the recycle that set pending_unmap and the early clear', () => {
    let asked = false;
    const answer: Answer = (_w, t, kind) => {
      if (kind !== COND_RESCHED || t.name !== 'vcpu0' || asked || !on_stack(t, 'check_nested_vcpu_requests')) return 0;
      asked = true;
      return 1;
    };
    const d = new Driver(YAML, ['nv.put_drops_ref'], answer);
    d.run_to_op('vcpu1', d.thread('vcpu1').prog.findIndex((o) => o.op === 'eret_l2' && BigInt(o.args['vttbr'] as number) === BigInt(X.replaceAll('_', ''))));
    d.run_until('vcpu0', (_w, t) => t.wait?.kind === 'preempted' && on_stack(t, 'check_nested_vcpu_requests'));
    const m = d.seen('s2mmu.recycle', 'vcpu0')[0]!['index'] as number;
    d.run_until_event('vcpu1', 's2mmu.recycle', (e) => e['index'] === m);
    d.run_until_event('vcpu1', 'lock.release', (e) => e['lock'] === 'mmu_lock');
    d.run_until('vcpu0', () => d.violations.length > 0);
    expect(d.violations[0]!.invariant).toBe('nv.pending_unmap_cleared_early');

    const config = parse_scenario(YAML, 'put-drops-ref.yaml', { variants: ['nv.put_drops_ref'] }).config;
    const tr = trace_history(config, schedule_history(d.m.schedule));
    expect(tr.violation?.invariant).toBe('nv.pending_unmap_cleared_early');
    expect(tr.violation?.message).toBe(d.violations[0]!.message);
    const sl = slice(tr, tr.violation!.step);
    const steps = sl.steps.map((n) => tr.steps[n - 1]!);
    const set = steps.filter((s) => s.name === 'vcpu1' && s.events.some((e) => e.kind === 'pending_unmap.set' && e['index'] === m));
    expect(set.length, "vcpu1's recycle of M").toBeGreaterThan(0);
    const target = tr.steps[sl.target - 1]!;
    expect(target.name).toBe('vcpu0');
    expect(target.events.some((e) => e.kind === 'pending_unmap.clear' && e['index'] === m)).toBe(true);
    const dg = diagram(tr, sl);
    expect(dg.lines.length).toBeLessThanOrEqual(HEIGHT);
    for (const l of dg.lines) expect(l.length).toBeLessThanOrEqual(WIDTH);
    expect(dg.columns.map((c) => c.thread).sort()).toEqual(['vcpu0', 'vcpu1']);
    expect(dg.lines.at(-1)).toMatch(/ nv\.pending_unmap_cleared_early: /);
  });
});
