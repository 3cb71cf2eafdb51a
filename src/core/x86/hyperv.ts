// arch/x86/kvm/hyperv.c and hyperv.h: the Hyper-V TLB flush hypercalls
// (HvFlushVirtualAddressSpace/List and their _EX forms), the per-vCPU flush
// FIFOs, and the target's side that drains them before entering the guest.
//
// The caller's side, kvm_hv_flush_tlb(), decodes the input the way the
// kernel does (flags, the 64-bit processor mask and its mask==0 workaround,
// the sparse VP set of the _EX forms, the XMM capacity of fast calls, the
// GVA list or "flush everything" when the call is a *_SPACE* one or lists
// more than 15 entries), then pushes the list onto every target's L1 FIFO
// under the FIFO's write_lock and makes KVM_REQ_HV_TLB_FLUSH with WAIT: it
// returns only once every target that was in the guest has left it, and a
// target drains its FIFO before it re-enters.
//
// The proposal's inhibit check (flush_inhibit.ts, variant
// hv.tlb_flush_inhibit) sits where the v1 patch put it: before anything is
// queued; or, with hv.inhibit_request_first, after the request, as Vitaly
// Kuznetsov suggested. Upstream has no such check.
//
// Left out: L2 (direct) flushes and the L2 FIFO's users (is_guest_mode() is
// false), translate_nested_gpa, hv_check_hypercall_access/enforce_cpuid,
// guest memory behind ingpa (the op carries the input block; reading it
// never fails), mismatched VP indexes (vp_index == vcpu_idx), the other
// hypercalls (they fail with HV_STATUS_INVALID_HYPERCALL_CODE).
import { emit } from '../machine/events.js';
import { BLOCKED, RETURN, block, call, model_fn, ret, wait_kind } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { metric_add, variant_on, type Thread, type World } from '../machine/world.js';
import { vcpu_of } from '../kvm/kvm_host.js';
import { kvm_check_request, kvm_make_all_cpus_request } from '../kvm/requests.js';
import {
  HV_FLUSH_ALL_PROCESSORS,
  HV_GENERIC_SET_ALL,
  HV_GENERIC_SET_SPARSE_4K,
  HV_HYPERCALL_FAST_BIT,
  HV_HYPERCALL_MAX_XMM_REGISTERS,
  HV_HYPERCALL_REP_COMP_OFFSET,
  HV_HYPERCALL_REP_START_OFFSET,
  HV_HYPERCALL_RSVD_MASK,
  HV_HYPERCALL_VARHEAD_MASK,
  HV_HYPERCALL_VARHEAD_OFFSET,
  HV_MAX_SPARSE_VCPU_BANKS,
  HV_STATUS_INVALID_HYPERCALL_CODE,
  HV_STATUS_INVALID_HYPERCALL_INPUT,
  HV_STATUS_SUCCESS,
  HV_VCPUS_PER_SPARSE_BANK,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX,
  KVM_HV_MAX_SPARSE_VCPU_SET_BITS,
  hex,
  hv_hypercall_param,
  hweight64,
  is_tlb_flush_hcall,
  u64,
} from './hyperv_tlfs.js';
import {
  KVM_HV_TLB_FLUSHALL_ENTRY,
  KVM_HV_TLB_FLUSH_FIFO_SIZE,
  KVM_REQ,
  PAGE_SIZE,
  gva_extra_pages,
  gva_page,
  is_guest_mode,
  kvm_hv_get_tlb_flush_fifo,
  prune_flushes,
  x86,
  x86_vcpu,
  type HvFlushDone,
  type HvHcallInput,
} from './kvm_host.js';
import { flush_tlb_gva, gva_range } from './tlb.js';
import { INHIBIT_REQUEST_FIRST, kvm_hv_vcpu_suspended, tlb_flush_inhibit_on, tlb_flush_inhibited } from './flush_inhibit.js';

/** -EBUSY as the u64 kvm_hv_flush_tlb() returns in the v1 patch; its low 16 bits as a status. */
export const EBUSY_STATUS = 0xfff0;
export const ENOSPC = -28;

// ---------------------------------------------------------------------------
// Decoding (kvm_hv_hypercall's register reads and kvm_hv_flush_tlb's input).

/** struct kvm_hv_hcall, decoded from the hypercall input value. */
export interface kvm_hv_hcall {
  param: bigint;
  code: number;
  var_cnt: number;
  rep_cnt: number;
  rep_idx: number;
  fast: boolean;
  rep: boolean;
}

