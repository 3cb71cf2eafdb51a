// Safety properties of the Hyper-V TLB flush and of the flush-inhibit
// proposal (shared/docs/kernel-model.md section 2), and of the TLB behind
// the TDP SPTEs (section 5: the remote flush after an unmap).
import type { Event } from '../machine/events.js';
import { define_invariant, type Failure } from '../machine/invariants.js';
import { observed_frames } from '../machine/model.js';
import type { World } from '../machine/world.js';
import { kvm_test_request } from '../kvm/requests.js';
import { HV_STATUS_NAMES, hvcall_name, is_tlb_flush_hcall } from './hyperv_tlfs.js';
import { KVM_REQ, filled_before, stale_entry, x86, x86_vcpu, type GuestTlbEntry, type HvFlushDone, type TdpTlbEntry } from './kvm_host.js';
import { gfn_to_hva, gfn_to_memslot } from '../kvm/kvm_host.js';
import { host_pte } from '../kvm/host_mm.js';
import { tdp_spte } from './tdp_mmu.js';
import { vcpu_in_guest } from './x86.js';

const hexs = (n: number) => `0x${n.toString(16)}`;

/**
 * hv.flush_while_inhibited, what the VMM observes (TLFS: a flush hypercall
 * that needs to flush a VP whose TLB is locked suspends its caller, and is
 * issued again once the lock is cleared): from the return of
 * KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(X, 1) until a clearing ioctl on X starts,
 * no flush hypercall that targets X completes (returns to its guest with
 * the instruction skipped).
 */
define_invariant({
  name: 'hv.flush_while_inhibited',
  description:
    'from the return of KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu, 1) until the VMM starts clearing it, no Hyper-V flush hypercall that targets that vCPU completes',
  arch: 'x86',
  on: ['hv.hypercall.complete'],
  check(w, ev): Failure | null {
    const e = ev as Event & { code: number; status: number; suspended: boolean };
    if (e.suspended || e.status !== 0 || !is_tlb_flush_hcall(e.code)) return null;
    const f = x86(w).flushes.find((d) => d.done_step === w.step && d.flusher === e.vcpu);
    const x = f?.targets.find((v) => x86_vcpu(w, v).inhibited);
    if (!f || x === undefined) return null;
    const xv = x86_vcpu(w, x);
    const read = f.read_steps[x];
    let why: string;
    if (read === undefined) {
      why = `it never read vcpu${x}'s tlb_flush_inhibit`;
    } else if (read < xv.inhibit_write_step) {
      why =
        `it read vcpu${x}'s tlb_flush_inhibit as 0 at step ${read}, before the ioctl wrote 1 at step ${xv.inhibit_write_step}, ` +
        `and the ioctl returned without waiting for this flusher to finish (synchronize_srcu(&kvm->srcu))`;
    } else {
      why = `it read vcpu${x}'s tlb_flush_inhibit as 0 at step ${read}`;
    }
    return {
      thread: e.thread,
      message:
        `${e.thread}'s ${hvcall_name(e.code)} returned HV_STATUS_SUCCESS with vcpu${x} among its targets while the VMM holds vcpu${x}'s ` +
        `flush inhibit (KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu${x}, 1) returned at step ${xv.inhibit_return_step}): the caller should have ` +
        `been suspended until the inhibit is cleared; ${why}`,
      values: { target: x, flusher: e.thread, inhibit_write_step: xv.inhibit_write_step, inhibit_return_step: xv.inhibit_return_step, read_step: read ?? null },
    };
  },
});

function stale_in(w: World, vcpu: number, flushes: HvFlushDone[]): { f: HvFlushDone; e: GuestTlbEntry } | null {
  for (const f of flushes) {
    const e = stale_entry(w, vcpu, f);
    if (e) return { f, e };
  }
  return null;
}

function stale_failure(thread: string, vcpu: number, mode: string, f: HvFlushDone, e: GuestTlbEntry, how: string): Failure {
  return {
    thread,
    message:
      `vcpu${vcpu} runs the guest (mode ${mode}) with a TLB entry for GVA ${hexs(e.gva)} cached at step ${e.step}, ` +
      `but vcpu${f.flusher}'s ${hvcall_name(f.code)} issued at step ${f.issued_step} returned ${HV_STATUS_NAMES[0]} at step ${f.done_step} ` +
      `with vcpu${vcpu} among its targets: ${how}`,
    values: { vcpu, gva: e.gva, cached_step: e.step, flusher: f.flusher, code: f.code, issued_step: f.issued_step, done_step: f.done_step },
  };
}

/**
 * hv.stale_gva_after_flush: a flush hypercall that returned success left no
 * target running the guest with a translation it had cached before the
 * hypercall for a GVA the hypercall flushed. Checked when the hypercall
 * completes (targets still in the guest), when a target enters the guest,
 * and when the guest hits such an entry.
 */
