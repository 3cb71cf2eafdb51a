// The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT proposal: committed schedules for
// the variants that break an invariant, the same windows without them, and
// seeded random runs.
import { describe, expect, it } from 'vitest';
import { of_kind, run, script, x86_config, type Prog } from './helpers.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';
import { readFileSync } from 'node:fs';
import { variant_named } from '../../src/core/machine/variants.js';

// vcpu0 flushes one GVA on vcpu1 (HvFlushVirtualAddressList, mask vcpu1);
// vcpu1 touches that GVA; the VMM inhibits vcpu1's flushes, then clears it.
const PROG: Prog = {
  vcpu0: [['hv_flush', { code: 0x3, processor_mask: 0b10, gvas: [0x1000] }]],
  vcpu1: [
    ['access_gva', { gva: 0x1000 }],
    ['access_gva', { gva: 0x1000 }],
    ['access_gva', { gva: 0x1000 }],
  ],
  vmm: [
    ['set_tlb_flush_inhibit', { vcpu: 1, inhibit: true }],
    ['set_tlb_flush_inhibit', { vcpu: 1, inhibit: false }],
  ],
};

function scripted(variants: string[], s: string[]) {
  return run(x86_config(2, PROG, { variants, policy: 'script', script: s }));
}

describe('hv.inhibit_request_first (queue and request first, then check and suspend)', () => {
  it('breaks hv.flush_while_inhibited: a flusher after the ioctl queues on the inhibited vCPU', () => {
    // The VMM's inhibit ioctl returns (no vCPU holds kvm->srcu yet), then vcpu0 flushes.
    const r = scripted(['hv.inhibit_request_first'], script('vmm*8', 'vcpu0*18'));
    expect(r.violation?.invariant).toBe('hv.flush_while_inhibited');
    expect(r.violation?.message).toBe(
      "vcpu0's HvFlushVirtualAddressList queued 1 GVA entry on vcpu1's flush FIFO after KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu1, 1) returned at step 8; " +
        "vcpu1 will flush its TLB the next time it enters the guest, inhibited or not: it had not read vcpu1's tlb_flush_inhibit: " +
        'it queues and makes the request first and checks the flag afterwards',
    );
    expect(r.violation?.values).toMatchObject({ target: 1, flusher: 'vcpu0', inhibit_return_step: 8, read_step: null });
  });

  it('the same schedule in the current code: vcpu0 finds the flag before queueing and suspends', () => {
    const r = scripted([], script('vmm*8', 'vcpu0*18'));
    expect(r.status).toBe('end');
    expect(of_kind(r.events, 'hv.suspend')).toHaveLength(1);
    expect(of_kind(r.events, 'hv.unsuspend')).toHaveLength(1);
    // Nothing reached vcpu1 while it was inhibited: the first push comes after the clear.
    const push = of_kind(r.events, 'hv.fifo.push')[0]!;
    const clear = of_kind(r.events, 'hv.inhibit').find((e) => e['inhibit'] === false && e['phase'] === 'write')!;
    expect(push.seq).toBeGreaterThan(clear.seq);
    expect(of_kind(r.events, 'hv.hypercall.complete').filter((e) => !e['suspended'])).toHaveLength(1);
  });

  it('the order does keep the flusher honest, even without the SRCU sync: a flush that returns after the inhibit was queued before it', () => {
    // vcpu0 queues, requests and reads vcpu1's flag (0); the VMM sets it and returns (no sync);
    // vcpu0 returns success. That flush was queued before the write, so nothing is broken.
    const r = scripted(['hv.inhibit_request_first', 'hv.no_srcu_sync'], script('vcpu0*28', 'vmm*5', 'vcpu0*3'));
    expect(r.violation).toBeNull();
    const push = of_kind(r.events, 'hv.fifo.push', 'vcpu0')[0]!;
    const write = of_kind(r.events, 'hv.inhibit').find((e) => e['inhibit'] === true && e['phase'] === 'write')!;
    const ret = of_kind(r.events, 'hv.inhibit').find((e) => e['inhibit'] === true && e['phase'] === 'return')!;
    const done = of_kind(r.events, 'hv.hypercall.complete', 'vcpu0')[0]!;
    expect(done['status']).toBe(0);
    expect(push.seq).toBeLessThan(write.seq);
    expect(ret.seq).toBeLessThan(done.seq);
  });
});

