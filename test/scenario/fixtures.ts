// Fake ops, variants and invariants for loader tests: the loader only reads
// the registries, so these tests do not need the model layers.
import { define_op, S } from '../../src/core/machine/ops.js';
import { define_variant } from '../../src/core/machine/variants.js';
import { define_invariant } from '../../src/core/machine/invariants.js';
import { define_choice } from '../../src/core/machine/scheduler.js';

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });

define_op({ name: 't_access', threads: ['vcpu'], summary: 'guest access', schema: obj({ ipa: S.addr, write: S.bool }, ['ipa']) });
define_op({ name: 't_eret', threads: ['vcpu'], summary: 'enter L2', schema: obj({ vttbr: S.u64 }, ['vttbr']), arch: 'arm64' });
define_op({ name: 't_exit', threads: ['vcpu'], summary: 'leave L2', schema: obj({}) });
define_op({ name: 't_count', threads: ['vcpu', 'mm'], summary: 'count', schema: obj({ n: { type: 'integer', minimum: 0, maximum: 10_000 } }, ['n']) });
define_op({ name: 't_invalidate', threads: ['mm'], summary: 'invalidate', schema: obj({ gpa: S.addr, size: S.size, change: { enum: ['migrate', 'numa'] } }, ['gpa', 'size']) });
define_op({ name: 't_hv_flush', threads: ['vcpu'], summary: 'x86 only', schema: obj({}), arch: 'x86' });
define_op({ name: 't_ioctl', threads: ['vmm'], summary: 'vmm', schema: obj({ vcpu: S.int, req: { type: 'string' } }, ['req']) });

define_variant({ name: 't.no_retry', description: 'skip the retry check', source: 'test', breaks: 't.stale' });
define_variant({ name: 't.x86_only', description: 'x86', source: 'test', breaks: 't.stale', arch: 'x86' });

define_invariant({ name: 't.stale', description: 'test', check: () => null });

define_choice({ name: 't_drop', n: 2, description: 'drop the lock', p_random: 0.1 });
