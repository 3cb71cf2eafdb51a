// kernel/smp.c smp_call_function_many() and smp_send_reschedule(): IPIs to
// physical CPUs. A CPU takes an IPI as soon as interrupts are on; a vCPU in
// the guest takes it by exiting. With `wait`, the sender spins (preemption
// off, interrupts on) until every target has run the handler.
// Left out: the csd queue itself, offline CPUs.
import { emit } from '../machine/events.js';
import { wait_kind } from '../machine/model.js';
import type { Thread, World } from '../machine/world.js';

/** The thread running on physical CPU `cpu` (one thread per CPU in the model). */
export function thread_on_cpu(w: World, cpu: number): Thread | undefined {
  return w.threads.find((t) => t.cpu === cpu && !t.done);
}

/** Send an IPI; a target with interrupts on takes it at once. */
export function smp_send_ipi(w: World, from: Thread, cpu: number, wait: boolean): void {
  emit(w, from, 'ipi.send', { to: cpu, wait });
  const c = w.cpus[cpu];
  if (!c) return;
  c.ipi_pending = true;
  const target = thread_on_cpu(w, cpu);
  if (!target || !target.irqs_disabled) ipi_ack(w, target ?? null, cpu);
}

export function ipi_ack(w: World, t: Thread | null, cpu: number): void {
  const c = w.cpus[cpu]!;
  if (!c.ipi_pending) return;
  c.ipi_pending = false;
  emit(w, t, 'ipi.ack', { target_cpu: cpu });
}

/** local_irq_enable(): take a pending IPI. */
export function local_irq_enable(w: World, t: Thread): void {
  t.irqs_disabled = false;
  ipi_ack(w, t, t.cpu);
}

export function local_irq_disable(t: Thread): void {
  t.irqs_disabled = true;
}

wait_kind('ipi_ack', false, (w, _t, wait) => (wait['cpus'] as number[]).every((c) => !w.cpus[c]!.ipi_pending));
