// The event catalogue (kinds from shared/docs/kernel-model.md "Model
// checklist") and emit(). Events of a step collect in world.events; the
// machine drains them to its subscribers after the step.
import type { Thread, World } from './world.js';

/** How a field prints and serialises: addresses in hex, u64 as bigint. */
export type FieldTag = 'int' | 'addr' | 'u64' | 'str' | 'bool' | 'any';

type Tags = Record<string, FieldTag>;

export const EVENT_CATALOGUE = {
  'request.make': { req: 'str', bit: 'int', flags: 'int', target: 'int' },
  'request.make_all': { req: 'str', targets: 'any', ipi_mask: 'any', wait: 'bool' },
  'request.check': { req: 'str', result: 'bool' },
  'vcpu.mode': { from: 'str', to: 'str', via: 'str' },
  'vcpu.kick': { target: 'int', action: 'str' },
  'ipi.send': { to: 'int', wait: 'bool' },
  'ipi.ack': { target_cpu: 'int' },
  'vcpu.enter': { hw_mmu: 'str' },
  'vcpu.entry_abort': { reason: 'str' },
  'vcpu.exit': { reason: 'str' },
  'vcpu.load': { pcpu: 'int' },
  'vcpu.put': { scheduled_out: 'bool', in_wfi: 'bool' },
  'guest.access': { ipa: 'addr', write: 'bool', pa: 'addr', via: 'str' },
  'guest.irq': {},
  'lock.acquire': { lock: 'str', mode: 'str' },
  'lock.release': { lock: 'str', mode: 'str' },
  'lock.contend': { lock: 'str', mode: 'str' },
  'lock.cond_resched': { lock: 'str', dropped: 'bool' },
  'sched.block': { reason: 'str' },
  'sched.wake': { reason: 'str' },
  'sched.preempt': {},
  'sched.might_sleep': { what: 'str', preempt_count: 'int', irqs_disabled: 'bool' },
  'srcu.read_lock': { srcu: 'str', idx: 'int' },
  'srcu.read_unlock': { srcu: 'str', idx: 'int' },
  'srcu.sync': { srcu: 'str', phase: 'str' },
  's2mmu.lookup': { vttbr: 'u64', vtcr: 'u64', s2_enabled: 'bool', hit: 'int' },
  's2mmu.recycle': { index: 'int', victim_valid: 'bool', next_cursor: 'int' },
  's2mmu.assign': { index: 'int', tlb_vttbr: 'u64', tlb_vtcr: 'u64', s2_enabled: 'bool' },
  's2mmu.ref': { index: 'int', refcnt: 'int' },
  's2mmu.unref': { index: 'int', refcnt: 'int' },
  'pending_unmap.set': { index: 'int' },
  'pending_unmap.clear': { index: 'int', was_set: 'bool' },
  'nested.unmap': { index: 'any', start: 'addr', size: 'addr', may_block: 'bool' },
  'nested.wp': { index: 'any' },
  'vncr.invalidate': { ipa: 'addr' },
  'nested.s2_fault': { nested_ipa: 'addr' },
  tlbi: { op: 'str', operand: 'u64', vmid: 'int', base: 'addr', size: 'addr', ttl: 'int', tg: 'int', scale: 'int', num: 'int' },
  'tlbi.target': { index: 'int', start: 'addr', size: 'addr' },
  'hv.hypercall': { code: 'int', flags: 'int', rep_cnt: 'int', all_cpus: 'bool', banks: 'any', fast: 'bool' },
  'hv.fifo.push': { target: 'int', fifo: 'int', entries: 'int', flushall: 'bool' },
  'hv.fifo.drain': { target: 'int', entries: 'int', result: 'int' },
  'hv.flush': { target: 'int', scope: 'str', gva: 'addr', pages: 'int' },
  'hv.suspend': { target: 'int', waiting_on: 'int' },
  'hv.unsuspend': { target: 'int', waiting_on: 'int' },
  'mt.store': { first: 'u64', last: 'u64', entry: 'u64', overwritten: 'u64' },
  'mt.insert': { first: 'u64', last: 'u64', result: 'int' },
  'mt.erase': { index: 'u64', range: 'any', entry: 'u64' },
  'mt.load': { index: 'u64', entry: 'u64' },
  'mt.find': { index: 'u64', max: 'u64', range: 'any', entry: 'u64' },
  'mt.empty_area': { min: 'u64', max: 'u64', size: 'u64', result: 'any' },
  'mt.node': { op: 'str', type: 'str', slots: 'int' },
  'revmap.add': { mmu: 'int', canon_range: 'any', nested_ipa: 'addr' },
  'revmap.lookup': { mmu: 'int', range: 'any', hits: 'any' },
  'revmap.invalid': { mmu: 'int', reason: 'str' },
  'walk.begin': { pgt: 'str', start: 'addr', end: 'addr', flags: 'str' },
  'walk.end': { ret: 'int' },
  'pte.visit': { ptep: 'str', level: 'int', visit: 'str', old: 'u64' },
  'pte.cmpxchg': { ptep: 'str', old: 'u64', new: 'u64', ok: 'bool' },
  'pte.store': { ptep: 'str', value: 'u64', release: 'bool' },
  'pte.break': { ptep: 'str', level: 'int', old: 'u64', ok: 'bool' },
  'pte.make': { ptep: 'str', new: 'u64' },
  'walk.eagain': { ptep: 'str', reason: 'str' },
  'tlbi.hyp': { scope: 'str', vmid: 'int', ipa: 'addr', level: 'int', size: 'addr' },
  'table.alloc': { page: 'int', level: 'int' },
  'table.unlink': { page: 'int', level: 'int' },
  'rcu.read_lock': {},
  'rcu.read_unlock': {},
  'rcu.call': { page: 'int', level: 'int' },
  'rcu.gp_start': { gp: 'int' },
  'rcu.gp_end': { gp: 'int' },
  'rcu.free': { page: 'int' },
  'invalidate.start': { hva_start: 'addr', hva_end: 'addr', event: 'str', blockable: 'bool' },
  'invalidate.begin': { in_progress: 'int' },
  'invalidate.range_add': { start: 'addr', end: 'addr', union: 'bool' },
  'invalidate.end': { mmu_invalidate_seq: 'int', in_progress: 'int' },
  'mm.change_pte': { hva: 'addr', old_pfn: 'addr', new_pfn: 'addr', prot_none: 'bool', pages: 'int' },
  'fault.start': { gpa: 'addr', write: 'bool', nested: 'bool' },
  'fault.seq_snapshot': { mmu_seq: 'int' },
  'fault.faultin': { pfn: 'addr', slept: 'bool' },
  'fault.check': { in_progress: 'int', seq_now: 'int', seq_snap: 'int', range: 'any', retry: 'bool' },
  'fault.retry': { reason: 'str' },
  'fault.map': { mmu: 'str', ipa: 'addr', pa: 'addr', level: 'int', prot: 'str' },
  'numa.protect': { start: 'addr', end: 'addr' },
  'flush.remote': { scope: 'str', reason: 'str' },
  'thread.op': { op: 'str', index: 'int' },
  'thread.exit': {},
  // Stage-2 page tables, TLB (src/core/arm64: pgtable, tlb): appended by the pgtable work.
  'pte.replace': { ptep: 'str', level: 'int', old: 'u64', new: 'u64' },
  'table.free': { page: 'int', level: 'int', how: 'str' },
  'tlb.fill': { vmid: 'int', ipa: 'addr', pa: 'addr', level: 'int', perms: 'str', conflicts: 'int' },
  'tlb.hit': { vmid: 'int', ipa: 'addr', pa: 'addr', level: 'int', stale_since: 'int' },
  // x86 guest TLB and Hyper-V TLB flush (src/core/x86): appended by the x86 work.
  'guest.gva_access': { gva: 'addr', write: 'bool', hit: 'bool' },
  'guest.tlb_flush': { scope: 'str', reason: 'str', entries: 'int' },
  'hv.hypercall.complete': { code: 'int', status: 'int', reps: 'int', suspended: 'bool' },
  'hv.inhibit': { target: 'int', inhibit: 'bool', phase: 'str' },
  // NUMA balancing and the x86 TDP fault path (src/core/kvm/numa.ts, src/core/x86/mmu.ts, tdp_mmu.ts): appended by the NUMA work.
  'numa.skip': { hva: 'addr', reason: 'str' },
  'mm.pin': { hva: 'addr', pfn: 'addr' },
  'invalidate.numa_protect': { hva_start: 'addr', hva_end: 'addr', in_progress: 'int' },
  'fault.precheck': { where: 'str', gfn: 'addr', in_progress: 'int', seq_now: 'int', seq_snap: 'int', retry: 'bool' },
  'spte.zap': { gpa: 'addr', pfn: 'addr', level: 'int' },
  'tdp_mmu.yield': { gfn: 'addr', flush: 'bool', contended: 'bool' },
} as const satisfies Record<string, Tags>;

