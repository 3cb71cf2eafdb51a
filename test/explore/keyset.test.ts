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

  it('a map keeps the last value of a key and counts keys, not sets', () => {
    const m = new KeyMap<string>();
    m.set(2 ** 52 + 3, 'a').set(3, 'b').set(2 ** 52 + 3, 'c');
    expect(m.size).toBe(2);
    expect(m.get(2 ** 52 + 3)).toBe('c');
    expect(m.get(3)).toBe('b');
    expect(m.get(4)).toBeUndefined();
    const s = new KeySet().add(1).add(2 ** 40 + 1);
    expect([...s].sort()).toEqual([1, 2 ** 40 + 1]);
  });
});
