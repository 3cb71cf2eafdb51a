// Every variant says where it comes from (issue 12): a commit it reverts,
// a posting, or `hypothetical:` with the reason it is still worth running.
// The default World is upstream at BASELINE; a variant is a departure, so
// none may claim to be upstream.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { all_variants } from '../../src/core/machine/variants.js';

// reverts <12+ hex> "<title>" (<release>)
const REVERTS = /^reverts [0-9a-f]{12,40} "[^"]+" \(v\d+\.\d+(?:-rc\d+)?\)/;
// posting: <author>, "<subject>" [(...)], <list>, [<day>] <Mon> <year>
const POSTING = /^posting: [A-Z][\p{L}' -]+, "[^"]+"(?: \([^)]*\))?, [a-z][a-z/-]*(?: list)?, (?:\d{1,2} )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b/u;
// hypothetical: <why>, long enough to say why
const HYPOTHETICAL = /^hypothetical: .{40,}/;

describe('variant provenance', () => {
  const vs = all_variants();

  it('there are variants of every kind', () => {
    const kinds = new Set(vs.map((v) => /^(reverts|posting|hypothetical)/.exec(v.source)?.[1]));
    expect([...kinds].sort()).toEqual(['hypothetical', 'posting', 'reverts']);
  });

  for (const v of vs) {
    it(`${v.name}: its source names a commit, a posting or says hypothetical`, () => {
      const ok = REVERTS.test(v.source) || POSTING.test(v.source) || HYPOTHETICAL.test(v.source);
      expect(ok, `${v.name}: source "${v.source}" follows none of: reverts <sha> "<title>" (<release>) | posting: <author>, "<subject>", <list>, <date> | hypothetical: <why>`).toBe(true);
      // Every posting cited (a source may cite several, "; "-separated) has its list and date.
      if (v.source.startsWith('posting: ')) {
        for (const part of v.source.slice('posting: '.length).split(/; (?=[A-Z][\p{L}-]+ [A-Z][\p{L}-]+, ")/u)) {
          expect(POSTING.test(`posting: ${part}`), `${v.name}: "${part}" lacks author, subject, list or date`).toBe(true);
        }
      }
      expect(v.description.length).toBeGreaterThan(40);
      expect(v.breaks).toMatch(/^(nothing|[a-z0-9_]+\.[a-z0-9_.]+)/);
    });
  }
});