export function decode_param(param: bigint): kvm_hv_hcall {
  const rep_cnt = Number((param >> HV_HYPERCALL_REP_COMP_OFFSET) & 0xfffn);
  const rep_idx = Number((param >> HV_HYPERCALL_REP_START_OFFSET) & 0xfffn);
  return {
    param,
    code: Number(param & 0xffffn),
    var_cnt: Number((param & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_OFFSET),
    fast: (param & HV_HYPERCALL_FAST_BIT) !== 0n,
    rep_cnt,
    rep_idx,
    rep: rep_cnt !== 0 || rep_idx !== 0,
  };
}

/** What kvm_hv_flush_tlb() worked out from the input: targets and what to queue. */
export interface FlushDecoded {
  all_cpus: boolean;
  valid_bank_mask: bigint;
  sparse_banks: bigint[];
  /** The GVA list to queue, or null: queue one FLUSHALL entry. */
  entries: number[] | null;
  /** vcpu_ids the flush goes to (kvm_for_each_vcpu, or the VP set). */
  targets: number[];
}

export type FlushDecode = { status: number; why: string } | { decoded: FlushDecoded } | { success_no_targets: true };

/** kvm_hv_get_hc_data() for fast calls: the XMM registers hold 2 u64 each. */
function xmm_fits(cnt: number, consumed_xmm_halves: number): boolean {
  return cnt <= 2 * HV_HYPERCALL_MAX_XMM_REGISTERS - consumed_xmm_halves;
}

/** sparse_set_to_vcpu_mask() with vp_index == vcpu_idx for every vCPU. */
export function sparse_set_to_vcpus(nr_vcpus: number, sparse_banks: bigint[], valid_bank_mask: bigint): number[] {
  const bitmap: bigint[] = [];
  let sbank = 0;
  for (let bank = 0; bank < KVM_HV_MAX_SPARSE_VCPU_SET_BITS; bank++) {
    if ((valid_bank_mask >> BigInt(bank)) & 1n) bitmap[bank] = sparse_banks[sbank++] ?? 0n;
  }
  const out: number[] = [];
  for (let i = 0; i < nr_vcpus; i++) {
    const word = bitmap[Math.floor(i / HV_VCPUS_PER_SPARSE_BANK)] ?? 0n;
    if ((word >> BigInt(i % HV_VCPUS_PER_SPARSE_BANK)) & 1n) out.push(i);
  }
  return out;
}

/** hv_is_vp_in_sparse_set() (used by the L2 path in the kernel; here for the tests of the bank layout). */
export function hv_is_vp_in_sparse_set(vp_id: number, valid_bank_mask: bigint, sparse_banks: bigint[]): boolean {
  const valid_bit_nr = Math.floor(vp_id / HV_VCPUS_PER_SPARSE_BANK);
  if (!((valid_bank_mask >> BigInt(valid_bit_nr)) & 1n)) return false;
  const sbank = valid_bit_nr ? hweight64(valid_bank_mask & ((1n << BigInt(valid_bit_nr)) - 1n)) : 0;
  return ((sparse_banks[sbank] ?? 0n) >> BigInt(vp_id % HV_VCPUS_PER_SPARSE_BANK)) & 1n ? true : false;
}

/**
 * The input-reading half of kvm_hv_flush_tlb() (no side effects): flags and
 * processor mask or VP set, then the GVA list.
 */
export function kvm_hv_flush_tlb_decode(nr_vcpus: number, hc: kvm_hv_hcall, input: HvHcallInput): FlushDecode {
  let all_cpus: boolean;
  let valid_bank_mask: bigint;
  let sparse_banks: bigint[];
  let consumed_xmm_halves = 0;
  if (hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE) {
    // struct hv_tlb_flush {address_space, flags, processor_mask}; fast: RDX, R8, XMM0 low half.
    if (hc.fast) consumed_xmm_halves = 1;
    valid_bank_mask = 1n;
    sparse_banks = [input.processor_mask];
    // Work around possible WS2012 bug: processor_mask == 0 without
    // HV_FLUSH_ALL_PROCESSORS still expects a flush: treat it as all.
    all_cpus = (input.flags & BigInt(HV_FLUSH_ALL_PROCESSORS)) !== 0n || input.processor_mask === 0n;
  } else {
    // struct hv_tlb_flush_ex {address_space, flags, hv_vp_set {format, valid_bank_mask, bank_contents[]}}.
    if (hc.fast) consumed_xmm_halves = 2;
    valid_bank_mask = input.valid_bank_mask;
    all_cpus = input.format !== HV_GENERIC_SET_SPARSE_4K;
    sparse_banks = [];
    if (hc.var_cnt !== hweight64(valid_bank_mask)) {
      return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `var_cnt ${hc.var_cnt} != hweight64(valid_bank_mask ${hex(valid_bank_mask)})` };
    }
    if (!all_cpus) {
      if (!hc.var_cnt) return { success_no_targets: true };
      // kvm_get_sparse_vp_set(): at most 64 banks, capped to the ones that can hold a VP.
      if (hc.var_cnt > HV_MAX_SPARSE_VCPU_BANKS) return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: 'var_cnt > HV_MAX_SPARSE_VCPU_BANKS' };
      if (hc.fast && !xmm_fits(hc.var_cnt, consumed_xmm_halves)) {
        return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `${hc.var_cnt} banks do not fit in the XMM registers` };
      }
      const n = Math.min(hc.var_cnt, KVM_HV_MAX_SPARSE_VCPU_SET_BITS);
      for (let i = 0; i < n; i++) sparse_banks.push(input.banks[i] ?? 0n);
    }
    // TLFS does not forbid banks for HV_GENERIC_SET_ALL: always skip var_cnt of them.
    if (hc.fast) consumed_xmm_halves += hc.var_cnt;
  }

  let entries: number[] | null;
  if (
    hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE ||
    hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
    hc.rep_cnt > KVM_HV_TLB_FLUSH_FIFO_SIZE - 1 // ARRAY_SIZE(__tlb_flush_entries): one slot stays free for FLUSHALL
  ) {
    entries = null;
  } else {
    if (hc.fast && !xmm_fits(hc.rep_cnt, consumed_xmm_halves)) {
      return { status: HV_STATUS_INVALID_HYPERCALL_INPUT, why: `${hc.rep_cnt} GVA entries do not fit in the XMM registers` };
    }
    entries = [];
    for (let i = 0; i < hc.rep_cnt; i++) entries.push(input.gvas[i] ?? 0);
  }

  const targets = all_cpus ? Array.from({ length: nr_vcpus }, (_, i) => i) : sparse_set_to_vcpus(nr_vcpus, sparse_banks, valid_bank_mask);
  return { decoded: { all_cpus, valid_bank_mask, sparse_banks, entries, targets } };
}

