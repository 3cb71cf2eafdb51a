// Creating threads and running their programs. A thread's root frame is its
// kernel entry point (kvm_arch_vcpu_ioctl_run for vCPUs, host_thread_fn for
// the mm and VMM threads, rcu_gp_kthread for RCU).
import { emit } from './events.js';
import { RETURN, call, lookup_fn, model_fn } from './model.js';
import { op_named } from './ops.js';
import type { Op, Thread, ThreadKind, World } from './world.js';

/** A thread record (not yet in the World). */
export function thread_struct(
  w: World,
  name: string,
  kind: ThreadKind,
  opts: { cpu: number; vcpu?: number; root: string; prog?: Op[]; args?: Record<string, unknown>; daemon?: boolean },
): Thread {
  const root = lookup_fn(opts.root);
  return {
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
    steps: 0,
    daemon: opts.daemon ?? false,
    retval: undefined,
    preempt_count: 0,
    irqs_disabled: false,
  };
}

export function spawn_thread(w: World, name: string, kind: ThreadKind, opts: Parameters<typeof thread_struct>[3]): Thread {
  const t = thread_struct(w, name, kind, opts);
  w.threads.push(t);
  return t;
}

/** The thread's next op, or null when its program is done. */
export function next_op(t: Thread): Op | null {
  return t.ip < t.prog.length ? t.prog[t.ip]! : null;
}

/**
 * Root of host threads (the mm, the VMM): run each op of the program as a
 * call of the op's model function.
 */
export const host_thread_fn = model_fn<Record<string, never>>('host_thread_fn', {
  next: (w, t) => {
    const op = next_op(t);
    if (!op) return RETURN;
    const def = op_named(op.op);
    if (!def?.fn) throw new Error(`${t.name}: op ${op.op} cannot run on a host thread`);
    emit(w, t, 'thread.op', { op: op.op, index: t.ip });
    t.ip++;
    return call(def.fn, { ...op.args }, 'next');
  },
});
