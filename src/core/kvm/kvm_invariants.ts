// Safety properties of the generic layer (shared/docs/kernel-model.md
// section 0): the request/mode handshake.
import type { Event } from '../machine/events.js';
import { define_invariant } from '../machine/invariants.js';
import { pending_req_names, test_bit } from './kvm_host.js';

define_invariant({
  name: 'kvm.request_unserviced',
  description: 'a request made before a vCPU stored IN_GUEST_MODE is never left pending while that vCPU runs the guest',
  on: ['vcpu.enter', 'guest.access'],
  check(w, ev) {
    const e = ev as Event;
    const vcpu = w.kvm.vcpus[e.vcpu ?? -1];
    if (!vcpu || vcpu.mode === 'OUTSIDE_GUEST_MODE' || vcpu.requests === 0 || vcpu.requests_at_mode_in === 0) return null;
    let stale = 0;
    for (let bit = 0; bit < 53; bit++) {
      if (test_bit(vcpu.requests, bit) && test_bit(vcpu.requests_at_mode_in, bit)) stale += 2 ** bit;
    }
    if (!stale) return null;
    const names = pending_req_names(w.arch, stale);
    return {
      thread: e.thread,
      message:
        `vcpu${vcpu.vcpu_id} runs the guest with request ${names.join(', ')} pending since before it stored IN_GUEST_MODE: ` +
        `kvm_vcpu_exit_request() did not see it and no kick came (mode=${vcpu.mode})`,
      values: { vcpu: vcpu.vcpu_id, requests: names, mode: vcpu.mode },
    };
  },
});