// ---------------------------------------------------------------------------
// The FIFOs.

wait_kind('spinlock', false, (w, _t, wait) => {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, wait['vcpu'] as number, wait['fifo'] === 1);
  return fifo.write_lock < 0;
});

function fifo_lock_name(vcpu: number, fifo: number): string {
  return `vcpu${vcpu}.hv.tlb_flush_fifo[${fifo}].write_lock`;
}

/**
 * hv_tlb_flush_enqueue() after spin_lock(write_lock): the list if it fits
 * with a slot to spare, else one FLUSHALL entry (a full FIFO always ends
 * in one, so then nothing is added). Then spin_unlock().
 */
export function hv_tlb_flush_enqueue_locked(w: World, t: Thread, vcpu: number, fifo_idx: number, entries: number[] | null, count: number): void {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, fifo_idx === 1);
  const avail = KVM_HV_TLB_FLUSH_FIFO_SIZE - fifo.entries.length;
  if (count && entries && count < avail) {
    fifo.entries.push(...entries.slice(0, count));
    emit(w, t, 'hv.fifo.push', { target: vcpu, fifo: fifo_idx, entries: count, flushall: false });
  } else {
    const pushed = avail > 0;
    if (pushed) fifo.entries.push(KVM_HV_TLB_FLUSHALL_ENTRY);
    emit(w, t, 'hv.fifo.push', { target: vcpu, fifo: fifo_idx, entries: pushed ? 1 : 0, flushall: true });
    metric_add(w, 'hv_fifo_flushall');
  }
  // The proposal's cost: a flush queued on a vCPU whose inhibit the VMM holds is performed on its next entry.
  if (x86_vcpu(w, vcpu).inhibited) metric_add(w, 'hv_fifo_push_while_inhibited');
  fifo.write_lock = -1;
  t.preempt_count--;
  emit(w, t, 'lock.release', { lock: fifo_lock_name(vcpu, fifo_idx), mode: 'spin' });
}

