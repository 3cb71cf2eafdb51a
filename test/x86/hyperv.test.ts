// The Hyper-V TLB flush hypercalls: input decoding, the FIFOs, the drain on
// the target, and the WAIT guarantee.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import { invariant_named } from '../../src/core/machine/invariants.js';
import type { Event } from '../../src/core/machine/events.js';
import {
  decode_param,
  hcall_input,
  hv_is_vp_in_sparse_set,
  kvm_hv_flush_tlb_decode,
  sparse_set_to_vcpus,
  type FlushDecoded,
} from '../../src/core/x86/hyperv.js';
import { HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, hv_hypercall_param } from '../../src/core/x86/hyperv_tlfs.js';
import { tlb_fill } from '../../src/core/x86/tlb.js';
import { KVM_HV_TLB_FLUSHALL_ENTRY, filled_before, x86, x86_vcpu } from '../../src/core/x86/kvm_host.js';
import { drive, finish, of_kind, run, saw, x86_config, type Prog } from './helpers.js';

/** A two-vCPU world whose only use is to turn op args into an HvHcallInput. */
const W = create_world(x86_config(2, {}));

function decode(nr_vcpus: number, args: Record<string, unknown>) {
  const input = hcall_input(W, args);
  const hc = decode_param(hv_hypercall_param(input));
  return kvm_hv_flush_tlb_decode(nr_vcpus, hc, input);
}

function decoded(nr: number, args: Record<string, unknown>): FlushDecoded {
  const r = decode(nr, args);
  if (!('decoded' in r)) throw new Error(`not decoded: ${JSON.stringify(r)}`);
  return r.decoded;
}

const gvas = (n: number) => Array.from({ length: n }, (_, i) => 0x10_0000 + i * 0x1000);

