// Exports: the Perfetto trace is valid JSON whose slices nest on every
// track and whose flows pair up; the ftrace text parses line by line.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { record_run } from '../../src/record/run.js';
import { load_recording } from '../../src/record/load.js';
import { export_recording } from '../../src/record/export.js';
import { FTRACE_LINE, ftrace_name } from '../../src/record/ftrace.js';
import type { TraceEvent } from '../../src/record/perfetto.js';
import { ensure_built, kvmdbg } from '../cli/helpers.js';
import { apply_poke, tmp_file } from './helpers.js';

interface Slice {
  start: number;
  end: number;
  name: string;
}

/** Check B/E pairing in file order and that all slices (B/E and X) of each track nest; returns the slices by track. */
function check_nesting(events: TraceEvent[]): Map<string, Slice[]> {
  const tracks = new Map<string, Slice[]>();
  const open = new Map<string, { ts: number; name: string }[]>();
  const track = (e: TraceEvent) => `${e.pid}/${e.tid}`;
  const add = (k: string, s: Slice) => {
    let l = tracks.get(k);
    if (!l) tracks.set(k, (l = []));
    l.push(s);
  };
  for (const e of events) {
    const k = track(e);
    if (e.ph === 'B') {
      let st = open.get(k);
      if (!st) open.set(k, (st = []));
      st.push({ ts: e.ts!, name: e.name! });
    } else if (e.ph === 'E') {
      const st = open.get(k);
      expect(st?.length, `E without B on track ${k} at ${e.ts}`).toBeGreaterThan(0);
      const b = st!.pop()!;
      expect(e.ts!).toBeGreaterThanOrEqual(b.ts);
      add(k, { start: b.ts, end: e.ts!, name: b.name });
    } else if (e.ph === 'X') {
      expect(e.dur!).toBeGreaterThan(0);
      add(k, { start: e.ts!, end: e.ts! + e.dur!, name: e.name! });
    }
  }
  for (const [k, st] of open) expect(st, `slices left open on ${k}`).toHaveLength(0);
  for (const [k, list] of tracks) {
    const sorted = [...list].sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: Slice[] = [];
    for (const s of sorted) {
      while (stack.length && stack[stack.length - 1]!.end <= s.start) stack.pop();
      const top = stack[stack.length - 1];
      if (top) expect(s.end, `${s.name} [${s.start}, ${s.end}] overlaps ${top.name} [${top.start}, ${top.end}] on ${k}`).toBeLessThanOrEqual(top.end + 1e-9);
      stack.push(s);
    }
  }
  return tracks;
}

function check_flows(events: TraceEvent[], tracks: Map<string, Slice[]>): number {
  const starts = new Map<number, TraceEvent>();
  const finishes = new Map<number, TraceEvent>();
  for (const e of events) {
    if (e.ph === 's') {
      expect(starts.has(e.id!)).toBe(false);
      starts.set(e.id!, e);
    } else if (e.ph === 'f') {
      expect(finishes.has(e.id!)).toBe(false);
      finishes.set(e.id!, e);
    }
  }
  expect([...starts.keys()].sort()).toEqual([...finishes.keys()].sort());
  const inside = (e: TraceEvent) => (tracks.get(`${e.pid}/${e.tid}`) ?? []).some((s) => s.start <= e.ts! && e.ts! <= s.end);
  for (const [id, s] of starts) {
    const f = finishes.get(id)!;
    expect(f.ts!).toBeGreaterThan(s.ts!);
    expect(f.bp).toBe('e');
    expect(inside(s), `flow ${id} start outside a slice`).toBe(true);
    expect(inside(f), `flow ${id} end outside a slice`).toBe(true);
  }
  return starts.size;
}

const cases = [...bundled_scenarios().map((s) => ({ id: s.id, path: s.path, variants: [] as string[] })), { id: 'nv-s2-recycle', path: bundled_scenarios().find((s) => s.id === 'nv-s2-recycle')!.path, variants: ['nv.no_unmap_request'] }];

