// The KVM_HYPERV_SET_TLB_FLUSH_INHIBIT proposal (variant hv.tlb_flush_inhibit)
// against the property a VMM observes (TLFS: a flush hypercall that targets
// a VP whose TLB is locked suspends its caller until the lock is cleared):
// each variant on the interleaving that shows what it does, driven by events
// rather than step counts, and seeded random runs of the bundled scenario.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import type { Violation } from '../../src/core/machine/world.js';
import { variant_named } from '../../src/core/machine/variants.js';
import { parse_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';
import { x86_vcpu } from '../../src/core/x86/kvm_host.js';
import { of_kind, x86_config, type Prog } from './helpers.js';

const INHIBIT = 'hv.tlb_flush_inhibit';

// vcpu0 flushes one GVA on vcpu1 (HvFlushVirtualAddressList, mask vcpu1);
// vcpu1 touches it, exits to the VMM (which can then take its vcpu->mutex)
// and touches it again; the VMM inhibits vcpu1's flushes, then clears it.
const PROG: Prog = {
  vcpu0: [['hv_flush', { code: 0x3, processor_mask: 0b10, gvas: [0x1000] }]],
  vcpu1: [
    ['access_gva', { gva: 0x1000 }],
    ['userspace_exit', {}],
    ['access_gva', { gva: 0x1000 }],
  ],
  vmm: [
    ['set_tlb_flush_inhibit', { vcpu: 1, inhibit: true }],
    ['set_tlb_flush_inhibit', { vcpu: 1, inhibit: false }],
  ],
};

interface D {
  m: Machine;
  events: Event[];
  violation: Violation | null;
}

function machine(variants: string[], prog: Prog = PROG): D {
  return { m: new Machine(create_world(x86_config(2, prog, { variants }))), events: [], violation: null };
}

type Until = (d: D, step_events: Event[]) => boolean;

/** Step `name` until `until` holds after a step, it cannot run, or a violation. */
function drive(d: D, name: string, until: Until): void {
  const t = d.m.w.threads.find((x) => x.name === name)!;
  for (let k = 0; k < 5_000 && !d.violation; k++) {
    if (!d.m.runnable().includes(t.id)) return;
    const r = d.m.step(t.id);
    d.events.push(...r.events);
    if (r.violations.length) d.violation = r.violations[0]!;
    if (until(d, r.events)) return;
  }
}

/** Round-robin to the end or the first violation; returns the final status. */
function finish(d: D): string {
  for (let k = 0; k < 50_000 && !d.violation; k++) {
    const r = d.m.step();
    if (r.status !== 'ok') return r.status;
    d.events.push(...r.events);
    if (r.violations.length) d.violation = r.violations[0]!;
  }
  return d.violation ? 'violation' : 'limit';
}

const saw =
  (kind: string, pred: (e: Event) => boolean = () => true): Until =>
  (_d, evs) =>
    evs.some((e) => e.kind === kind && pred(e));
const returned = (inhibit: boolean) => saw('hv.inhibit', (e) => e['inhibit'] === inhibit && e['phase'] === 'return');
const released_mutex = (vcpu: number) => saw('lock.release', (e) => e['lock'] === `vcpu${vcpu}->mutex`);
/** vcpu0 has read vcpu1's tlb_flush_inhibit (as 0: it is recorded; as 1: it is about to suspend). */
const read_flag_as_0: Until = (d) => d.m.w.threads[0]!.stack.some((f) => f.fn === 'kvm_hv_flush_tlb' && 1 in ((f.locals as { read_steps?: object }).read_steps ?? {}));
const about_to_suspend: Until = (d) => d.m.w.threads[0]!.stack.some((f) => f.fn === 'kvm_hv_vcpu_suspend_tlb_flush');

/** vcpu1 to userspace (its mutex free), the VMM's inhibit ioctl returns. */
function inhibit_vcpu1(d: D): void {
  drive(d, 'vcpu1', released_mutex(1));
  drive(d, 'vmm', returned(true));
}

describe('kvm_vcpu_ioctl() serialises the inhibit ioctl with the vCPU\'s KVM_RUN (vcpu->mutex)', () => {
  it('the ioctl on vcpu1 waits until vcpu1\'s KVM_RUN returns to userspace, and vcpu1\'s next KVM_RUN waits for the ioctl', () => {
    const d = machine([INHIBIT]);
    drive(d, 'vcpu1', saw('guest.gva_access'));
    drive(d, 'vmm', saw('sched.block'));
    expect(d.m.w.threads.find((t) => t.name === 'vmm')!.wait?.kind).toBe('vcpu_mutex');
    expect(of_kind(d.events, 'hv.inhibit')).toEqual([]);
    // vcpu1 exits to userspace: the ioctl can go; vcpu1 takes it again only after the ioctl dropped it.
    drive(d, 'vcpu1', released_mutex(1));
    drive(d, 'vmm', saw('hv.inhibit', (e) => e['phase'] === 'write'));
    drive(d, 'vcpu1', saw('sched.block'));
    expect(d.m.w.threads.find((t) => t.name === 'vcpu1')!.wait?.kind).toBe('vcpu_mutex');
    drive(d, 'vmm', returned(true));
    expect(finish(d)).toBe('end');
    const order = d.events.filter((e) => e.kind === 'lock.acquire' && e['lock'] === 'vcpu1->mutex').map((e) => e.thread);
    expect(order).toEqual(['vcpu1', 'vmm', 'vcpu1', 'vmm']);
  });
});

describe('kvm_hv_flush_tlb() with hv.tlb_flush_inhibit', () => {
  it('a flush that targets an inhibited vCPU suspends its caller without completing; the clear releases it and the re-issued hypercall completes', () => {
    const d = machine([INHIBIT]);
    inhibit_vcpu1(d);
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    expect(of_kind(d.events, 'hv.suspend')).toMatchObject([{ target: 0, waiting_on: 1 }]);
    expect(of_kind(d.events, 'hv.hypercall.complete', 'vcpu0').map((e) => e['suspended'])).toEqual([true]);
    expect(of_kind(d.events, 'hv.fifo.push')).toEqual([]);
    // Suspended: vcpu0 sleeps in kvm_vcpu_block() until the clear.
    drive(d, 'vcpu0', () => false);
    expect(d.m.w.threads[0]!.wait?.kind).toBe('kvm_vcpu_halt');
    drive(d, 'vmm', returned(false));
    expect(of_kind(d.events, 'hv.unsuspend')).toMatchObject([{ target: 0, waiting_on: 1 }]);
    expect(finish(d)).toBe('end');
    expect(of_kind(d.events, 'hv.hypercall.complete', 'vcpu0').map((e) => [e['suspended'], e['status']])).toEqual([
      [true, 0xfff0],
      [false, 0],
    ]);
    // The hypercall completed only after the clear started.
    const clear = of_kind(d.events, 'hv.inhibit').find((e) => e['inhibit'] === false)!;
    expect(of_kind(d.events, 'hv.hypercall.complete', 'vcpu0')[1]!.seq).toBeGreaterThan(clear.seq);
    expect(d.m.w.metrics['hv_unsuspend_requests.UNBLOCK']).toBe(1);
  });

  it('upstream (no variant): the ioctl fails with -EINVAL and the flush completes at once', () => {
    const d = machine([]);
    drive(d, 'vcpu1', released_mutex(1));
    drive(d, 'vmm', saw('hv.inhibit'));
    expect(of_kind(d.events, 'hv.inhibit').map((e) => e['phase'])).toEqual(['einval']);
    drive(d, 'vmm', released_mutex(1));
    expect(d.m.w.threads.find((t) => t.name === 'vmm')!.retval).toBe(-22);
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    expect(of_kind(d.events, 'hv.hypercall.complete', 'vcpu0')).toMatchObject([{ suspended: false, status: 0 }]);
    expect(d.violation).toBeNull();
    expect(finish(d)).toBe('end');
    expect(d.m.w.metrics['hv_suspends'] ?? 0).toBe(0);
  });
});

describe('hv.no_srcu_sync (the ioctl returns without synchronize_srcu())', () => {
  it('breaks hv.flush_while_inhibited: a flusher that read the flag as 0 before the write completes after the ioctl returned', () => {
    const d = machine([INHIBIT, 'hv.no_srcu_sync']);
    drive(d, 'vcpu1', released_mutex(1));
    drive(d, 'vcpu0', read_flag_as_0);
    drive(d, 'vmm', returned(true));
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    expect(d.violation?.invariant).toBe('hv.flush_while_inhibited');
    const write = of_kind(d.events, 'hv.inhibit').find((e) => e['phase'] === 'write')!;
    const ret = of_kind(d.events, 'hv.inhibit').find((e) => e['phase'] === 'return')!;
    const read = x86_vcpu(d.m.w, 1).inhibit_write_step;
    expect(read).toBe(write.step);
    expect(d.violation!.message).toMatch(
      new RegExp(
        `^vcpu0's HvFlushVirtualAddressList returned HV_STATUS_SUCCESS with vcpu1 among its targets while the VMM holds vcpu1's flush inhibit ` +
          `\\(KVM_HYPERV_SET_TLB_FLUSH_INHIBIT\\(vcpu1, 1\\) returned at step ${ret.step}\\): the caller should have been suspended until the inhibit is cleared; ` +
          `it read vcpu1's tlb_flush_inhibit as 0 at step \\d+, before the ioctl wrote 1 at step ${write.step}, and the ioctl returned without waiting for this flusher`,
      ),
    );
  });

  it('the same interleaving with the synchronize_srcu(): the ioctl waits for the flusher, which completes before the inhibit holds', () => {
    const d = machine([INHIBIT]);
    drive(d, 'vcpu1', released_mutex(1));
    drive(d, 'vcpu0', read_flag_as_0);
    drive(d, 'vmm', saw('sched.block', (e) => String(e['reason']).startsWith('srcu_gp')));
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    // vcpu0 leaves its kvm->srcu section on guest entry; only then does the grace period end.
    drive(d, 'vcpu0', saw('srcu.read_unlock'));
    drive(d, 'vmm', returned(true));
    expect(d.violation).toBeNull();
    const done = of_kind(d.events, 'hv.hypercall.complete', 'vcpu0')[0]!;
    expect(done).toMatchObject({ suspended: false, status: 0 });
    expect(done.seq).toBeLessThan(of_kind(d.events, 'hv.inhibit').find((e) => e['phase'] === 'return')!.seq);
    expect(finish(d)).toBe('end');
  });

  it('breaks hv.suspended_forever: a flusher that read the flag as 1 suspends after the clear\'s unsuspend scan', () => {
    for (const variants of [[INHIBIT, 'hv.no_srcu_sync'], ['hv.inhibit_v1', 'hv.no_srcu_sync']]) {
      const d = machine(variants);
      inhibit_vcpu1(d);
      drive(d, 'vcpu0', about_to_suspend);
      drive(d, 'vmm', returned(false));
      expect(of_kind(d.events, 'hv.unsuspend')).toEqual([]);
      drive(d, 'vcpu0', saw('hv.suspend'));
      expect(d.violation?.invariant, variants.join('+')).toBe('hv.suspended_forever');
      expect(d.violation!.message).toMatch(
        /^vcpu0 is suspended waiting on vcpu1 \(since step \d+\), but vcpu1's tlb_flush_inhibit is 0 and KVM_HYPERV_SET_TLB_FLUSH_INHIBIT\(vcpu1, 0\) returned at step \d+ without waking it: nothing will unsuspend vcpu0\. It read the inhibit as 1 at step \d+; the clear wrote 0 at step \d+ and did not wait for it before its unsuspend scan\.$/,
      );
    }
  });

  it('with the synchronize_srcu() the clear waits until the flusher has suspended, and its scan wakes it', () => {
    const d = machine([INHIBIT]);
    inhibit_vcpu1(d);
    drive(d, 'vcpu0', about_to_suspend);
    drive(d, 'vmm', saw('sched.block', (e) => String(e['reason']).startsWith('srcu_gp')));
    drive(d, 'vcpu0', saw('hv.suspend'));
    expect(d.violation).toBeNull();
    // Suspended, vcpu0 leaves kvm->srcu in vcpu_block(): the grace period ends and the scan finds it.
    drive(d, 'vcpu0', saw('srcu.read_unlock'));
    drive(d, 'vmm', returned(false));
    expect(of_kind(d.events, 'hv.unsuspend')).toMatchObject([{ target: 0, waiting_on: 1 }]);
    expect(finish(d)).toBe('end');
  });
});

describe('hv.inhibit_request_first (queue and request first, then check and suspend)', () => {
  it('breaks nothing: a flusher after the inhibit queues on the inhibited vCPU, then finds the flag and suspends without completing', () => {
    const d = machine(['hv.inhibit_request_first']);
    inhibit_vcpu1(d);
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    expect(d.violation).toBeNull();
    expect(of_kind(d.events, 'hv.fifo.push', 'vcpu0')).toMatchObject([{ target: 1, entries: 1 }]);
    expect(of_kind(d.events, 'hv.hypercall.complete', 'vcpu0').map((e) => e['suspended'])).toEqual([true]);
    expect(d.m.w.metrics['hv_fifo_push_while_inhibited']).toBe(1);
    expect(finish(d)).toBe('end');
    // The check-first order queues nothing on the inhibited vCPU.
    const first = machine([INHIBIT]);
    inhibit_vcpu1(first);
    drive(first, 'vcpu0', saw('hv.hypercall.complete'));
    expect(finish(first)).toBe('end');
    expect(first.m.w.metrics['hv_fifo_push_while_inhibited'] ?? 0).toBe(0);
  });
});

describe('hv.inhibit_v1 (two stores to suspend, KVM_REQ_EVENT to wake)', () => {
  it('breaks nothing: the window Vitaly Kuznetsov asked about is closed by synchronize_srcu(); the wake-up is KVM_REQ_EVENT', () => {
    const d = machine(['hv.inhibit_v1']);
    drive(d, 'vcpu1', released_mutex(1));
    drive(d, 'vcpu0', read_flag_as_0);
    drive(d, 'vmm', saw('sched.block', (e) => String(e['reason']).startsWith('srcu_gp')));
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    drive(d, 'vcpu0', saw('srcu.read_unlock'));
    drive(d, 'vmm', returned(true));
    expect(d.violation).toBeNull();
    expect(of_kind(d.events, 'hv.inhibit').map((e) => e['phase'])).toEqual(['write', 'return']);
    const s = machine(['hv.inhibit_v1']);
    inhibit_vcpu1(s);
    drive(s, 'vcpu0', saw('hv.suspend'));
    drive(s, 'vmm', returned(false));
    expect(finish(s)).toBe('end');
    expect(of_kind(s.events, 'request.make', 'vmm')[0]!['req']).toBe('EVENT');
    expect(s.m.w.metrics['hv_unsuspend_requests.EVENT']).toBe(1);
  });
});

describe('hv.stale_gva_after_flush at the hypercall\'s completion (vcpu_enter_guest() order)', () => {
  // vcpu1 caches GVA 0x1000, exits to userspace and comes back; vcpu0 flushes it.
  const P: Prog = { vcpu0: PROG.vcpu0!, vcpu1: PROG.vcpu1! };
  const at = (fn: string, pc: string): Until => (d) => {
    const top = d.m.w.threads[1]!.stack.at(-1);
    return top?.fn === fn && top.pc === pc;
  };

  it('does not count a target in IN_GUEST_MODE that has KVM_REQ_HV_TLB_FLUSH pending before kvm_vcpu_exit_request()', () => {
    const d = machine([], P);
    drive(d, 'vcpu1', saw('guest.gva_access'));
    drive(d, 'vcpu1', released_mutex(1));
    // vcpu1 re-enters KVM_RUN and stops just before smp_store_release(&vcpu->mode, IN_GUEST_MODE).
    drive(d, 'vcpu1', at('vcpu_enter_guest', 'mode_in'));
    // vcpu0 sets the request bit and reads vcpu1's mode (OUTSIDE: no IPI needed).
    drive(d, 'vcpu0', (dd) => dd.m.w.threads[0]!.stack.at(-1)?.fn === 'kvm_make_vcpus_request_mask' && dd.m.w.threads[0]!.stack.at(-1)?.pc === 'kick');
    drive(d, 'vcpu1', saw('vcpu.mode', (e) => e['to'] === 'IN_GUEST_MODE'));
    drive(d, 'vcpu0', saw('hv.hypercall.complete'));
    // The hypercall completed while vcpu1 is IN_GUEST_MODE with the old entry still cached...
    expect(d.m.w.kvm.vcpus[1]!.mode).toBe('IN_GUEST_MODE');
    expect(x86_vcpu(d.m.w, 1).tlb.map((e) => e.gva)).toEqual([0x1000]);
    // ... which is not a violation: vcpu1 sees the request in kvm_vcpu_exit_request(), cancels the entry and flushes.
    expect(d.violation).toBeNull();
    drive(d, 'vcpu1', saw('vcpu.entry_abort'));
    expect(finish(d)).toBe('end');
    expect(of_kind(d.events, 'hv.flush', 'vcpu1')).toMatchObject([{ gva: 0x1000, pages: 1 }]);
    expect(d.violation).toBeNull();
  });
});

describe('variant declarations', () => {
  it('each says what it breaks, as the tests above show', () => {
    expect(variant_named(INHIBIT)?.breaks).toMatch(/^nothing; /);
    expect(variant_named('hv.inhibit_v1')?.breaks).toMatch(/^nothing; /);
    expect(variant_named('hv.inhibit_request_first')?.breaks).toMatch(/^nothing; .*hv_fifo_push_while_inhibited/);
    expect(variant_named('hv.no_srcu_sync')?.breaks).toMatch(/^hv\.flush_while_inhibited.*hv\.suspended_forever/);
  });
});

describe('seeded random runs of scenarios/hv-tlb-flush-inhibit.yaml', () => {
  const text = readFileSync(new URL('../../scenarios/hv-tlb-flush-inhibit.yaml', import.meta.url), 'utf8');
  const run = (seed: number, variants: string[] = []) =>
    run_scenario(parse_scenario(text, 'scenarios/hv-tlb-flush-inhibit.yaml', { seed, variants }), { keep_events: false, steps: 8000 });

  it('2000 runs of the scenario (hv.tlb_flush_inhibit): no violation, every run ends, and flushers did suspend', () => {
    let suspends = 0;
    let gva_flushes = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = run(seed);
      if (r.violation || r.status !== 'end') throw new Error(`seed ${seed}: ${r.status} ${r.violation?.message ?? r.blocked.join('; ')}`);
      suspends += r.metrics['hv_suspends'] ?? 0;
      gva_flushes += r.metrics['hv_gva_flushes'] ?? 0;
    }
    expect(suspends).toBeGreaterThan(100);
    expect(gva_flushes).toBeGreaterThan(10);
  });

  it('300 runs each with hv.inhibit_v1 and hv.inhibit_request_first: no violation either', () => {
    for (const v of ['hv.inhibit_v1', 'hv.inhibit_request_first']) {
      for (let seed = 1; seed <= 300; seed++) {
        const r = run(seed, [v]);
        if (r.violation || r.status !== 'end') throw new Error(`${v} seed ${seed}: ${r.status} ${r.violation?.message ?? r.blocked.join('; ')}`);
      }
    }
  });

  it('random runs find hv.no_srcu_sync breaking hv.flush_while_inhibited', () => {
    let found = 0;
    for (let seed = 1; seed <= 100; seed++) if (run(seed, ['hv.no_srcu_sync']).violation?.invariant === 'hv.flush_while_inhibited') found++;
    expect(found).toBeGreaterThan(0);
  });
});
