// Recording a Machine as it runs (`kvmdbg run --record`, the explorer's
// counterexamples): the caller steps the machine and reports each step;
// the Recorder writes the schedule, a state hash every `hash_every`
// steps and the end line.
import { BASELINE } from '../core/baseline.js';
import { performance } from 'node:perf_hooks';
import type { Machine, StepResult } from '../core/machine/machine.js';
import { package_version } from '../scenario/bundled.js';
import type { LoadedScenario } from '../scenario/load.js';
import { DEFAULT_HASH_EVERY, FORMAT, VERSION, type Drive, type EndStatus, type Header } from './format.js';
import { combine_parts, world_parts } from './parts.js';
import { active_patches } from '../patch/scope.js';
import { RecordingWriter, type EndState, type WriterOptions } from './writer.js';

/** The header for a recording of `loaded` (its text, variants and seed rebuild the same initial World). */
export function make_header(loaded: LoadedScenario, opts: { hash_every?: number; drive?: Drive } = {}): Header {
  return {
    format: FORMAT,
    version: VERSION,
    tool: package_version(),
    model: BASELINE,
    scenario: loaded.meta.text,
    file: loaded.meta.path,
    variants: [...loaded.config.variants],
    seed: loaded.config.sched.seed,
    hash_every: Math.max(1, Math.floor(opts.hash_every ?? DEFAULT_HASH_EVERY)),
    drive: opts.drive ?? 'policy',
    ...patches_field(),
  };
}

/** The loaded patches, which the run depends on as much as on its variants. */
function patches_field(): { patches?: Header['patches'] } {
  const patches = active_patches();
  return patches.length ? { patches: patches.map((p) => ({ file: p.file, sha256: p.sha256, text: p.text })) } : {};
}

export interface RecorderOptions extends WriterOptions {
  /**
   * A state hash every this many steps. When not given, hashes start every
   * DEFAULT_HASH_EVERY steps and spread out (up to 64 times further) while
   * hashing the World costs more than 3% of the time spent stepping: a
   * clock decides only where the hash lines fall, never what they say.
   */
  hash_every?: number;
  /** "policy" (default): the machine's scheduler made the picks; "schedule": they came from m.replay. */
  drive?: Drive;
}

export class Recorder {
  readonly writer: RecordingWriter;
  readonly hash_every: number;
  private m: Machine | null = null;
  /** Choice answers of m.schedule.choices already recorded. */
  private ci = 0;
  private readonly adaptive: boolean;
  /** Steps between hashes now, and the next step to hash. */
  private k: number;
  private next_hash = 0;
  private t_last = 0;

  constructor(path: string, loaded: LoadedScenario, opts: RecorderOptions = {}) {
    const header = make_header(loaded, opts);
    this.hash_every = header.hash_every;
    this.k = header.hash_every;
    this.adaptive = opts.hash_every === undefined;
    this.writer = new RecordingWriter(path, header, opts);
    this.writer.end_state = () => this.end_state();
  }

  /** Start recording `m`, a Machine at step 0 of the recording's scenario. */
  start(m: Machine): void {
    if (m.w.step !== 0) throw new Error(`a recording starts at step 0 (the machine is at step ${m.w.step})`);
    this.m = m;
    this.ci = m.schedule.choices.length;
    this.hash_now();
  }

  /** Report step `r` (status 'ok') that `m` just ran; `forced` when the caller chose the thread. */
  after_step(r: StepResult, forced = false): void {
    const m = this.m!;
    const id = r.thread!.id;
    const c = m.schedule.choices;
    let answers: number[] | undefined;
    if (c.length > this.ci) {
      answers = c.slice(this.ci);
      this.ci = c.length;
    } else if (c.length < this.ci) this.ci = c.length; // the caller cleared it
    this.writer.step(forced ? ~id : id, answers);
    if (m.w.step >= this.next_hash) this.hash_now();
  }

  /** Close with the end line (idempotent); returns the end state written (run_hash is Machine.hash()), or null. */
  close(status: EndStatus): EndState | null {
    if (this.writer.closed) return null;
    const state = this.m ? this.end_state() : null;
    this.writer.close(status, state);
    return state;
  }

  private hash_now(): void {
    const w = this.m!.w;
    const t0 = this.adaptive ? performance.now() : 0;
    const parts = world_parts(w);
    this.writer.hash(w.step, combine_parts(parts), parts);
    if (this.adaptive) {
      const t1 = performance.now();
      const cost = t1 - t0;
      const stepping = t0 - this.t_last;
      if (w.step > 0) {
        if (cost > 0.03 * stepping && this.k < 64 * this.hash_every) this.k *= 2;
        else if (cost < 0.0075 * stepping && this.k > this.hash_every) this.k /= 2;
      }
      this.t_last = t1;
    }
    this.next_hash = (Math.floor(w.step / this.k) + 1) * this.k;
  }

  private end_state(): EndState {
    const m = this.m!;
    const parts = world_parts(m.w);
    return { hash: combine_parts(parts), parts, run_hash: m.hash() };
  }
}