describe('export to Perfetto', () => {
  for (const c of cases) {
    it(`${c.id}${c.variants.length ? ` + ${c.variants}` : ''}: valid JSON, nested slices, paired flows, counters, named tracks`, async () => {
      const file = tmp_file(`${c.id}.jsonl`);
      await record_run(load_scenario(c.path, { variants: c.variants }), { path: file, steps: 3000, keep_events: false, signals: [] });
      const rec = load_recording(file);
      const r = export_recording(rec, 'perfetto', { apply_poke });
      expect(r.replay.divergence).toBeNull();
      const trace = JSON.parse(r.text) as { traceEvents: TraceEvent[]; metadata: { kvmdbg: { steps: number } } };
      const evs = trace.traceEvents;
      expect(trace.metadata.kvmdbg.steps).toBe(rec.picks.length);
      const tracks = check_nesting(evs);
      const flows = check_flows(evs, tracks);
      expect(flows).toBe(r.flows);
      // Every instant carries its step, and its timestamp is in that step.
      const instants = evs.filter((e) => e.ph === 'i');
      expect(instants.length).toBeGreaterThan(0);
      for (const e of instants) {
        expect(Math.floor(e.ts!)).toBe(e.args!.step);
        if (e.cat !== 'violation') expect(e.s).toBe('t');
      }
      // A violation is marked on its thread's track and globally.
      const marks = instants.filter((e) => e.cat === 'violation');
      expect(marks.length).toBe(2 * r.replay.violations.length);
      for (const v of r.replay.violations) expect(marks.filter((e) => e.name === `VIOLATION ${v.invariant}`).map((e) => e.s).sort()).toEqual(['g', 't']);
      // Names for the process and every thread track used.
      const named = new Set(evs.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid));
      for (const e of evs) if (e.tid !== undefined && e.ph !== 'M') expect(named.has(e.tid), `tid ${e.tid}`).toBe(true);
      expect(evs.some((e) => e.ph === 'M' && e.name === 'process_name')).toBe(true);
      const counters = new Set(evs.filter((e) => e.ph === 'C').map((e) => e.name));
      expect(counters).toEqual(new Set(['mmu_invalidate_seq', 'mmu_invalidate_in_progress']));
      // Guest runs are slices on vCPU tracks.
      expect(evs.some((e) => e.ph === 'B' && e.name!.startsWith('guest ('))).toBe(true);
    });
  }

  it('request flows go from the requester to the target vCPU', async () => {
    const file = tmp_file('flows.jsonl');
    await record_run(load_scenario(cases.find((c) => c.id === 'default')!.path), { path: file, keep_events: false, signals: [] });
    const r = export_recording(load_recording(file), 'perfetto');
    const evs = (JSON.parse(r.text) as { traceEvents: TraceEvent[] }).traceEvents;
    const names = new Map(evs.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args!.name as string]));
    const flows = evs.filter((e) => e.ph === 'f');
    expect(flows.length).toBeGreaterThan(0);
    for (const f of flows) expect(names.get(f.tid)).toMatch(/^vcpu\d+$/);
  });
});

describe('export to ftrace text', () => {
  for (const c of cases.slice(0, -1)) {
    it(`${c.id}: every line parses, upstream names where they exist`, async () => {
      const file = tmp_file(`${c.id}-ft.jsonl`);
      await record_run(load_scenario(c.path), { path: file, steps: 3000, keep_events: false, signals: [] });
      const r = export_recording(load_recording(file), 'ftrace', { apply_poke });
      const lines = r.text.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^cpus=\d+$/);
      const body = lines.slice(1);
      // One line per event, and one per violation.
      expect(body).toHaveLength(r.events + r.replay.violations.length);
      expect(body.filter((l) => l.includes(': kvmdbg_violation:'))).toHaveLength(r.replay.violations.length);
      let last = -1;
      const names = new Set<string>();
      for (const l of body) {
        const m = FTRACE_LINE.exec(l);
        expect(m, l).not.toBeNull();
        const ts = Number(m![4]);
        expect(ts).toBeGreaterThanOrEqual(last);
        last = ts;
        names.add(m![5]!);
        expect(m![5]!.startsWith('kvmdbg_') || /kind=/.test(m![6]!)).toBe(true);
      }
      expect(names.has('kvm_entry')).toBe(true);
      expect(names.has('kvm_exit')).toBe(true);
      expect([...names].some((n) => n.startsWith('kvmdbg_'))).toBe(true);
    });
  }

  it('maps kinds to upstream tracepoints or kvmdbg_ names', () => {
    expect(ftrace_name('invalidate.start', 'arm64')).toBe('kvm_unmap_hva_range');
    expect(ftrace_name('fault.start', 'arm64')).toBe('kvm_guest_fault');
    expect(ftrace_name('fault.start', 'x86')).toBe('kvm_page_fault');
    expect(ftrace_name('request.make', 'x86')).toBe('kvmdbg_request_make');
    expect(ftrace_name('hv.fifo.push', 'x86')).toBe('kvmdbg_hv_fifo_push');
  });
});

describe('kvmdbg export', () => {
  beforeAll(() => ensure_built(), 300_000);
  it('writes both formats and says what it wrote', () => {
    const rec = tmp_file('cli.jsonl');
    expect(kvmdbg(['run', 'hv-tlb-flush-inhibit', '--record', rec]).code).toBe(0);
    const json = tmp_file('trace.json');
    const a = kvmdbg(['export', rec, '--format', 'perfetto', '-o', json]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/trace\.json: \d+ events from \d+ steps, \d+ request flows? \(perfetto\); open it at https:\/\/ui\.perfetto\.dev/);
    expect(() => JSON.parse(readFileSync(json, 'utf8'))).not.toThrow();
    const b = kvmdbg(['export', rec, '--format', 'ftrace', '-o', '-']);
    expect(b.code).toBe(0);
    for (const l of b.stdout.trimEnd().split('\n').slice(1)) expect(l).toMatch(FTRACE_LINE);
    const c = kvmdbg(['export', rec, '--format', 'pdf', '-o', json]);
    expect(c.code).toBe(2);
    const d = kvmdbg(['export', rec, '--format', 'ftrace']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/-o FILE is required/);
  });
});
