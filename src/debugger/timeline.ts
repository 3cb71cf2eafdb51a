// The Session's history: the thread picked at every step (and whether the
// user forced it), the injected-fault choices, and the pokes (recorded state
// changes) with the step at which they happened. Re-executing from a
// checkpoint with this history reproduces every later state exactly.
import type { Schedule } from '../core/machine/machine.js';

/** A recorded state change: applied after step `step` (and after the pokes before it at that step). */
export interface Poke {
  step: number;
  /** The poke handler's name (pokes.ts). */
  name: string;
  /** Plain data: the handler's arguments. */
  args: Record<string, unknown>;
  /** The command that made it, for `save` and `info pokes`. */
  text: string;
}

class IntLog {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  copy(n: number): IntLog {
    const c = new IntLog();
    c.a = this.a.slice(0, Math.max(n, 1024));
    c.n = n;
    return c;
  }
}

export class Timeline {
  /** picks.a[i]: the thread that ran step i+1; ~id when the user forced it. */
  private picks = new IntLog();
  /** choice_at.a[i]: choice answers consumed before step i+1. */
  private choice_at = new IntLog();
  private choices = new IntLog();
  /** Pokes sorted by step (stable: the order they were made in). */
  pokes: Poke[] = [];
  /** A recorded schedule the first steps follow (a recording opened in the REPL), else null. */
  ext: Schedule | null = null;

  constructor() {
    this.choice_at.push(0);
  }

  /** Steps recorded. */
  get length(): number {
    return this.picks.n;
  }

  /** Thread id of step `s` (1-based) and whether it was forced. */
  pick(s: number): { id: number; forced: boolean } {
    const v = this.picks.a[s - 1]!;
    return v < 0 ? { id: ~v, forced: true } : { id: v, forced: false };
  }

  /** The raw encoding of step `s`'s pick (compare with encode()). */
  raw(s: number): number {
    return this.picks.a[s - 1]!;
  }

  static encode(id: number, forced: boolean): number {
    return forced ? ~id : id;
  }

  /** Choices consumed before step s+1 (so choice_pos(0) = 0). */
  choice_pos(s: number): number {
    return this.choice_at.a[s]!;
  }

  push(raw: number, choices: readonly number[]): void {
    this.picks.push(raw);
    for (const c of choices) this.choices.push(c);
    this.choice_at.push(this.choices.n);
  }

  /** Forget everything after step `s` (steps, and pokes made after it). */
  truncate(s: number): void {
    if (s < this.picks.n) {
      this.picks.n = s;
      this.choice_at.n = s + 1;
      this.choices.n = this.choice_at.a[s]!;
    }
    while (this.pokes.length && this.pokes[this.pokes.length - 1]!.step > s) this.pokes.pop();
    if (this.ext && this.ext.picks.length > s) {
      this.ext.picks.length = s;
      this.ext.choices.length = Math.min(this.ext.choices.length, this.choice_pos(Math.min(s, this.picks.n)));
    }
  }

  add_poke(p: Poke): void {
    this.truncate(p.step);
    this.pokes.push(p);
  }

  /** Index of the first poke made at or after step `s`. */
  poke_index(s: number): number {
    let lo = 0;
    let hi = this.pokes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pokes[mid]!.step < s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The schedule as plain arrays (what a recording stores). */
  schedule(): Schedule {
    return { picks: Array.from(this.picks.a.subarray(0, this.picks.n), (v) => (v < 0 ? ~v : v)), choices: Array.from(this.choices.a.subarray(0, this.choices.n)) };
  }

  /** The raw picks of steps k+1..length. */
  picks_since(k: number): Int32Array {
    return this.picks.a.slice(Math.min(k, this.picks.n), this.picks.n);
  }

  /** Steps the user forced (`step THREAD`), ascending. */
  forced_steps(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.picks.n; i++) if (this.picks.a[i]! < 0) out.push(i + 1);
    return out;
  }

  /** A copy of the history up to step `s`. */
  prefix(s: number): Timeline {
    const t = new Timeline();
    const n = Math.min(s, this.picks.n);
    t.picks = this.picks.copy(n);
    t.choice_at = this.choice_at.copy(n + 1);
    t.choices = this.choices.copy(this.choice_at.a[n]!);
    t.pokes = this.pokes.filter((p) => p.step <= s);
    t.ext = this.ext ? { picks: this.ext.picks.slice(0, s), choices: this.ext.choices.slice(0, this.choice_at.a[n]!) } : null;
    return t;
  }

  /** Bytes held (for `info checkpoints` and the benchmark). */
  bytes(): number {
    return this.picks.a.byteLength + this.choice_at.a.byteLength + this.choices.a.byteLength;
  }
}
