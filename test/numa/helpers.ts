// Running the NUMA scenarios and small hand-written worlds for the x86 TDP
// fault path, and summing metrics over seeds for the variant comparisons.
import { fileURLToPath } from 'node:url';
import { load_scenario, parse_scenario, type LoadedScenario } from '../../src/scenario/load.js';
import { run_scenario, type RunResult } from '../../src/scenario/run.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import type { Violation } from '../../src/core/machine/world.js';

export const X86_FILE = fileURLToPath(new URL('../../scenarios/numa-invalidate-retry.yaml', import.meta.url));
export const ARM64_FILE = fileURLToPath(new URL('../../scenarios/numa-invalidate-retry-arm64.yaml', import.meta.url));

/** Load a scenario with extra variants, added straight to the config (create_world() accepts any arch's). */
export function load_with(file: string, variants: string[] = [], seed?: number): LoadedScenario {
  const s = load_scenario(file, seed === undefined ? {} : { seed });
  for (const v of variants) if (!s.config.variants.includes(v)) s.config.variants.push(v);
  return s;
}

export function parse_with(text: string, variants: string[] = []): LoadedScenario {
  const s = parse_scenario(text, 'test.yaml');
  for (const v of variants) if (!s.config.variants.includes(v)) s.config.variants.push(v);
  return s;
}

/** IPIs sent for KVM_REQ_TLB_FLUSH (kvm_make_all_cpus_request's mask), from the events. */
export function flush_ipis(events: Event[]): number {
  let n = 0;
  for (const e of events) if (e.kind === 'request.make_all' && e['req'] === 'TLB_FLUSH') n += (e['ipi_mask'] as number[]).length;
  return n;
}

export interface Totals {
  runs: number;
  violations: number;
  metrics: Record<string, number>;
}

/** Sum each metric (plus remote_flush_ipis from the events) over seeds 1..n. */
export function totals(file: string, variants: string[], n: number): Totals {
  const out: Totals = { runs: 0, violations: 0, metrics: {} };
  for (let seed = 1; seed <= n; seed++) {
    let ipis = 0;
    const r = run_scenario(load_with(file, variants, seed), {
      keep_events: false,
      on_event: (e) => {
        if (e.kind === 'request.make_all' && e['req'] === 'TLB_FLUSH') ipis += (e['ipi_mask'] as number[]).length;
      },
    });
    out.runs++;
    if (r.violation) out.violations++;
    for (const [k, v] of Object.entries(r.metrics)) out.metrics[k] = (out.metrics[k] ?? 0) + v;
    out.metrics['remote_flush_ipis'] = (out.metrics['remote_flush_ipis'] ?? 0) + ipis;
  }
  return out;
}

export const metric = (t: Totals, k: string) => t.metrics[k] ?? 0;

export interface Driven {
  m: Machine;
  events: Event[];
  violation: Violation | null;
}

/** Build a machine for a scenario text (its schedule policy is ignored: the test forces each step). */
export function machine_for(text: string, variants: string[] = []): Driven {
  const s = parse_with(text, variants);
  return { m: new Machine(create_world(s.config)), events: [], violation: null };
}

/**
 * Step `thread` until `until` holds for the events of a step (or it cannot
 * run); stops at the first violation. Returns how many steps it took.
 */
export function drive(d: Driven, thread: string, until: (evs: Event[]) => boolean): number {
  const t = d.m.w.threads.find((x) => x.name === thread);
  if (!t) throw new Error(`no thread ${thread}`);
  let n = 0;
  for (let k = 0; k < 10_000 && !d.violation; k++) {
    if (!d.m.runnable().includes(t.id)) break;
    const r = d.m.step(t.id);
    n++;
    d.events.push(...r.events);
    if (r.violations.length) d.violation = r.violations[0]!;
    if (until(r.events)) break;
  }
  return n;
}

/** Run the rest round-robin to the end (or the first violation). */
export function finish(d: Driven): void {
  for (let k = 0; k < 100_000 && !d.violation; k++) {
    const r = d.m.step();
    if (r.status === 'end') return;
    if (r.status === 'deadlock') throw new Error(`deadlock: ${(r.blocked ?? []).join('; ')}`);
    d.events.push(...r.events);
    if (r.violations.length) d.violation = r.violations[0]!;
  }
}

export const saw = (kind: string, pred: (e: Event) => boolean = () => true) => (evs: Event[]) => evs.some((e) => e.kind === kind && pred(e));

export const of_kind = (events: Event[], kind: string, thread?: string) => events.filter((e) => e.kind === kind && (thread === undefined || e.thread === thread));

export type { RunResult };
