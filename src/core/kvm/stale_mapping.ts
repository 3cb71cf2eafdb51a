// The stale-mapping property (shared/docs/kernel-model.md section 5), one
// invariant for every arch: a fault whose pfn lookup raced with an
// invalidation of its gfn never installs its mapping, and no secondary MMU
// still maps a page after the primary MMU moved it. Each arch supplies the
// check that reads its own page tables; a huge mapping (a stage-2 block, a
// host THP or hugetlbfs page) counts as the run of pages it maps, and an
// mm.change_pte event of a huge host page carries how many pages moved.
import type { Event } from '../machine/events.js';
import { define_invariant, type Failure } from '../machine/invariants.js';
import type { World } from '../machine/world.js';

type StaleCheck = (w: World, ev: Event) => Failure | null;
const checks: Partial<Record<World['arch'], StaleCheck>> = {};

export function define_stale_mapping_check(arch: World['arch'], fn: StaleCheck): void {
  checks[arch] = fn;
}

define_invariant({
  name: 'mmu.stale_mapping',
  description: 'a fault that raced with an invalidation never installs its pfn, and no stage-2 / TDP mapping outlives the host moving its page',
  on: ['fault.map', 'mm.change_pte'],
  check: (w, ev) => checks[w.arch]?.(w, ev as Event) ?? null,
});
