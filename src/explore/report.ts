// What the explorer hands back: the recording of the counterexample
// (src/record's Recorder, driven by the schedule, ending at the violating
// step), the schedule in words, the shard result files and their merge.
import { BASELINE } from '../core/baseline.js';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Machine, type Schedule } from '../core/machine/machine.js';
import type { ChoiceKind } from '../core/machine/scheduler.js';
import type { Thread, Violation, World } from '../core/machine/world.js';
import { create_world, type WorldConfig } from '../core/world_init.js';
import { Recorder } from '../record/recorder.js';
import { package_version } from '../scenario/bundled.js';
import { UserError } from '../scenario/errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import { outcome, union, type ExploreResult, type ExploreStatus, type ViolationReport } from './explore.js';
import type { SearchParams } from './part.js';
import { LEARN_RUNS, type Breach, type Facts } from './facts.js';

/** One step of a schedule in words: the thread and the injected faults it took. */
export interface NamedStep {
  step: number;
  thread: string;
  /** Choice answers that were not 0, as kind=answer. */
  faults: string[];
}

/** Replay `s` and name its steps (thread names, choice kinds). */
export function name_steps(config: WorldConfig, s: Schedule): NamedStep[] {
  let ci = 0;
  let faults: string[] = [];
  const m = new Machine(create_world(config), {
    chooser: (_w: World, _t: Thread, kind: ChoiceKind) => {
      const v = s.choices[ci++] ?? 0;
      if (v !== 0) faults.push(`${kind.name}=${v}`);
      return v;
    },
  });
  const out: NamedStep[] = [];
  for (let i = 0; i < s.picks.length; i++) {
    faults = [];
    const r = m.step(s.picks[i]!);
    if (r.status !== 'ok') break;
    out.push({ step: i + 1, thread: r.thread!.name, faults });
  }
  return out;
}

/** Runs of one thread: "vcpu0 x12", and the faults with their steps. */
export function describe_schedule(steps: NamedStep[]): { runs: { thread: string; steps: number; first: number }[]; faults: { step: number; thread: string; fault: string }[] } {
  const runs: { thread: string; steps: number; first: number }[] = [];
  const faults: { step: number; thread: string; fault: string }[] = [];
  for (const s of steps) {
    const last = runs[runs.length - 1];
    if (last && last.thread === s.thread) last.steps++;
    else runs.push({ thread: s.thread, steps: 1, first: s.step });
    for (const f of s.faults) faults.push({ step: s.step, thread: s.thread, fault: f });
  }
  return { runs, faults };
}

export function schedule_text(steps: NamedStep[]): string {
  const d = describe_schedule(steps);
  let t = d.runs.map((r) => `${r.thread} x${r.steps}`).join(', ');
  if (d.faults.length) t += `; injected: ${d.faults.map((f) => `${f.fault} at step ${f.step} (${f.thread})`).join(', ')}`;
  return t;
}

/**
 * Write the counterexample as a recording (src/record's format, driven by
 * the schedule): it ends at the violating step, where `kvmdbg tui FILE`
 * and `kvmdbg replay FILE` stop.
 */
export function write_recording(path: string, loaded: LoadedScenario, s: Schedule, status: 'violation' | 'deadlock'): { bytes: number; steps: number } {
  const rec = new Recorder(path, loaded, { drive: 'schedule', signals: false });
  const m = new Machine(create_world(loaded.config));
  m.replay = { s, pick: 0, choice: 0 };
  try {
    rec.start(m);
    for (let i = 0; i < s.picks.length; i++) {
      const r = m.step();
      if (r.status !== 'ok') break;
      rec.after_step(r);
    }
  } catch (e) {
    rec.writer.abandon();
    throw e;
  }
  rec.close(status);
  return { bytes: rec.writer.bytes, steps: rec.writer.steps };
}

// ---------------------------------------------------------------- shards

export const SHARD_FORMAT = 'kvmdbg-explore-shard';
export const SHARD_VERSION = 1;

