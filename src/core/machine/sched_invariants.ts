// include/linux/kernel.h might_sleep() / kernel/sched/core.c __might_resched():
// sleeping with a spinning lock held, preemption or interrupts disabled.
// (The kernel only warns under CONFIG_DEBUG_ATOMIC_SLEEP; here it is a
// violation, which is how the "Do not block when unmapping stage-2 if
// disallowed" bug shows.)
import type { Event } from './events.js';
import { define_invariant } from './invariants.js';

define_invariant({
  name: 'sched.sleep_in_atomic',
  description: 'a thread never sleeps while holding a spinning lock or with preemption or interrupts disabled',
  on: ['sched.might_sleep'],
  check(w, ev) {
    const e = ev as Event & { what: string; preempt_count: number; irqs_disabled: boolean };
    if (e.preempt_count <= 0 && !e.irqs_disabled) return null;
    const t = w.threads.find((x) => x.name === e.thread)!;
    return {
      thread: e.thread,
      message:
        `BUG: sleeping function called from invalid context: ${e.thread} may sleep (${e.what}) in ` +
        `${t.stack.map((f) => f.fn).reverse().join(' <- ')} with preempt_count=${e.preempt_count}` +
        (e.irqs_disabled ? ', irqs disabled' : ''),
      values: { what: e.what, preempt_count: e.preempt_count, irqs_disabled: e.irqs_disabled },
    };
  },
});
