// The stale-mapping race (scenarios/fault-vs-invalidate.yaml): a stage-2
// fault looks up its pfn, an MMU-notifier invalidation migrates the page,
// and the fault maps the old pfn unless mmu_invalidate_retry() stops it.
import { describe, expect, it } from 'vitest';
import '../../src/core/world_init.js';
import { load_scenario } from '../../src/scenario/load.js';
import { run_scenario } from '../../src/scenario/run.js';
import { create_world } from '../../src/core/world_init.js';
import { Machine } from '../../src/core/machine/machine.js';
import type { Event } from '../../src/core/machine/events.js';

const FILE = 'scenarios/fault-vs-invalidate.yaml';

/**
 * The committed schedule, as phases: vcpu0 runs until its fault has looked
 * up the pfn; the mm runs a whole invalidation (through its unlock after
 * invalidate_range_end); vcpu0 runs until its fault maps or retries.
 */
function scripted(variants: string[]) {
  const loaded = load_scenario(FILE, { variants });
  loaded.config.sched = { policy: 'script', seed: 1, script: [] };
  const m = new Machine(create_world(loaded.config));
  const id = (name: string) => m.w.threads.find((t) => t.name === name)!.id;
  const events: Event[] = [];
  const run = (thread: string, until: (e: Event, seen: Event[]) => boolean) => {
    for (let i = 0; i < 500; i++) {
      const r = m.step(id(thread));
      events.push(...r.events);
      if (r.violations.length || r.events.some((e) => until(e, events))) return;
    }
    throw new Error(`${thread} never got there`);
  };
  run('vcpu0', (e) => e.kind === 'fault.faultin');
  run('mm', (e, seen) => e.kind === 'lock.release' && seen.some((x) => x.kind === 'invalidate.end'));
  run('vcpu0', (e) => e.kind === 'fault.map' || e.kind === 'fault.retry');
  // Then everyone to the end.
  for (let r = m.step(); r.status === 'ok'; r = m.step()) events.push(...r.events);
  return { violation: m.w.violations[0] ?? null, events };
}

describe('fault vs invalidation', () => {
  it('with mmu.no_retry_check the committed schedule installs a stale mapping, and the invariant says why', () => {
    const r = scripted(['mmu.no_retry_check']);
    expect(r.violation?.invariant).toBe('mmu.stale_mapping');
    expect(r.violation?.thread).toBe('vcpu0');
    expect(r.violation?.message).toMatch(
      new RegExp(
        '^vcpu0 installed IPA 0x80000000 -> PA 0x10000000 in s2, but the host now maps hva 0x7f0000000000 to pfn 0x1010000 \\(changed at step \\d+\\): ' +
          'the fault looked up its pfn before an invalidation of this gfn and mapped it after \\(mmu_seq snapshot 0, now mmu_invalidate_seq=1 ' +
          'in_progress=0 range=gfn \\[0x80000, 0x80002\\)\\); mmu_invalidate_retry\\(\\) would have sent it back to the guest$',
      ),
    );
  });

  it('the same schedule on the current code retries the fault on the sequence count and maps the new pfn', () => {
    const r = scripted([]);
    expect(r.violation).toBeNull();
    const retry = r.events.find((e) => e.kind === 'fault.retry');
    expect(retry?.['reason']).toBe('seq');
    const check = r.events.find((e) => e.kind === 'fault.check' && e['retry'] === true)!;
    expect([check['seq_snap'], check['seq_now']]).toEqual([0, 1]);
    const map = r.events.find((e) => e.kind === 'fault.map' && e['ipa'] === 0x8000_0000);
    // The migrated page's next generation: pfn 0x10000 + PFN_WINDOW (host_mm.ts pfn_of()).
    expect(map?.['pa']).toBe(0x10_1000_0000);
  });

  // Clean without the variant: test/scenarios/ (2,000 seeds of every bundled scenario).
  it('with the variant most seeds find the stale mapping', () => {
    let hits = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const r = run_scenario(load_scenario(FILE, { seed, variants: ['mmu.no_retry_check'] }), { keep_events: false });
      if (r.violation?.invariant === 'mmu.stale_mapping') hits++;
    }
    expect(hits).toBeGreaterThan(25);
  });
});
