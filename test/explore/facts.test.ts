// Learned ownership (src/explore/facts.ts): steps that touch only locations
// random runs showed one thread alone touching are local too. Checked like
// the other reductions (the same violations and end states, no more states)
// and for its own claim: a search keeps watching the facts, and a step
// against them stops it as a breach instead of letting it prove anything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDUCTION_CASES as CASES, bundled, fixture, reach, run, run_shards } from './helpers.js';
import type { LoadedScenario } from '../../src/scenario/load.js';
import { Dfs } from '../../src/explore/dfs.js';
import { learn_facts, learn_from, Ownership, CONSTANT, SHARED } from '../../src/explore/facts.js';
import { Sim } from '../../src/explore/sim.js';

const SEP = '\x01';

describe('learned ownership', () => {
  for (const [name, variants, p] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, ${p === null ? 'no preemption bound' : `at most ${p} preemption`}: the same violations and end states as own frames only`, () => {
      const plain = reach(name, variants, { preemptions: p });
      const owned = reach(name, variants, { preemptions: p, facts: 64 });
      expect(owned.breach).toBeNull();
      expect(plain.complete && owned.complete).toBe(true);
      expect([...owned.violations].sort()).toEqual([...plain.violations].sort());
      expect([...owned.ends].sort()).toEqual([...plain.ends].sort());
      expect(owned.states).toBeLessThanOrEqual(plain.states);
    });
  }

  for (const [name, variants, p] of CASES) {
    it(`${name}${variants.length ? ` with ${variants.join(', ')}` : ''}, ${p === null ? 'no preemption bound' : `at most ${p} preemption`}: labels learned never local are scheduling points without a try, the same states, violations and end states`, () => {
      const tried = reach(name, variants, { preemptions: p, facts: 64, never_local: false });
      const skipped = reach(name, variants, { preemptions: p, facts: 64 });
      expect(skipped.complete && tried.complete).toBe(true);
      expect([...skipped.violations].sort()).toEqual([...tried.violations].sort());
      expect([...skipped.ends].sort()).toEqual([...tried.ends].sort());
      expect(skipped.states).toBe(tried.states);
      expect(skipped.unmerged).toBeLessThan(tried.unmerged);
    });
  }

  it('the labels learned never local are labels of the model, in the facts, and survive a breach learned', () => {
    const own = learn_facts(bundled('fault-vs-invalidate').config, 1, 1600, 0);
    const labels = own.facts.never_local ?? [];
    expect(labels.length).toBeGreaterThan(5);
    // The vCPU's entry to the guest reads the requests another thread makes: never local.
    expect(labels.some((l) => l.startsWith('kvm_arch_vcpu_ioctl_run:'))).toBe(true);
    for (const l of labels) {
      const [fn, pc] = [l.slice(0, l.lastIndexOf(':')), l.slice(l.lastIndexOf(':') + 1)];
      expect(own.never_local(fn, pc)).toBe(true);
    }
    const again = new Ownership(own.facts);
    again.learn_breach({ thread: 0, loc: ['kvm', 'mmu_invalidate_seq'].join(SEP), write: true, was: 1 });
    expect(again.facts.never_local).toEqual(labels);
  });

  it('fault-vs-invalidate: each vCPU’s memory cache and RCU nesting are its own, the memslots constant, the MMU notifier state shared', () => {
    const own = learn_facts(bundled('fault-vs-invalidate').config, 1, 1600, 0);
    expect(own.class_of(['s2_memcache', '0', 'nobjs'].join(SEP))).toBe(0);
    expect(own.class_of(['s2_memcache', '1', 'nobjs'].join(SEP))).toBe(1);
    expect(own.class_of(['rcu', 'nesting', '1'].join(SEP))).toBe(1);
    expect(own.class_of(['kvm', 'memslots', '0'].join(SEP))).toBe(CONSTANT);
    expect(own.class_of(['kvm', 'mmu_invalidate_seq'].join(SEP))).toBe(SHARED);
  });

  it('learning needs footprints, not state keys: the same facts with the key kept up to date and without', () => {
    const cfg = fixture('coarse-race').config;
    const keyed = learn_from(new Sim(cfg, { undo: false }), 1, 400, 1, 16);
    const bare = learn_facts(cfg, 1, 400, 1, 16);
    expect(bare.facts.who.length).toBeGreaterThan(0);
    expect(bare.facts).toEqual(keyed.facts);
  });

  it('thread records are learned too: a vCPU thread’s preempt_count, op index and fault frames are its own where no invariant looks into them, shared where one does', () => {
    const own = learn_facts(bundled('fault-vs-invalidate').config, 1, 1600, 0);
    const at = (...p: string[]) => ['threads', ...p].join(SEP);
    expect(own.class_of(at('0', 'preempt_count'))).toBe(0);
    expect(own.class_of(at('1', 'ip'))).toBe(1);
    expect(own.class_of(at('0', 'stack'))).toBe(0);
    // Wait predicates read whether the other threads are done.
    expect(own.class_of(at('0', 'done'))).toBe(SHARED);
    // nv.recycled_in_use looks into every vCPU's user_mem_abort frame when a shadow MMU is recycled.
    const nv = learn_facts(bundled('nv-s2-recycle').config, 1, 1600, 0, 8);
    expect(nv.class_of(at('0', 'stack'))).toBe(SHARED);
  });

  it('a breach is learned for every element of its array, and for the whole stack of a thread another looked into', () => {
    const at = (...p: (string | number)[]) => p.join(SEP);
    const own = new Ownership({
      who: [
        [at('x86', 'flushes', 5, 'targets'), 0],
        [at('x86', 'flushes', 6, 'stamp'), 0],
        [at('x86', 'inhibit'), 0],
        [at('threads', 2, 'stack', 3), 2],
        [at('threads', 2, 'stack', 'length'), 2],
        [at('threads', 1, 'stack', 3), 1],
      ],
      written: [at('x86', 'flushes', 5, 'targets'), at('x86', 'flushes', 6, 'stamp'), at('x86', 'inhibit'), at('threads', 2, 'stack', 3), at('threads', 2, 'stack', 'length'), at('threads', 1, 'stack', 3)],
    });
    expect(own.class_of(at('x86', 'flushes', 6, 'stamp'))).toBe(0);
    expect(own.class_of(at('threads', 2, 'stack', 'length'))).toBe(2);
    own.learn_breach({ thread: 2, loc: at('x86', 'flushes', 5, 'targets'), write: false, was: 0 });
    // Other fields of other entries.
    expect(own.class_of(at('x86', 'flushes', 6, 'stamp'))).toBe(SHARED);
    expect(own.class_of(at('x86', 'inhibit'))).toBe(0);
    own.learn_breach({ thread: 0, loc: at('threads', 2, 'stack', 3), write: false, was: 2 });
    expect(own.class_of(at('threads', 2, 'stack', 'length'))).toBe(SHARED);
    expect(own.class_of(at('threads', 1, 'stack', 3))).toBe(1);
    // The facts go to workers and shard files as data: the same classes there.
    const copy = new Ownership(own.facts);
    for (const l of [at('x86', 'flushes', 9, 'targets'), at('x86', 'inhibit'), at('threads', 2, 'stack', 5), at('threads', 1, 'stack', 3)]) expect(copy.class_of(l)).toBe(own.class_of(l));
  });

  it('a step against the facts is a breach: mmu_invalidate_seq given to vcpu0 alone stops the search at the first other thread that touches it', () => {
    const cfg = bundled('fault-vs-invalidate').config;
    const own = learn_facts(cfg, 1, 1600, 0);
    const seq = ['kvm', 'mmu_invalidate_seq'].join(SEP);
    const wrong = new Ownership({ who: own.facts.who.filter(([l]) => l !== seq).concat([[seq, 0]]), written: own.facts.written });
    expect(wrong.class_of(seq)).toBe(0);
    const dfs = new Dfs(new Sim(cfg, { undo: true }), { depth: 1600, preemptions: 0, faults: 0, por: true, coarse: true, facts: wrong, budget: Infinity, split: 0, owns: () => true, first: true });
    expect(dfs.run()).toBe('breach');
    expect(dfs.breach).toMatchObject({ loc: seq, was: 0 });
    expect(dfs.breach!.thread).not.toBe(0);
    // Past the breach it learned: the seq is shared now, in its own copy of the facts.
    expect(wrong.class_of(seq)).toBe(SHARED);
  });

  it('past a breach the search only learns: with the retry check gone, the violation is reported by the search started again, not the one that broke its facts', () => {
    const cfg = bundled('fault-vs-invalidate', ['mmu.no_retry_check']).config;
    const own = learn_facts(cfg, 1, 1600, 0);
    const seq = ['kvm', 'mmu_invalidate_seq'].join(SEP);
    const wrong = new Ownership({ who: own.facts.who.filter(([l]) => l !== seq).concat([[seq, 0]]), written: own.facts.written });
    const search = (facts: Ownership) =>
      new Dfs(new Sim(cfg, { undo: true }), { depth: 1600, preemptions: 1, faults: 0, por: true, coarse: true, facts, budget: Infinity, split: 0, owns: () => true, first: true });
    const broke = search(wrong);
    expect(broke.run()).toBe('breach');
    expect(broke.finding).toBeNull();
    const again = search(new Ownership(wrong.facts));
    expect(again.run()).toBe('violation');
    expect(again.breach).toBeNull();
    expect(again.finding!.violation.invariant).toBe('mmu.stale_mapping');
  });

  it('a search that broke its facts goes on learning: fewer restarts than learning one breach a time, and the same states in the end', () => {
    const cfg = fixture('coarse-race').config;
    const base = learn_facts(cfg, 1, 400, 0, 1);
    const search = (facts: Ownership) =>
      new Dfs(new Sim(cfg, { undo: true }), { depth: 400, preemptions: 1, faults: 0, por: true, coarse: true, facts, budget: Infinity, split: 0, owns: () => true, first: true });
    // Learn what each search saw (all of it, or its first breach only), and search again with a fresh copy.
    const restarts = (all: boolean) => {
      const own = new Ownership(base.facts);
      for (let i = 0; i < 64; i++) {
        const dfs = search(new Ownership(own.facts));
        if (dfs.run() !== 'breach') return { restarts: i, states: dfs.states.size, status: dfs.status };
        expect(dfs.breaches[0]).toBe(dfs.breach);
        for (const b of all ? dfs.breaches : [dfs.breach!]) own.learn_breach(b);
      }
      throw new Error('no end');
    };
    const one = restarts(false);
    const all = restarts(true);
    expect(one.restarts).toBeGreaterThan(1);
    expect(all.restarts).toBeGreaterThan(0);
    expect(all.restarts).toBeLessThan(one.restarts);
    expect([one.status, all.status]).toEqual(['done', 'done']);
    expect(all.states).toBe(one.states);
  });

  it('facts learned from one random run miss some sharing: the explorer learns the breaches, starts again, and reaches the verdict of the search without facts', async () => {
    const base = { strategy: 'dfs' as const, preemptions: 1, faults: 0, depth: 400, shrink: false };
    const fixed = fixture('coarse-race');
    const plain = await run(fixed, { ...base, facts: false });
    const few = await run(fixed, { ...base, learn_runs: 1 });
    expect(plain.status).toBe('complete');
    expect(few.restarts).toBeGreaterThan(0);
    expect(few.breach).toBeNull();
    expect(few.status).toBe('complete');
    // With the bug, the violation: not the one met past a breach, but the one the search started again finds.
    const buggy = fixture('coarse-race', ['mmu.no_retry_check']);
    const bad = await run(buggy, { ...base, facts: false });
    const found = await run(buggy, { ...base, learn_runs: 1 });
    expect(bad.violation?.violation.invariant).toBe('mmu.stale_mapping');
    expect(found.restarts).toBeGreaterThan(0);
    expect(found.violation?.violation.invariant).toBe(bad.violation?.violation.invariant);
  });

  it('a shard learns the breaches in its own items and searches them again: the shards merged reach the verdict, and the violation, of one run', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kvmdbg-facts-'));
    try {
      const base = { strategy: 'dfs' as const, preemptions: 1, faults: 0, depth: 400, shrink: false, learn_runs: 1 };
      const shards = async (l: LoadedScenario, tag: string) => {
        const { shards: rs, merged } = await run_shards(l, 2, base, tmp, tag);
        return { rs, merged };
      };
      const fixed = fixture('coarse-race');
      const one = await run(fixed, base);
      const a = await shards(fixed, 'fixed');
      // Each shard broke the facts of one random run (or not), learned, and finished its own items.
      expect(a.rs.reduce((n, r) => n + r.restarts, 0)).toBeGreaterThan(0);
      for (const r of a.rs) {
        expect(r.breach).toBeNull();
        expect(r.status).toBe('complete');
        // The shard file keeps the facts all shards started from; the search went on with more.
        expect(r.initial_facts).toEqual(learn_facts(fixed.config, 1, 400, 0, 1).facts);
      }
      // Its items are the same whatever facts it holds (none above the split): those of the shard without facts.
      const plain = await run(fixed, { ...base, facts: false, shard: { k: 1, n: 2 } });
      for (const r of a.rs) expect([r.params.split, r.items]).toEqual([plain.params.split, plain.items]);
      expect(a.merged.status).toBe('complete');
      expect(a.merged.restarts).toBe(a.rs.reduce((n, r) => n + r.restarts, 0));
      const all = new Set(a.merged.keys);
      for (const k of one.keys) expect(all.has(k)).toBe(true);
      const buggy = fixture('coarse-race', ['mmu.no_retry_check']);
      const bad = await run(buggy, { ...base, facts: false });
      const b = await shards(buggy, 'buggy');
      expect(b.merged.status).toBe('violation');
      expect(b.merged.violation?.violation.invariant).toBe(bad.violation?.violation.invariant);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