describe('kvm_hv_flush_tlb() input decoding', () => {
  it('non-EX: the processor mask picks the targets', () => {
    const d = decoded(4, { code: 0x3, processor_mask: 0b101, gvas: [0x1000] });
    expect(d.all_cpus).toBe(false);
    expect(d.targets).toEqual([0, 2]);
    expect(d.entries).toEqual([0x1000]);
  });

  it('non-EX: processor_mask == 0 without HV_FLUSH_ALL_PROCESSORS means all (the WS2012 workaround)', () => {
    const d = decoded(3, { code: 0x2, processor_mask: 0 });
    expect(d.all_cpus).toBe(true);
    expect(d.targets).toEqual([0, 1, 2]);
  });

  it('non-EX: HV_FLUSH_ALL_PROCESSORS overrides the mask; other flags change nothing', () => {
    expect(decoded(3, { code: 0x2, flags: 0b1, processor_mask: 0b10 }).targets).toEqual([0, 1, 2]);
    // ALL_VIRTUAL_ADDRESS_SPACES, NON_GLOBAL_MAPPINGS_ONLY, USE_EXTENDED_RANGE_FORMAT: KVM flushes regardless.
    expect(decoded(3, { code: 0x3, flags: 0b1110, processor_mask: 0b10, gvas: [0x1000] }).targets).toEqual([1]);
  });

  it('the *_SPACE* calls and lists of more than 15 entries flush everything; 15 entries are queued', () => {
    expect(decoded(2, { code: 0x2, processor_mask: 0b10 }).entries).toBeNull();
    expect(decoded(2, { code: 0x13, format: 'all' }).entries).toBeNull();
    expect(decoded(2, { code: 0x3, processor_mask: 0b10, gvas: gvas(15) }).entries).toEqual(gvas(15));
    expect(decoded(2, { code: 0x3, processor_mask: 0b10, gvas: gvas(16) }).entries).toBeNull();
    expect(decoded(2, { code: 0x14, valid_bank_mask: 1, banks: [0b10], gvas: gvas(16) }).entries).toBeNull();
  });

  it('EX: sparse VP banks, packed in valid_bank_mask order', () => {
    // Banks 0 and 2 present: bank 0 = VPs 0 and 3, bank 2 = VP 128 + 1.
    const d = decoded(200, { code: 0x14, format: 'sparse_4k', valid_bank_mask: 0b101, banks: [0b1001, 0b10], gvas: [0x1000] });
    expect(d.all_cpus).toBe(false);
    expect(d.targets).toEqual([0, 3, 129]);
    expect(d.sparse_banks).toEqual([0b1001n, 0b10n]);
  });

  it('EX: HV_GENERIC_SET_ALL targets every vCPU, banks or not', () => {
    expect(decoded(3, { code: 0x13, format: 'all' }).targets).toEqual([0, 1, 2]);
    expect(decoded(3, { code: 0x13, format: 'all', valid_bank_mask: 1, banks: [0b1] }).targets).toEqual([0, 1, 2]);
  });

  it('EX: var_cnt must equal hweight64(valid_bank_mask); an empty sparse set succeeds without a flush', () => {
    expect(decode(2, { code: 0x14, valid_bank_mask: 0b11, banks: [1, 1], var_cnt: 1, gvas: [0x1000] })).toMatchObject({ status: 3 });
    expect(decode(2, { code: 0x13, format: 'sparse_4k', valid_bank_mask: 0 })).toEqual({ success_no_targets: true });
  });

  it('fast calls: what does not fit in the six XMM registers is invalid', () => {
    // Non-EX: XMM0's low half holds the mask, 11 halves are left for GVAs.
    expect(decoded(2, { code: 0x3, fast: true, processor_mask: 0b10, gvas: gvas(11) }).entries).toHaveLength(11);
    expect(decode(2, { code: 0x3, fast: true, processor_mask: 0b10, gvas: gvas(12) })).toMatchObject({ status: 3 });
    // EX: XMM0 holds format and valid_bank_mask; banks then GVAs share the other 10 halves.
    const bank = (n: number) => ({ valid_bank_mask: (1n << BigInt(n)) - 1n, banks: Array.from({ length: n }, () => 1) });
    expect(decoded(2, { code: 0x13, fast: true, ...bank(10) }).targets).toEqual([0]);
    expect(decode(2, { code: 0x13, fast: true, ...bank(11) })).toMatchObject({ status: 3 });
    expect(decoded(2, { code: 0x14, fast: true, ...bank(2), gvas: gvas(8) }).entries).toHaveLength(8);
    expect(decode(2, { code: 0x14, fast: true, ...bank(2), gvas: gvas(9) })).toMatchObject({ status: 3 });
  });

  it('sparse_set_to_vcpu_mask() and hv_is_vp_in_sparse_set() agree on every VP', () => {
    const banks = fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 0, maxLength: 5 });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 8n) - 1n }), banks, (mask, bs) => {
        const set = new Set(sparse_set_to_vcpus(8 * 64, bs, mask));
        for (let vp = 0; vp < 8 * 64; vp++) if (set.has(vp) !== hv_is_vp_in_sparse_set(vp, mask, bs)) return false;
        return true;
      }),
    );
  });

  it('the hypercall input value round-trips', () => {
    fc.assert(
      fc.property(
        fc.record({ code: fc.integer({ min: 0, max: 0xffff }), fast: fc.boolean(), var_cnt: fc.integer({ min: 0, max: 0x3ff }), rep_cnt: fc.integer({ min: 0, max: 0xfff }), rep_idx: fc.integer({ min: 0, max: 0xfff }) }),
        (f) => {
          const hc = decode_param(hv_hypercall_param(f));
          return hc.code === f.code && hc.fast === f.fast && hc.var_cnt === f.var_cnt && hc.rep_cnt === f.rep_cnt && hc.rep_idx === f.rep_idx && hc.rep === (f.rep_cnt > 0 || f.rep_idx > 0);
        },
      ),
    );
  });
});