/** spin_lock(&tlb_flush_fifo->write_lock): true when taken, else the thread spins. */
export function hv_fifo_lock(w: World, t: Thread, vcpu: number, fifo_idx: number): boolean {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, fifo_idx === 1);
  if (fifo.write_lock >= 0 && fifo.write_lock !== t.id) {
    block(t, { kind: 'spinlock', vcpu, fifo: fifo_idx });
    emit(w, t, 'lock.contend', { lock: fifo_lock_name(vcpu, fifo_idx), mode: 'spin' });
    return false;
  }
  fifo.write_lock = t.id;
  t.preempt_count++;
  emit(w, t, 'lock.acquire', { lock: fifo_lock_name(vcpu, fifo_idx), mode: 'spin' });
  return true;
}

/**
 * kvm_hv_vcpu_purge_flush_tlb() (hyperv.h), its first half: a full guest
 * flush covers Hyper-V's fine-grained one, so a pending
 * KVM_REQ_HV_TLB_FLUSH is consumed (kvm_check_request(), an atomic);
 * true when there was one, and the caller's next step empties the FIFO
 * (hv_purge_kfifo_reset_out()).
 */
export function kvm_hv_vcpu_purge_flush_tlb(w: World, t: Thread, vcpu: number): boolean {
  return kvm_check_request(w, t, KVM_REQ.HV_TLB_FLUSH, vcpu_of(w, vcpu));
}

/**
 * The second half: kfifo_reset_out() without looking at the entries. It
 * reads the producers' `in` without their write_lock, after the request
 * was consumed: a list queued (and its request made) in between goes with
 * the rest, and its request stays set for an empty FIFO. Harmless: the
 * vCPU has not entered the guest since its full flush, so it caches
 * nothing such a list could cover.
 */
export function hv_purge_kfifo_reset_out(w: World, t: Thread, vcpu: number): void {
  const fifo = kvm_hv_get_tlb_flush_fifo(w, vcpu, is_guest_mode(w, vcpu));
  const n = fifo.entries.length;
  fifo.entries = [];
  emit(w, t, 'hv.fifo.drain', { target: vcpu, entries: n, result: 1 });
}

/** Base addresses a 4-level host (max_host_virt_addr_bits() 48) takes as canonical: the model's GVAs are the lower half. */
const HV_CANONICAL_LIMIT = 2 ** 47;

/**
 * kvm_hv_vcpu_flush_tlb(): on the target, before it enters the guest. Take
 * up to 16 entries (kfifo_out), then flush 1 + (low 12 bits) pages for
 * each; a FLUSHALL entry empties the FIFO and returns -ENOSPC, and the
 * caller falls back to a full guest flush.
 */
export const kvm_hv_vcpu_flush_tlb = model_fn<{ popped: number[] }>('kvm_hv_vcpu_flush_tlb', {
  kfifo_out: (w, t, l) => {
    const fifo = kvm_hv_get_tlb_flush_fifo(w, t.vcpu, is_guest_mode(w, t.vcpu));
    l.popped = fifo.entries.splice(0, KVM_HV_TLB_FLUSH_FIFO_SIZE);
    return 'flush';
  },
  flush: (w, t, l) => {
    for (const e of l.popped) {
      if (e === KVM_HV_TLB_FLUSHALL_ENTRY) {
        // out_flush_all: kfifo_reset_out() drops whatever else is queued.
        const fifo = kvm_hv_get_tlb_flush_fifo(w, t.vcpu, is_guest_mode(w, t.vcpu));
        fifo.entries = [];
        emit(w, t, 'hv.fifo.drain', { target: t.vcpu, entries: l.popped.length, result: ENOSPC });
        return ret(t, ENOSPC);
      }
      // is_noncanonical_invlpg_address(entries[i], vcpu): skipped (the base only, as v6.18 checks).
      if (e >= HV_CANONICAL_LIMIT) continue;
      const gva = gva_page(e);
      const pages = gva_extra_pages(e) + 1;
      for (let j = 0; j < pages; j++) flush_tlb_gva(w, t.vcpu, gva + j * PAGE_SIZE);
      emit(w, t, 'hv.flush', { target: t.vcpu, scope: 'gva', gva, pages });
      metric_add(w, 'hv_gva_flushes');
    }
    emit(w, t, 'hv.fifo.drain', { target: t.vcpu, entries: l.popped.length, result: 0 });
    return ret(t, 0);
  },
});

