// Export to the Chrome trace-event JSON format, which ui.perfetto.dev
// (and chrome://tracing) open: one process per VM, a track per thread,
// instants for events, slices for guest runs (vcpu.enter -> vcpu.exit) and
// lock holds (lock.acquire -> lock.release, per thread and lock), flow
// arrows from each request.make to the request.check that consumed it on
// the target vCPU, and counters for mmu_invalidate_seq and
// mmu_invalidate_in_progress.
//
// Time: 1 step = 1 microsecond. The events of one step are spread over it
// in the order they happened (event i of step N at N + i/1000 us), so that
// a track's slices and instants never share a timestamp; every event's
// args carry its step.
import type { Event } from '../core/machine/events.js';
import type { Violation, World } from '../core/machine/world.js';
import { field_tag, json_safe, own_fields } from './json_event.js';

export interface TraceEvent {
  name?: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: string;
  id?: number;
  bp?: string;
  args?: Record<string, unknown>;
}

export interface PerfettoMeta {
  /** The scenario's name. */
  name: string;
  /** Where the trace comes from (the recording). */
  source: string;
  tool: string;
}

const PID = 1;
/** Sub-step spacing of events (us) and the length of the short slices of request.make/check. */
const TICK = 0.001;
const SHORT = TICK / 2;

interface Open {
  key: string;
  name: string;
  cat: string;
  args: Record<string, unknown>;
}

export class PerfettoExporter {
  readonly events: TraceEvent[] = [];
  private tids = new Map<string, number>();
  private next_extra = 1000;
  private stacks = new Map<number, Open[]>();
  private step = -1;
  private in_step = 0;
  private last_ts = 0;
  private flow_id = 1;
  /** request.make events not consumed yet, by "vcpu/req": their flow-start records. */
  private pending = new Map<string, TraceEvent[]>();
  flows = 0;