describe('kvm_hv_hypercall() validation and completion', () => {
  it('returns the kernel statuses and skips the instruction each time', () => {
    const calls: Record<string, unknown>[] = [
      { code: 0x3, rep_cnt: 0, processor_mask: 0b10 }, // LIST needs rep_cnt
      { code: 0x3, rep_idx: 1, processor_mask: 0b10, gvas: [0x1000] }, // ... and rep_idx 0
      { code: 0x2, rep_cnt: 1, processor_mask: 0b10 }, // SPACE is not a rep call
      { code: 0x3, var_cnt: 1, processor_mask: 0b10, gvas: [0x1000] }, // non-EX: no variable header
      { code: 0x14, valid_bank_mask: 0b11, banks: [2, 0], var_cnt: 1, gvas: [0x1000] }, // var_cnt != hweight
      { code: 0x44 }, // not a flush: HV_STATUS_INVALID_HYPERCALL_CODE
      { code: 0x13, valid_bank_mask: 0 }, // empty sparse set: success, nothing queued
      { code: 0x3, processor_mask: 0b10, gvas: [0x1000, 0x2000] }, // success, reps completed = 2
    ];
    const r = run(x86_config(2, { vcpu0: calls.map((a) => ['hv_flush', a] as [string, Record<string, unknown>]) }, { policy: 'rr' }));
    expect(r.status).toBe('end');
    const done = of_kind(r.events, 'hv.hypercall.complete');
    expect(done.map((e) => e['status'])).toEqual([3, 3, 3, 3, 3, 2, 0, 0]);
    expect(done.map((e) => e['reps'])).toEqual([0, 0, 0, 0, 0, 0, 0, 2]);
    expect(of_kind(r.events, 'hv.fifo.push')).toHaveLength(1);
  });
});

/** vcpu1 stays in userspace (empty program), so its FIFO fills and nobody drains it. */
function fifo_after(lists: number[][]): { entries: number[]; pushes: Event[] } {
  const prog: Prog = { vcpu0: lists.map((l) => ['hv_flush', { code: 0x3, processor_mask: 0b10, gvas: l }]) };
  const r = run(x86_config(2, prog, { policy: 'rr' }));
  expect(r.status).toBe('end');
  return { entries: x86_vcpu(r.m.w, 1).hyperv.tlb_flush_fifo[0]!.entries, pushes: of_kind(r.events, 'hv.fifo.push') };
}

describe('the per-vCPU flush FIFOs', () => {
  it('a list goes in only with a slot to spare; else one FLUSHALL entry; a full FIFO ends in FLUSHALL and takes nothing more', () => {
    const { entries, pushes } = fifo_after([gvas(15), [0x9000], [0xa000]]);
    expect(entries).toHaveLength(16);
    expect(entries.slice(0, 15)).toEqual(gvas(15));
    expect(entries[15]).toBe(KVM_HV_TLB_FLUSHALL_ENTRY);
    expect(pushes.map((e) => [e['entries'], e['flushall']])).toEqual([
      [15, false],
      [1, true],
      [0, true],
    ]);
  });

  it('overflow escalates to FLUSHALL: 14 + 1 fit, the next single entry does not', () => {
    const { entries } = fifo_after([gvas(14), [0x9000], [0xa000]]);
    expect(entries).toEqual([...gvas(14), 0x9000, KVM_HV_TLB_FLUSHALL_ENTRY]);
  });

  it('the L2 FIFO is never used (no nested guests in the model)', () => {
    const r = run(x86_config(2, { vcpu0: [['hv_flush', { code: 0x3, processor_mask: 0b10, gvas: [0x1000] }]] }, { policy: 'rr' }));
    expect(x86_vcpu(r.m.w, 1).hyperv.tlb_flush_fifo[1]!.entries).toEqual([]);
  });
});

