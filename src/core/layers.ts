// Every layer of the model, imported for its registrations (model
// functions, invariants, variants, ops). Order does not matter.
import './machine/sched_invariants.js';
import './kvm/requests.js';
import './kvm/rwlock.js';
import './kvm/mmu_notifier.js';
import './kvm/kvm_invariants.js';
import './kvm/stale_mapping.js';
import './kvm/ops.js';
import './kvm/vcpu_load.js';
import './arm64/arm.js';
import './arm64/mmu_stage2.js';
import './arm64/mmu.js';
import './arm64/mmu_invariants.js';
import './arm64/nested.js';
import './arm64/nested_revmap.js';
import './arm64/emulate_nested.js';
import './arm64/sys_regs.js';
import './arm64/nv_ops.js';
import './arm64/nv_invariants.js';
import './rcu/srcu.js';
import './x86/x86.js';
import './x86/hyperv.js';
import './x86/flush_inhibit.js';
import './x86/invariants.js';
import './kvm/numa.js';
import './x86/tdp_mmu.js';
import './x86/mmu.js';