define_invariant({
  name: 'hv.stale_gva_after_flush',
  description: 'a Hyper-V flush hypercall that returned success left no target running the guest with a TLB entry, cached before the call, for a GVA it flushed',
  arch: 'x86',
  on: ['hv.hypercall.complete', 'vcpu.enter', 'guest.gva_access'],
  check(w, ev): Failure | null {
    const x = x86(w);
    if (!x.flushes.length) return null;
    if (ev!.kind === 'hv.hypercall.complete') {
      const e = ev as Event & { status: number; suspended: boolean };
      if (e.status !== 0 || e.suspended) return null;
      const f = x.flushes[x.flushes.length - 1]!;
      if (f.done_step !== w.step) return null;
      for (const v of f.targets) {
        const vcpu = w.kvm.vcpus[v]!;
        const mode = vcpu.mode;
        if (mode !== 'IN_GUEST_MODE' && mode !== 'EXITING_GUEST_MODE') continue;
        // IN_GUEST_MODE but not yet past kvm_vcpu_exit_request(): it sees the pending request there, cancels the
        // entry and flushes before it can enter (vcpu_enter_guest() stores the mode, then checks requests).
        if (!vcpu_in_guest(w, v) && kvm_test_request(KVM_REQ.HV_TLB_FLUSH, vcpu)) continue;
        const entry = stale_entry(w, v, f);
        if (entry) return stale_failure(e.thread, v, mode, f, entry, `the hypercall returned while vcpu${v} was still in the guest`);
      }
      return null;
    }
    const v = ev!.vcpu;
    if (v === null) return null;
    const mode = w.kvm.vcpus[v]!.mode;
    if (ev!.kind === 'vcpu.enter') {
      const s = stale_in(w, v, x.flushes);
      return s ? stale_failure(ev!.thread, v, mode, s.f, s.e, `vcpu${v} entered the guest without flushing it`) : null;
    }
    const a = ev as Event & { gva: number; hit: boolean };
    if (!a.hit) return null;
    const page = a.gva - (a.gva % 4096);
    const entry = x86_vcpu(w, v).tlb.find((e) => e.gva === page);
    if (!entry) return null;
    const f = x.flushes.find((f) => f.targets.includes(v) && filled_before(entry, f) && (f.ranges === null || f.ranges.some(([lo, hi]) => page >= lo && page < hi)));
    if (!f) return null;
    const s = { f, e: entry };
    return stale_failure(ev!.thread, v, mode, s.f, s.e, `the guest just used it`);
  },
});

/** A thread will still run KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu, 0): in flight, or later in its program. */
function clear_pending(w: World, vcpu: number): boolean {
  for (const t of w.threads) {
    if (t.kind === 'vcpu' || t.done) continue;
    if (t.stack.some((f) => f.fn === 'kvm_vcpu_ioctl_set_tlb_flush_inhibit' && (f.locals as { vcpu: number }).vcpu === vcpu && !(f.locals as { inhibit: boolean }).inhibit)) {
      return true;
    }
    for (let i = t.ip; i < t.prog.length; i++) {
      const op = t.prog[i]!;
      if (op.op === 'set_tlb_flush_inhibit' && op.args['vcpu'] === vcpu && op.args['inhibit'] === false) return true;
    }
  }
  return false;
}
observed_frames('kvm_vcpu_ioctl_set_tlb_flush_inhibit'); // clear_pending() looks into the VMM threads' ioctls

/**
 * hv.suspended_forever: a vCPU suspended on X is woken by the ioctl that
 * clears X's inhibit. Violated when a vCPU is suspended on X while X's
 * inhibit is clear and no clearing ioctl is in flight or still to come:
 * nothing will ever unsuspend it.
 */
define_invariant({
  name: 'hv.suspended_forever',
  description: 'every vCPU suspended on an inhibited vCPU is unsuspended when that inhibit is cleared',
  arch: 'x86',
  on: ['hv.suspend', 'hv.inhibit', 'thread.exit'],
  check(w, ev): Failure | null {
    const x = x86(w);
    for (let v = 0; v < x.vcpus.length; v++) {
      const hv = x.vcpus[v]!.hyperv;
      if (!hv.suspended || hv.waiting_on < 0) continue;
      const on = x.vcpus[hv.waiting_on]!;
      if (on.hyperv.tlb_flush_inhibit || clear_pending(w, hv.waiting_on)) continue;
      const me = x.vcpus[v]!;
      const raced =
        me.inhibit_read_step >= 0 && on.inhibit_write_step > me.inhibit_read_step
          ? ` It read the inhibit as 1 at step ${me.inhibit_read_step}; the clear wrote 0 at step ${on.inhibit_write_step} and did not wait for it before its unsuspend scan.`
          : '';
      return {
        thread: ev!.thread,
        message:
          `vcpu${v} is suspended waiting on vcpu${hv.waiting_on} (since step ${me.suspend_step}), but vcpu${hv.waiting_on}'s tlb_flush_inhibit is 0 ` +
          `and KVM_HYPERV_SET_TLB_FLUSH_INHIBIT(vcpu${hv.waiting_on}, 0) returned at step ${on.clear_return_step} without waking it: nothing will unsuspend vcpu${v}.${raced}`,
        values: { vcpu: v, waiting_on: hv.waiting_on, suspend_step: me.suspend_step, read_step: me.inhibit_read_step, clear_write_step: on.inhibit_write_step, clear_return_step: on.clear_return_step },
      };
    }
    return null;
  },
});