// ---------------------------------------------------------------------------
// The hypercall.

/** What kvm_hv_flush_tlb() returns to kvm_hv_hypercall(). */
export interface FlushResult {
  status: number;
  reps: number;
  /** -EBUSY in the proposal: the caller suspended itself. */
  busy: boolean;
  targets: number[];
  ranges: [number, number][] | null;
  /** The proposal: step at which each target's tlb_flush_inhibit was read as 0, by vcpu_id. */
  read_steps: Record<number, number>;
}

interface FlushLocals {
  hc: kvm_hv_hcall;
  d: FlushDecoded;
  /** Index into d.targets of the loop in progress. */
  i: number;
  /** Whether the request is already made (hv.inhibit_request_first checks after it). */
  requested: boolean;
  /** Step at which each target's tlb_flush_inhibit was read as 0, by vcpu_id. */
  read_steps: Record<number, number>;
  waiting_on: number;
}

function flush_ranges(hc: kvm_hv_hcall, input: HvHcallInput): [number, number][] | null {
  if (hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX) return null;
  return input.gvas.slice(0, hc.rep_cnt).map(gva_range);
}

function success(t: Thread, hc: kvm_hv_hcall, d: FlushDecoded | null, input: HvHcallInput, read_steps: Record<number, number> = {}): typeof RETURN {
  const r: FlushResult = { status: HV_STATUS_SUCCESS, reps: hc.rep_cnt, busy: false, targets: d ? d.targets.slice() : [], ranges: flush_ranges(hc, input), read_steps };
  return ret(t, r);
}

/**
 * kvm_hv_flush_tlb(vcpu, hc), the L1 (non-guest-mode) paths. One step per
 * point another CPU can act in between: decoding, each target's inhibit
 * read (proposal), each target's enqueue (lock, then push+unlock), the
 * request (its own steps: each bit, the IPIs, the WAIT).
 */
export const kvm_hv_flush_tlb = model_fn<FlushLocals>('kvm_hv_flush_tlb', {
  decode: (w, t, l) => {
    const input = x86_vcpu(w, t.vcpu).hcall!;
    const r = kvm_hv_flush_tlb_decode(w.kvm.vcpus.length, l.hc, input);
    const banks = 'decoded' in r ? r.decoded.sparse_banks.map((b) => hex(b)) : [];
    const all_cpus = 'decoded' in r ? r.decoded.all_cpus : false;
    emit(w, t, 'hv.hypercall', { code: l.hc.code, flags: Number(input.flags), rep_cnt: l.hc.rep_cnt, all_cpus, banks, fast: l.hc.fast });
    if ('status' in r) {
      const res: FlushResult = { status: r.status, reps: 0, busy: false, targets: [], ranges: null, read_steps: {} };
      return ret(t, res);
    }
    if ('success_no_targets' in r) return success(t, l.hc, null, input);
    l.d = r.decoded;
    l.i = 0;
    l.requested = false;
    l.read_steps = {};
    l.waiting_on = -1;
    if (l.d.entries === null) metric_add(w, 'hv_flush_all_requests');
    if (tlb_flush_inhibit_on(w) && !variant_on(w, INHIBIT_REQUEST_FIRST.name)) return 'check_inhibit';
    return l.d.targets.length ? 'enqueue_lock' : 'request';
  },
  // The proposal: READ_ONCE(v->arch.hyperv->tlb_flush_inhibit) per target;
  // an inhibited one suspends the caller (goto ret_suspend). By default
  // (and in v1) before anything is queued; with hv.inhibit_request_first
  // after the request.
  check_inhibit: (w, t, l) => {
    if (l.i >= l.d.targets.length) {
      l.i = 0;
      return l.requested ? 'done' : l.d.targets.length ? 'enqueue_lock' : 'request';
    }
    const v = l.d.targets[l.i]!;
    if (tlb_flush_inhibited(w, v)) {
      l.waiting_on = v;
      x86_vcpu(w, t.vcpu).inhibit_read_step = w.step;
      return call('kvm_hv_vcpu_suspend_tlb_flush', { waiting_on: v }, 'suspended');
    }
    l.read_steps[v] = w.step;
    l.i++;
    return 'check_inhibit';
  },
  suspended: (w, t, l) => {
    const res: FlushResult = { status: EBUSY_STATUS, reps: 0, busy: true, targets: [], ranges: null, read_steps: { ...l.read_steps } };
    return ret(t, res);
  },
  // hv_tlb_flush_enqueue(v, kvm_hv_get_tlb_flush_fifo(v, false), entries, rep_cnt)
  enqueue_lock: (w, t, l) => (hv_fifo_lock(w, t, l.d.targets[l.i]!, 0) ? 'enqueue' : BLOCKED),
  enqueue: (w, t, l) => {
    hv_tlb_flush_enqueue_locked(w, t, l.d.targets[l.i]!, 0, l.d.entries, l.hc.rep_cnt);
    l.i++;
    return l.i < l.d.targets.length ? 'enqueue_lock' : 'request';
  },
  // kvm_make_all_cpus_request() or kvm_make_vcpus_request_mask(), both with
  // KVM_REQ_HV_TLB_FLUSH = WAIT|NO_WAKEUP: back only when every target that
  // was in the guest has left it.
  request: (w, _t, l) => {
    l.requested = true;
    if (l.d.all_cpus) return call(kvm_make_all_cpus_request, { req: KVM_REQ.HV_TLB_FLUSH }, 'requested');
    return call('kvm_make_vcpus_request_mask', { req: KVM_REQ.HV_TLB_FLUSH, mask: l.d.targets.slice() }, 'requested');
  },
  requested: (w, _t, l) => {
    if (!variant_on(w, INHIBIT_REQUEST_FIRST.name)) return 'done';
    // (hv.inhibit_request_first implies the proposal.)
    l.i = 0;
    return 'check_inhibit';
  },
  done: (w, t, l) => success(t, l.hc, l.d, x86_vcpu(w, t.vcpu).hcall!, { ...l.read_steps }),
});

