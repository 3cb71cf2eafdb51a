// The visited set the workers of a search share (src/explore/visited.ts):
// what covers what, the item rule, the depth-blind flag, visits from
// concurrent threads, and searches that share it reaching every state the
// search with one worker reaches.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Dfs, type DfsOptions } from '../../src/explore/dfs.js';
import { Ownership } from '../../src/explore/facts.js';
import { not_local_by_record } from '../../src/explore/local.js';
import { Sim } from '../../src/explore/sim.js';
import { acquire_visited, next_generation, release_visited, TOUCH_AT, VisitedTable, visited_buffer, type Budgets } from '../../src/explore/visited.js';
import { hidden_items, reported_finding, search_params } from '../../src/explore/explore.js';
import { Part } from '../../src/explore/part.js';
import { fixture, run } from './helpers.js';

// The rule dfs.ts applies: at least the budgets, and one preemption more when the last thread differs.
const covers = (e: Budgets, b: Budgets) => e.d >= b.d && e.f >= b.f && (e.last === b.last || e.last === -1 ? e.p >= b.p : e.p >= b.p + 1);
const B = (last: number, p: number, d = Infinity, f = Infinity): Budgets => ({ last, d, f, p });

describe('VisitedTable', () => {
  it('a visit covers one with fewer budgets left, not one with more; keys differing above bit 32 are different states', () => {
    const t = new VisitedTable(visited_buffer(1 << 10));
    const k = 2 ** 52 + 12345;
    expect(t.visit(k, 0, B(1, 1, 100, 2), 0, false, covers)).toBe('recorded');
    expect(t.visit(k, 0, B(1, 1, 100, 2), 0, false, covers)).toBe('covered');
    expect(t.visit(k, 0, B(1, 0, 50, 0), 0, false, covers)).toBe('covered');
    expect(t.visit(k, 0, B(1, 2, 100, 2), 0, false, covers)).toBe('recorded');
    expect(t.visit(k, 0, B(1, 1, 101, 2), 0, false, covers)).toBe('recorded');
    // Another last thread: one preemption more is needed.
    expect(t.visit(k, 0, B(0, 1, 100, 2), 0, false, covers)).toBe('covered');
    expect(t.visit(k, 0, B(0, 2, 100, 2), 0, false, covers)).toBe('recorded');
    // The same low 32 bits, another high part: not the same state.
    expect(t.visit(12345, 0, B(1, 0, 0, 0), 0, false, covers)).toBe('recorded');
    expect(t.visit(2 ** 53 - 1, 0, B(-1, 0), 0, false, covers)).toBe('recorded');
    expect(t.visit(2 ** 53 - 1, 0, B(3, 0), 0, false, covers)).toBe('covered');
    expect(t.size).toBe(6);
  });

  it('a visit matches on all 64 bits: the same 53-bit key with another check is another state', () => {
    const t = new VisitedTable(visited_buffer(1 << 10));
    const k = 2 ** 52 + 777;
    expect(t.visit(k, 5, B(1, 1), 0, false, covers)).toBe('recorded');
    expect(t.visit(k, 6, B(1, 0), 0, false, covers)).toBe('recorded');
    expect(t.visit(k, 2047, B(1, 0), 0, false, covers)).toBe('recorded');
    expect(t.visit(k, 5, B(1, 0), 0, false, covers)).toBe('covered');
    expect(t.visit(k, 6, B(1, 0), 0, false, covers)).toBe('covered');
    expect(t.size).toBe(3);
  });

  it('a visit of a later item covers as borrowed, naming the lowest such item; one of the same or an earlier item wins wherever its slot is', () => {
    const t = new VisitedTable(visited_buffer(1 << 10));
    expect(t.visit(77, 0, B(0, 1), 5, false, covers)).toBe('recorded');
    expect(t.visit(77, 0, B(0, 1), 5, false, covers)).toBe('covered');
    expect(t.visit(77, 0, B(0, 1), 9, false, covers)).toBe('covered');
    expect(t.visit(77, 0, B(0, 1), 3, false, covers)).toBe('borrowed');
    expect(t.from).toBe(5);
    // Not recorded: item 3 borrows again.
    expect(t.visit(77, 0, B(0, 1), 3, false, covers)).toBe('borrowed');
    expect(t.size).toBe(1);
    // Item 2 with more left is not covered; its visit is probed after item 5's and still wins for item 4.
    expect(t.visit(77, 0, B(0, 2), 2, false, covers)).toBe('recorded');
    expect(t.visit(77, 0, B(0, 1), 4, false, covers)).toBe('covered');
    // Item 1 is covered by items 2 and 5: it borrows from the lower, 2.
    expect(t.visit(77, 0, B(0, 1), 1, false, covers)).toBe('borrowed');
    expect(t.from).toBe(2);
    // Budgets still decide: nothing covers two preemptions left at item 1.
    expect(t.visit(77, 0, B(0, 3), 1, false, covers)).toBe('recorded');
  });

  it('depth-blind visits cover only depth-blind ones; the flag sends every depth-blind search back', () => {
    const t = new VisitedTable(visited_buffer(1 << 10));
    expect(t.visit(5, 0, B(0, 1), 0, true, covers)).toBe('recorded');
    expect(t.visit(5, 0, B(0, 1, 10), 0, false, covers)).toBe('recorded');
    expect(t.visit(5, 0, B(0, 1), 0, true, covers)).toBe('covered');
    expect(t.visit(5, 0, B(0, 1, 9), 0, false, covers)).toBe('covered');
    expect(t.depth_met).toBe(false);
    new VisitedTable(t.buffer).set_depth_met();
    expect(t.depth_met).toBe(true);
  });

  it('says full at 70% of its slots, and a size that is not a power of two is refused', () => {
    const t = new VisitedTable(visited_buffer(16));
    for (let k = 1; k <= 11; k++) expect(t.visit(k * 7919, 0, B(0, 0), 0, false, covers)).toBe('recorded');
    expect(t.visit(1_000_003, 0, B(0, 0), 0, false, covers)).toBe('full');
    // Still answers for what it holds.
    expect(t.visit(7919, 0, B(0, 0), 0, false, covers)).toBe('covered');
    expect(() => new VisitedTable(new SharedArrayBuffer(4 * (4 + 7 * 12)))).toThrow(/not a power of two/);
  });

  it('a table in its next generation is empty, also after the generations wrap round; touching its pages keeps what it holds', () => {
    const buf = visited_buffer(1 << 13);
    let t = new VisitedTable(buf);
    const keys = Array.from({ length: TOUCH_AT + 100 }, (_, i) => (i + 1) * 2654435761 * 1021);
    for (const k of keys) expect(t.visit(k, 0, B(0, 1), 0, false, covers)).toBe('recorded');
    t.set_depth_met();
    // Every page was touched at TOUCH_AT visits, with an atomic add of 0: the visits before and after are all there.
    for (const k of keys) expect(t.visit(k, 0, B(0, 1), 0, false, covers)).toBe('covered');
    expect(t.size).toBe(keys.length);
    for (let round = 0; round < 600; round++) {
      next_generation(buf);
      t = new VisitedTable(buf);
      expect(t.size).toBe(0);
      expect(t.depth_met).toBe(false);
      // What an earlier generation recorded covers nothing; its slots take the new visits.
      expect(t.visit(keys[round % keys.length]!, 0, B(0, 1), 0, false, covers)).toBe('recorded');
      expect(t.visit(keys[round % keys.length]!, 0, B(0, 1), 0, false, covers)).toBe('covered');
    }
    expect(() => new VisitedTable(new SharedArrayBuffer(4 * (4 + 7 * 16)))).toThrow(/generation 0/);
  });

  it('the pool gives a search\'s table to the next search, emptied, and only a full-size one', () => {
    const a = acquire_visited();
    const t = new VisitedTable(a);
    expect(t.visit(99, 0, B(0, 1), 0, false, covers)).toBe('recorded');
    release_visited(a);
    const b = acquire_visited();
    expect(b).toBe(a);
    expect(new VisitedTable(b).visit(99, 0, B(0, 1), 0, false, covers)).toBe('recorded');
    // Held by a search: the next one gets a table of its own.
    const c = acquire_visited();
    expect(c).not.toBe(b);
    release_visited(b);
    release_visited(visited_buffer(16));
    expect(acquire_visited()).toBe(b);
  });

  // The built module, as the explorer's workers load it (npm ci builds dist/).
  const built = fileURLToPath(new URL('../../dist/src/explore/visited.js', import.meta.url));
  it.runIf(existsSync(built))('threads recording the same keys at once: every key is recorded, none twice by one thread, and all are covered after', async () => {
    const buf = visited_buffer(1 << 16);
    const N = 20_000;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ VisitedTable }) => {
        const t = new VisitedTable(workerData.buf);
        const covers = (e, b) => e.p >= b.p;
        let recorded = 0;
        for (let i = 0; i < workerData.n; i++) if (t.visit(i * 2654435761 % 2 ** 53, i & 2047, { last: 0, d: 1, f: 1, p: 0 }, 0, false, covers) === 'recorded') recorded++;
        let again = 0;
        for (let i = 0; i < workerData.n; i++) if (t.visit(i * 2654435761 % 2 ** 53, i & 2047, { last: 0, d: 1, f: 1, p: 0 }, 0, false, covers) === 'recorded') again++;
        parentPort.postMessage({ recorded, again });
      });`;
    const url = new URL(`file://${built}`).href;
    const one = () =>
      new Promise<{ recorded: number; again: number }>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { buf, n: N, url } });
        w.once('message', resolve);
        w.once('error', reject);
      });
    const rs = await Promise.all([one(), one(), one()]);
    for (const r of rs) expect(r.again).toBe(0);
    const total = rs.reduce((a, r) => a + r.recorded, 0);
    // Each key recorded at least once; a race may record a key twice, never lose one.
    expect(total).toBeGreaterThanOrEqual(N);
    const t = new VisitedTable(buf);
    expect(t.size).toBe(total);
    for (let i = 0; i < N; i++) expect(t.visit((i * 2654435761) % 2 ** 53, i & 2047, { last: 0, d: 1, f: 1, p: 0 }, 0, false, covers)).toBe('covered');
  });
});

