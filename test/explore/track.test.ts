// The tracked World: steps on the proxy do what they do on the plain World,
// the incremental key equals a fresh computation, undo puts the World back,
// and footprints see what a step touched.
import { describe, expect, it } from 'vitest';
import { xoroshiro128plus, unsafeUniformIntDistribution } from 'pure-rand';
import { Machine } from '../../src/core/machine/machine.js';
import { hash_value } from '../../src/core/machine/hash.js';
import { create_world } from '../../src/core/world_init.js';
import { Sim, type Exec } from '../../src/explore/sim.js';
import { Tracker, copy_plain, dependent, index_footprint, new_footprint } from '../../src/explore/track.js';
import type { World } from '../../src/core/machine/world.js';
import { bundled, fixture } from './helpers.js';

const SCENARIOS = ['fault-vs-invalidate', 'hv-tlb-flush-inhibit', 'nv-s2-recycle', 'parallel-walk-rcu'];

describe('tracked World', () => {
  for (const id of SCENARIOS) {
    it(`${id}: same run as untracked, key = fresh key, undo restores the World`, () => {
      const l = bundled(id);
      const sim = new Sim(l.config, { undo: true });
      const before = hash_value(sim.w, ['events']);
      const g = xoroshiro128plus(7);
      const xs: Exec[] = [];
      const keys: string[] = [];
      for (let n = 0; n < 400; n++) {
        keys.push(sim.tr.key());
        const r = sim.runnable();
        if (!r.length) break;
        const t = r[unsafeUniformIntDistribution(0, r.length - 1, g)]!;
        // Now and then a non-zero answer to the step's first choice.
        const x = sim.exec(t, unsafeUniformIntDistribution(0, 5, g) === 0 ? [1] : [], new_footprint());
        xs.push(x);
        if (n % 13 === 0) expect(sim.tr.key()).toBe(sim.tr.full_key());
        if (x.result.violations.length) break;
      }
      expect(sim.tr.key()).toBe(sim.tr.full_key());
      // The same schedule on a plain Machine reaches the same World.
      const m = new Machine(create_world(l.config));
      m.replay = { s: { picks: [...sim.m.schedule.picks], choices: [...sim.m.schedule.choices] }, pick: 0, choice: 0 };
      for (let i = 0; i < xs.length; i++) m.step();
      expect(hash_value(m.w, ['events'])).toBe(hash_value(sim.w, ['events']));
      // Undo takes the key tree back by its log: every key on the way down is the one met going up.
      for (let i = xs.length - 1; i >= 0; i--) {
        sim.undo(xs[i]!);
        expect(sim.tr.key()).toBe(keys[i]);
      }
      expect(hash_value(sim.w, ['events'])).toBe(before);
      expect(sim.tr.key()).toBe(sim.tr.full_key());
    });
  }

  it('undo keeps a leaf object the same object: one step moves it (an array shift), the next changes it, both undone', () => {
    // The RCU callback queue: elements sit at the cut and are handed out raw. The shift's undo entries
    // hold the moved callback itself; had the next step's undo put a copy in its place, undoing the
    // shift would bring back the changed original (a DFS once reached a World its schedule does not).
    const w = create_world(bundled('parallel-walk-rcu').config);
    w.rcu!.cbs = [0, 1].map((id) => ({ id, kind: 'stage2_free_unlinked_table_rcu_cb', arg: { page: id }, gp: -1, queued_step: 0, by: 'vcpu0' }));
    const tr = new Tracker(copy_plain(w));
    const before = hash_value(tr.raw, ['events']);
    const step = (f: (x: World) => void) => {
      tr.begin(null);
      tr.pre();
      tr.world.step++;
      f(tr.world);
      return tr.end();
    };
    const shift = step((x) => void x.rcu!.cbs.shift());
    const gp = step((x) => {
      for (const cb of x.rcu!.cbs) if (cb.gp < 0) cb.gp = 2;
    });
    expect(tr.raw.rcu!.cbs.map((c) => [c.id, c.gp])).toEqual([[1, 2]]);
    tr.undo(gp);
    tr.undo(shift);
    expect(tr.raw.rcu!.cbs.map((c) => [c.id, c.gp])).toEqual([
      [0, -1],
      [1, -1],
    ]);
    expect(hash_value(tr.raw, ['events'])).toBe(before);
    expect(tr.key()).toBe(tr.full_key());
  });

  it('two paths to the same state have the same key; the step counters are not state', () => {
    const l = fixture('kick2');
    const a = new Sim(l.config);
    const b = new Sim(l.config);
    // vcpu0 then vcpu1 against vcpu1 then vcpu0: their first steps touch only their own threads.
    a.exec(0, [], null);
    a.exec(1, [], null);
    b.exec(1, [], null);
    b.exec(0, [], null);
    expect(a.key()).toBe(b.key());
    expect(a.w.step).toBe(b.w.step);
  });

  it("footprints: a vCPU's first step is independent of another vCPU's, dependent on its own next one", () => {
    const l = fixture('kick2');
    const sim = new Sim(l.config);
    const f0 = new_footprint();
    const x0 = sim.exec(0, [], f0);
    sim.undo(x0);
    const f1 = new_footprint();
    const x1 = sim.exec(1, [], f1);
    const f1b = new_footprint();
    sim.exec(1, [], f1b);
    expect(x1.result.thread?.name).toBe('vcpu1');
    expect(dependent(index_footprint(f0), index_footprint(f1))).toBe(false);
    expect(dependent(index_footprint(f1), index_footprint(f1b))).toBe(true);
    const clock = { ...new_footprint(), clock: true };
    expect(dependent(index_footprint(clock), index_footprint(f0))).toBe(true);
  });

  it("footprints: an array's every() reads its shape, not its elements; a push is dependent on it, a change inside an element is not", () => {
    const tr = new Tracker(copy_plain(create_world(bundled('fault-vs-invalidate').config)));
    const step = (f: (x: World) => void) => tracked_step(tr, f).fp;
    const every = step((x) => void x.threads.every((t) => t.id >= 0));
    const loc = (...p: string[]) => p.join('\x01');
    expect([...every.r]).toContain(loc('threads', 'length'));
    expect([...every.r].some((l) => l === loc('threads', '0') || l === loc('threads', '1'))).toBe(false);
    const inside = step((x) => void x.threads[0]!.preempt_count++);
    const push = step((x) => void x.threads.push(copy_plain(tr.raw.threads[0]!)));
    expect(dependent(every, inside)).toBe(false);
    expect(dependent(every, push)).toBe(true);
  });

  it('a store of the value already there is a write (dependent with a store of another value), and leaves the World and key as they were', () => {
    const tr = new Tracker(copy_plain(create_world(bundled('fault-vs-invalidate').config)));
    const step = (f: (x: World) => void) => tracked_step(tr, f);
    const key = tr.key();
    const nothing = step(() => {});
    const same = step((x) => void (x.threads[0]!.wait = null));
    expect(tr.key()).toBe(key);
    expect(same.log.undo.length).toBe(nothing.log.undo.length);
    expect(same.log.keys.length).toBe(0);
    expect([...same.fp.w]).toEqual([['threads', '0', 'wait'].join('\x01')]);
    const other = step((x) => void (x.threads[0]!.wait = { kind: 'preempted', until: 9 }));
    expect(dependent(same.fp, other.fp)).toBe(true);
    expect(tr.key()).not.toBe(key);
    expect(tr.key()).toBe(tr.full_key());
    // A push and a pop change the key at the element that came or went: the key stays the World's.
    const pushed = step((x) => void x.threads[1]!.stack.push({ fn: 'kvm_preempt', pc: 'sched_out', locals: {} }));
    expect(tr.key()).toBe(tr.full_key());
    step((x) => void x.threads[1]!.stack.pop());
    expect(tr.key()).toBe(tr.full_key());
    expect([...pushed.fp.w]).toContain(['threads', '1', 'stack'].join('\x01'));
  });

  it("a table page's words are in the key by index and value: a change shows, the same value at another index is another state, putting it back is the first", () => {
    const tr = new Tracker(copy_plain(create_world(bundled('fault-vs-invalidate').config)));
    const path = find_words(tr.raw, []);
    expect(path, 'a typed array in the World').not.toBeNull();
    const words = (x: World) => path!.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], x) as Uint32Array;
    const key = tr.key();
    const n = words(tr.raw).length;
    const old = [words(tr.raw)[3]!, words(tr.raw)[n - 2]!];
    tracked_step(tr, (x) => void (words(x)[3] = 0x40000703));
    const at3 = tr.key();
    expect(at3).not.toBe(key);
    expect(at3).toBe(tr.full_key());
    tracked_step(tr, (x) => {
      words(x)[3] = old[0]!;
      words(x)[n - 2] = 0x40000703;
    });
    expect(tr.key()).not.toBe(at3);
    expect(tr.key()).not.toBe(key);
    expect(tr.key()).toBe(tr.full_key());
    tracked_step(tr, (x) => void (words(x)[n - 2] = old[1]!));
    expect(tr.key()).toBe(key);
  });

  it('two table pages that swap contents are another state (nv-revmap met such a pair as one, with different futures)', () => {
    const tr = new Tracker(copy_plain(create_world(bundled('fault-vs-invalidate').config)));
    const page = (x: World, i: number) => x.pgt_pages![i]!.ent as unknown as Uint32Array;
    expect(tr.raw.pgt_pages!.length).toBeGreaterThanOrEqual(2);
    const [X, Y] = [0x40000703, 0x15003];
    const put = (p0: [number, number][], p1: [number, number][]) =>
      tracked_step(tr, (x) => {
        for (const p of [0, 1]) page(x, p).fill(0, 0, 16);
        for (const [i, v] of p0) page(x, 0)[i] = v;
        for (const [i, v] of p1) page(x, 1)[i] = v;
      });
    put([[3, X]], [[7, Y]]);
    const key = tr.key();
    put([[7, Y]], [[3, X]]);
    expect(tr.key()).toBe(tr.full_key());
    expect(tr.key()).not.toBe(key);
    // One word moved to the other page, at the same index: another state too.
    put([], [[3, X], [7, Y]]);
    expect(tr.key()).not.toBe(key);
    put([[3, X]], [[7, Y]]);
    expect(tr.key()).toBe(key);
  });
});

/** The path to the first typed array of 64 words or more in `v`. */
function find_words(v: unknown, path: string[]): string[] | null {
  if (v instanceof Uint32Array) return v.length >= 64 ? path : null;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return null;
  for (const k of Object.keys(v)) {
    const p = find_words((v as Record<string, unknown>)[k], [...path, k]);
    if (p) return p;
  }
  return null;
}

/** Run `f` on the tracked World as one step: its footprint and log. */
function tracked_step(tr: Tracker, f: (x: World) => void) {
  const fp = new_footprint();
  tr.begin(fp);
  tr.pre();
  tr.world.step++;
  f(tr.world);
  const log = tr.end();
  return { fp: index_footprint(fp), log };
}
