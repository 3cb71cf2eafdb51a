// A worker thread between the debugger and the evaluator process
// (sandbox_child.ts). The debugger may wait for an answer synchronously
// (a condition at every step), so something other than its own event loop
// must keep the time limit and notice the process dying: this thread does,
// and answers every request exactly once, with the expression's value or
// error, or with ETIME (it was killed at its deadline), ENOMEM (it died of
// its heap limit), EINTR (cancelled) or EFAULT. Each answer is posted, then
// counted in a shared word the debugger waits on.
import { fork, type ChildProcess } from 'node:child_process';
import { workerData, type MessagePort } from 'node:worker_threads';
import type { EvalAnswer, EvalRequest } from './sandbox_child.js';

export interface BrokerData {
  port: MessagePort;
  /** [0]: answers posted; [1]: 1 once this thread listens. */
  flag: SharedArrayBuffer;
  /** The evaluator's script, and the directories it may read (kvmdbg's own files). */
  child: string;
  read: string[];
  heap_mb: number;
}

export type ToBroker = (EvalRequest & { limit_ms: number }) | { cancel: number };

const d = workerData as BrokerData;
const flag = new Int32Array(d.flag);

function answer(a: EvalAnswer): void {
  d.port.postMessage(a);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** The permission model's flag on this Node, if it has one. */
function permission_flags(): string[] {
  const flags = process.allowedNodeEnvironmentFlags;
  const name = flags.has('--permission') ? '--permission' : flags.has('--experimental-permission') ? '--experimental-permission' : null;
  return name ? [name, ...d.read.map((p) => `--allow-fs-read=${p}`)] : [];
}

let child: ChildProcess | null = null;
/** Every program the debugger sent, and those the evaluator process has. */
const progs = new Map<number, unknown>();
let child_has = new Set<number>();
let ready: Promise<ChildProcess> | null = null;
/** The request the evaluator is working on. */
let busy: { id: number; timer: NodeJS.Timeout | null } | null = null;
const queue: (EvalRequest & { limit_ms: number })[] = [];

function start(): Promise<ChildProcess> {
  ready ??= new Promise((resolve, reject) => {
    const c = fork(d.child, [], {
      execArgv: [`--max-old-space-size=${d.heap_mb}`, '--disallow-code-generation-from-strings', '--no-warnings', ...permission_flags()],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    child = c;
    child_has = new Set();
    c.once('message', (m: { ready?: boolean }) => (m?.ready ? resolve(c) : reject(new Error('the evaluator said something else first'))));
    c.on('message', (m: EvalAnswer & { ready?: boolean }) => {
      if (m.ready || !busy || m.id !== busy.id) return;
      finish(m);
    });
    c.on('error', (e) => reject(e));
    c.on('exit', (code, signal) => {
      if (child === c) {
        child = null;
        ready = null;
      }
      reject(new Error(`the evaluator exited before it was ready (${signal ?? code})`));
      if (busy) {
        const oom = signal === 'SIGABRT' || signal === 'SIGTRAP' || code === 134;
        finish({
          id: busy.id,
          ok: false,
          code: oom ? 'ENOMEM' : 'EFAULT',
          error: oom ? `the expression needed more than the ${d.heap_mb} MiB an expression may use; it was stopped` : `the expression evaluator died (${signal ?? `exit ${code}`})`,
        });
      }
    });
  });
  return ready;
}

function kill(): void {
  const c = child;
  child = null;
  ready = null;
  if (c) {
    c.removeAllListeners('exit');
    c.kill('SIGKILL');
  }
}

function finish(a: EvalAnswer): void {
  if (busy?.timer) clearTimeout(busy.timer);
  busy = null;
  answer(a);
  next();
}

function next(): void {
  if (busy) return;
  const r = queue.shift();
  if (!r) return;
  busy = { id: r.id, timer: null };
  const mine = busy;
  start().then(
    (c) => {
      if (busy !== mine) return;
      mine.timer = setTimeout(() => {
        if (busy !== mine) return;
        kill();
        finish({ id: r.id, ok: false, code: 'ETIME', error: `the expression ran longer than ${r.limit_ms / 1000} s (an endless loop?); it was stopped` });
      }, r.limit_ms);
      const { limit_ms: _l, ...req } = r;
      for (const [id, p] of req.new_progs ?? []) progs.set(id, p);
      const missing = req.prog_ids.filter((id) => !child_has.has(id));
      req.new_progs = [...new Set(missing)].map((id) => [id, progs.get(id)] as [number, never]);
      for (const id of missing) child_has.add(id);
      c.send(req, (e) => {
        if (e && busy === mine) finish({ id: r.id, ok: false, code: 'EFAULT', error: `cannot hand the expression to the evaluator (${e.message})` });
      });
    },
    (e: Error) => {
      if (busy === mine) finish({ id: r.id, ok: false, code: 'EFAULT', error: `the expression evaluator did not start: ${e.message}` });
    },
  );
}

d.port.on('message', (m: ToBroker) => {
  if ('cancel' in m) {
    const i = queue.findIndex((q) => q.id === m.cancel);
    if (i >= 0) {
      queue.splice(i, 1);
      answer({ id: m.cancel, ok: false, code: 'EINTR', error: 'interrupted' });
    } else if (busy?.id === m.cancel) {
      kill();
      finish({ id: m.cancel, ok: false, code: 'EINTR', error: 'interrupted' });
    }
    return;
  }
  queue.push(m);
  next();
});

// Start the evaluator now: the first expression should not wait for it.
start().catch(() => undefined);
Atomics.store(flag, 1, 1);
Atomics.notify(flag, 1);
