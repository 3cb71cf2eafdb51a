// The request/mode handshake (include/linux/kvm_host.h, arch/arm64/kvm/arm.c):
// a request made at any point around a vCPU's entry is either seen before
// entry or answered by a kick, and a WAIT request's caller does not return
// before its targets have left the guest.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { KVM_REQ_GENERIC, KVM_REQUEST_MASK, set_bit } from '../../src/core/kvm/kvm_host.js';

function scenario(vmm_op: string, script: string[], variants: string[] = []) {
  const text = `
name: requests
summary: t
arch: arm64
vm: {vcpus: 2, memslots: [{gpa: 0x8000_0000, size: 2M}]}
threads:
  vcpu0:
    - repeat: {times: 6, do: [{access: {ipa: 0x8000_0000}}, {access: {ipa: 0x8000_1000}}]}
  vcpu1:
    - repeat: {times: 6, do: [{access: {ipa: 0x8000_2000}}]}
  vmm:
    - ${vmm_op}
schedule: {policy: script, script: [${script.join(', ')}]}
`;
  return parse_scenario(text, 'requests.yaml', { variants });
}

/** Run with the vmm held back for `k` vCPU steps, then run alone until its op is done. */
function run_at(vmm_op: string, k: number, variants: string[] = []) {
  const loaded = scenario(vmm_op, [], variants);
  const m = new Machine(create_world(loaded.config));
  const w = m.w;
  const vmm = w.threads.find((t) => t.name === 'vmm')!;
  const events: Event[] = [];
  const violations: string[] = [];
  let returned_at = -1;
  const vcpus = w.threads.filter((t) => t.kind === 'vcpu').map((t) => t.id);
  for (let i = 0; i < k; i++) {
    const r = m.step(vcpus[i % 2 === 0 || !m.runnable().includes(vcpus[1]!) ? 0 : 1]);
    events.push(...r.events);
  }
  for (let n = 0; n < 5000; n++) {
    const run = m.runnable();
    if (!run.length) break;
    // The vmm runs whenever it can; the vCPUs only when it cannot (it waits for an IPI ack).
    const r = m.step(run.includes(vmm.id) ? vmm.id : run[n % run.length]);
    events.push(...r.events);
    violations.push(...r.violations.map((v) => v.invariant));
    if (returned_at < 0 && vmm.ip >= 1 && !vmm.stack.some((f) => f.fn === 'vmm_request')) returned_at = w.step;
  }
  return { events, violations, returned_at, w };
}

describe('vCPU requests around guest entry', () => {
  const OP = '{request: {vcpu: 0, req: RECORD_STEAL}}';

  it('at every point of the vCPU loop, the request is seen before entry or the vCPU is kicked out of the guest', () => {
    let kicked = 0;
    let seen_before_entry = 0;
    for (let k = 0; k < 60; k++) {
      const { events, violations } = run_at(OP, k);
      expect(violations, `k=${k}`).toEqual([]);
      const make = events.findIndex((e) => e.kind === 'request.make');
      const check = events.findIndex((e, i) => i > make && e.kind === 'request.check' && e['req'] === 'RECORD_STEAL' && e['result'] === true);
      expect(make, `k=${k}`).toBeGreaterThanOrEqual(0);
      expect(check, `k=${k}: RECORD_STEAL never consumed`).toBeGreaterThan(make);
      // vcpu0 runs no guest code between the request and its consumption: it either
      // saw the request before entering or the kick's IPI took it straight out.
      const ran = events.findIndex((e, i) => i > make && i < check && e.kind === 'guest.access' && e.vcpu === 0);
      expect(ran, `k=${k}: vcpu0 ran the guest with the request pending`).toBe(-1);
      const kick = events.find((e, i) => i > make && e.kind === 'vcpu.kick' && e['action'] === 'ipi');
      if (kick) kicked++;
      else seen_before_entry++;
    }
    // Both halves of the argument were exercised.
    expect(kicked).toBeGreaterThan(0);
    expect(seen_before_entry).toBeGreaterThan(0);
  });

  it('with the checks in the wrong order (kvm.exit_request_before_mode), some point leaves a request unserviced in the guest', () => {
    const hits = Array.from({ length: 60 }, (_, k) => run_at(OP, k, ['kvm.exit_request_before_mode']).violations).filter((v) => v.includes('kvm.request_unserviced'));
    expect(hits.length).toBeGreaterThan(0);
  });

  it('a WAIT request does not return before every kicked target has left the guest', () => {
    let waited = 0;
    for (let k = 0; k < 60; k++) {
      const { events, returned_at, violations } = run_at('{request: {req: SLEEP, all: true}}', k);
      expect(violations).toEqual([]);
      const all = events.find((e) => e.kind === 'request.make_all')!;
      expect(all['wait']).toBe(true);
      const mask = all['ipi_mask'] as number[];
      if (!mask.length) continue;
      waited++;
      for (const cpu of mask) {
        const ack = events.find((e) => e.kind === 'ipi.ack' && e['target_cpu'] === cpu && e.seq > all.seq);
        expect(ack, `k=${k}: cpu ${cpu} never acked`).toBeDefined();
        expect(ack!.step).toBeLessThanOrEqual(returned_at);
        const left = events.find((e) => e.seq > all.seq && e.step <= returned_at && e.cpu === cpu && e.kind === 'vcpu.mode' && e['to'] === 'OUTSIDE_GUEST_MODE');
        expect(left, `k=${k}: vcpu on cpu ${cpu} did not leave the guest before the caller returned`).toBeDefined();
      }
    }
    expect(waited).toBeGreaterThan(0);
  });
});

