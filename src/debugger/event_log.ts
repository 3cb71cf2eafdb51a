// The recent event window: a ring of the last `capacity` events of the
// current timeline, ending at the current step. Older ranges are not kept;
// the Session regenerates them by re-executing from a checkpoint.
import type { Event } from '../core/machine/events.js';

export class EventLog {
  private buf: (Event | undefined)[];
  private head = 0;
  private size = 0;
  /** Every event of the steps in (lo, newest] is held. */
  lo = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<Event | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(e: Event): void {
    const cap = this.capacity;
    if (this.size === cap) {
      const old = this.buf[this.head]!;
      if (old.step > this.lo) this.lo = old.step;
      this.buf[this.head] = e;
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      return;
    }
    this.buf[(this.head + this.size) % cap] = e;
    this.size++;
  }

  /** The i-th newest event (0 = newest). */
  at_back(i: number): Event {
    return this.buf[(this.head + this.size - 1 - i) % this.capacity]!;
  }

  /** Forget the events after `step`. */
  truncate(step: number): void {
    while (this.size > 0 && this.at_back(0).step > step) {
      this.buf[(this.head + this.size - 1) % this.capacity] = undefined;
      this.size--;
    }
    if (this.lo > step) this.lo = step;
  }

  clear(step = 0): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.lo = step;
  }

  /** Up to `n` of the newest events that `keep` accepts, oldest first. */
  last(n: number, keep: (e: Event) => boolean): Event[] {
    const out: Event[] = [];
    for (let i = 0; i < this.size && out.length < n; i++) {
      const e = this.at_back(i);
      if (e.step <= this.lo) break;
      if (keep(e)) out.push(e);
    }
    return out.reverse();
  }

  /** Events of steps [from, to] held in the window, oldest first (from > lo for all of them). */
  range(from: number, to: number): Event[] {
    const out: Event[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.at_back(i);
      if (e.step < from) break;
      if (e.step <= to) out.push(e);
    }
    return out.reverse();
  }
}