export type EventKind = keyof typeof EVENT_CATALOGUE;

type TagType<T extends FieldTag> = T extends 'int' | 'addr'
  ? number
  : T extends 'u64'
    ? bigint | number
    : T extends 'str'
      ? string
      : T extends 'bool'
        ? boolean
        : unknown;

export type EventFields<K extends EventKind> = {
  -readonly [F in keyof (typeof EVENT_CATALOGUE)[K]]: (typeof EVENT_CATALOGUE)[K][F] extends FieldTag
    ? TagType<(typeof EVENT_CATALOGUE)[K][F]>
    : never;
};

export interface Event {
  seq: number;
  step: number;
  thread: string;
  cpu: number;
  vcpu: number | null;
  kind: EventKind;
  [field: string]: unknown;
}

export const EVENT_KINDS = Object.keys(EVENT_CATALOGUE) as EventKind[];

/** Fields every event carries; a kind's own fields may not reuse these names (emit would overwrite them). */
export const HEADER_FIELDS = ['seq', 'step', 'thread', 'cpu', 'vcpu', 'kind'] as const;
for (const k of EVENT_KINDS) {
  for (const f of Object.keys(EVENT_CATALOGUE[k])) {
    if ((HEADER_FIELDS as readonly string[]).includes(f)) throw new Error(`event ${k}: field ${f} clashes with the event header`);
  }
}