describe('searches sharing the visited set', () => {
  it('two parts over one table, one after the other: the second expands less, and together they reach every state', async () => {
    const l = fixture('fault');
    const r = await run(l, { strategy: 'dfs', preemptions: 1, faults: 1 });
    const o: DfsOptions = {
      depth: r.params.depth, preemptions: 1, faults: 1, por: true, coarse: true, budget: Infinity, split: 6, first: true,
      owns: () => true, depth_blind: true,
    };
    const part = (owns: (i: number) => boolean, visited: VisitedTable, first: boolean) => {
      const d = new Dfs(new Sim(l.config, { undo: true }), { ...o, owns, first, visited, facts: new Ownership(r.params.facts!) });
      d.run();
      expect(d.status).toBe('done');
      return d;
    };
    const whole = part(() => true, new VisitedTable(visited_buffer(1 << 16)), true);
    expect(whole.items).toBeGreaterThan(4);
    // A table that fills up at once: the worker's own Map takes the rest, and the same states are reached.
    const tiny = new VisitedTable(visited_buffer(16));
    const spilled = part(() => true, tiny, true);
    expect(tiny.size).toBe(11);
    expect([...spilled.states].sort()).toEqual([...whole.states].sort());
    expect(spilled.stats.transitions).toBe(whole.stats.transitions);
    const lower = (i: number) => i < whole.items / 2;
    const shared = new VisitedTable(visited_buffer(1 << 16));
    const a = part(lower, shared, true);
    const b = part((i) => !lower(i), shared, false);
    const alone = part((i) => !lower(i), new VisitedTable(visited_buffer(1 << 16)), false);
    expect(b.stats.transitions).toBeLessThan(alone.stats.transitions);
    const union = new Set([...a.states, ...b.states]);
    expect(union.size).toBe(whole.states.size);
    expect([...whole.states].every((k) => union.has(k))).toBe(true);
    expect(a.borrows.size + b.borrows.size).toBe(0);
    // The other order: the earlier items are cut at the later items' visits too, and say which (borrows).
    const shared2 = new VisitedTable(visited_buffer(1 << 16));
    const b2 = part((i) => !lower(i), shared2, false);
    const a2 = part(lower, shared2, true);
    expect(b2.stats.transitions).toBe(alone.stats.transitions);
    expect(a2.stats.transitions).toBeLessThan(a.stats.transitions);
    expect(a2.borrows.size).toBeGreaterThan(0);
    for (const [i, js] of a2.borrows) for (const j of js) expect([lower(i), lower(j)]).toEqual([true, false]);
    expect(new Set([...a2.states, ...b2.states]).size).toBe(whole.states.size);
  });

  it('a path that meets the depth bound raises the flag, and another depth-blind search on the table stops for it', async () => {
    const l = fixture('fault');
    const r = await run(l, { strategy: 'dfs', preemptions: 1, faults: 1, depth: 30 });
    const o: DfsOptions = {
      depth: 30, preemptions: 1, faults: 1, por: true, coarse: true, budget: Infinity, split: 0, first: true,
      owns: () => true, depth_blind: true, facts: new Ownership(r.params.facts!),
    };
    const t = new VisitedTable(visited_buffer(1 << 16));
    const a = new Dfs(new Sim(l.config, { undo: true }), { ...o, visited: t });
    a.run();
    expect(a.status).toBe('depth');
    expect(t.depth_met).toBe(true);
    // A search with the depth bound far away would never meet it, but it proves nothing on this table now.
    const b = new Dfs(new Sim(l.config, { undo: true }), { ...o, depth: 10_000, visited: t });
    b.run();
    expect(b.status).toBe('depth');
    const c = new Dfs(new Sim(l.config, { undo: true }), { ...o, depth: 10_000, visited: new VisitedTable(visited_buffer(1 << 16)) });
    c.run();
    expect(c.status).toBe('done');
  });

  it('two and three workers count the same states as one under a preemption bound', async () => {
    for (const name of ['kick2', 'fault']) {
      const l = fixture(name);
      const o = { strategy: 'dfs', preemptions: 1, faults: 1 } as const;
      const one = await run(l, o);
      for (const workers of [2, 3]) {
        const r = await run(l, { ...o, workers });
        expect(r.complete, `${name}, ${workers} workers`).toBe(true);
        expect(r.params.split).toBeGreaterThan(0);
        expect([...r.keys], `${name}, ${workers} workers`).toEqual([...one.keys]);
      }
    }
  });

  it('a depth bound that cuts, with two workers: the verdict and states of the depth-counting search of one', async () => {
    const l = fixture('fault');
    const o = { strategy: 'dfs', preemptions: 1, faults: 1, depth: 30 } as const;
    const one = await run(l, o);
    expect(one.cut).toBe(true);
    const two = await run(l, { ...o, workers: 2 });
    expect(two.cut).toBe(true);
    expect(two.complete).toBe(true);
    expect([...two.keys]).toEqual([...one.keys]);
  });

  it('a depth bound that cuts coarse moves: the states counted do not depend on the order the items are searched in', async () => {
    // Two searches on one table, the first taking items k.. and the second the ones before: every k meets the
    // states in another order. A move the bound cuts short was counted until 2026-12-05 (617 to 619 states here).
    const l = fixture('fault');
    const p = (await run(l, { strategy: 'dfs', preemptions: 2, faults: 1, depth: 30, workers: 3 })).params;
    const search = (owns: (i: number) => boolean, visited: VisitedTable, first: boolean) => {
      const d = new Dfs(new Sim(l.config, { undo: true }), { depth: 30, preemptions: 2, faults: 1, por: false, coarse: true, facts: new Ownership(p.facts!), budget: Infinity, split: p.split, owns, first, depth_blind: false, visited });
      d.run();
      expect(d.status).toBe('done');
      return d;
    };
    const one = search(() => true, new VisitedTable(visited_buffer(1 << 16)), true);
    expect(one.stats.cut).toBe(true);
    expect(one.items).toBeGreaterThan(8);
    const counts = new Set<number>();
    for (let k = 0; k <= one.items; k++) {
      const visited = new VisitedTable(visited_buffer(1 << 16));
      const late = search((i) => i >= k, visited, true);
      const early = search((i) => i < k, visited, false);
      counts.add(new Set([...late.states.to_array(), ...early.states.to_array()]).size);
    }
    expect([...counts]).toEqual([one.states.size]);
  });
});

