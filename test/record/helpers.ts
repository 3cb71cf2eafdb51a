// Shared by the recording tests: a scratch directory, the bundled
// scenarios with the variants that apply to each, and the poke applier.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/core/world_init.js';
import type { World } from '../../src/core/machine/world.js';
import { all_variants } from '../../src/core/machine/variants.js';
import { poke_def } from '../../src/debugger/pokes.js';
import '../../src/debugger/trees.js';
import '../../src/debugger/pagetables.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';

export const TMP = mkdtempSync(join(tmpdir(), 'kvmdbg-record-'));
let n = 0;
export function tmp_file(name: string): string {
  return join(TMP, `${n++}-${name}`);
}

export function apply_poke(w: World, name: string, args: Record<string, unknown>): void {
  poke_def(name).apply(w, args);
}

/** Every bundled scenario with no variant, then with each variant of its arch. */
export function scenario_variants(): { id: string; path: string; variants: string[] }[] {
  const out: { id: string; path: string; variants: string[] }[] = [];
  for (const s of bundled_scenarios()) {
    out.push({ id: s.id, path: s.path, variants: [] });
    for (const v of all_variants()) if (!v.arch || v.arch === s.arch) out.push({ id: s.id, path: s.path, variants: [v.name] });
  }
  return out;
}

/** A scenario long enough to be killed mid-run (~370k steps). */
export const LONG_SCENARIO = `name: long
summary: a long run for recording tests
arch: arm64
vm:
  vcpus: 2
  memslots:
    - {gpa: 0x8000_0000, size: 2M}
threads:
  vcpu0:
    - repeat:
        times: 20000
        do:
          - access: {ipa: 0x8000_0000, write: true}
          - access: {ipa: 0x8000_2000}
  vcpu1:
    - repeat:
        times: 20000
        do:
          - access: {ipa: 0x8000_1000, write: true}
          - access: {ipa: 0x8000_2000}
  mm:
    - repeat:
        times: 5000
        do:
          - invalidate: {gpa: 0x8000_0000, size: 8K, change: migrate}
schedule: {policy: random, seed: 1}
`;
