// Scenario ops of the generic layer: what the host mm and the VMM do.
import { RETURN, call, model_fn } from '../machine/model.js';
import { define_op, S } from '../machine/ops.js';
import { PAGE_SIZE, gfn_to_hva, gfn_to_memslot, kvm_requests } from './kvm_host.js';
import { kvm_make_all_cpus_request, kvm_make_request_and_kick } from './requests.js';
import { mmu_notifier_invalidate_range, type NotifyEvent } from './mmu_notifier.js';

/** The mm changes the PTEs behind guest range [gpa, gpa+size), with MMU-notifier calls around it. */
export const host_invalidate = model_fn<{ gpa: number; size: number; change?: NotifyEvent; may_block?: boolean }>('host_invalidate', {
  start: (w, t, l) => {
    const gfn = Math.floor(l.gpa / PAGE_SIZE);
    const slot = gfn_to_memslot(w, gfn);
    if (!slot) throw new Error(`${t.name}: invalidate of gpa 0x${l.gpa.toString(16)} outside every memslot`);
    return call(
      mmu_notifier_invalidate_range,
      { hva: gfn_to_hva(slot, gfn), size: l.size, change: l.change ?? 'migrate', may_block: l.may_block ?? true, i: 0 },
      'done',
    );
  },
  done: () => RETURN,
});

define_op({
  name: 'invalidate',
  threads: ['mm'],
  summary: 'the host changes the PTEs behind a guest range (migrate: new pfn; numa: PROT_NONE; zap: unmapped) inside invalidate_range_start/end',
  schema: {
    type: 'object',
    properties: { gpa: S.addr, size: S.size, change: { enum: ['migrate', 'numa', 'zap', 'none'] }, may_block: S.bool },
    required: ['gpa', 'size'],
    additionalProperties: false,
  },
  fn: host_invalidate.name,
});

/** The VMM (or any host thread) makes a request of one vCPU and kicks it. */
export const vmm_request = model_fn<{ vcpu: number; req: string; all?: boolean }>('vmm_request', {
  start: (w, t, l) => {
    const req = kvm_requests(w.arch)[l.req];
    if (req === undefined) throw new Error(`${t.name}: unknown request ${l.req}`);
    if (l.all) return call(kvm_make_all_cpus_request, { req }, 'done');
    return call(kvm_make_request_and_kick, { req, vcpu: l.vcpu }, 'done');
  },
  done: () => RETURN,
});

define_op({
  name: 'request',
  threads: ['vmm', 'mm'],
  summary: 'kvm_make_request(REQ, vcpu) + kvm_vcpu_kick(vcpu); with all: true, kvm_make_all_cpus_request(REQ)',
  schema: {
    type: 'object',
    properties: { vcpu: { type: 'integer', minimum: 0 }, req: { type: 'string' }, all: S.bool },
    required: ['req'],
    additionalProperties: false,
  },
  fn: vmm_request.name,
});