/**
 * kvm_hv_hypercall(): read the input value, validate it per call, run the
 * flush, and complete: write the result and skip the instruction. In the
 * proposal a caller that suspended itself skips neither (the guest re-runs
 * the hypercall once it is unsuspended).
 */
export const kvm_hv_hypercall = model_fn<FlushResult & { hc: kvm_hv_hcall }>(
  'kvm_hv_hypercall',
  {
    decode: (w, t, l) => {
      const input = x86_vcpu(w, t.vcpu).hcall;
      if (!input) throw new Error(`${t.name}: hypercall exit without a hypercall`);
      metric_add(w, 'hv_hypercalls');
      const hc = decode_param(hv_hypercall_param(input));
      l.hc = hc;
      l.status = HV_STATUS_SUCCESS;
      l.reps = 0;
      l.busy = false;
      l.targets = [];
      l.ranges = null;
      l.read_steps = {};
      if (hc.param & HV_HYPERCALL_RSVD_MASK) return fail(l, HV_STATUS_INVALID_HYPERCALL_INPUT);
      const list = hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
      const space = hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX;
      if (!list && !space) return fail(l, HV_STATUS_INVALID_HYPERCALL_CODE);
      // The non-EX forms take no variable header (fall through to the EX checks).
      if ((hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || hc.code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE) && hc.var_cnt) {
        return fail(l, HV_STATUS_INVALID_HYPERCALL_INPUT);
      }
      // LIST: a rep call from the start; SPACE: not a rep call.
      if (list && (!hc.rep_cnt || hc.rep_idx)) return fail(l, HV_STATUS_INVALID_HYPERCALL_INPUT);
      if (space && hc.rep) return fail(l, HV_STATUS_INVALID_HYPERCALL_INPUT);
      return call(kvm_hv_flush_tlb, { hc }, 'flushed');
    },
    flushed: (_w, t, l) => {
      const r = t.retval as FlushResult;
      l.status = r.status;
      l.reps = r.reps;
      l.busy = r.busy;
      l.targets = r.targets;
      l.ranges = r.ranges;
      l.read_steps = r.read_steps;
      return 'complete';
    },
    // kvm_hv_hypercall_complete()
    complete: (w, t, l) => {
      const xv = x86_vcpu(w, t.vcpu);
      const input = xv.hcall!;
      xv.hcall = null;
      // The proposal: "the hyper-call finishes internally, but the
      // instruction isn't skipped": the guest issues it again once woken.
      if (kvm_hv_vcpu_suspended(w, t.vcpu)) {
        emit(w, t, 'hv.hypercall.complete', { code: l.hc.code, status: l.status, reps: 0, suspended: true });
        return ret(t, 1);
      }
      // kvm_hv_hypercall_set_result() + kvm_skip_emulated_instruction()
      t.ip++;
      if (l.status === HV_STATUS_SUCCESS && is_tlb_flush_hcall(l.hc.code) && l.targets.length) {
        const done: HvFlushDone = {
          flusher: t.vcpu,
          code: l.hc.code,
          targets: l.targets,
          ranges: l.ranges,
          stamp: input.stamp,
          issued_step: input.step,
          done_step: w.step,
          read_steps: l.read_steps,
        };
        prune_flushes(w);
        x86(w).flushes.push(done);
      }
      if (l.busy) metric_add(w, 'hv_busy_results');
      emit(w, t, 'hv.hypercall.complete', { code: l.hc.code, status: l.status, reps: l.status === HV_STATUS_SUCCESS ? l.reps : 0, suspended: false });
      return ret(t, 1);
    },
  },
);