describe('hv.no_srcu_sync (the ioctl does not wait for flushes in flight)', () => {
  it('breaks hv.flush_while_inhibited: a flusher that read the flag before the write queues after the ioctl returned', () => {
    // vcpu0 reads vcpu1's tlb_flush_inhibit (0); the VMM sets it and returns; vcpu0 queues.
    const r = scripted(['hv.no_srcu_sync'], script('vcpu0*18', 'vmm*5', 'vcpu0*2'));
    expect(r.violation?.invariant).toBe('hv.flush_while_inhibited');
    expect(r.violation?.message).toBe(
      "vcpu0's HvFlushVirtualAddressList queued 1 GVA entry on vcpu1's flush FIFO after KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu1, 1) returned at step 23; " +
        "vcpu1 will flush its TLB the next time it enters the guest, inhibited or not: it read vcpu1's tlb_flush_inhibit as 0 at step 17, " +
        'before the ioctl wrote 1 at step 21, and the ioctl returned without waiting for this flush to finish',
    );
  });

  it('breaks hv.suspended_forever: a flusher that read the flag before the clear suspends after the unsuspend scan', () => {
    // The VMM inhibits; vcpu0 reads the flag (1) and is about to suspend; the VMM clears it and
    // scans (vcpu0 not suspended yet); vcpu0 suspends with nobody left to wake it.
    const r = scripted(['hv.no_srcu_sync'], script('vmm*5', 'vcpu0*17', 'vmm*10', 'vcpu0*2'));
    expect(r.violation?.invariant).toBe('hv.suspended_forever');
    expect(r.violation?.message).toBe(
      "vcpu0 is suspended waiting on vcpu1 (since step 34), but vcpu1's tlb_flush_inhibit is 0 and KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu1, 0) " +
        'returned at step 32 without waking it: nothing will unsuspend vcpu0. It read the inhibit as 1 at step 22; the clear wrote 0 at step 25 ' +
        'and did not wait for it before its unsuspend scan.',
    );
  });

  it('left alone, that run deadlocks with vcpu0 asleep in kvm_vcpu_block()', () => {
    const cfg = x86_config(2, PROG, { variants: ['hv.no_srcu_sync'], policy: 'script', script: script('vmm*5', 'vcpu0*17', 'vmm*10', 'vcpu0*2') });
    const r = run(cfg);
    expect(r.status).toBe('violation');
    // Keep stepping past the violation: the run cannot end.
    for (;;) {
      const s = r.m.step();
      if (s.status !== 'ok') {
        expect(s.status).toBe('deadlock');
        expect(s.blocked).toEqual(['vcpu0 (kvm_vcpu_block vcpu=0)']);
        break;
      }
    }
  });
});

describe('the window Vitaly Kuznetsov asked about (flag read, then changed, before the request)', () => {
  // vcpu0 reads vcpu1's flag (0); the VMM writes 1 and enters synchronize_srcu(), which waits
  // because vcpu0 holds kvm->srcu; vcpu0 queues, requests, returns and enters the guest (dropping
  // kvm->srcu); only then does the ioctl return.
  const WINDOW = script('vcpu0*18', 'vmm*6', 'vcpu0*23', 'vmm*3');
  for (const variants of [[], ['hv.inhibit_v1']]) {
    it(`is closed by synchronize_srcu() (${variants.length ? variants.join(', ') : 'current code'})`, () => {
      const r = scripted(variants, WINDOW);
      expect(r.violation).toBeNull();
      expect(r.status).toBe('end');
      const push = of_kind(r.events, 'hv.fifo.push', 'vcpu0')[0]!;
      const sync = of_kind(r.events, 'srcu.sync', 'vmm');
      const ret = of_kind(r.events, 'hv.inhibit').find((e) => e['inhibit'] === true && e['phase'] === 'return')!;
      // The grace period began before the push and ended after vcpu0 left its reader section.
      expect(sync[0]!['phase']).toBe('start');
      expect(sync[0]!.seq).toBeLessThan(push.seq);
      expect(push.seq).toBeLessThan(ret.seq);
      expect(r.events.some((e) => e.kind === 'sched.block' && e.thread === 'vmm' && String(e['reason']).startsWith('srcu_gp'))).toBe(true);
    });
  }
  it('opens with hv.no_srcu_sync, for v1 as well', () => {
    const r = scripted(['hv.inhibit_v1', 'hv.no_srcu_sync'], script('vcpu0*18', 'vmm*5', 'vcpu0*2'));
    expect(r.violation?.invariant).toBe('hv.flush_while_inhibited');
    expect(r.violation?.message).toContain('before the ioctl wrote 1 at step 21, and the ioctl returned without waiting for this flush to finish');
  });

  it('the suspend side is closed by synchronize_srcu() too: the clear waits until the flusher has suspended', () => {
    for (const [variants, s] of [
      [[], script('vmm*8', 'vcpu0*17', 'vmm*6', 'vcpu0*10', 'vmm*14')],
      [['hv.inhibit_v1'], script('vmm*8', 'vcpu0*17', 'vmm*6', 'vcpu0*11', 'vmm*14')],
    ] as [string[], string[]][]) {
      const r = scripted(variants, s);
      expect(r.violation).toBeNull();
      expect(r.status).toBe('end');
      const suspend = of_kind(r.events, 'hv.suspend')[0]!;
      const unsuspend = of_kind(r.events, 'hv.unsuspend')[0]!;
      expect(suspend.seq).toBeLessThan(unsuspend.seq);
      // The guest re-ran the hypercall and it completed.
      const done = of_kind(r.events, 'hv.hypercall.complete', 'vcpu0');
      expect(done.map((e) => e['suspended'])).toEqual([true, false]);
      // v1 wakes with KVM_REQ_EVENT, the current code with KVM_REQ_UNBLOCK.
      const wake = of_kind(r.events, 'request.make', 'vmm')[0]!;
      expect(wake['req']).toBe(variants.length ? 'EVENT' : 'UNBLOCK');
    }
  });

  it('v1 with hv.no_srcu_sync leaves the flusher suspended', () => {
    const r = scripted(['hv.inhibit_v1', 'hv.no_srcu_sync'], script('vmm*5', 'vcpu0*17', 'vmm*10', 'vcpu0*3'));
    expect(r.violation?.invariant).toBe('hv.suspended_forever');
    expect(r.violation?.message).toContain('nothing will unsuspend vcpu0');
  });
});