/** Infinity does not survive JSON: bounds that are not set are null. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function unfinite(x: number | null): number {
  return x === null ? Infinity : x;
}

export function params_json(p: SearchParams): Record<string, unknown> {
  return { ...p, budget: finite(p.budget), depth: finite(p.depth), faults: finite(p.faults), facts: p.facts ? facts_summary(p.facts) : null };
}

/** The learned facts as the JSON output and shard files give them: how many locations, and a digest to compare. */
function facts_summary(f: Facts): Record<string, unknown> {
  const owned = f.who.filter(([, t]) => t >= 0).length;
  return { runs: LEARN_RUNS, locations: f.who.length, single_thread: owned, written: f.written.length, digest: text_digest(JSON.stringify(f)) };
}

function params_from_json(j: Record<string, unknown>): SearchParams {
  return {
    ...(j as unknown as SearchParams),
    budget: unfinite(j.budget as number | null),
    depth: unfinite(j.depth as number | null),
    faults: unfinite(j.faults as number | null),
    // Merged shards search no further: the digest is compared, the facts themselves are not needed.
    facts: j.facts ? { who: [], written: [] } : null,
  };
}

export function text_digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function keys_b64(keys: Float64Array): string {
  return Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength).toString('base64');
}

function keys_from_b64(s: string): Float64Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float64Array(b.length / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export interface ShardFile {
  format: typeof SHARD_FORMAT;
  version: number;
  tool: string;
  /** The upstream release modelled (src/core/baseline.ts). */
  model: string;
  scenario: { name: string; file: string; arch: string; digest: string };
  variants: string[];
  params: Record<string, unknown>;
  shard: { k: number; n: number };
  workers: number;
  status: ExploreStatus;
  complete: boolean;
  cut: boolean;
  transitions: number;
  schedules: number;
  distinct: number;
  depth: number;
  time_ms: number;
  items: number;
  violation: (Omit<ViolationReport, 'shrunk'> & { shrunk: unknown; recording: string | null }) | null;
  /** The visited state keys: 53-bit numbers as little-endian float64, base64. */
  keys: string;
  /** A step broke the learned facts and the time ran out before the shard searched again: it proves nothing (absent in files from before facts). */
  breach?: Breach | null;
  /** Searches of this shard started again after a breach, with what it learned (absent in files from before shards learned). */
  restarts?: number;
}

export function write_shard(path: string, loaded: LoadedScenario, r: ExploreResult, recording: string | null): void {
  const f: ShardFile = {
    format: SHARD_FORMAT,
    version: SHARD_VERSION,
    tool: package_version(),
    model: BASELINE,
    scenario: { name: r.scenario.name, file: r.scenario.path, arch: r.scenario.arch, digest: text_digest(loaded.meta.text) },
    variants: r.variants,
    // The facts the shard started from: every shard of one search learned the same from the random runs
    // (what each learned from its own breaches since can differ, and need not agree: dfs.ts, facts_above_split).
    params: params_json({ ...r.params, facts: r.initial_facts }),
    shard: r.shard,
    workers: r.workers,
    status: r.status,
    complete: r.complete,
    cut: r.cut,
    transitions: r.transitions,
    schedules: r.schedules,
    distinct: r.distinct,
    depth: r.depth,
    time_ms: r.time_ms,
    items: r.items,
    violation: r.violation ? { ...r.violation, recording } : null,
    keys: keys_b64(r.keys),
    breach: r.breach,
    restarts: r.restarts,
  };
  try {
    writeFileSync(path, JSON.stringify(f) + '\n');
  } catch (e) {
    throw new UserError(`${path}: cannot write the shard result: ${(e as Error).message}`);
  }
}

export interface Merged {
  result: ExploreResult;
  /** The recording the winning shard wrote, if any. */
  recording: string | null;
  files: string[];
}

function read_shard(path: string): ShardFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read the shard result: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let f: ShardFile;
  try {
    f = JSON.parse(text) as ShardFile;
  } catch (e) {
    throw new UserError(`${path}: not a shard result (${(e as Error).message}); expected the file \`kvmdbg explore --shard K/N\` wrote`);
  }
  if (f?.format !== SHARD_FORMAT) throw new UserError(`${path}: not a shard result; expected the file \`kvmdbg explore --shard K/N\` wrote`);
  if (f.version !== SHARD_VERSION) throw new UserError(`${path}: shard result version ${f.version}; expected ${SHARD_VERSION}`);
  return f;
}