describe('the target drains its FIFO before it enters the guest', () => {
  // vcpu1 caches four pages, then keeps touching 0x9000 while vcpu0 flushes.
  const touch = (gva: number) => ['access_gva', { gva }] as [string, Record<string, unknown>];
  const VCPU1 = [touch(0x1000), touch(0x2000), touch(0x3000), touch(0x4000), ...Array.from({ length: 20 }, () => touch(0x9000))];

  function flush_then_drain(call: Record<string, unknown>, done = 'hv.fifo.drain') {
    const m = new Machine(create_world(x86_config(2, { vcpu0: [['hv_flush', call]], vcpu1: VCPU1 })));
    const events: Event[] = [];
    const cached = (gva: number) => (_m: Machine, evs: Event[]) => evs.some((e) => e.kind === 'guest.gva_access' && e['gva'] === gva);
    drive(m, [['vcpu1', cached(0x9000)]], events);
    const before = x86_vcpu(m.w, 1).tlb.map((e) => e.gva);
    // vcpu0's hypercall, through its WAIT; vcpu1 must be let run to take the IPI.
    drive(m, [['vcpu0', saw('request.make_all')], ['vcpu1', saw('vcpu.exit')], ['vcpu1', saw(done)]], events);
    const after = x86_vcpu(m.w, 1).tlb.map((e) => e.gva);
    finish(m, events);
    return { before, after, events };
  }

  it('a list entry flushes 1 + (low 12 bits) pages', () => {
    const { before, after, events } = flush_then_drain({ code: 0x3, processor_mask: 0b10, gvas: [0x1000 + 2] });
    expect(before).toEqual([0x1000, 0x2000, 0x3000, 0x4000, 0x9000]);
    expect(after).toEqual([0x4000, 0x9000]);
    expect(of_kind(events, 'hv.flush', 'vcpu1').map((e) => [e['gva'], e['pages']])).toEqual([[0x1000, 3]]);
    expect(of_kind(events, 'hv.fifo.drain', 'vcpu1')[0]).toMatchObject({ entries: 1, result: 0 });
  });

  it('rep_cnt > 15 queues FLUSHALL: the drain resets the FIFO and the whole guest TLB goes', () => {
    const { after, events } = flush_then_drain({ code: 0x3, processor_mask: 0b10, gvas: gvas(16) }, 'guest.tlb_flush');
    expect(after).toEqual([]);
    expect(of_kind(events, 'hv.fifo.drain', 'vcpu1')[0]).toMatchObject({ entries: 1, result: -28 });
    expect(of_kind(events, 'guest.tlb_flush', 'vcpu1')[0]).toMatchObject({ scope: 'guest', reason: 'hv_flushall', entries: 5 });
  });

  it('the flusher itself, when targeted, drains before re-entering', () => {
    const r = run(x86_config(2, { vcpu0: [touch(0x5000), ['hv_flush', { code: 0x2, flags: 1 }], touch(0x6000)] }, { policy: 'rr' }));
    expect(r.status).toBe('end');
    expect(x86_vcpu(r.m.w, 0).tlb.map((e) => e.gva)).toEqual([0x6000]);
  });
});

describe('KVM_REQ_HV_TLB_FLUSH with WAIT', () => {
  const busy = (n: number, gva: number) => Array.from({ length: n }, () => ['access_gva', { gva }] as [string, Record<string, unknown>]);
  const PROG: Prog = {
    vcpu0: [
      ['hv_flush', { code: 0x3, processor_mask: 0b110, gvas: [0x1000] }],
      ['hv_flush', { code: 0x2, flags: 1 }],
      ['hv_flush', { code: 0x14, valid_bank_mask: 1, banks: [0b100], gvas: [0x2000] }],
    ],
    vcpu1: busy(12, 0x1000),
    vcpu2: busy(12, 0x2000),
  };

  it('a flush does not return before every target that was in the guest has left it (300 seeds)', () => {
    let waited = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const m = new Machine(create_world(x86_config(3, PROG, { seed })));
      // Per target: the vCPU was in the guest when its request bit was set, and has not left since.
      const pending = new Map<number, boolean>();
      let bad: string | null = null;
      m.subscribe((e) => {
        if (e.kind === 'request.make' && e.thread === 'vcpu0' && e['req'] === 'HV_TLB_FLUSH') {
          const mode = m.w.kvm.vcpus[e['target'] as number]!.mode;
          if (mode === 'IN_GUEST_MODE' || mode === 'EXITING_GUEST_MODE') pending.set(e['target'] as number, true);
        }
        if ((e.kind === 'vcpu.exit' || e.kind === 'vcpu.entry_abort') && e.vcpu !== null) pending.delete(e.vcpu);
        if (e.kind === 'hv.hypercall.complete' && e.thread === 'vcpu0') {
          if (pending.size) bad = `seed ${seed}: returned at step ${e.step} with vcpu${[...pending.keys()].join(', vcpu')} still in the guest`;
          pending.clear();
        }
        if (e.kind === 'ipi.send' && e.thread === 'vcpu0' && e['wait']) waited++;
      });
      for (;;) {
        const r = m.step();
        if (r.status !== 'ok') {
          expect(r.status).toBe('end');
          break;
        }
        expect(r.violations).toEqual([]);
      }
      expect(bad).toBeNull();
    }
    // The runs did send WAIT IPIs to vCPUs in the guest.
    expect(waited).toBeGreaterThan(50);
  });
});

