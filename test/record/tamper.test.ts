// Tampered recordings: the replay names the first step it cannot follow,
// or the first hash that differs and which parts of the World differ.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASELINE } from '../../src/core/baseline.js';
import { bundled_dir } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { record_run } from '../../src/record/run.js';
import { parse_recording } from '../../src/record/load.js';
import { replay_recording } from '../../src/record/replay.js';
import { tmp_file } from './helpers.js';

let lines: string[] = [];
let steps = 0;

/** The recording's lines with `edit` applied to the parsed line `i`. */
function edited(i: number, edit: (v: Record<string, unknown>) => void): string {
  const out = [...lines];
  const v = JSON.parse(out[i]!) as Record<string, unknown>;
  edit(v);
  out[i] = JSON.stringify(v);
  return out.join('\n');
}

/** Expand the schedule lines into one pick per step. */
function picks_of(ls: string[]): number[] {
  const out: number[] = [];
  for (const l of ls) {
    if (!l) continue;
    const v = JSON.parse(l) as { p?: (number | [number, number])[] };
    if (!v.p) continue;
    for (const e of v.p) if (Array.isArray(e)) for (let k = 0; k < e[1]; k++) out.push(e[0]);
    else out.push(e);
  }
  return out;
}

function with_picks(i: number, picks: number[]): string {
  return edited(i, (v) => {
    v.p = picks;
  });
}

beforeAll(async () => {
  const file = tmp_file('tamper.jsonl');
  const loaded = load_scenario(join(bundled_dir(), 'default.yaml'));
  const r = await record_run(loaded, { path: file, hash_every: 100, keep_events: false, signals: [] });
  steps = r.steps;
  lines = readFileSync(file, 'utf8').split('\n');
});

describe('a tampered schedule', () => {
  it('is reported at the first step that differs, with the threads', () => {
    const i = lines.findIndex((l) => l.startsWith('{"s":1,'));
    const picks = picks_of([lines[i]!]);
    for (const at of [1, 7, 42, 90]) {
      const p = [...picks];
      p[at - 1] = p[at - 1] === 0 ? 1 : 0;
      const r = replay_recording(parse_recording(with_picks(i, p), 'x.jsonl'), { verify: true });
      expect(r.divergence?.kind).toMatch(/pick|blocked/);
      expect(r.divergence?.step).toBe(at);
      expect(r.divergence?.message).toContain(`at step ${at}`);
      expect(r.status).toBe('diverged');
    }
  });

  it('a forced pick of a thread that cannot run is reported with the thread', () => {
    const i = lines.findIndex((l) => l.startsWith('{"s":1,'));
    const p = picks_of([lines[i]!]);
    // mm (thread 2) first forced at step 1 is fine; a finished or missing thread is not.
    p[4] = ~99;
    const r = replay_recording(parse_recording(with_picks(i, p), 'x.jsonl'));
    expect(r.divergence?.kind).toBe('blocked');
    expect(r.divergence?.step).toBe(5);
    expect(r.divergence?.message).toMatch(/thread 99/);
  });

  it('a tampered choice answer is reported at its step', () => {
    const i = lines.findIndex((l) => /"c":\[\[/.test(l));
    expect(i).toBeGreaterThan(0);
    let at = 0;
    const text = edited(i, (v) => {
      const c = v.c as number[][];
      at = c[0]![0]!;
      c[0]![1] = c[0]![1] === 0 ? 1 : 0;
    });
    const r = replay_recording(parse_recording(text, 'x.jsonl'));
    expect(r.divergence?.kind).toBe('choice');
    expect(r.divergence?.step).toBe(at);
  });

  it('a recording longer than the run is reported where the run ended', () => {
    const i = lines.findIndex((l) => l.startsWith('{"end"'));
    const out = lines.slice(0, i);
    out.push(JSON.stringify({ s: steps + 1, p: [0] }), '');
    const r = replay_recording(parse_recording(out.join('\n'), 'x.jsonl'));
    expect(r.divergence?.kind).toBe('ended');
    expect(r.divergence?.step).toBe(steps + 1);
  });
});

describe('a tampered hash line', () => {
  it('--verify names the step and the parts that differ, and the last step that matched', () => {
    const i = lines.findIndex((l) => l.startsWith('{"step":300,'));
    expect(i).toBeGreaterThan(0);
    const text = edited(i, (v) => {
      const parts = v.parts as Record<string, string>;
      parts.kvm = '0123456789abcdef';
      parts['threads.vcpu1'] = '0123456789abcdef';
      v.hash = 'ffffffffffffffff';
    });
    const r = replay_recording(parse_recording(text, 'x.jsonl'), { verify: true });
    expect(r.divergence?.kind).toBe('hash');
    expect(r.divergence?.step).toBe(300);
    expect(r.divergence?.parts).toEqual(['kvm', 'threads.vcpu1']);
    expect(r.divergence?.last_match).toBe(200);
    expect(r.divergence?.message).toMatch(/step 300 differs from the recording in kvm, threads\.vcpu1; it matched at step 200/);
    // Without --verify only the end is compared: this replay passes.
    expect(replay_recording(parse_recording(text, 'x.jsonl')).divergence).toBeNull();
  });

  it('a tampered end hash is caught without --verify', () => {
    const i = lines.findIndex((l) => l.startsWith('{"end"'));
    const text = edited(i, (v) => {
      (v.parts as Record<string, string>).locks = '0000000000000000';
      v.hash = '0000000000000000';
    });
    const r = replay_recording(parse_recording(text, 'x.jsonl'));
    expect(r.divergence?.kind).toBe('hash');
    expect(r.divergence?.step).toBe(steps);
    expect(r.divergence?.parts).toEqual(['locks']);
  });

  it('another tool version that changed the model shows as a hash divergence (simulated: a changed seed in the header)', () => {
    const text = edited(0, (v) => {
      v.seed = 2;
    });
    const r = replay_recording(parse_recording(text, 'x.jsonl'), { verify: true });
    // The seed lives in the scheduler state: step 0 already differs there, before any pick.
    expect(r.divergence?.kind).toBe('hash');
    expect(r.divergence?.step).toBe(0);
    expect(r.divergence?.parts).toEqual(['sched']);
    expect(r.divergence?.last_match).toBeNull();
  });
});

describe('the model a recording was made against', () => {
  it('is in the header, and one made against another release warns when it is opened', () => {
    const header = JSON.parse(lines[0]!) as { model?: string };
    expect(header.model).toBe(BASELINE);
    expect(parse_recording(lines.join('\n'), 'x.jsonl').warning).toBeNull();
    const other = parse_recording(
      edited(0, (v) => {
        v.model = 'Linux v6.11';
      }),
      'x.jsonl',
    );
    expect(other.header.model).toBe('Linux v6.11');
    expect(other.warning).toBe(`x.jsonl: recorded against the model of Linux v6.11; this kvmdbg models ${BASELINE}, so its steps may differ`);
  });
});

describe('drive "schedule"', () => {
  it('follows the recorded picks and answers; only the scheduler state differs from a policy replay', () => {
    const text = edited(0, (v) => {
      v.drive = 'schedule';
    });
    const rec = parse_recording(text, 'x.jsonl');
    const r = replay_recording(rec, { verify: true });
    expect(r.divergence?.kind).toBe('hash');
    expect(r.divergence?.parts).toEqual(['sched']);
    expect(r.divergence?.step).toBe(100);
  });
});
