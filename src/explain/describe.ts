// What a step of a race diagram says, in the words a KVM developer uses:
// events as the kernel calls that made them (kvm_make_request(...),
// TLBI ...), written fields as `name = value`. Events that only narrate the
// machinery (page-table walk visits, lookups, RCU read sections) say
// nothing; the slice still follows them.
import type { Event } from '../core/machine/events.js';
import { SEP } from './trace.js';

function hex(v: unknown): string {
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return '0x' + v.toString(16);
  return String(v);
}

function lock_call(e: Event, what: 'lock' | 'unlock'): string {
  const m = String(e.mode);
  if (m === 'mutex') return `mutex_${what}(${e.lock})`;
  return `${m}_${what}(${e.lock})`;
}

/** One line for an event, or null for events a race diagram leaves out. */
export function describe_event(e: Event): string | null {
  switch (e.kind) {
    case 'lock.acquire':
      return lock_call(e, 'lock');
    case 'lock.release':
      return lock_call(e, 'unlock');
    case 'lock.cond_resched':
      return e.dropped ? `cond_resched_rwlock: dropped ${e.lock}` : null;
    case 'request.make':
      return `kvm_make_request(${e.req}, vcpu${e.target})`;
    case 'request.make_all':
      return `kvm_make_all_cpus_request(${e.req})`;
    case 'request.check':
      return `kvm_check_request(${e.req}) = ${e.result}`;
    case 'vcpu.enter':
      return `enter guest, hw_mmu = ${e.hw_mmu}`;
    case 'vcpu.entry_abort':
      return `entry aborted (${e.reason})`;
    case 'vcpu.exit':
      return `exit (${e.reason})`;
    case 'vcpu.kick':
      return `kvm_vcpu_kick(vcpu${e.target}): ${e.action}`;
    case 'vcpu.put':
      return e.scheduled_out ? 'vcpu_put (scheduled out)' : null;
    case 'guest.access':
      return `guest ${e.write ? 'writes' : 'reads'} ipa ${hex(e.ipa)} -> pa ${hex(e.pa)}`;
    case 'sched.might_sleep':
      return `might_sleep(${e.what}): preempt_count = ${e.preempt_count}`;
    case 'sched.preempt':
      return 'preempted';
    case 'srcu.sync':
      return `synchronize_srcu(${e.srcu}) ${e.phase}`;
    case 's2mmu.recycle':
      return `recycle nested_mmus[${e.index}]`;
    case 's2mmu.assign':
      return `nested_mmus[${e.index}].tlb_vttbr = ${hex(e.tlb_vttbr)}`;
    case 'pending_unmap.set':
      return `nested_mmus[${e.index}].pending_unmap = true`;
    case 'pending_unmap.clear':
      return `nested_mmus[${e.index}].pending_unmap = false`;
    case 'nested.unmap':
      return `kvm_stage2_unmap_range(nested ${Array.isArray(e.index) ? e.index.join(',') : e.index}, ${hex(e.start)}, ${hex(e.size)})`;
    case 'tlbi':
      return `TLBI ${String(e.op).toUpperCase()} vmid ${e.vmid} ${hex(e.base)}+${hex(e.size)}`;
    case 'tlbi.hyp':
      return `__kvm_tlb_flush_${e.scope} vmid ${e.vmid}${e.scope === 'vmid' ? '' : ` ipa ${hex(e.ipa)}`}`;
    case 'tlb.fill':
      return `TLB fill vmid ${e.vmid} ipa ${hex(e.ipa)} -> ${hex(e.pa)}`;
    case 'tlb.hit':
      return `TLB hit vmid ${e.vmid} ipa ${hex(e.ipa)} -> ${hex(e.pa)}${Number(e.stale_since) >= 0 ? ` (stale since ${e.stale_since})` : ''}`;
    case 'invalidate.start':
      return `invalidate_range_start(${hex(e.hva_start)}-${hex(e.hva_end)})`;
    case 'invalidate.begin':
      return `kvm_mmu_invalidate_begin: mmu_invalidate_in_progress = ${e.in_progress}`;
    case 'invalidate.end':
      return `kvm_mmu_invalidate_end: mmu_invalidate_seq = ${e.mmu_invalidate_seq}, mmu_invalidate_in_progress = ${e.in_progress}`;
    case 'invalidate.numa_protect':
      return `change_prot_numa(${hex(e.hva_start)}-${hex(e.hva_end)})`;
    case 'mm.change_pte':
      return `host pte ${hex(e.hva)}: pfn ${hex(e.old_pfn)} -> ${hex(e.new_pfn)}`;
    case 'fault.start':
      return `stage-2 fault at ${hex(e.gpa)}${e.write ? ' (write)' : ''}`;
    case 'fault.seq_snapshot':
      return `mmu_seq = ${e.mmu_seq}`;
    case 'fault.faultin':
      return `__kvm_faultin_pfn: pfn = ${hex(e.pfn)}`;
    case 'fault.check':
      return `mmu_invalidate_retry: ${e.retry ? 'retry' : 'no retry'} (seq ${e.seq_snap}/${e.seq_now})`;
    case 'fault.precheck':
      return `mmu_invalidate_retry_gfn_unsafe: ${e.retry ? 'retry' : 'no retry'}`;
    case 'fault.retry':
      return `fault retried (${e.reason})`;
    case 'fault.map':
      return `map ${hex(e.ipa)} -> ${hex(e.pa)} (level ${e.level})`;
    case 'spte.zap':
      return `zap spte ${hex(e.gpa)}`;
    case 'flush.remote':
      return `kvm_flush_remote_tlbs (${e.reason})`;
    case 'pte.break':
      // Breaking an invalid entry (a fresh table) changes nothing a walker can see.
      return e.ok && (BigInt(e.old as number | bigint) & 1n) === 1n ? `break ${e.ptep} (level ${e.level}, was ${hex(e.old)})` : null;
    case 'pte.make':
      return `${e.ptep} = ${hex(e.new)}`;
    case 'pte.replace':
      return `replace level ${e.level} ${hex(e.old)} -> ${hex(e.new)}`;
    case 'table.unlink':
      return `unlink table page ${e.page}`;
    case 'table.free':
      return `free table page ${e.page} (${e.how})`;
    case 'rcu.call':
      return `call_rcu(table page ${e.page})`;
    case 'rcu.free':
      return `RCU frees page ${e.page}`;
    case 'hv.hypercall':
      return `hypercall ${hex(e.code)}`;
    case 'hv.hypercall.complete':
      return `hypercall ${hex(e.code)} done${e.suspended ? ' (suspended)' : ''}`;
    case 'hv.fifo.push':
      return `queue flush on vcpu${e.target}`;
    case 'hv.flush':
      return `flush vcpu${e.target} (${e.scope})`;
    case 'hv.suspend':
      return `suspend, waiting on vcpu${e.waiting_on}`;
    case 'hv.unsuspend':
      return `unsuspend vcpu${e.target}`;
    case 'hv.inhibit':
      return `tlb_flush_inhibit = ${e.inhibit} (${e.phase})`;
    case 'guest.gva_access':
      return `guest access gva ${hex(e.gva)}${e.hit ? ' (TLB hit)' : ''}`;
    case 'guest.tlb_flush':
      return `guest TLB flush (${e.scope})`;
    case 'numa.protect':
      return `NUMA protect ${hex(e.start)}-${hex(e.end)}`;
    case 'thread.op':
      return null;
    default:
      return null;
  }
}

/** A location as a field name: `nested_mmus[0].pending_unmap`, a local's own name. */
export function field_name(loc: string): string {
  const p = loc.split(SEP);
  if (p[0] === 'threads') {
    const i = p.indexOf('locals');
    if (i >= 0) return p.slice(i + 1).join('.');
    return p.slice(2).join('.');
  }
  const rest = p[0] === 'kvm' || p[0] === 'arm64' || p[0] === 'x86' ? p.slice(1) : p;
  let out = '';
  for (const k of rest) out += /^\d+$/.test(k) ? `[${k}]` : (out ? '.' : '') + k;
  return out;
}

/** A written value for a diagram. */
export function show_value(v: unknown): string {
  if (typeof v === 'bigint') return '0x' + v.toString(16);
  if (typeof v === 'number' && Number.isInteger(v) && v > 0xffff) return '0x' + v.toString(16);
  if (v === undefined) return '(deleted)';
  return String(v);
}