function fail(l: { status: number }, status: number): string {
  l.status = status;
  return 'complete';
}

// ---------------------------------------------------------------------------
// The guest op.

const FORMATS: Record<string, number> = { sparse_4k: HV_GENERIC_SET_SPARSE_4K, all: HV_GENERIC_SET_ALL };

/** The hypercall's input as the guest set it up, with the defaults a guest would use. */
export function hcall_input(w: World, args: Record<string, unknown>): HvHcallInput {
  const code = args['code'] as number;
  const list = code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  const ex = code === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || code === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  const gvas = ((args['gvas'] as unknown[]) ?? []).map((g) => Number(u64(g)));
  const banks = ((args['banks'] as unknown[]) ?? []).map(u64);
  const fmt = args['format'];
  const format = typeof fmt === 'string' ? FORMATS[fmt]! : typeof fmt === 'number' ? fmt : HV_GENERIC_SET_SPARSE_4K;
  const valid_bank_mask = args['valid_bank_mask'] !== undefined ? u64(args['valid_bank_mask']) : (1n << BigInt(banks.length)) - 1n;
  const x = x86(w);
  return {
    code,
    fast: args['fast'] === true,
    rep_cnt: (args['rep_cnt'] as number | undefined) ?? (list ? gvas.length : 0),
    var_cnt: (args['var_cnt'] as number | undefined) ?? (ex ? hweight64(valid_bank_mask) : 0),
    rep_idx: (args['rep_idx'] as number | undefined) ?? 0,
    address_space: u64(args['address_space'] ?? 0),
    flags: u64(args['flags'] ?? 0),
    processor_mask: u64(args['processor_mask'] ?? 0),
    format,
    valid_bank_mask,
    banks,
    gvas,
    stamp: x.clock++,
    step: w.step,
  };
}

define_op({
  name: 'hv_flush',
  threads: ['vcpu'],
  arch: 'x86',
  summary:
    'Hyper-V TLB flush hypercall: code 0x2 SPACE, 0x3 LIST, 0x13 SPACE_EX, 0x14 LIST_EX; flags, processor_mask (non-EX) or format/valid_bank_mask/banks (EX), gvas (page | extra pages in the low 12 bits); rep_cnt/var_cnt default from the lists',
  schema: {
    type: 'object',
    properties: {
      code: { type: 'integer', minimum: 0, maximum: 0xffff },
      fast: S.bool,
      flags: S.u64,
      address_space: S.u64,
      processor_mask: S.u64,
      format: { anyOf: [{ enum: ['sparse_4k', 'all'] }, { type: 'integer', minimum: 0, maximum: 0xffffffff }] },
      valid_bank_mask: S.u64,
      banks: { type: 'array', items: S.u64, maxItems: 64 },
      // GVA page | extra pages in the low 12 bits, below 2^52 (no upper canonical half); an entry at or
      // above 2^47 is not canonical on the model's 4-level host, and the flush skips it.
      gvas: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 2 ** 52 }, maxItems: 4095 },
      rep_cnt: { type: 'integer', minimum: 0, maximum: 0xfff },
      var_cnt: { type: 'integer', minimum: 0, maximum: 0x3ff },
      rep_idx: { type: 'integer', minimum: 0, maximum: 0xfff },
    },
    required: ['code'],
    additionalProperties: false,
  },
  in_guest: (w, t, args) => {
    x86_vcpu(w, t.vcpu).hcall = hcall_input(w, args);
    return { exit: 'hypercall' };
  },
});
