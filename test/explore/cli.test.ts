// `kvmdbg explore` end to end (the built CLI): exit codes, the JSON
// summary, the recording that replays to the violation, shards and --merge.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { incomplete_reason, verdict_states } from '../../src/explore/cli.js';
import type { ExploreResult } from '../../src/explore/explore.js';
import { key_collision_bound } from '../../src/explore/keyset.js';
import { kvmdbg } from '../cli/helpers.js';
import { FIXTURES } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kvmdbg-explore-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function json(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!).explore;
}

describe('kvmdbg explore', () => {
  it('finds the violation, shrinks it, writes a recording that replays to it; exit 1', () => {
    const rec = join(tmp, 'fvi.rec');
    const r = kvmdbg(['explore', 'fault-vs-invalidate', '--variant', 'mmu.no_retry_check', '--workers', '1', '--budget', '50', '--states', '--out', rec, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const s = json(r.stdout);
    expect(s.status).toBe('violation');
    expect(s.violation.invariant).toBe('mmu.stale_mapping');
    expect(s.violation.shrunk.steps).toBeLessThanOrEqual(s.violation.found.steps);
    expect(s.violation.schedule.picks).toHaveLength(s.violation.shrunk.steps);
    expect(s.violation.recording).toBe(rec);
    for (const k of ['states', 'distinct', 'depth', 'schedules', 'time_ms']) expect(typeof s[k], k).toBe('number');
    expect(existsSync(rec)).toBe(true);
    const header = JSON.parse(readFileSync(rec, 'utf8').split('\n')[0]!);
    expect(header).toMatchObject({ format: 'kvmdbg-recording', version: 1, variants: ['mmu.no_retry_check'], drive: 'schedule' });
    const replay = kvmdbg(['replay', rec, '--verify']);
    expect(replay.code).toBe(1); // the violation again, and no divergence
    expect(replay.stdout).toContain('VIOLATION mmu.stale_mapping');
    expect(replay.stdout).not.toMatch(/diverge/i);
  });

  it('says what it covered when nothing breaks; exhaustive dfs says so; exit 0', () => {
    const w = kvmdbg(['explore', 'fault-vs-invalidate', '--workers', '1', '--budget', '5', '--no-progress']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/no violation in 5 schedules, [\d,]+ steps, distinct states not counted/);
    expect(w.stdout).toContain('not exhaustive: the budget ran out');
    const d = kvmdbg(['explore', join(FIXTURES, 'kick2.yaml'), '--strategy', 'dfs', '--workers', '1']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^verified: no violation in any interleaving \([\d,]+ states, bounds: none\)$/m);
    const b = kvmdbg(['explore', join(FIXTURES, 'kick2.yaml'), '--strategy', 'dfs', '--workers', '1', '--depth', '20', '--preemptions', '1']);
    expect(b.stdout).toMatch(/^verified: no violation in any interleaving \([\d,]+ states, bounds: preemptions=1, depth=20\)$/m);
    expect(b.stdout).toContain('the depth bound (20 steps) cut some paths');
    const j = json(kvmdbg(['explore', join(FIXTURES, 'kick2.yaml'), '--strategy', 'dfs', '--workers', '1', '--preemptions', '1', '--json']).stdout);
    expect(j.verdict).toBe('verified');
    expect(j.complete).toBe(true);
    expect(j.bounds.preemptions).toBe(1);
    // The bounds 0 and 1 in turn, each verified.
    expect(j.verified_preemptions).toBe(1);
    expect(j.rounds.map((x: { preemptions: number; status: string }) => [x.preemptions, x.status])).toEqual([
      [0, 'complete'],
      [1, 'complete'],
    ]);
    expect(j.rounds[1].distinct).toBe(j.distinct);
    // Hash compaction: the chance that two of the verdict's states shared a key, from its state count.
    expect(j.collision_bound).toBe((j.distinct * (j.distinct - 1)) / 2 ** 65);
    expect(j.collision_bound).toBeGreaterThan(0);
    const shown = /^verified: no violation in any interleaving \(([\d,]+) states/m.exec(d.stdout)![1]!;
    const n = Number(shown.replaceAll(',', ''));
    expect(d.stdout).toContain(`\nstate keys are 64-bit hashes: the chance that two of these states shared one (so one went unsearched) is at most ${((n * (n - 1)) / 2 ** 65).toExponential(1)}\n`);
    expect(b.stdout).toMatch(/^preemption bounds searched in turn: 0 verified \([\d,]+ states, [\d.]+ s\); 1 verified \([\d,]+ states, [\d.]+ s\)$/m);
    // Cut short: never "verified".
    const t = kvmdbg(['explore', 'fault-vs-invalidate', '--strategy', 'dfs', '--workers', '1', '--budget', '3', '--no-progress']);
    expect(t.stdout).not.toContain('verified');
    expect(t.stdout).toContain('not exhaustive: the budget ran out');
    const tj = json(kvmdbg(['explore', 'fault-vs-invalidate', '--strategy', 'dfs', '--workers', '1', '--budget', '3', '--json']).stdout);
    expect(tj.verdict).toBe('incomplete');
    expect(tj.complete).toBe(false);
    expect(tj.collision_bound).toBeNull();
    expect(t.stdout).not.toContain('state keys are');
  });

  it('cut short by the time: names the bound asked for, not the round it reached', () => {
    // Two preemptions on default take minutes; two seconds end in the first round or two.
    const r = kvmdbg(['explore', 'default', '--strategy', 'dfs', '--preemptions', '2', '--workers', '1', '--time', '2', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# .*, at most 2 preemptions, bounds from 0 in turn, coarse transitions/m);
    expect(r.stdout).toMatch(/^not exhaustive: the time ran out/m);
    expect(r.stdout).not.toMatch(/^verified:/m);
  });

  it('the collision bound covers the states of the verdict given: the search, or the last bound verified', () => {
    const round = (preemptions: number, status: string, distinct: number) => ({ preemptions, status, distinct, transitions: 0, time_ms: 0, restarts: 0, cut: false });
    const r = (o: object) => ({ violation: null, params: { strategy: 'dfs' }, complete: false, status: 'time', distinct: 9_000_000, rounds: [], ...o }) as unknown as ExploreResult;
    // The time ran out at two preemptions: the verdict is bound 1's, and so are its states.
    expect(verdict_states(r({ rounds: [round(0, 'complete', 1_000), round(1, 'complete', 400_000), round(2, 'time', 9_000_000)] }))).toBe(400_000);
    expect(verdict_states(r({ complete: true, status: 'complete', distinct: 7_642_340, rounds: [round(2, 'complete', 7_642_340)] }))).toBe(7_642_340);
    expect(verdict_states(r({ rounds: [round(0, 'time', 10)] }))).toBeNull();
    expect(verdict_states(r({ violation: {}, rounds: [round(0, 'complete', 10), round(1, 'violation', 20)] }))).toBeNull();
    expect(key_collision_bound(1)).toBe(0);
    // 7.6M states (numa-invalidate-retry at two preemptions): about 1.6e-6 (3.2e-3 with the 53-bit keys of before).
    expect(key_collision_bound(7_642_340)).toBeCloseTo(1.583e-6, 8);
    expect(key_collision_bound(2 ** 33)).toBe(1);
  });

  it('a breach left unlearned means the search was stopped while it learned from it: a shard, or the merge of one that was', () => {
    const breach = { thread: 0, loc: ['threads', '3', 'wait'].join('\x01'), write: false, was: 3 };
    const broke = 'a step of thread 0 read threads.3.wait, which the learned facts gave to thread 3';
    expect(incomplete_reason({ breach, shard: { k: 1, n: 1 }, status: 'time', full: false })).toBe(`the time ran out while the search learned from ${broke} (it starts again with that learned)`);
    expect(incomplete_reason({ breach, shard: { k: 1, n: 1 }, status: 'interrupted', full: false })).toMatch(/^interrupted while the search learned from a step of thread 0/);
    expect(incomplete_reason({ breach, shard: { k: 2, n: 4 }, status: 'time', full: false })).toBe(`the time ran out while the search learned from ${broke} (it starts again with that learned)`);
    expect(incomplete_reason({ breach, shard: { k: 0, n: 4 }, status: 'time', full: false })).toBe(`a shard's search was stopped (the time ran out) while it learned from ${broke}; run that shard again with more --time`);
    expect(incomplete_reason({ breach: null, shard: { k: 1, n: 1 }, status: 'complete', full: false })).toBeNull();
    expect(incomplete_reason({ breach: null, shard: { k: 1, n: 1 }, status: 'budget', full: true })).toMatch(/visited set is full/);
  });

  it('shards write results that --merge combines into the single run', () => {
    const kick2 = join(FIXTURES, 'kick2.yaml');
    // Without learned facts: with them, shards search above the split without them (more states).
    const one = json(kvmdbg(['explore', kick2, '--strategy', 'dfs', '--workers', '1', '--no-facts', '--json']).stdout);
    const files = [1, 2].map((k) => join(tmp, `kick2-${k}.json`));
    for (const k of [1, 2]) {
      const r = kvmdbg(['explore', kick2, '--strategy', 'dfs', '--workers', '1', '--no-facts', '--shard', `${k}/2`, '--result', files[k - 1]!, '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('shard result');
    }
    const m = kvmdbg(['explore', '--merge', ...files, '--json']);
    expect(m.code).toBe(0);
    const s = json(m.stdout);
    expect(s.status).toBe('complete');
    expect(s.distinct).toBe(one.distinct);
    expect(s.rounds).toHaveLength(1);
    const missing = kvmdbg(['explore', '--merge', files[1]!]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing shard 1\/2/);
  });

  it('bad input: exit 2 with one line', () => {
    for (const args of [
      ['explore', 'fault-vs-invalidate', '--shard', '3/2'],
      ['explore', 'fault-vs-invalidate', '--strategy', 'bfs'],
      ['explore', 'no-such-scenario.yaml'],
      ['explore', 'fault-vs-invalidate', '--variant', 'no.such'],
      ['explore', 'fault-vs-invalidate', '--preemptions', '2'],
      ['explore', 'fault-vs-invalidate', '--strategy', 'dfs', '--no-iterate'],
      ['explore'],
    ]) {
      const r = kvmdbg(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
