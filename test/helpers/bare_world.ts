// A World with only the generic machine and KVM parts, for unit tests of
// those layers with hand-written driver threads.
import { sched_init } from '../../src/core/machine/scheduler.js';
import type { World } from '../../src/core/machine/world.js';
import { world_base } from '../../src/core/world_init.js';

export function bare_world(opts: { cpus?: number; policy?: 'rr' | 'random' | 'script'; seed?: number; script?: string[] } = {}): World {
  return world_base('arm64', sched_init(opts.policy ?? 'rr', opts.seed ?? 1, opts.script ?? []), opts.cpus ?? 4);
}
