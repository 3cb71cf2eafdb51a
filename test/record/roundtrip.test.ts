// Record then replay: the same World (every state hash, the final run
// hash) for every bundled scenario and every variant of its arch.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';
import { record_run } from '../../src/record/run.js';
import { load_recording, parse_recording } from '../../src/record/load.js';
import { replay_recording } from '../../src/record/replay.js';
import { PickRuns, json_line, revive_bigints } from '../../src/record/format.js';
import { scenario_variants, tmp_file } from './helpers.js';

const CAP = 3000;

describe('record then replay', () => {
  const cases = scenario_variants();
  it('covers every bundled scenario', () => {
    expect(new Set(cases.map((c) => c.id)).size).toBeGreaterThanOrEqual(7);
    expect(cases.length).toBeGreaterThan(20);
  });

  for (const c of cases) {
    const label = `${c.id}${c.variants.length ? ` + ${c.variants.join(',')}` : ''}`;
    it(`${label}: identical hashes`, async () => {
      const loaded = load_scenario(c.path, { variants: c.variants });
      const plain = run_scenario(loaded, { steps: CAP, keep_events: false });
      const file = tmp_file(`${c.id}.jsonl`);
      const rec_r = await record_run(loaded, { path: file, steps: CAP, keep_events: false, hash_every: 97, signals: [] });
      expect(rec_r.hash).toBe(plain.hash);
      expect(rec_r.steps).toBe(plain.steps);

      const rec = load_recording(file);
      expect(rec.warning).toBeNull();
      expect(rec.picks.length).toBe(plain.steps);
      expect(rec.end?.status).toBe(plain.status);
      expect(rec.end?.run_hash).toBe(plain.hash);
      expect(rec.hashes.size).toBe(Math.floor(plain.steps / 97) + 1);

      const r = replay_recording(rec, { verify: true });
      expect(r.divergence, r.divergence?.message).toBeNull();
      expect(r.hash).toBe(plain.hash);
      expect(r.steps).toBe(plain.steps);
      expect(r.status).toBe(plain.status);
      expect(r.violation?.invariant ?? null).toBe(plain.violation?.invariant ?? null);
      expect(r.hashes_checked).toBe(rec.hashes.size + 1);
      expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    });
  }
});

describe('format pieces', () => {
  it('run-length picks round-trip, forced picks included', () => {
    const seq = [0, 0, 0, 1, 2, 2, ~1, ~1, 0, 3, 3, 3, 3];
    const runs = new PickRuns();
    for (const p of seq) runs.push(p);
    const enc = runs.take();
    expect(enc).toEqual([[0, 3], 1, [2, 2], [~1, 2], 0, [3, 4]]);
    const text = [
      json_line({ format: 'kvmdbg-recording', version: 1, tool: 't', scenario: 'arch: x86\nvm: {vcpus: 1}\nthreads: {vcpu0: []}\n', file: 'x.yaml', variants: [], seed: 1, hash_every: 10 }),
      json_line({ s: 1, p: enc, c: [[4, 1, 0]] }),
      '',
    ].join('\n');
    const rec = parse_recording(text, 'mem.jsonl');
    expect(Array.from(rec.picks)).toEqual(seq);
    expect(rec.choices.get(4)).toEqual([1, 0]);
    expect(rec.warning).toMatch(/no end line/);
  });

  it('command arguments keep their bigints', () => {
    const args = { mmu: 's2', raw: 0xffff_ffff_ffff_f000n, list: [1n, 2] };
    expect(revive_bigints(JSON.parse(json_line(args)))).toEqual(args);
  });
});
