// Export to the text shape of `trace-cmd report`:
//
//   cpus=3
//          vcpu0-1     [000]     0.000012: kvm_entry:            hw_mmu=s2
//
// one line per event: task-pid, [cpu], the time in seconds (1 step = 1 us),
// the event name, then its fields as key=value (hex for addresses and
// u64s). Events that correspond to an upstream tracepoint take its name
// (kvm_entry, kvm_exit, kvm_unmap_hva_range, kvm_guest_fault,
// kvm_page_fault, kvm_hv_hypercall, lock_acquire, ...); the fields are the
// model's, not the tracepoint's. The others are namespaced kvmdbg_<kind>
// (request.make -> kvmdbg_request_make).
import type { Event } from '../core/machine/events.js';
import type { Violation, World } from '../core/machine/world.js';
import { field_tag, hex, own_fields } from './json_event.js';

/** Upstream tracepoints: kind -> name (per arch where they differ). */
const UPSTREAM: Record<string, string | { arm64: string; x86: string }> = {
  // arch/arm64/kvm/trace_arm.h, arch/x86/kvm/trace.h
  'vcpu.enter': 'kvm_entry',
  'vcpu.exit': 'kvm_exit',
  'fault.start': { arm64: 'kvm_guest_fault', x86: 'kvm_page_fault' },
  // include/trace/events/kvm.h: kvm_mmu_notifier_invalidate_range_start()
  'invalidate.start': 'kvm_unmap_hva_range',
  // arch/x86/kvm/trace.h
  'hv.hypercall': 'kvm_hv_hypercall',
  // arch/x86/kvm/mmu/mmutrace.h
  'spte.zap': 'kvm_tdp_mmu_spte_changed',
  // include/trace/events/lock.h
  'lock.acquire': 'lock_acquire',
  'lock.release': 'lock_release',
  'lock.contend': 'contention_begin',
  // include/trace/events/ipi.h
  'ipi.send': 'ipi_raise',
  // include/trace/events/rcu.h
  'rcu.gp_start': 'rcu_grace_period',
  'rcu.gp_end': 'rcu_grace_period',
  // include/trace/events/maple_tree.h
  'mt.store': 'ma_write',
  'mt.insert': 'ma_write',
  'mt.erase': 'ma_op',
  'mt.load': 'ma_read',
  'mt.find': 'ma_read',
};

/** The tracepoint name an event kind exports as. */
export function ftrace_name(kind: string, arch: string): string {
  const u = UPSTREAM[kind];
  if (typeof u === 'string') return u;
  if (u) return arch === 'x86' ? u.x86 : u.arm64;
  return `kvmdbg_${kind.replace(/\./g, '_')}`;
}

function value(v: unknown, tag: string | undefined): string {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'number') return (tag === 'addr' || tag === 'u64') && Number.isInteger(v) ? hex(v) : String(v);
  if (typeof v === 'string') return /[\s=,]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, tag === 'any' ? undefined : tag)).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `[${Array.from(v as unknown as ArrayLike<number>).join(',')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}:${value(x, undefined)}`).join(',')}}`;
  return String(v);
}

/** A regular expression every event line matches (for tests and for people parsing the export). */
export const FTRACE_LINE = /^\s*(\S+)-(\d+)\s+\[(\d{3}|---)\]\s+(\d+\.\d{6}): ([a-z_][a-z0-9_]*): ?(.*)$/;

export class FtraceExporter {
  readonly lines: string[] = [];
  private pids = new Map<string, number>();
  private readonly arch: string;
  private cpus = new Map<string, number>();

  constructor(w: World) {
    this.arch = w.arch;
    const cpus = Math.max(1, ...w.threads.map((t) => t.cpu + 1));
    this.lines.push(`cpus=${cpus}`);
    for (const t of w.threads) {
      this.pids.set(t.name, t.id + 1);
      this.cpus.set(t.name, t.cpu);
    }
  }

  /** A violated invariant, after the events of its step: `kvmdbg_violation: invariant=... message="..."` on the thread it names. */
  violation(v: Violation): void {
    const pid = this.pids.get(v.thread) ?? 0;
    const c = this.cpus.get(v.thread) ?? -1;
    const cpu = c >= 0 ? String(c).padStart(3, '0') : '---';
    const ts = `${Math.floor(v.step / 1e6)}.${String(v.step % 1e6).padStart(6, '0')}`;
    const fields = [`invariant=${v.invariant}`, `message=${JSON.stringify(v.message.replace(/\s*\n\s*/g, ' '))}`];
    this.lines.push(`${`${v.thread}-${pid}`.padStart(16)} [${cpu}] ${ts.padStart(12)}: ${'kvmdbg_violation:'.padEnd(22)} ${fields.join(' ')}`);
  }

  event(e: Event): void {
    const task = e.thread === '-' ? 'kvmdbg' : e.thread;
    let pid = this.pids.get(e.thread);
    if (pid === undefined) this.pids.set(e.thread, (pid = 1000 + this.pids.size));
    const cpu = e.cpu >= 0 ? String(e.cpu).padStart(3, '0') : '---';
    const ts = `${Math.floor(e.step / 1e6)}.${String(e.step % 1e6).padStart(6, '0')}`;
    const name = ftrace_name(e.kind, this.arch);
    const fields = own_fields(e).map(([k, v]) => `${k}=${value(v, field_tag(e.kind, k))}`);
    // An upstream name hides the model's kind: keep it visible; and the vCPU of vCPU threads.
    if (!name.startsWith('kvmdbg_')) fields.unshift(`kind=${e.kind}`);
    if (e.vcpu !== null) fields.unshift(`vcpu=${e.vcpu}`);
    this.lines.push(`${`${task}-${pid}`.padStart(16)} [${cpu}] ${ts.padStart(12)}: ${`${name}:`.padEnd(22)} ${fields.join(' ')}`.trimEnd());
  }
}
