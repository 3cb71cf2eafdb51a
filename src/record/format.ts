// The recording format (shared/docs/CONTRACT.md, "Recordings"): JSON Lines.
//
//   line 1  header  {"format":"kvmdbg-recording","version":1,"tool":"0.2.0",
//                    "model":"Linux v6.18",
//                    "scenario":"<YAML text>","file":"<path>","variants":[...],
//                    "seed":N,"hash_every":K,"drive":"policy",
//                    "patches":[{"file","sha256","text"}...]}  (only with --patch)
//   then, in the order they happened:
//   schedule {"s":FIRST,"p":[PICK...],"c":[[STEP,ANSWER...]...]}
//            steps FIRST, FIRST+1, ...: a PICK is a thread index (one step)
//            or [index, count] (a run of steps); ~index (-1-index) marks a
//            step the user forced (`step vcpu1`). "c" lists, for the steps
//            of the chunk that asked any, the injected-fault answers.
//   command  {"cmd":"pt map s2 0x1000 ...","step":N,"poke":"pt.map","args":{...}}
//            a state change made after step N (bigints as {"$bigint":"0x.."})
//   hash     {"step":N,"hash":H,"parts":{"kvm":H1,"threads.vcpu0":H2,...}}
//            the World after step N, before the commands made at step N
//   rewind   {"rewind":S,"cmds":K}
//            the session went back and took another path: keep steps 1..S,
//            the first K commands and the hashes up to S; what follows
//            replaces the rest
//   end      {"end":N,"status":"end","hash":H,"parts":{...},"run_hash":R}
//            closed cleanly after N steps; the World at the end (after the
//            commands); run_hash is what `kvmdbg run` prints as `hash`
//
// "drive" says how a replay makes the picks: "policy" (the scenario's
// scheduler makes every pick and answers every choice, and the replay
// checks them against the recording; forced picks are forced again) or
// "schedule" (every pick and answer comes from the recording, the way the
// explorer runs its schedules).

import type { PatchSource } from '../patch/scope.js';

export const FORMAT = 'kvmdbg-recording';
export const VERSION = 1;
/** A state hash every this many steps unless told otherwise. */
export const DEFAULT_HASH_EVERY = 1000;

export type Drive = 'policy' | 'schedule';

export interface Header {
  format: typeof FORMAT;
  version: number;
  tool: string;
  /** The upstream release the recording kvmdbg modelled (src/core/baseline.ts); absent before 0.2.0. */
  model?: string;
  scenario: string;
  file: string;
  variants: string[];
  seed: number;
  hash_every: number;
  drive: Drive;
  /** The patches (`--patch`) the run had loaded, with their text: absent when none. */
  patches?: PatchSource[];
}

/** A state change recorded with the step after which it was made. */
export interface RecCmd {
  step: number;
  /** The command as typed. */
  cmd: string;
  /** The poke handler (src/debugger/pokes.ts) and its plain-data arguments. */
  poke: string;
  args: Record<string, unknown>;
}

export interface HashLine {
  step: number;
  hash: string;
  parts: Record<string, string>;
}

/** How the recorded run stopped; 'stopped' is `record stop`, 'interrupted' a signal. */
export type EndStatus = 'end' | 'deadlock' | 'violation' | 'limit' | 'interrupted' | 'stopped';

export interface EndLine {
  end: number;
  status: EndStatus;
  hash?: string;
  parts?: Record<string, string>;
  run_hash?: string;
}

// ------------------------------------------------------------ bigints

/** JSON text with bigints as {"$bigint":"0x.."} (command arguments may hold u64 descriptors). */
export function json_line(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $bigint: `${x < 0n ? '-' : ''}0x${(x < 0n ? -x : x).toString(16)}` } : x));
}

/** Undo json_line's bigint encoding in a parsed value. */
export function revive_bigints(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive_bigints);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$bigint' && typeof o.$bigint === 'string' && /^-?0x[0-9a-f]+$/i.test(o.$bigint)) {
      const s = o.$bigint;
      return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = revive_bigints(o[k]);
    return out;
  }
  return v;
}

// ------------------------------------------------------------ run-length picks

/** Encodes picks as they come: a thread index per step, runs as [index, count]. */
export class PickRuns {
  out: (number | [number, number])[] = [];
  private cur = 0;
  private n = 0;

  push(raw: number): void {
    if (this.n > 0 && raw === this.cur) {
      this.n++;
      return;
    }
    this.end_run();
    this.cur = raw;
    this.n = 1;
  }

  /** The entries so far (closing the open run); the encoder is empty after. */
  take(): (number | [number, number])[] {
    this.end_run();
    const o = this.out;
    this.out = [];
    return o;
  }

  private end_run(): void {
    if (this.n === 1) this.out.push(this.cur);
    else if (this.n > 1) this.out.push([this.cur, this.n]);
    this.n = 0;
  }
}