export function is_event_kind(k: string): k is EventKind {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOGUE, k);
}

export function event_fields(k: EventKind): readonly string[] {
  return Object.keys(EVENT_CATALOGUE[k]);
}

export function field_tag(k: EventKind, field: string): FieldTag | undefined {
  return (EVENT_CATALOGUE[k] as Tags)[field];
}

/**
 * Emit an event from thread `t` (null: the machine itself). The fields
 * object is taken over, not copied: pass a fresh literal.
 */
export function emit<K extends EventKind>(w: World, t: Thread | null, kind: K, fields: EventFields<K>): Event {
  const e = fields as unknown as Event;
  e.seq = w.seq++;
  e.step = w.step;
  e.thread = t ? t.name : '-';
  e.cpu = t ? t.cpu : -1;
  e.vcpu = t && t.vcpu >= 0 ? t.vcpu : null;
  e.kind = kind;
  w.events.push(e);
  return e;
}

const HEADER_SET = new Set<string>(HEADER_FIELDS);

/** An event's own fields (not the header), in catalogue order, then any others. */
export function event_own_fields(e: Event): [string, unknown][] {
  const out: [string, unknown][] = [];
  const seen = new Set<string>();
  if (is_event_kind(e.kind)) {
    for (const k of Object.keys(EVENT_CATALOGUE[e.kind])) {
      if (k in e && !HEADER_SET.has(k)) {
        out.push([k, e[k]]);
        seen.add(k);
      }
    }
  }
  for (const k of Object.keys(e)) if (!HEADER_SET.has(k) && !seen.has(k)) out.push([k, e[k]]);
  return out;
}
