// The debugger's side of the expression evaluator for expressions outside
// the bounded subset: a broker thread (sandbox_broker.ts) and, behind it,
// a process with a limited heap (sandbox_child.ts), both started on first
// use. An answer can be waited for synchronously (Atomics.wait: conditions
// at a step, batch mode) or polled a few milliseconds at a time so that
// the event loop runs in between (the REPL and the TUI, where Ctrl-C and
// Esc cancel it). The broker keeps the time limit and turns the process's
// death into an answer: the debugger's own thread never runs the
// expression, so neither an endless loop nor an out-of-memory abort can
// take it down.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { World } from '../core/machine/world.js';
import { package_root } from '../scenario/bundled.js';
import { DebugError, type ErrorCode } from './errors.js';
import type { BrokerData, ToBroker } from './sandbox_broker.js';
import type { EvalAnswer } from './sandbox_child.js';

/** The evaluator's heap (MiB): an expression that needs more fails instead of taking the debugger down. */
export const HEAP_MB = 256;
/** Beyond the time limit: starting the evaluator, and a broker that stopped answering (ms). */
const SLACK_MS = 15_000;

/** A script of this layer: beside this module when built, else the build in dist/ (tests run the sources). */
function script(name: string): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL(`./${name}.js`, here);
  return pathToFileURL(join(package_root(), 'dist', 'src', 'debugger', `${name}.js`));
}

class Evaluator {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private consumed = 0;
  private next_id = 1;
  /** Programs the broker has (by prog_id). */
  readonly sent = new Set<number>();
  dead = false;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    const sab = new SharedArrayBuffer(8);
    this.flag = new Int32Array(sab);
    this.port = port1;
    const data: BrokerData = { port: port2, flag: sab, child: fileURLToPath(script('sandbox_child')), read: [package_root()], heap_mb: HEAP_MB };
    this.worker = new Worker(script('sandbox_broker'), { workerData: data, transferList: [port2], stdout: true, stderr: true });
    this.worker.on('error', () => (this.dead = true));
    this.worker.on('exit', () => (this.dead = true));
    this.worker.unref();
    this.port.unref();
    const t0 = Date.now();
    while (Atomics.load(this.flag, 1) === 0) {
      if (Date.now() - t0 > SLACK_MS) {
        this.kill();
        throw new DebugError('ETIME', 'the expression evaluator did not start');
      }
      Atomics.wait(this.flag, 1, 0, 50);
    }
  }

  post(m: ToBroker): void {
    this.port.postMessage(m);
  }

  id(): number {
    return this.next_id++;
  }

  /** The answer to `id` if it comes within `ms` (answers to cancelled requests are dropped on the way). */
  wait(id: number, ms: number): EvalAnswer | null {
    let waited = false;
    for (;;) {
      while (Atomics.load(this.flag, 0) > this.consumed) {
        this.consumed++;
        const m = receiveMessageOnPort(this.port)?.message as EvalAnswer | undefined;
        if (m && m.id === id) return m;
      }
      if (waited || ms <= 0) return null;
      Atomics.wait(this.flag, 0, this.consumed, ms);
      waited = true;
    }
  }

  kill(): void {
    this.dead = true;
    void this.worker.terminate();
  }
}

let evaluator: Evaluator | null = null;

/** Thread programs never change once a World is built: each goes to the evaluator once, by id. */
const prog_ids = new WeakMap<object, number>();
let next_prog = 1;

function prog_id(p: object): number {
  let id = prog_ids.get(p);
  if (id === undefined) prog_ids.set(p, (id = next_prog++));
  return id;
}

function get(): Evaluator {
  if (!evaluator || evaluator.dead) evaluator = new Evaluator();
  return evaluator;
}

export interface GeneralEval {
  /** Wait up to `ms` (0: just look): {value} (plain data), or undefined while it runs; throws its error as a DebugError. */
  poll(ms: number): { value: unknown } | undefined;
  cancel(): void;
}

/** Start evaluating `code` on copies of the World, event and violation; the evaluator stops it after `limit_ms`. */
export function start_general(code: string, w: World, e: unknown, v: unknown, limit_ms: number, callbacks: number): GeneralEval {
  const ev = get();
  const id = ev.id();
  const progs = w.threads.map((t) => t.prog);
  const ids = progs.map(prog_id);
  const new_progs: [number, World['threads'][number]['prog']][] = [];
  ids.forEach((p, i) => {
    if (!ev.sent.has(p)) new_progs.push([p, progs[i]!]);
  });
  const none: World['threads'][number]['prog'] = [];
  for (const t of w.threads) t.prog = none;
  try {
    ev.post({ id, code, w, e, v, limit: callbacks, limit_ms, prog_ids: ids, ...(new_progs.length ? { new_progs } : {}) });
  } catch (err) {
    throw new DebugError('EINVAL', `the World cannot be handed to the evaluator (${(err as Error).message})`);
  } finally {
    w.threads.forEach((t, i) => (t.prog = progs[i]!));
  }
  for (const [p] of new_progs) ev.sent.add(p);
  const backstop = Date.now() + limit_ms + SLACK_MS;
  let over = false;
  return {
    poll(ms) {
      if (over) throw new DebugError('EINVAL', 'the evaluation is over');
      const a = ev.wait(id, ms);
      if (a) {
        over = true;
        if (a.ok) return { value: a.value };
        throw new DebugError((a.code ?? 'EINVAL') as ErrorCode, a.error);
      }
      if (ev.dead || Date.now() > backstop) {
        over = true;
        ev.kill();
        throw new DebugError('EFAULT', 'the expression evaluator stopped answering');
      }
      return undefined;
    },
    cancel() {
      if (over) return;
      over = true;
      ev.post({ cancel: id });
    },
  };
}

/** Evaluate synchronously (the evaluator's time limit bounds the wait). */
export function eval_general(code: string, w: World, e: unknown, v: unknown, limit_ms: number, callbacks: number): unknown {
  const job = start_general(code, w, e, v, limit_ms, callbacks);
  for (;;) {
    const r = job.poll(limit_ms + SLACK_MS);
    if (r) return r.value;
  }
}

/** Stop the evaluator (tests; it also goes with the process). */
export function stop_evaluator(): void {
  evaluator?.kill();
  evaluator = null;
}
