// `kvmdbg explore`: flags to options, progress on a terminal, Ctrl-C, the
// report (text or one JSON object), the recording, shard files and --merge.
// Exit 0 without a violation, 1 with one, 2 for bad input, 130 when Ctrl-C
// stopped the search before it found one.
import { patches_note } from '../patch/scope.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { check_output } from '../record/output.js';
import '../core/world_init.js';
import { resolve_scenario_arg } from '../scenario/bundled.js';
import { UserError } from '../scenario/errors.js';
import { load_scenario, type LoadedScenario } from '../scenario/load.js';
import { ANSI, format_fields, json_fields, paint, to_json } from '../repl/format.js';
import { explore, verified_round, type ExploreOptions, type ExploreResult, type Progress, type Round, type Strategy } from './explore.js';
import { loc_name } from './facts.js';
import { VISIT_KEY_BITS, key_collision_bound } from './keyset.js';
import { describe_schedule, merge_shards, name_steps, params_json, schedule_text, violation_json, write_recording, write_shard } from './report.js';

export interface ExploreCommandOptions {
  strategy?: Strategy;
  budget?: number;
  time?: number;
  depth?: number;
  workers?: number;
  shard?: { k: number; n: number };
  merge?: string[];
  out?: string;
  result?: string;
  json?: boolean;
  pctDepth?: number;
  preemptions?: number;
  iterate?: boolean;
  faults?: number;
  por?: boolean;
  coarse?: boolean;
  facts?: boolean;
  shrink?: boolean;
  progress?: boolean;
  states?: boolean;
  force?: boolean;
  variant?: string[];
  seed?: number;
  arch?: 'arm64' | 'x86';
  color?: boolean;
}

const EXIT_OK = 0;
const EXIT_VIOLATION = 1;
const EXIT_SIGINT = 130;

function use_color(o: ExploreCommandOptions): boolean {
  if (o.color === false || o.json) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return process.stdout.isTTY === true;
}

const num = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);

/** Big numbers in 4 characters or so: 12,345 -> 12.3k. */
function short(n: number): string {
  if (n < 10_000) return String(Math.round(n));
  for (const [d, u] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) if (n >= d) return `${(n / d).toFixed(n >= 100 * d ? 0 : 1)}${u}`;
  return String(n);
}

/**
 * One line on stderr, drawn over itself: short enough for 80 columns (a
 * line that wrapped could not be redrawn in place), cut to the terminal's
 * width when it is narrower.
 */
