// Creating threads and running their programs. A thread's root frame is its
// kernel entry point (kvm_arch_vcpu_ioctl_run for vCPUs, host_thread_fn for
// the mm and VMM threads, rcu_gp_kthread for RCU).
import { lookup_fn } from './model.js';
import type { Op, Thread, ThreadKind, World } from './world.js';

export function spawn_thread(
  w: World,
  name: string,
  kind: ThreadKind,
  opts: { cpu: number; vcpu?: number; root: string; prog?: Op[]; args?: Record<string, unknown>; daemon?: boolean },
): Thread {
  const root = lookup_fn(opts.root);
  const t: Thread = {
    id: w.threads.length,
    name,
    kind,
    cpu: opts.cpu,
    vcpu: opts.vcpu ?? -1,
    stack: [{ fn: root.name, pc: root.entry, locals: opts.args ?? {} }],
    wait: null,
    done: false,
    prog: opts.prog ?? [],
    ip: 0,
    daemon: opts.daemon ?? false,
    retval: undefined,
    preempt_count: 0,
    irqs_disabled: false,
  };
  w.threads.push(t);
  return t;
}

/** The thread's next op, or null when its program is done. */
export function next_op(t: Thread): Op | null {
  return t.ip < t.prog.length ? t.prog[t.ip]! : null;
}
