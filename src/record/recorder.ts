// Recording a Machine as it runs (`kvmdbg run --record`, the explorer's
// counterexamples): the caller steps the machine and reports each step;
// the Recorder writes the schedule, a state hash every `hash_every`
// steps and the end line.
import type { Machine, StepResult } from '../core/machine/machine.js';
import { package_version } from '../scenario/bundled.js';
import type { LoadedScenario } from '../scenario/load.js';
import { DEFAULT_HASH_EVERY, FORMAT, VERSION, type Drive, type EndStatus, type Header } from './format.js';
import { combine_parts, world_parts } from './parts.js';
import { RecordingWriter, type EndState, type WriterOptions } from './writer.js';

/** The header for a recording of `loaded` (its text, variants and seed rebuild the same initial World). */
export function make_header(loaded: LoadedScenario, opts: { hash_every?: number; drive?: Drive } = {}): Header {
  return {
    format: FORMAT,
    version: VERSION,
    tool: package_version(),
    scenario: loaded.meta.text,
    file: loaded.meta.path,
    variants: [...loaded.config.variants],
    seed: loaded.config.sched.seed,
    hash_every: Math.max(1, Math.floor(opts.hash_every ?? DEFAULT_HASH_EVERY)),
    drive: opts.drive ?? 'policy',
  };
}

export interface RecorderOptions extends WriterOptions {
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

  constructor(path: string, loaded: LoadedScenario, opts: RecorderOptions = {}) {
    const header = make_header(loaded, opts);
    this.hash_every = header.hash_every;
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
    if (m.w.step % this.hash_every === 0) this.hash_now();
  }

  /** Close with the end line (idempotent). */
  close(status: EndStatus): void {
    if (this.writer.closed) return;
    this.writer.close(status, this.m ? this.end_state() : null);
  }

  private hash_now(): void {
    const w = this.m!.w;
    const parts = world_parts(w);
    this.writer.hash(w.step, combine_parts(parts), parts);
  }

  private end_state(): EndState {
    const m = this.m!;
    const parts = world_parts(m.w);
    return { hash: combine_parts(parts), parts, run_hash: m.hash() };
  }
}
