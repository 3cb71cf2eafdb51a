// Recording a debugger Session: the recording follows the session's
// current timeline through forced steps, pokes, going back and taking
// another path, and replays to the session's World.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hash_value } from '../../src/core/machine/hash.js';
import { create_world } from '../../src/core/world_init.js';
import { Session } from '../../src/debugger/session.js';
import { bundled_dir } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { load_recording } from '../../src/record/load.js';
import { replay_recording } from '../../src/record/replay.js';
import { SessionRecorder, SessionRecordingError } from '../../src/record/session.js';
import { session_input } from '../../src/record/open.js';
import { apply_poke, tmp_file } from './helpers.js';

const loaded = load_scenario(join(bundled_dir(), 'default.yaml'));
const world_hash = (s: Session) => hash_value(s.world, ['events']);

/** Force `n` steps of the first thread that can run them. */
function force_some(s: Session, n: number): string {
  for (const t of s.world.threads) {
    try {
      s.step(n, t.name);
      return t.name;
    } catch {
      // that one cannot run now
    }
  }
  throw new Error('no thread can run');
}

describe('SessionRecorder', () => {
  it('follows forced steps, pokes and a change of timeline; the recording replays to the session', () => {
    const session = new Session({ world: () => create_world(loaded.config), interval: 40 });
    session.step(30);
    const file = tmp_file('session.jsonl');
    // Started mid-session: the recording still starts at step 0.
    const rec = new SessionRecorder(session, file, { scenario: loaded, apply_poke, hash_every: 25, signals: [] });
    expect(rec.steps).toBe(30);
    force_some(session, 3);
    session.poke('mt.new', { name: 'scratch', alloc: false }, 'mt new scratch');
    session.poke('mt.store', { tree: 'scratch', first: 16, last: 31, value: 0x1000, insert: false }, 'mt store scratch 16 31 0x1000');
    rec.sync();
    session.step(60);
    session.poke('variant', { name: 'kvm.exit_request_before_mode', on: true }, 'variant kvm.exit_request_before_mode on');
    rec.sync();
    session.step(40);
    rec.sync();
    // Back in time, and another path from there: a poke in the past.
    session.goto(50);
    session.poke('mt.store', { tree: 'scratch', first: 40, last: 47, value: 0x2000, insert: true }, 'mt insert scratch 40 47 0x2000');
    rec.sync();
    force_some(session, 2);
    session.continue();
    rec.close();
    expect(rec.closed).toBe(true);

    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/"rewind":50,"cmds":2\}/);
    const r = load_recording(file);
    expect(r.warning).toBeNull();
    expect(r.picks.length).toBe(session.end_step);
    expect(r.end?.status).toBe('stopped');
    expect(r.end?.run_hash).toBe(world_hash(session));
    expect(r.cmds.map((c) => c.cmd)).toEqual(['mt new scratch', 'mt store scratch 16 31 0x1000', 'mt insert scratch 40 47 0x2000']);
    expect(session.forced_steps().length).toBeGreaterThanOrEqual(2);
    expect(Array.from(r.picks).filter((p) => p < 0).length).toBe(session.forced_steps().length);
    const rp = replay_recording(r, { verify: true, apply_poke });
    expect(rp.divergence, rp.divergence?.message).toBeNull();
    expect(rp.hash).toBe(world_hash(session));
    expect(rp.hashes_checked).toBe(r.hashes.size + 1);
    // Without the poke handlers the replay says which command it cannot apply.
    const no = replay_recording(r);
    expect(no.divergence?.kind).toBe('poke');
    expect(no.divergence?.message).toMatch(/mt new scratch/);
  });

  it('a session going back and forward along the same timeline writes no rewind', () => {
    const session = new Session({ world: () => create_world(loaded.config), interval: 30 });
    const file = tmp_file('travel.jsonl');
    const rec = new SessionRecorder(session, file, { scenario: loaded, apply_poke, hash_every: 10, signals: [] });
    session.step(100);
    rec.sync();
    session.reverseStep(70);
    rec.sync();
    session.goto(80);
    rec.sync();
    rec.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/rewind/);
    const r = load_recording(file);
    expect(r.picks.length).toBe(100);
    expect(replay_recording(r, { verify: true, apply_poke }).divergence).toBeNull();
  });

  it('refuses to go on when the session is no longer the recorded scenario (reseeded)', () => {
    const session = new Session({ world: () => create_world(loaded.config) });
    const file = tmp_file('reseed.jsonl');
    const rec = new SessionRecorder(session, file, { scenario: loaded, apply_poke, signals: [] });
    session.step(20);
    rec.sync();
    session.set_seed(77);
    session.step(20);
    expect(() => rec.sync()).toThrow(SessionRecordingError);
    expect(rec.closed).toBe(true);
    // What was written before stays readable.
    expect(load_recording(file).warning).toMatch(/not closed cleanly/);
  });

  it('session_input gives what a Session needs to open a recording at its end', () => {
    const session = new Session({ world: () => create_world(loaded.config) });
    const file = tmp_file('open.jsonl');
    const rec = new SessionRecorder(session, file, { scenario: loaded, apply_poke, signals: [] });
    session.step(25);
    session.poke('mt.new', { name: 't', alloc: true }, 'mt new t --alloc');
    session.step(10);
    rec.close();
    const input = session_input(load_recording(file));
    expect(input.end_step).toBe(35);
    expect(input.history?.picks.length).toBe(35);
    expect(input.pokes).toEqual([{ step: 25, name: 'mt.new', args: { name: 't', alloc: true }, text: 'mt new t --alloc' }]);
    expect(input.schedule).toBeNull();
    expect(hash_value(input.world(), ['events'])).toBe(hash_value(create_world(loaded.config), ['events']));
  });
});

describe('is_recording_file', () => {
  it('tells a recording from a scenario by its first bytes', async () => {
    const { is_recording_file } = await import('../../src/record/load.js');
    const file = tmp_file('sniff.jsonl');
    const session = new Session({ world: () => create_world(loaded.config) });
    new SessionRecorder(session, file, { scenario: loaded, apply_poke, signals: [] }).close();
    expect(is_recording_file(file)).toBe(true);
    expect(is_recording_file(join(bundled_dir(), 'default.yaml'))).toBe(false);
    expect(is_recording_file(tmp_file('nothing-here'))).toBe(false);
  });
});
