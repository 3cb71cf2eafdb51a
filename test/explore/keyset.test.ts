// The visited sets of a part (src/explore/keyset.ts): a JS Set or Map stops
// at 2^24 entries, which an unbounded search with faults passed on one
// worker; these hold more, count each key once and give every key back.
import { describe, expect, it } from 'vitest';
import { KeyMap, KeySet } from '../../src/explore/keyset.js';

describe('KeySet and KeyMap', () => {
  it('hold more keys than one Set can, each once, and give them all back', () => {
    const n = 2 ** 24 + 5_000;
    const s = new KeySet();
    // Small keys here (a Set of small integers fills fast); keys above 2^32, as state keys are, below. Every one added twice.
    const key = (i: number) => i;
    for (let i = 0; i < n; i++) s.add(key(i));
    for (let i = 0; i < n; i += 7) s.add(key(i));
    expect(s.size).toBe(n);
    expect(s.has(key(n - 1))).toBe(true);
    expect(s.has(key(n))).toBe(false);
    const all = s.to_array();
    expect(all.length).toBe(n);
    let sum = 0;
    for (const k of all) sum += k;
    expect(sum).toBe((n * (n - 1)) / 2);
  });

  it('keeps keys whose low 32 bits are the same, and the key 0, apart', () => {
    const s = new KeySet();
    // One slot for all of them: each probes past the others, through two doublings.
    const key = (i: number) => i * 2 ** 32 + 5;
    for (let i = 1; i <= 6_000; i++) s.add(key(i)).add(key(i));
    expect(s.size).toBe(6_000);
    expect(s.has(0)).toBe(false);
    s.add(0).add(0);
    expect(s.size).toBe(6_001);
    expect(s.has(0)).toBe(true);
    expect(s.has(key(6_001))).toBe(false);
    expect(s.has(5)).toBe(false);
    const all = [...s.to_array()].sort((a, b) => a - b);
    expect(all).toEqual([0, ...Array.from({ length: 6_000 }, (_, i) => key(i + 1))]);
    expect([...s].sort((a, b) => a - b)).toEqual(all);
  });

  it('say how many bytes their table takes outside the heap, which doubles as it fills', () => {
    const s = new KeySet();
    const first = s.bytes;
    expect(first).toBeGreaterThan(0);
    // Three quarters of the first table's slots fill it; one more key doubles it.
    const fill = (first / 8) * 0.75;
    for (let i = 1; i <= fill; i++) s.add(i * 2 ** 21 + 1);
    expect(s.bytes).toBe(first);
    s.add(2 ** 50 + 1);
    expect(s.bytes).toBe(2 * first);
  });

  it('a map keeps the last value of a key and counts keys, not sets', () => {
    const m = new KeyMap<string>();
    m.set(2 ** 52 + 3, 'a').set(3, 'b').set(2 ** 52 + 3, 'c').set(0, 'z');
    // Keys on one slot, through doublings: each keeps its value.
    for (let i = 1; i <= 5_000; i++) m.set(i * 2 ** 32 + 7, `v${i}`);
    for (let i = 1; i <= 5_000; i++) expect(m.get(i * 2 ** 32 + 7)).toBe(`v${i}`);
    expect(m.get(7)).toBeUndefined();
    expect(m.get(0)).toBe('z');
    expect(m.size).toBe(5_003);
    expect(m.get(2 ** 52 + 3)).toBe('c');
    expect(m.get(3)).toBe('b');
    expect(m.get(4)).toBeUndefined();
    const s = new KeySet().add(1).add(2 ** 40 + 1);
    expect([...s].sort()).toEqual([1, 2 ** 40 + 1]);
  });
});