describe('the violation reported when items were cut at later items\' visits', () => {
  it('hidden_items: the items below m with a path of borrow edges to an unsafe item', () => {
    const edges: [number, number][] = [[1, 5], [2, 1], [3, 4], [0, 2], [6, 7]];
    // 4 found the violation, 5 was left unfinished: 3 and 1 were cut at their visits, 2 at 1's, 0 at 2's.
    expect(hidden_items(edges, 4, [4, 5])).toEqual([0, 1, 2, 3]);
    // 5 searched to its end without one: 1, and so 2 and 0, hide nothing.
    expect(hidden_items(edges, 4, [4])).toEqual([3]);
    // Through an item at or above m: 2 was cut at 6's visits, and 6 at those of unfinished 7.
    expect(hidden_items([[2, 6], [6, 7], [1, 2]], 5, [5, 7])).toEqual([1, 2]);
    expect(hidden_items([[1, 2], [0, 3]], 4, [4])).toEqual([]);
    expect(hidden_items([], 4, [4])).toEqual([]);
  });

  it('an earlier item whose violation a later item\'s unfinished visits hid is the one reported, as its search alone finds it', async () => {
    const l = fixture('coarse-race', ['mmu.no_retry_check']);
    const params = search_params(l, { strategy: 'dfs', preemptions: 2, faults: 0 }, 2, 1);
    expect(params.split).toBeGreaterThan(0);
    const search = (item: number, visited: SharedArrayBuffer) => {
      const part = new Part(l.config, params, { k: 1, n: 1, worker: 0, workers: 1, only: item, visited });
      while (part.slice(1000));
      return part.result();
    };
    // Two items that each hold a violation, the later one searched first on a shared table: it stops at
    // its own, leaving visits unfinished that the earlier one then stops at, so that it reports nothing.
    const fresh = () => visited_buffer(1 << 16);
    const items = search(0, fresh()).items;
    const alone = Array.from({ length: items }, (_, i) => search(i, fresh()));
    const bad = alone.flatMap((r, i) => (r.finding ? [i] : []));
    let pair: [ReturnType<typeof search>, ReturnType<typeof search>, number] | null = null;
    for (let a = 0; a < bad.length && !pair; a++) {
      for (let b = a + 1; b < bad.length && !pair; b++) {
        const t = fresh();
        const later = search(bad[b]!, t);
        const earlier = search(bad[a]!, t);
        if (!earlier.finding) pair = [later, earlier, bad[a]!];
      }
    }
    expect(pair, 'a violation hidden behind a later item').not.toBeNull();
    const [later, earlier, i] = pair!;
    expect(later.finding).not.toBeNull();
    expect(earlier.borrows.some(([from, to]) => from === i && to > i)).toBe(true);
    const f = await reported_finding(l, params, [later, earlier], Infinity);
    expect(f?.item).toBe(i);
    expect(f?.schedule).toEqual(alone[i]!.finding!.schedule);
    // Without the edge, the later item's finding (found again alone) is the lowest there is.
    expect(later.unfinished).toContain(later.finding!.item);
    expect(earlier.unfinished).toEqual([]);
    const g = await reported_finding(l, params, [later, { ...earlier, borrows: [] }], Infinity);
    expect(g?.item).toBe(later.finding!.item);
    expect(g?.schedule).toEqual(alone[later.finding!.item]!.finding!.schedule);
  });
});

describe('not_local_by_record (dfs.ts caches thread records whose step was not local)', () => {
  const SEP = '\x01'; // track.ts's path separator
  const fp = (...r: string[]) => ({ r: new Set(r), w: new Set<string>(), clock: false });
  it('a step that read a location the facts give its thread is not cached: that value may differ next time', () => {
    const own = ['threads', '1', 'stack', '0'].join(SEP);
    const cache = ['kvm', 'vcpus', '1', 'arch', 'mmu_page_cache'].join(SEP);
    const shared = ['locks', 'mmu_lock', 'writer'].join(SEP);
    const facts = new Ownership({ who: [[cache, 1], [shared, -1]], written: [cache, shared] });
    expect(facts.mine(1, cache, false)).toBe(true);
    expect(facts.mine(1, shared, false)).toBe(false);
    expect(not_local_by_record(1, fp(own, shared, 'variants'), facts)).toBe(true);
    expect(not_local_by_record(1, fp(own, cache, shared), facts)).toBe(false);
    expect(not_local_by_record(1, fp(own, cache, shared), null)).toBe(true);
  });
});
