// The fault-versus-invalidation retry race of fault_retry.pml, run by
// fast-check's scheduler (fc.scheduler): the same processes as async
// functions, every atomic step of the Promela model one scheduled task, the
// safety property checked after every step. fast-check draws one schedule
// per run (it does not enumerate or hash states), so its figure is
// schedules per second.
import fc from 'fast-check';

interface State {
  seq: number;
  in_progress: number;
  host: number[];
  s2: number[];
  readers: number;
  writer: boolean;
  next_pfn: number;
}

class Stale extends Error {}

function model(s: fc.Scheduler, retry: boolean): Promise<void>[] {
  const st: State = { seq: 0, in_progress: 0, host: [0, 0], s2: [0, 0], readers: 0, writer: false, next_pfn: 3 };
  const check = () => {
    for (let p = 0; p < 2; p++) if (st.s2[p] !== 0 && st.s2[p] !== st.host[p]) throw new Stale(`stage-2 maps pfn ${st.s2[p]} at page ${p}; the host has ${st.host[p]}`);
  };
  /** One atomic step: wait for the scheduler to pick this process, run `f`, check. */
  const step = async (f: () => void) => {
    await s.schedule(Promise.resolve());
    f();
    check();
  };
  /** A guarded step (Promela's `guard -> action`): retried until the guard holds when picked. */
  const when = async (guard: () => boolean, f: () => void) => {
    for (;;) {
      await s.schedule(Promise.resolve());
      if (guard()) {
        f();
        check();
        return;
      }
    }
  };
  const access = async (p: number) => {
    for (;;) {
      let done = false;
      await step(() => (done = st.s2[p] !== 0));
      if (done) return;
      let mmu_seq = 0;
      let pfn = 0;
      await step(() => (mmu_seq = st.seq));
      await step(() => {
        if (st.host[p] === 0) st.host[p] = st.next_pfn++;
        pfn = st.host[p]!;
      });
      await when(() => !st.writer, () => st.readers++);
      if (retry) {
        let again = false;
        await step(() => {
          again = st.in_progress > 0 || st.seq !== mmu_seq;
          if (again) st.readers--;
        });
        if (again) continue;
      }
      await step(() => (st.s2[p] = pfn));
      await step(() => st.readers--);
    }
  };
  const invalidate = async (p: number) => {
    await when(() => !st.writer && st.readers === 0, () => (st.writer = true));
    await step(() => st.in_progress++);
    await step(() => (st.s2[p] = 0));
    await step(() => (st.writer = false));
    await step(() => {
      if (st.host[p] !== 0) st.host[p] = st.next_pfn++;
    });
    await when(() => !st.writer && st.readers === 0, () => (st.writer = true));
    await step(() => st.seq++);
    await step(() => st.in_progress--);
    await step(() => (st.writer = false));
  };
  return [
    (async () => {
      await access(0);
      await access(1);
      await access(0);
    })(),
    (async () => {
      await access(1);
      await access(0);
    })(),
    (async () => {
      await invalidate(0);
      await invalidate(1);
    })(),
  ];
}

export interface FcFigures {
  /** Schedules run. */
  runs: number;
  ms: number;
  /** Schedules per second. */
  rate: number;
  /** The run that broke the property (1-based), or null. */
  failed_at: number | null;
}

/** Run schedules until `runs` or a failure (no shrinking: the time to the first violation). */
export async function fc_fault_retry(opts: { retry: boolean; runs: number; seed?: number }): Promise<FcFigures> {
  let n = 0;
  const t0 = performance.now();
  const out = await fc.check(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      n++;
      let live = 3;
      let failure: unknown = null;
      for (const p of model(s, opts.retry)) {
        p.then(
          () => live--,
          (e: unknown) => {
            live--;
            failure ??= e;
          },
        );
      }
      // Release one task at a time; between two, let the processes reach their next step.
      while (live > 0 && failure === null) {
        if (s.count() > 0) await s.waitOne();
        else await Promise.resolve();
      }
      if (failure) throw failure;
    }),
    { numRuns: opts.runs, endOnFailure: true, seed: opts.seed ?? 1 },
  );
  const ms = performance.now() - t0;
  return { runs: n, ms, rate: (n / ms) * 1000, failed_at: out.failed ? n : null };
}