describe('variant declarations', () => {
  it('each says what it breaks', () => {
    expect(variant_named('hv.inhibit_v1')?.breaks).toMatch(/^nothing/);
    expect(variant_named('hv.inhibit_request_first')?.breaks).toMatch(/^hv\.flush_while_inhibited/);
    expect(variant_named('hv.no_srcu_sync')?.breaks).toMatch(/hv\.flush_while_inhibited.*hv\.suspended_forever/);
  });
});

describe('seeded random runs of scenarios/hv-tlb-flush-inhibit.yaml', () => {
  const text = readFileSync(new URL('../../scenarios/hv-tlb-flush-inhibit.yaml', import.meta.url), 'utf8');
  const RUNS = 2000;

  it(`${RUNS} runs of the current code: no violation, every run ends`, () => {
    let suspends = 0;
    let gva_flushes = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const s = parse_scenario(text, 'scenarios/hv-tlb-flush-inhibit.yaml', { seed });
      const r = run_scenario(s, { keep_events: false, steps: 5000 });
      if (r.violation || r.status !== 'end') throw new Error(`seed ${seed}: ${r.status} ${r.violation?.message ?? r.blocked.join('; ')}`);
      suspends += r.metrics['hv_suspends'] ?? 0;
      gva_flushes += r.metrics['hv_gva_flushes'] ?? 0;
    }
    // The runs did exercise suspension and precise flushing.
    expect(suspends).toBeGreaterThan(100);
    expect(gva_flushes).toBeGreaterThan(10);
  });

  it('500 runs with hv.inhibit_v1: no violation either', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const s = parse_scenario(text, 'scenarios/hv-tlb-flush-inhibit.yaml', { seed, variants: ['hv.inhibit_v1'] });
      const r = run_scenario(s, { keep_events: false, steps: 5000 });
      if (r.violation || r.status !== 'end') throw new Error(`seed ${seed}: ${r.status} ${r.violation?.message ?? r.blocked.join('; ')}`);
    }
  });

  it('random runs find each breaking variant', () => {
    const found = (variant: string, inv: string) => {
      for (let seed = 1; seed <= 400; seed++) {
        const s = parse_scenario(text, 'scenarios/hv-tlb-flush-inhibit.yaml', { seed, variants: [variant] });
        const r = run_scenario(s, { keep_events: false, steps: 5000 });
        if (r.violation?.invariant === inv) return true;
      }
      return false;
    };
    expect(found('hv.inhibit_request_first', 'hv.flush_while_inhibited')).toBe(true);
    expect(found('hv.no_srcu_sync', 'hv.flush_while_inhibited')).toBe(true);
    expect(found('hv.no_srcu_sync', 'hv.suspended_forever')).toBe(true);
  });
});