/** The host page behind `gfn` as the primary MMU maps it now: its pfn, or null (unmapped or PROT_NONE). */
function host_pfn_of_gfn(w: World, gfn: number): { pfn: number | null; changed_step: number; prot_none: boolean } {
  const slot = gfn_to_memslot(w, gfn);
  const pte = slot ? host_pte(w, gfn_to_hva(slot, gfn)) : undefined;
  if (!pte) return { pfn: null, changed_step: -1, prot_none: false };
  return { pfn: pte.prot_none ? null : pte.pfn, changed_step: pte.changed_step, prot_none: pte.prot_none };
}

function tlb_failure(w: World, thread: string, vcpu: number, e: TdpTlbEntry, what: string, how: string): Failure {
  const spte = tdp_spte(w, e.gfn);
  const sp = spte ? (spte.pfn === e.pfn ? 'the SPTE is still there' : `the SPTE now maps PA ${hexs(spte.pfn * 4096)}`) : 'its SPTE was zapped';
  return {
    thread,
    message:
      `vcpu${vcpu} ${how} a TLB entry for GPA ${hexs(e.gfn * 4096)} -> PA ${hexs(e.pfn * 4096)} (filled at step ${e.step}), but the host ${what}: ` +
      `${sp}, and no remote TLB flush reached vcpu${vcpu} before invalidate_range_start() returned ` +
      `(kvm_flush_remote_tlbs(): KVM_REQ_TLB_FLUSH with WAIT, serviced before the next entry)`,
    values: { vcpu, gpa: e.gfn * 4096, pa: e.pfn * 4096, filled_step: e.step, spte_present: spte !== undefined },
  };
}

/**
 * x86.stale_tlb_entry: once the primary MMU changed a page (moved it, made
 * it PROT_NONE, unmapped it), no vCPU uses a guest-physical TLB entry for
 * the old page: none is in the guest holding one when the change happens,
 * none enters the guest with one, and no access is served by one.
 */
define_invariant({
  name: 'x86.stale_tlb_entry',
  description:
    'no vCPU runs the guest with, enters with, or uses a TLB entry (guest-physical, behind the SPTEs) for a page the host has since moved or made PROT_NONE',
  arch: 'x86',
  on: ['mm.change_pte', 'vcpu.enter', 'guest.access'],
  check(w, ev): Failure | null {
    const x = x86(w);
    if (ev!.kind === 'mm.change_pte') {
      const e = ev as Event & { hva: number; old_pfn: number; new_pfn: number; prot_none: boolean };
      if (e.old_pfn === e.new_pfn && !e.prot_none) return null;
      const what = e.old_pfn === e.new_pfn ? `made it PROT_NONE at step ${w.step}` : `moved it to pfn ${hexs(e.new_pfn)} at step ${w.step}`;
      for (let v = 0; v < x.vcpus.length; v++) {
        if (!vcpu_in_guest(w, v)) continue;
        const entry = x.vcpus[v]!.tdp_tlb.find((t) => t.pfn === e.old_pfn);
        if (entry) return tlb_failure(w, e.thread, v, entry, what, 'is running the guest with');
      }
      return null;
    }
    const v = ev!.vcpu;
    if (v === null) return null;
    const stale = (t: TdpTlbEntry): string | null => {
      const h = host_pfn_of_gfn(w, t.gfn);
      if (h.pfn === t.pfn) return null;
      if (h.prot_none) return `made it PROT_NONE at step ${h.changed_step}`;
      return h.pfn === null ? 'unmapped it' : `moved it to pfn ${hexs(h.pfn)} at step ${h.changed_step}`;
    };
    if (ev!.kind === 'vcpu.enter') {
      for (const t of x.vcpus[v]!.tdp_tlb) {
        const what = stale(t);
        if (what) return tlb_failure(w, ev!.thread, v, t, what, 'entered the guest with');
      }
      return null;
    }
    const a = ev as Event & { ipa: number; via: string };
    if (a.via !== 'tlb') return null;
    const t = x.vcpus[v]!.tdp_tlb.find((e) => e.gfn === Math.floor(a.ipa / 4096));
    const what = t && stale(t);
    return t && what ? tlb_failure(w, ev!.thread, v, t, what, 'accessed the guest page through') : null;
  },
});