  /** `w`: the World at step 0 (threads, VM shape, initial counters). */
  constructor(w: World, meta: PerfettoMeta) {
    const vcpus = w.threads.filter((t) => t.kind === 'vcpu').length;
    this.events.push({ name: 'process_name', ph: 'M', pid: PID, args: { name: `VM ${meta.name} (${w.arch}, ${vcpus} vCPU${vcpus === 1 ? '' : 's'})` } });
    this.events.push({ name: 'process_labels', ph: 'M', pid: PID, args: { labels: `kvmdbg ${meta.tool}, ${meta.source}` } });
    for (const t of w.threads) {
      const tid = t.id + 1;
      this.tids.set(t.name, tid);
      this.events.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: t.name } });
      this.events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: t.id } });
    }
    const kvm = (w as unknown as { kvm?: { mmu_invalidate_seq?: number; mmu_invalidate_in_progress?: number } }).kvm;
    this.counter(0, 'mmu_invalidate_seq', kvm?.mmu_invalidate_seq ?? 0);
    this.counter(0, 'mmu_invalidate_in_progress', kvm?.mmu_invalidate_in_progress ?? 0);
  }

  private tid(name: string): number {
    let t = this.tids.get(name);
    if (t === undefined) {
      t = this.next_extra++;
      this.tids.set(name, t);
      this.events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: t, args: { name: name === '-' ? 'kvmdbg' : name } });
    }
    return t;
  }

  private counter(ts: number, name: string, value: number): void {
    this.events.push({ name, cat: 'counter', ph: 'C', ts, pid: PID, args: { value } });
  }

  private stack(tid: number): Open[] {
    let s = this.stacks.get(tid);
    if (!s) this.stacks.set(tid, (s = []));
    return s;
  }

  private begin(tid: number, ts: number, o: Open): void {
    this.stack(tid).push(o);
    this.events.push({ name: o.name, cat: o.cat, ph: 'B', ts, pid: PID, tid, args: o.args });
  }

  /** Close slice `key`; slices opened inside it are closed and opened again, so the track stays nested. */
  private end(tid: number, ts: number, key: string): void {
    const st = this.stack(tid);
    let i = st.length - 1;
    while (i >= 0 && st[i]!.key !== key) i--;
    if (i < 0) return;
    const above = st.splice(i + 1);
    for (let k = above.length - 1; k >= 0; k--) this.events.push({ ph: 'E', ts, pid: PID, tid });
    st.pop();
    this.events.push({ ph: 'E', ts, pid: PID, tid });
    for (const o of above) this.begin(tid, ts, { ...o, args: { ...o.args, continued: true } });
  }

  event(e: Event): void {
    if (e.step !== this.step) {
      this.step = e.step;
      this.in_step = 0;
    }
    const ts = e.step + Math.min(this.in_step++, 999) * TICK;
    this.last_ts = ts;
    const tid = this.tid(e.thread);
    const args: Record<string, unknown> = { step: e.step, seq: e.seq, cpu: e.cpu };
    if (e.vcpu !== null) args.vcpu = e.vcpu;
    for (const [k, v] of own_fields(e)) args[k] = json_safe(v, field_tag(e.kind, k));
    const cat = e.kind.split('.')[0]!;

    switch (e.kind) {
      case 'vcpu.enter':
        this.begin(tid, ts, { key: 'guest', name: `guest (${String(e.hw_mmu)})`, cat: 'vcpu', args: { step: e.step, hw_mmu: args.hw_mmu } });
        break;
      case 'vcpu.exit':
        this.end(tid, ts, 'guest');
        break;
      case 'lock.acquire':
        this.begin(tid, ts, { key: `lock:${String(e.lock)}`, name: `${String(e.lock)} (${String(e.mode)})`, cat: 'lock', args: { step: e.step, lock: e.lock, mode: e.mode } });
        break;
      case 'lock.release':
        this.end(tid, ts, `lock:${String(e.lock)}`);
        break;
      case 'request.make': {
        this.events.push({ name: `request.make ${String(e.req)}`, cat, ph: 'X', ts, dur: SHORT, pid: PID, tid, args });
        const key = `${String(e.target)}/${String(e.req)}`;
        let list = this.pending.get(key);
        if (!list) this.pending.set(key, (list = []));
        list.push({ name: `request ${String(e.req)}`, cat: 'request', ph: 's', ts: ts + SHORT / 2, pid: PID, tid, id: 0 });
        return;
      }
      case 'request.check': {
        this.events.push({ name: `request.check ${String(e.req)}`, cat, ph: 'X', ts, dur: SHORT, pid: PID, tid, args });
        if (e.result === true && e.vcpu !== null) {
          const key = `${e.vcpu}/${String(e.req)}`;
          const list = this.pending.get(key);
          if (list?.length) {
            for (const s of list) {
              const id = this.flow_id++;
              this.events.push({ ...s, id });
              this.events.push({ name: s.name!, cat: 'request', ph: 'f', bp: 'e', ts: ts + SHORT / 2, pid: PID, tid, id });
              this.flows++;
            }
            this.pending.delete(key);
          }
        }
        return;
      }
      case 'invalidate.begin':
      case 'invalidate.numa_protect':
        if (typeof e.in_progress === 'number') this.counter(ts, 'mmu_invalidate_in_progress', e.in_progress);
        break;
      case 'invalidate.end':
        if (typeof e.mmu_invalidate_seq === 'number') this.counter(ts, 'mmu_invalidate_seq', e.mmu_invalidate_seq);
        if (typeof e.in_progress === 'number') this.counter(ts, 'mmu_invalidate_in_progress', e.in_progress);
        break;
    }
    this.events.push({ name: e.kind, cat, ph: 'i', s: 't', ts, pid: PID, tid, args });
  }

  /**
   * A violated invariant, after the events of its step: an instant on the
   * thread's track and a global one (a line across every track), both
   * named after the invariant, with the whole message in their args.
   */
  violation(v: Violation): void {
    const ts = v.step === this.step ? v.step + Math.min(this.in_step++, 999) * TICK : v.step;
    this.last_ts = Math.max(this.last_ts, ts);
    const values: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.values)) values[k] = json_safe(x, undefined);
    const args = { step: v.step, invariant: v.invariant, message: v.message, thread: v.thread, values };
    const name = `VIOLATION ${v.invariant}`;
    this.events.push({ name, cat: 'violation', ph: 'i', s: 't', ts, pid: PID, tid: this.tid(v.thread), args });
    this.events.push({ name, cat: 'violation', ph: 'i', s: 'g', ts, pid: PID, args });
  }

  /** Close the slices still open (a guest still running, a lock still held) at the end. */
  finish(): TraceEvent[] {
    const ts = this.last_ts + TICK;
    for (const [tid, st] of this.stacks) {
      for (let k = st.length - 1; k >= 0; k--) this.events.push({ ph: 'E', ts, pid: PID, tid });
      st.length = 0;
    }
    return this.events;
  }
}

/** The whole trace as JSON text (one trace event per line, so that big traces diff and grep well). */
export function perfetto_json(events: TraceEvent[], metadata: Record<string, unknown>): string {
  const body = events.map((e) => JSON.stringify(e)).join(',\n');
  return `{"displayTimeUnit":"ns","metadata":${JSON.stringify(metadata)},"traceEvents":[\n${body}\n]}\n`;
}