/** Combine shard results: every shard 1..N of one search, exactly once. */
export function merge_shards(paths: string[]): Merged {
  if (paths.length === 0) throw new UserError('--merge: expected the shard result files');
  const files = paths.map((p) => ({ path: p, f: read_shard(p) }));
  const a = files[0]!;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  for (const { path, f } of files.slice(1)) {
    const what = !same(f.scenario.digest, a.f.scenario.digest)
      ? 'scenario'
      : !same(f.model, a.f.model)
        ? 'model (upstream release)'
      : !same(f.variants, a.f.variants)
        ? 'variants'
        : !same(f.params, a.f.params)
          ? 'search options (strategy, seed, bounds)'
          : f.shard.n !== a.f.shard.n
            ? 'number of shards'
            : null;
    if (what) throw new UserError(`${path}: another search than ${a.path} (its ${what} differ); expected shards of one \`kvmdbg explore --shard K/N\` search`);
  }
  const n = a.f.shard.n;
  const by_k = new Map<number, string>();
  for (const { path, f } of files) {
    const prev = by_k.get(f.shard.k);
    if (prev) throw new UserError(`${path}: shard ${f.shard.k}/${n} again (also ${prev}); expected each shard once`);
    by_k.set(f.shard.k, path);
  }
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !by_k.has(k));
  if (missing.length) throw new UserError(`--merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')}; expected all ${n} shards`);

  const keys = union(files.map(({ f }) => keys_from_b64(f.keys)));
  const with_v = files.filter(({ f }) => f.violation).sort((x, y) => x.f.violation!.item - y.f.violation!.item || x.f.shard.k - y.f.shard.k);
  const win = with_v[0];
  const params = params_from_json(a.f.params);
  const breach = files.find(({ f }) => f.breach)?.f.breach ?? null;
  const { status, complete } = outcome(files.map(({ f }) => f), win !== undefined, params.strategy);
  const sum = (g: (f: ShardFile) => number) => files.reduce((s, { f }) => s + g(f), 0);
  const v = win?.f.violation ?? null;
  const result: ExploreResult = {
    scenario: { name: a.f.scenario.name, path: a.f.scenario.file, arch: a.f.scenario.arch },
    variants: a.f.variants,
    params,
    workers: Math.max(...files.map(({ f }) => f.workers)),
    shard: { k: 0, n },
    parts: sum((f) => f.workers),
    status,
    complete,
    cut: files.some(({ f }) => f.cut),
    full: false,
    transitions: sum((f) => f.transitions),
    schedules: sum((f) => f.schedules),
    distinct: keys.length,
    depth: Math.max(...files.map(({ f }) => f.depth)),
    time_ms: Math.max(...files.map(({ f }) => f.time_ms)),
    shrink_ms: 0,
    items: Math.max(...files.map(({ f }) => f.items)),
    slept: 0,
    revisits: 0,
    violation: v ? { violation: v.violation, violations: v.violations, schedule: v.schedule, steps: v.steps, item: v.item, shrunk: v.shrunk as ViolationReport['shrunk'] } : null,
    keys,
    restarts: sum((f) => f.restarts ?? 0),
    breach,
    initial_facts: null,
    // A shard searches its bound at once.
    rounds: [{ preemptions: params.preemptions, status, distinct: keys.length, transitions: sum((f) => f.transitions), time_ms: Math.max(...files.map(({ f }) => f.time_ms)), restarts: sum((f) => f.restarts ?? 0), cut: files.some(({ f }) => f.cut) }],
    verified_preemptions: complete ? params.preemptions : null,
    target_preemptions: params.preemptions,
  };
  return { result, recording: v?.recording ?? null, files: paths };
}

export function violation_json(v: Violation, json_fields: (x: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  return { invariant: v.invariant, step: v.step, thread: v.thread, message: v.message, values: json_fields(v.values ?? {}) };
}