describe('hv.stale_gva_after_flush (the checker itself)', () => {
  function world_with(stamp_entry: number, ranges: [number, number][] | null) {
    const w = create_world(x86_config(2, {}));
    const x = x86(w);
    x86_vcpu(w, 1).tlb = [{ gva: 0x1000, stamp: stamp_entry, step: 3 }];
    x.flushes = [{ flusher: 0, code: 0x3, targets: [1], ranges, stamp: 5, issued_step: 4, done_step: 9, read_steps: {} }];
    w.kvm.vcpus[1]!.mode = 'IN_GUEST_MODE';
    w.step = 10;
    return w;
  }
  const enter = { seq: 0, step: 10, thread: 'vcpu1', cpu: 1, vcpu: 1, kind: 'vcpu.enter', hw_mmu: 'tdp' } as Event;
  const inv = invariant_named('hv.stale_gva_after_flush')!;

  it('flags an entry cached before a completed flush of its GVA', () => {
    const f = inv.check(world_with(2, [[0x1000, 0x2000]]), enter);
    expect(f?.message).toBe(
      "vcpu1 runs the guest (mode IN_GUEST_MODE) with a TLB entry for GVA 0x1000 cached at step 3, but vcpu0's HvFlushVirtualAddressList issued at step 4 " +
        'returned HV_STATUS_SUCCESS at step 9 with vcpu1 among its targets: vcpu1 entered the guest without flushing it',
    );
  });

  it('not an entry cached after the hypercall, nor one outside its ranges; a whole-space flush covers all', () => {
    expect(inv.check(world_with(6, [[0x1000, 0x2000]]), enter)).toBeNull();
    expect(inv.check(world_with(2, [[0x2000, 0x3000]]), enter)).toBeNull();
    expect(inv.check(world_with(2, null), enter)).not.toBeNull();
  });

  it('x86.clock counts hypercall issues: a fill takes it, so an entry with the stamp of the hypercall was filled before it', () => {
    // Flush 5 is the sixth hypercall issued; a fill between the fifth and it has stamp 5, one after it stamp 6.
    expect(inv.check(world_with(5, [[0x1000, 0x2000]]), enter)).not.toBeNull();
    const w = create_world(x86_config(2, {}));
    const a = tlb_fill(w, 0, 0x1000);
    const b = tlb_fill(w, 1, 0x2000);
    expect([a.stamp, b.stamp, x86(w).clock]).toEqual([0, 0, 0]);
    const h = hcall_input(w, { code: HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE });
    const c = tlb_fill(w, 0, 0x3000);
    expect([h.stamp, c.stamp]).toEqual([0, 1]);
    expect([filled_before(a, h), filled_before(b, h), filled_before(c, h)]).toEqual([true, true, false]);
  });

  it('flags the guest hitting such an entry, and only that page', () => {
    const hit = (gva: number) => ({ seq: 1, step: 10, thread: 'vcpu1', cpu: 1, vcpu: 1, kind: 'guest.gva_access', gva, write: false, hit: true }) as Event;
    const w = world_with(2, [[0x1000, 0x2000]]);
    x86_vcpu(w, 1).tlb.push({ gva: 0x5000, stamp: 1, step: 2 });
    expect(inv.check(w, hit(0x1010))?.message).toMatch(/GVA 0x1000 .* the guest just used it$/);
    expect(inv.check(w, hit(0x5000))).toBeNull();
  });
});
