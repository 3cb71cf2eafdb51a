// Building and running small x86 worlds for the Hyper-V flush tests.
import { create_world, type WorldConfig } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';
import type { Op, Violation } from '../../src/core/machine/world.js';

export type Prog = Record<string, [string, Record<string, unknown>][]>;

/** A WorldConfig for an x86 VM: vCPU programs and host threads as [op, args] lists. */
export function x86_config(
  vcpus: number,
  prog: Prog,
  opts: { variants?: string[]; policy?: 'rr' | 'random' | 'script'; seed?: number; script?: string[] } = {},
): WorldConfig {
  const threads = Object.entries(prog).map(([name, ops]) => ({
    name,
    kind: name.startsWith('vcpu') ? ('vcpu' as const) : name.startsWith('mm') ? ('mm' as const) : ('vmm' as const),
    prog: ops.map(([op, args]): Op => ({ op, args })),
  }));
  return {
    arch: 'x86',
    vcpus,
    memslots: [],
    threads,
    sched: { policy: opts.policy ?? 'random', seed: opts.seed ?? 1, ...(opts.script ? { script: opts.script } : {}) },
    variants: opts.variants ?? [],
  };
}

export interface Run {
  m: Machine;
  events: Event[];
  status: 'end' | 'deadlock' | 'violation' | 'limit';
  violation: Violation | null;
  blocked: string[];
}

/** Run to the end, the first violation, a deadlock, or `limit` steps (`invariants: false`: never stop for one). */
export function run(cfg: WorldConfig, limit = 20_000, keep_events = true, invariants = true): Run {
  const m = new Machine(create_world(cfg), { invariants });
  const events: Event[] = [];
  if (keep_events) m.subscribe((e) => events.push(e));
  for (let i = 0; i < limit; i++) {
    const r = m.step();
    if (r.status !== 'ok') return { m, events, status: r.status, violation: null, blocked: r.blocked ?? [] };
    if (r.violations.length) return { m, events, status: 'violation', violation: r.violations[0]!, blocked: [] };
  }
  return { m, events, status: 'limit', violation: null, blocked: [] };
}

/** Expand a committed script: "vcpu0*12" is vcpu0 twelve times. */
export function script(...parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    const m = /^(.*)\*(\d+)$/.exec(p);
    if (m) for (let i = 0; i < Number(m[2]); i++) out.push(m[1]!);
    else out.push(p);
  }
  return out;
}

/** Events of a kind (optionally from one thread). */
export function of_kind(events: Event[], kind: string, thread?: string): Event[] {
  return events.filter((e) => e.kind === kind && (thread === undefined || e.thread === thread));
}

/**
 * Drive a machine by hand: for each [thread, until], step that thread until
 * `until` holds after a step (or it cannot run). Returns the events.
 */
export function drive(m: Machine, plan: [string, (m: Machine, step_events: Event[]) => boolean][], events: Event[] = []): Event[] {
  for (const [name, until] of plan) {
    const t = m.w.threads.find((x) => x.name === name);
    if (!t) throw new Error(`no thread ${name}`);
    for (let k = 0; k < 10_000; k++) {
      if (!m.runnable().includes(t.id)) break;
      const r = m.step(t.id);
      events.push(...r.events);
      if (r.violations.length) throw new Error(`violation: ${r.violations[0]!.message}`);
      if (until(m, r.events)) break;
    }
  }
  return events;
}

/** Run the rest round-robin to the end; throws on a violation or deadlock. */
export function finish(m: Machine, events: Event[] = []): Event[] {
  for (let k = 0; k < 100_000; k++) {
    const r = m.step();
    if (r.status === 'end') return events;
    if (r.status === 'deadlock') throw new Error(`deadlock: ${(r.blocked ?? []).join('; ')}`);
    events.push(...r.events);
    if (r.violations.length) throw new Error(`violation: ${r.violations[0]!.message}`);
  }
  throw new Error('no end');
}

export const saw = (kind: string, pred: (e: Event) => boolean = () => true) => (_m: Machine, evs: Event[]) => evs.some((e) => e.kind === kind && pred(e));
