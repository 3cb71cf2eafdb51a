// Patches loaded in this process (src/patch): the example reproduces the
// bundled variant's race, unloading restores upstream, a patch can add
// functions, ops, variants and invariants, and every mistake in a patch is
// one line naming its place.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { has_fn, lookup_fn } from '../../src/core/machine/model.js';
import { op_named } from '../../src/core/machine/ops.js';
import { variant_named } from '../../src/core/machine/variants.js';
import { invariant_named } from '../../src/core/machine/invariants.js';
import { load_patch_file } from '../../src/patch/load.js';
import { active_patches, unload_patches } from '../../src/patch/scope.js';
import { resolve_scenario_arg as bundled_scenario_path } from '../../src/scenario/bundled.js';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';
import { UserError } from '../../src/scenario/errors.js';
import { find_violation, run_seed } from '../helpers/seeds.js';

const EXAMPLES = join(__dirname, '..', '..', 'patches', 'examples');
const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-patch-'));

function patch_file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** The one-line message a patch's load fails with. */
function load_error(name: string, text: string): string {
  try {
    load_patch_file(patch_file(name, text));
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error(`${name} loaded`);
}

afterEach(() => unload_patches());

describe('the nv-no-unmap-request example', () => {
  const scenario = bundled_scenario_path('nv-s2-recycle');

  it('breaks nv.entry_with_pending_unmap where the bundled variant does, and unloading restores upstream', () => {
    const upstream = run_scenario(load_scenario(scenario), { keep_events: false });
    expect(upstream.violation).toBeNull();
    const variant = run_scenario(load_scenario(scenario, { variants: ['nv.no_unmap_request'] }), { keep_events: false });
    expect(variant.violation?.invariant).toBe('nv.entry_with_pending_unmap');

    const before = lookup_fn('get_s2_mmu_nested');
    load_patch_file(join(EXAMPLES, 'nv-no-unmap-request.ts'));
    expect(active_patches().map((p) => p.file)).toEqual([expect.stringMatching(/nv-no-unmap-request\.ts$/)]);
    const patched = run_scenario(load_scenario(scenario), { keep_events: false });
    expect(patched.violation?.invariant).toBe('nv.entry_with_pending_unmap');
    // The same race, at the same step, by the same vCPU as the compiled-in variant.
    expect([patched.violation?.step, patched.violation?.thread]).toEqual([variant.violation?.step, variant.violation?.thread]);

    unload_patches();
    expect(lookup_fn('get_s2_mmu_nested')).toBe(before);
    const again = run_scenario(load_scenario(scenario), { keep_events: false });
    expect(again.violation).toBeNull();
    expect(again.hash).toBe(upstream.hash);
  });
});

describe('the mmu-seq-after-faultin example (hypothetical)', () => {
  it('lets a fault map a pfn an invalidation took away (mmu.stale_mapping); upstream retries on the same seed', () => {
    const file = bundled_scenario_path('fault-vs-invalidate');
    load_patch_file(join(EXAMPLES, 'mmu-seq-after-faultin.ts'));
    expect(Object.keys(lookup_fn('user_mem_abort').steps)).toContain('late_snapshot');
    const { seed, r } = find_violation(file, [], 'mmu.stale_mapping', 400);
    expect(r.violation!.message).toMatch(/looked up its pfn before an invalidation/);
    unload_patches();
    expect(Object.keys(lookup_fn('user_mem_abort').steps)).not.toContain('late_snapshot');
    expect(run_seed(file, seed).violation).toBeNull();
  });
});

describe('a patch that adds a function, an op, a variant and an invariant', () => {
  const text = `import { RETURN, S, define_invariant, define_op, define_variant, metric_add, model_fn, variant_on } from 'kvmdbg/model';
define_variant({ name: 'test.double_bump', description: 'bump twice', source: 'hypothetical: a test', breaks: 'test.one_bump' });
model_fn<{ n: number }>('test_bump', {
  bump: (w, t, l) => {
    metric_add(w, 'bumps', variant_on(w, 'test.double_bump') ? 2 * l.n : l.n);
    return RETURN;
  },
});
define_op({ name: 'bump', threads: ['mm'], summary: 'add n bumps', schema: { type: 'object', properties: { n: S.int }, required: ['n'], additionalProperties: false }, fn: 'test_bump' });
define_invariant({
  name: 'test.one_bump',
  description: 'at most one bump',
  check: (w) => ((w.metrics.bumps ?? 0) > 1 ? { message: 'bumped ' + w.metrics.bumps + ' times', thread: 'mm', values: {} } : null),
});
`;
  const scenario = `name: bumps
summary: a host thread bumps a counter
source: "a test"
arch: arm64
vm:
  vcpus: 1
  memslots:
    - {gpa: 0x8000_0000, size: 2M}
threads:
  mm:
    - bump: {n: 1}
schedule: {policy: rr, seed: 1}
`;

  it('runs them, and takes every one back on unload', () => {
    load_patch_file(patch_file('bump.ts', text));
    const yaml = patch_file('bumps.yaml', scenario);
    expect(run_scenario(load_scenario(yaml), { keep_events: false }).violation).toBeNull();
    const r = run_scenario(load_scenario(yaml, { variants: ['test.double_bump'] }), { keep_events: false });
    expect(r.violation?.invariant).toBe('test.one_bump');
    expect(r.violation?.message).toBe('bumped 2 times');
    unload_patches();
    expect([has_fn('test_bump'), op_named('bump'), variant_named('test.double_bump'), invariant_named('test.one_bump')]).toEqual([false, undefined, undefined, undefined]);
    expect(() => load_scenario(yaml)).toThrow(/bump/);
  });

  it('loads all or nothing: a mistake after some definitions leaves none of them', () => {
    const m = load_error('half.ts', `${text}\nimport { patch_fn } from 'kvmdbg/model';\npatch_fn('test_bump', { bmup: () => RETURN });\n`);
    expect(m).toMatch(/half\.ts:17:25: test_bump has no step "bmup"; its steps are: bump/);
    expect([has_fn('test_bump'), op_named('bump'), variant_named('test.double_bump'), invariant_named('test.one_bump')]).toEqual([false, undefined, undefined, undefined]);
    expect(active_patches()).toEqual([]);
  });
});

describe('mistakes in a patch are one located line', () => {
  it('a syntax error, with esbuild line:col', () => {
    expect(load_error('syntax.ts', `import { patch_fn } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', {\n  out: (w, t) => { return 'x' +; },\n});\n`)).toMatch(/^.*syntax\.ts:3:32: Unexpected ";"$/);
  });

  it('a label the function does not have, at the label, with the labels it has', () => {
    const m = load_error('label.ts', `import { patch_fn, ret } from 'kvmdbg/model';\n\npatch_fn('get_s2_mmu_nested', {\n  out: (w, t) => ret(t, 0),\n  outt: (w, t) => ret(t, 0),\n});\n`);
    expect(m).toMatch(/label\.ts:5:3: get_s2_mmu_nested has no step "outt"; its steps are: lookup, assign, out/);
  });

  it('an inserted label is allowed only when named in insert, and only when new', () => {
    load_patch_file(patch_file('insert.ts', `import { patch_fn, ret } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', { extra: (w, t) => ret(t, 0) }, { insert: ['extra'] });\n`));
    expect(Object.keys(lookup_fn('get_s2_mmu_nested').steps)).toEqual(['lookup', 'assign', 'out', 'extra']);
    unload_patches();
    const m = load_error('insert2.ts', `import { patch_fn, ret } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', { out: (w, t) => ret(t, 0) }, { insert: ['out'] });\n`);
    expect(m).toMatch(/insert2\.ts:2:\d+: patch_fn get_s2_mmu_nested: insert names "out", which get_s2_mmu_nested already has/);
  });

  it('an unknown function, with the nearest name', () => {
    expect(load_error('fn.ts', `import { patch_fn, ret } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nestd', { out: (w, t) => ret(t, 0) });\n`)).toMatch(
      /fn\.ts:2:1: patch_fn: no model function get_s2_mmu_nestd; did you mean get_s2_mmu_nested\?/,
    );
  });

  it('a wrong type at the definition', () => {
    expect(load_error('type.ts', `import { patch_fn } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', {\n  assign: 42 as any,\n});\n`)).toMatch(
      /type\.ts:3:3: get_s2_mmu_nested step "assign" is a number; expected a step function/,
    );
    expect(load_error('variant.ts', `import { define_variant } from 'kvmdbg/model';\ndefine_variant({\n  name: 'x.y',\n  description: 'd',\n  source: 'hypothetical: t',\n  breaks: 42 as any,\n});\n`)).toMatch(
      /variant\.ts:6:3: variant x\.y: breaks is a number; expected a non-empty string/,
    );
    expect(load_error('dup.ts', `import { define_variant } from 'kvmdbg/model';\ndefine_variant({ name: 'nv.no_unmap_request', description: 'd', source: 's', breaks: 'b' });\n`)).toMatch(/dup\.ts:2:\d+: variant nv\.no_unmap_request is already defined/);
  });

  it('an import of anything but kvmdbg/model', () => {
    expect(load_error('imp.ts', `import { readFileSync } from 'node:fs';\nreadFileSync('/etc/passwd');\n`)).toMatch(/imp\.ts:1:\d+: a patch imports only 'kvmdbg\/model', not "node:fs"/);
  });

  it('an exception at run time, at the line of the patch that threw', () => {
    load_patch_file(patch_file('rt.ts', `import { patch_fn } from 'kvmdbg/model';\npatch_fn('get_s2_mmu_nested', {\n  out: (w, t, l: any) => {\n    return l.nothing.here;\n  },\n});\n`));
    let m = '';
    try {
      run_scenario(load_scenario(bundled_scenario_path('nv-s2-recycle')), { keep_events: false });
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      m = (e as Error).message;
    }
    expect(m).toMatch(/rt\.ts:4:\d+: get_s2_mmu_nested:out \(step \d+, vcpu\d\): TypeError: Cannot read properties of undefined/);
  });

  it('a file that is not a module, or not there', () => {
    expect(() => load_patch_file(join(dir, 'none.ts'))).toThrow(/none\.ts: cannot read the patch \(ENOENT\)/);
    expect(() => load_patch_file(patch_file('x.yaml', 'a: 1'))).toThrow(/x\.yaml: a patch is a TypeScript or JavaScript module/);
  });
});