describe('kvm_vcpu_kick() and kvm_make_all_cpus_request() on a vCPU halted in kvm_vcpu_block()', async () => {
  const { Driver } = await import('../arm64/nv_driver.js');
  const yaml = (vmm: string[]) => `
name: halt
summary: t
arch: arm64
vm: {vcpus: 2, memslots: [{gpa: 0x8000_0000, size: 2M}]}
threads:
  vcpu0:
    - wfi: {}
    - access: {ipa: 0x8000_0000}
  vcpu1:
    - access: {ipa: 0x8000_1000}
  vmm:
${vmm.map((o) => `    - ${o}`).join('\n')}
schedule: {policy: rr}
`;

  it('kvm_vcpu_kick() wakes it (kvm_vcpu_wake_up()) instead of sending an IPI, whatever the reason: with none it is loaded, checks and sleeps again; it runs on only once kvm_vcpu_check_block() says so', () => {
    const d = new Driver(yaml(['request: {vcpu: 0, req: RECORD_STEAL}', 'request: {vcpu: 0, req: UNBLOCK}']));
    d.run_until_blocked('vcpu0');
    const puts = d.seen('vcpu.put', 'vcpu0').length;
    d.run_until_event('vmm', 'vcpu.kick');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => e['action'])).toEqual(['wakeup']);
    // Woken for RECORD_STEAL, with no reason to run (no interrupt, no KVM_REQ_UNBLOCK): kvm_sched_in() loads
    // it, kvm_vcpu_check_block() finds nothing, and schedule() puts it back to sleep (kvm_sched_out()).
    expect(d.m.runnable()).toContain(d.thread('vcpu0').id);
    d.run_until_blocked('vcpu0');
    expect(d.seen('sched.wake', 'vcpu0').length).toBe(1);
    expect(d.seen('vcpu.load', 'vcpu0').length).toBeGreaterThan(0);
    expect(d.seen('vcpu.put', 'vcpu0').length).toBe(puts + 1);
    expect(d.thread('vcpu0').wait?.kind).toBe('kvm_vcpu_halt');
    d.run_to_end('vmm');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => e['action'])).toEqual(['wakeup', 'wakeup']);
    expect(d.seen('ipi.send', 'vmm')).toEqual([]);
    d.run_to_end('vcpu0');
    // kvm_vcpu_check_block() consumed KVM_REQ_UNBLOCK; the WFI retired and the next access ran.
    expect(d.seen('request.check', 'vcpu0').some((e) => e['req'] === 'UNBLOCK' && e['result'] === true)).toBe(true);
    expect(d.seen('guest.access', 'vcpu0').length).toBe(1);
    expect(d.violations).toEqual([]);
  });

  it('a vCPU woken and not yet back asleep is not woken twice: the second kick finds its task running and sends nothing', () => {
    const d = new Driver(yaml(['request: {vcpu: 0, req: RECORD_STEAL}', 'request: {vcpu: 0, req: UNBLOCK}']));
    d.run_until_blocked('vcpu0');
    d.run_to_end('vmm');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => e['action'])).toEqual(['wakeup', 'none']);
    expect(d.seen('ipi.send', 'vmm')).toEqual([]);
    d.run_to_end('vcpu0');
    expect(d.seen('guest.access', 'vcpu0').length).toBe(1);
  });

  it('a reason to run without a wake-up does not wake it: KVM_REQ_UNBLOCK set with no kick leaves it asleep until a kick', () => {
    const d = new Driver(yaml(['request: {vcpu: 0, req: RECORD_STEAL}']));
    d.run_until_blocked('vcpu0');
    // kvm_make_request() alone (no kvm_vcpu_kick()): the bit is there, nobody wakes the task.
    const v0 = d.m.w.kvm.vcpus[0]!;
    v0.requests = set_bit(v0.requests, KVM_REQ_GENERIC.UNBLOCK & KVM_REQUEST_MASK);
    expect(d.m.runnable()).not.toContain(d.thread('vcpu0').id);
    d.run_to_end('vmm');
    // The kick that comes with RECORD_STEAL wakes it, and it finds the UNBLOCK.
    d.run_to_end('vcpu0');
    expect(d.seen('request.check', 'vcpu0').some((e) => e['req'] === 'UNBLOCK' && e['result'] === true)).toBe(true);
  });

  it('kvm_make_all_cpus_request() wakes it unless the request is NO_WAKEUP (KVM_REQ_SLEEP)', () => {
    const d = new Driver(yaml(['request: {req: SLEEP, all: true}', 'request: {req: IRQ_PENDING, all: true}']));
    d.run_until_blocked('vcpu0');
    d.run_until_event('vmm', 'request.make_all');
    expect(d.seen('vcpu.kick', 'vmm')).toEqual([]);
    d.run_until_event('vmm', 'request.make_all');
    expect(d.seen('vcpu.kick', 'vmm').map((e) => [e['target'], e['action']])).toEqual([[0, 'wakeup']]);
  });
});