export class ProgressLine {
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(p: Progress): void {
    const rate = p.elapsed_ms > 0 ? (p.transitions / p.elapsed_ms) * 1000 : 0;
    let line = '';
    if (p.fraction !== null) {
      const w = 10;
      const f = Math.max(0, Math.min(1, p.fraction));
      const full = Math.round(f * w);
      line += `[${'#'.repeat(full)}${'.'.repeat(w - full)}] ${String(Math.floor(f * 100)).padStart(3)}% `;
    }
    if (p.preemptions !== null) line += `P${p.preemptions} `;
    line += `${secs(p.elapsed_ms)} ${short(rate)} st/s ${short(p.distinct)} distinct ${short(p.schedules)} sched depth ${short(p.depth)}`;
    if (p.current) line += ` at ${short(p.current)}`;
    const cols = Math.min(80, this.stream.columns || 80);
    this.stream.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

/** A file name in the current directory for what the search writes; for a recording, the first that is free. */
function default_out(name: string, shard: { k: number; n: number } | undefined, ext: string): string {
  const base = basename(name).replace(/[^A-Za-z0-9._-]+/g, '_') || 'explore';
  const stem = shard && shard.n > 1 ? `${base}.shard-${shard.k}-of-${shard.n}` : base;
  if (ext !== '.rec') return `${stem}${ext}`;
  for (let i = 1; ; i++) {
    const f = i === 1 ? `${stem}${ext}` : `${stem}-${i}${ext}`;
    if (!existsSync(f)) return f;
  }
}

function header_line(loaded: LoadedScenario, strategy: Strategy, o: ExploreCommandOptions, color: boolean): string {
  const vs = loaded.config.variants.length ? loaded.config.variants.join(', ') : 'none';
  const workers = Math.max(1, o.workers ?? availableParallelism());
  const where = o.shard && o.shard.n > 1 ? `, shard ${o.shard.k}/${o.shard.n}` : '';
  const seed = o.seed ?? loaded.config.sched.seed;
  return paint(color, ANSI.bold, `# explore ${loaded.meta.name} (${loaded.config.arch}): variants ${vs}${patches_note()}; strategy ${strategy}, seed ${seed}; ${workers} worker${workers === 1 ? '' : 's'}${where}`);
}

export async function explore_command(file: string | undefined, o: ExploreCommandOptions): Promise<number> {
  if (o.merge) {
    if (file !== undefined) throw new UserError(`--merge combines shard results; expected no scenario (got ${file})`);
    const m = merge_shards(o.merge);
    print(null, m.result, m.recording, o, []);
    return m.result.violation ? EXIT_VIOLATION : EXIT_OK;
  }
  if (file === undefined) throw new UserError('expected a scenario (a file, or the name of a bundled one: `kvmdbg scenarios`), or --merge FILES');
  const path = resolve_scenario_arg(file);
  const overrides = { variants: o.variant ?? [], ...(o.seed !== undefined ? { seed: o.seed } : {}) };
  const loaded = load_scenario(path, overrides);
  if (o.arch && o.arch !== loaded.config.arch) {
    throw new UserError(`${path}: the scenario is for ${loaded.config.arch}, not ${o.arch} (--arch); expected --arch ${loaded.config.arch} or no --arch`);
  }
  const strategy = o.strategy ?? 'random';
  if (o.preemptions !== undefined && strategy !== 'dfs') throw new UserError('--preemptions bounds the dfs strategy; expected --strategy dfs');
  if (o.iterate === false && o.preemptions === undefined) throw new UserError('--no-iterate searches the --preemptions bound at once; expected --strategy dfs --preemptions N');
  // Where the counterexample goes is settled before the search, not after it.
  if (o.out !== undefined) check_output(o.out, { inputs: [{ path, what: 'the scenario' }], force: o.force === true, what: 'the counterexample' });
  if (o.result !== undefined) check_output(o.result, { inputs: [{ path, what: 'the scenario' }, ...(o.out ? [{ path: o.out, what: 'the --out recording' }] : [])], force: false, what: 'the shard result' });

  // Ctrl-C stops the search cleanly and reports what was covered; a second one exits at once.
  const ac = new AbortController();
  const on_sigint = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', on_sigint);
  if (!o.json) process.stdout.write(`${header_line(loaded, strategy, o, use_color(o))}\n`);
  const tty = o.progress !== false && process.stderr.isTTY === true;
  const bar = tty ? new ProgressLine(process.stderr) : null;
  const opts: ExploreOptions = {
    strategy,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    ...(o.time !== undefined ? { time: o.time } : {}),
    ...(o.depth !== undefined ? { depth: o.depth } : {}),
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
    ...(o.preemptions !== undefined ? { preemptions: o.preemptions } : {}),
    ...(o.iterate === false ? { iterate: false } : {}),
    ...(o.por === false ? { por: false } : {}),
    ...(o.coarse === false ? { coarse: false } : {}),
    ...(o.facts === false ? { facts: false } : {}),
    ...(o.pctDepth !== undefined ? { pct_depth: o.pctDepth } : {}),
    ...(o.shrink === false ? { shrink: false } : {}),
    ...(o.states ? { states: true } : {}),
    ...(bar ? { on_progress: (p: Progress) => bar.update(p) } : {}),
    signal: ac.signal,
  };
  let r: ExploreResult;
  try {
    r = await explore(loaded, overrides, opts);
  } catch (e) {
    // One line, never a stack trace (a worker's error arrives with its stack in the message).
    if (e instanceof UserError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(msg.split(/\n|\s+at\s+(?:\S+\s+)?\(?(?:file|node):/)[0]!.trim());
  } finally {
    bar?.clear();
    process.removeListener('SIGINT', on_sigint);
  }
  let recording: string | null = null;
  const notes: string[] = [];
  if (r.violation) {
    recording = o.out ?? default_out(loaded.meta.name, o.shard, '.rec');
    const s = r.violation.shrunk?.schedule ?? r.violation.schedule;
    write_recording(recording, loaded, s, r.violation.violation.invariant === 'deadlock' ? 'deadlock' : 'violation');
  }
  if (o.shard) {
    const res = o.result ?? default_out(loaded.meta.name, o.shard, '.json');
    write_shard(res, loaded, r, recording);
    notes.push(`shard result: ${res} (combine the shards with \`kvmdbg explore --merge FILES...\`)`);
  }
  print(loaded, r, recording, o, notes, true);
  return r.violation ? EXIT_VIOLATION : r.status === 'interrupted' ? EXIT_SIGINT : EXIT_OK;
}

function bounds_text(r: ExploreResult): string {
  const p = r.params;
  const b: string[] = [];
  if (p.strategy === 'pct') b.push(`bug depth ${p.pct_depth}`);
  if (Number.isFinite(p.budget)) b.push(`budget ${num(p.budget)} schedules`);
  if (Number.isFinite(p.depth)) b.push(`depth ${num(p.depth)}${p.depth_auto ? ' (twice the longest of 4 random runs; --depth D sets it)' : ''}`);
  if (Number.isFinite(p.faults)) b.push(p.faults === 0 ? 'no injected faults' : `at most ${p.faults} injected fault${p.faults === 1 ? '' : 's'} per schedule`);
  // Bounds searched in turn: name the one asked for; the rounds line says how far each got.
  const pre = r.target_preemptions ?? p.preemptions;
  if (pre !== null) b.push(`at most ${pre} preemption${pre === 1 ? '' : 's'}${r.rounds.length > 1 || pre !== p.preemptions ? ', bounds from 0 in turn' : ''}`);
  if (p.strategy === 'dfs') {
    const red = [p.coarse ? `coarse transitions${p.facts ? ' with learned ownership' : ''}` : '', p.por && p.preemptions === null ? 'sleep sets' : ''].filter(Boolean);
    b.push(red.length ? red.join(' and ') : 'no reduction');
  }
  return b.join(', ');
}

/**
 * The bounds a complete dfs verdict holds within: the preemption and
 * fault bounds when set, and the depth when it cut some path (a depth
 * that cut nothing bounds nothing).
 */
export function verdict_bounds(r: ExploreResult, round: Round = r.rounds.at(-1)!): string {
  const p = r.params;
  const b: string[] = [];
  if (round.preemptions !== null) b.push(`preemptions=${round.preemptions}`);
  if (Number.isFinite(p.faults)) b.push(`faults=${p.faults}`);
  if (round.cut) b.push(`depth=${p.depth}`);
  return b.length ? b.join(', ') : 'none';
}

/** The rounds of a dfs that searched the preemption bounds in turn, one clause each. */
function rounds_text(r: ExploreResult): string {
  const how = (x: Round) => (x.status === 'complete' ? 'verified' : x.status === 'violation' ? 'violation' : x.status === 'time' ? 'the time ran out' : x.status);
  return r.rounds.map((x) => `${x.preemptions} ${how(x)} (${num(x.distinct)} states, ${secs(x.time_ms)})`).join('; ');
}

/** The states a verdict covers: the whole search's when verified, else the last bound verified's (null: no verdict). */
export function verdict_states(r: ExploreResult): number | null {
  if (verdict(r) === 'verified') return r.distinct;
  if (r.violation) return null;
  return verified_round(r.rounds)?.distinct ?? null;
}

/** The line under a verdict that says what its hash compaction may have missed. */
function collision_text(n: number): string {
  return `state keys are ${VISIT_KEY_BITS}-bit hashes: the chance that two of these states shared one (so one went unsearched) is at most ${key_collision_bound(n).toExponential(1)}`;
}

/** verified (a complete dfs, no violation), violation, or incomplete (anything else: never called verified). */
export function verdict(r: ExploreResult): 'verified' | 'violation' | 'incomplete' {
  return r.violation ? 'violation' : r.params.strategy === 'dfs' && r.complete && r.status === 'complete' ? 'verified' : 'incomplete';
}

/** Why a search that found nothing is not a verdict (null: it is one). */
export function incomplete_reason(r: Pick<ExploreResult, 'breach' | 'shard' | 'status' | 'full'>): string | null {
  const b = r.breach;
  if (b) {
    const broke = `a step of thread ${b.thread} ${b.write ? 'wrote' : 'read'} ${loc_name(b.loc)}, which the learned facts gave to ${b.was >= 0 ? `thread ${b.was}` : 'nobody (never written)'}`;
    // A search (a shard too) learns a breach and starts again (explore.ts): one that kept its breach was stopped first.
    const stop = r.status === 'interrupted' ? 'interrupted' : 'the time ran out';
    if (r.shard.k === 0) return `a shard's search was stopped (${stop}) while it learned from ${broke}; run that shard again with more --time`;
    return `${stop} while the search learned from ${broke} (it starts again with that learned)`;
  }
  switch (r.status) {
    case 'complete':
      return null;
    case 'budget':
      return r.full ? 'the visited set is full (75% of the heap in a worker)' : 'the budget ran out';
    case 'time':
      return 'the time ran out';
    case 'interrupted':
      return 'interrupted';
    default:
      return 'stopped';
  }
}

function print(loaded: LoadedScenario | null, r: ExploreResult, recording: string | null, o: ExploreCommandOptions, notes: string[], header_shown = false): void {
  const v = r.violation;
  const config = loaded?.config;
  const shown = v ? (v.shrunk?.schedule ?? v.schedule) : null;
  const named = shown && config ? name_steps(config, shown) : null;
  const rate = r.time_ms > 0 ? (r.transitions / r.time_ms) * 1000 : 0;
  if (o.json) {
    const covered = verdict_states(r);
    const summary: Record<string, unknown> = {
      scenario: r.scenario.name,
      file: r.scenario.path,
      arch: r.scenario.arch,
      variants: r.variants,
      strategy: r.params.strategy,
      seed: r.params.seed,
      bounds: params_json(r.params),
      workers: r.workers,
      shard: r.shard.k ? `${r.shard.k}/${r.shard.n}` : `merged ${r.shard.n}`,
      status: r.status,
      verdict: verdict(r),
      complete: r.complete,
      cut: r.cut,
      states: r.transitions,
      distinct: r.params.states || r.params.strategy === 'dfs' ? r.distinct : null,
      depth: r.depth,
      schedules: r.schedules,
      time_ms: Math.round(r.time_ms),
      shrink_ms: Math.round(r.shrink_ms),
      states_per_s: Math.round(rate),
      restarts: r.restarts,
      verified_preemptions: r.verified_preemptions,
      collision_bound: covered === null ? null : key_collision_bound(covered),
      rounds: r.rounds.map((x) => ({ preemptions: x.preemptions, status: x.status, distinct: x.distinct, states: x.transitions, time_ms: Math.round(x.time_ms), restarts: x.restarts })),
      breach: r.breach ? { thread: r.breach.thread, location: loc_name(r.breach.loc), write: r.breach.write } : null,
      violation: v
        ? {
            ...violation_json(v.violation, json_fields),
            found: { steps: v.steps, schedule: v.item },
            shrunk: v.shrunk ? { steps: v.shrunk.steps, switches: v.shrunk.switches, faults: v.shrunk.faults, original: v.shrunk.original, replays: v.shrunk.replays } : null,
            schedule: shown,
            ...(named ? describe_schedule(named) : {}),
            recording,
          }
        : null,
    };
    process.stdout.write(to_json({ explore: summary }) + '\n');
    for (const n of notes) process.stderr.write(`kvmdbg: ${n}\n`);
    return;
  }
  const color = use_color(o);
  const lines: string[] = [];
  const vs = r.variants.length ? r.variants.join(', ') : 'none';
  const where = r.shard.k === 0 ? `, ${r.shard.n} shards merged` : r.shard.n > 1 ? `, shard ${r.shard.k}/${r.shard.n}` : '';
  if (!header_shown) {
    lines.push(
      paint(color, ANSI.bold, `# explore ${r.scenario.name} (${r.scenario.arch}): variants ${vs}; strategy ${r.params.strategy}, seed ${r.params.seed}; ${r.workers} worker${r.workers === 1 ? '' : 's'}${where}`),
    );
  }
  const b = bounds_text(r);
  if (b) lines.push(paint(color, ANSI.dim, `# ${b}`));
  const distinct = r.params.states || r.params.strategy === 'dfs' ? `${num(r.distinct)} distinct states` : 'distinct states not counted (--states counts them)';
  const covered = `${num(r.schedules)} schedule${r.schedules === 1 ? '' : 's'}, ${num(r.transitions)} steps, ${distinct}, longest ${num(r.depth)} steps, ${secs(r.time_ms)} (${num(Math.round(rate))} states/s)`;
  if (v) {
    const x = v.shrunk?.violation ?? v.violation;
    lines.push(paint(color, [ANSI.bold, ANSI.red], `VIOLATION ${x.invariant} at step ${x.step} (${x.thread}): ${x.message}`));
    const vals = format_fields(x.values ?? {});
    if (vals) lines.push(`  ${vals}`);
    lines.push(`found in ${r.params.strategy === 'dfs' ? `split item ${v.item}` : `schedule ${v.item}`} after ${covered}`);
    if (v.shrunk) {
      const s = v.shrunk;
      lines.push(
        `shrunk: ${s.original.steps} -> ${s.steps} steps, ${s.original.switches} -> ${s.switches} context switches, ${s.original.faults} -> ${s.faults} injected faults (${s.replays} replays, ${secs(r.shrink_ms)})`,
      );
    }
    if (r.rounds.length > 1) lines.push(`preemption bounds searched in turn: ${rounds_text(r)}`);
    if (named) lines.push(`schedule: ${schedule_text(named)}`);
    if (recording) lines.push(`recording: ${recording} (opens at step ${shown!.picks.length}: kvmdbg tui ${recording})`);
  } else {
    const why = incomplete_reason(r);
    if (verdict(r) === 'verified') {
      lines.push(paint(color, ANSI.green, `verified: no violation in any interleaving (${num(r.distinct)} states, bounds: ${verdict_bounds(r)})`));
      lines.push(collision_text(r.distinct));
      if (r.rounds.length > 1) lines.push(`preemption bounds searched in turn: ${rounds_text(r)}`);
      if (r.restarts) {
        const who = r.shard.k === 0 ? 'the shards started again' : 'the search started again';
        lines.push(`${who} ${r.restarts} time${r.restarts === 1 ? '' : 's'}${r.shard.k === 0 ? ' in all' : ''}: a step broke the ownership facts learned from random runs, which now include it`);
      }
      lines.push(
        `${num(r.schedules)} schedules, ${num(r.transitions)} steps, longest ${num(r.depth)} steps, ${secs(r.time_ms)}` +
          (r.cut ? `; the depth bound (${num(r.params.depth)} steps${r.params.depth_auto ? ', twice the longest of 4 random runs' : ''}) cut some paths: interleavings longer than that are not covered` : ''),
      );
    } else {
      lines.push(paint(color, ANSI.green, `no violation in ${covered}`));
      lines.push(`not exhaustive: ${why}${r.params.strategy === 'dfs' && r.cut ? '; the depth bound cut some paths' : ''}`);
      const v = verified_round(r.rounds);
      if (v) {
        lines.push(paint(color, ANSI.green, `verified with at most ${v.preemptions} preemption${v.preemptions === 1 ? '' : 's'}: no violation in any interleaving (${num(v.distinct)} states, bounds: ${verdict_bounds(r, v)})`));
        lines.push(collision_text(v.distinct));
      }
      if (r.rounds.length > 1) lines.push(`preemption bounds searched in turn: ${rounds_text(r)}`);
      if (r.params.strategy === 'dfs' && r.params.preemptions === null) {
        lines.push(paint(color, ANSI.dim, 'hint: dfs goes deep first; --preemptions 2 bounds the context switches per schedule as CHESS does, which reaches most races sooner'));
      }
    }
  }
  lines.push(...notes);
  process.stdout.write(lines.join('\n') + '\n');
}
