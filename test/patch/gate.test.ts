// The recording gate (src/patch/gate.ts): a recording's patches run only
// when trusted, a recording replaces the patches an earlier one loaded, and
// --patch and a recording's patches never mix.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { has_fn, lookup_fn } from '../../src/core/machine/model.js';
import { recording_patches, trust_patches } from '../../src/patch/gate.js';
import { load_patch_file, load_patch_sources, sha256 } from '../../src/patch/load.js';
import { active_patches, unload_patches, type PatchSource } from '../../src/patch/scope.js';

const EX = join(__dirname, '..', '..', 'patches', 'examples');
const source = (f: string): PatchSource => {
  const text = readFileSync(join(EX, f), 'utf8');
  return { file: `patches/examples/${f}`, sha256: sha256(text), text };
};
const NV = source('nv-no-unmap-request.ts');
const SEQ = source('mmu-seq-after-faultin.ts');
const load = (ps: PatchSource[]) => load_patch_sources(ps, 'recording');

afterEach(() => {
  unload_patches();
  trust_patches(false);
});

describe('recording_patches', () => {
  it('refuses a recording with patches unless trusted, and runs nothing', () => {
    const before = lookup_fn('get_s2_mmu_nested');
    expect(() => recording_patches('a.rec', [NV], load)).toThrow(
      `a.rec: the recording carries 1 patch, code that would run in kvmdbg: patches/examples/nv-no-unmap-request.ts (sha256 ${NV.sha256}); read it with \`kvmdbg replay a.rec --show-patches\`, then run with --trust-patch`,
    );
    expect(lookup_fn('get_s2_mmu_nested')).toBe(before);
    expect(active_patches()).toEqual([]);
  });

  it('trusted, loads them; the next recording replaces them; one without patches unloads them', () => {
    trust_patches(true);
    recording_patches('a.rec', [NV], load);
    expect(active_patches().map((p) => p.file)).toEqual([NV.file]);
    recording_patches('a.rec', [NV], () => expect.unreachable('loaded twice'));
    recording_patches('b.rec', [SEQ], load);
    expect(active_patches().map((p) => p.file)).toEqual([SEQ.file]);
    expect(Object.keys(lookup_fn('user_mem_abort').steps)).toContain('late_snapshot');
    recording_patches('c.rec', [], load);
    expect(active_patches()).toEqual([]);
    expect(Object.keys(lookup_fn('user_mem_abort').steps)).not.toContain('late_snapshot');
  });

  it('does not mix --patch with a recording: other patches, or none, are an error; the same ones are fine', () => {
    trust_patches(true);
    load_patch_file(join(EX, 'nv-no-unmap-request.ts'));
    expect(() => recording_patches('b.rec', [SEQ], load)).toThrow(/b\.rec: the recording was made with 1 patch: .*mmu-seq-after-faultin\.ts .*; expected no --patch with a recording/);
    expect(() => recording_patches('c.rec', [], load)).toThrow(/c\.rec: the recording was made without patches, and --patch loaded .*nv-no-unmap-request\.ts/);
    recording_patches('a.rec', [NV], () => expect.unreachable('loaded twice'));
    expect(has_fn('get_s2_mmu_nested')).toBe(true);
  });
});
