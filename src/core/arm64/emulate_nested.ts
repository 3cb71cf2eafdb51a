// arch/arm64/kvm/emulate-nested.c: entering L2 with an emulated ERET and
// going back to vEL2 on an exception. Both switch the vCPU's context with
// preemption off: kvm_arch_vcpu_put() then kvm_arch_vcpu_load(), which
// picks the shadow stage-2 for the new context. Left out: the register
// state, SPSR/ELR, exception routing, HCR_EL2.NV2 VNCR handling.
import { RETURN, call, model_fn } from '../machine/model.js';
import { arch_vcpu } from './nested.js';

function switch_context(to: 'vel2' | 'l2') {
  return model_fn<Record<string, never>>(to === 'l2' ? 'kvm_emulate_nested_eret' : 'kvm_inject_nested_sync', {
    preempt_disable: (_w, t) => {
      t.preempt_count++;
      return call('kvm_arch_vcpu_put', {}, 'switch');
    },
    switch: (w, t) => {
      arch_vcpu(w, t).ctxt = to;
      return call('kvm_arch_vcpu_load', {}, 'preempt_enable');
    },
    preempt_enable: (_w, t) => {
      t.preempt_count--;
      t.ip++;
      return RETURN;
    },
  });
}

/** ERET from vEL2 into L2 (the op set VTTBR_EL2/VTCR_EL2/HCR_EL2.VM first). */
export const kvm_emulate_nested_eret = switch_context('l2');
/** An exception from L2 taken to vEL2. */
export const kvm_inject_nested_sync = switch_context('vel2');

export const handle_exit_eret = model_fn<Record<string, never>>('handle_exit_eret', {
  eret: () => call(kvm_emulate_nested_eret, {}, 'done'),
  done: () => RETURN,
});

export const handle_exit_l2_trap = model_fn<Record<string, never>>('handle_exit_l2_trap', {
  inject: () => call(kvm_inject_nested_sync, {}, 'done'),
  done: () => RETURN,
});
