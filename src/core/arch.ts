// Per-architecture hooks used when a World is built.
import type { World } from './machine/world.js';
import type { WorldConfig } from './world_init.js';
import { kvm_arch_init_vm as arm64_init_vm } from './arm64/arm.js';
import { X86_VCPU_ROOT, kvm_arch_init_vm_x86 as x86_init_vm } from './x86/x86.js';

export function arch_vcpu_root(arch: World['arch']): string {
  if (arch === 'arm64') return 'kvm_arch_vcpu_ioctl_run';
  return X86_VCPU_ROOT;
}

/** Arch state of the VM; `cpu` is the first CPU number free for arch threads (RCU). */
export function arch_init_vm(w: World, cfg: WorldConfig, cpu: number): void {
  if (cfg.arch === 'arm64') arm64_init_vm(w, cfg, cpu);
  else x86_init_vm(w, cfg, cpu);
}
