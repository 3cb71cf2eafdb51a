// The TUI's costs: time to the first frame of `kvmdbg tui` in a
// pseudo-terminal (goal: under 1 s), beside a bare `node -e ''` and beside
// importing Ink and React alone (about half of it); and, during a long
// `continue`, the frames drawn per second (at most 30) and the steps run
// per second beside `kvmdbg run` of the same scenario.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { print_rows, type Row } from './harness.js';
import { package_path } from './paths.js';

type Pty = typeof import('node-pty');

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[a.length >> 1]!;
}

function spawn_ms(args: string[], env: NodeJS.ProcessEnv = process.env, n = 5): number {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: package_path('.'), encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    t.push(performance.now() - t0);
  }
  return median(t);
}

const env = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return { ...out, TERM: 'xterm-256color' };
};

interface PtyRun {
  p: import('node-pty').IPty;
  /** Frames drawn so far (each is a synchronized update). */
  frames: () => number;
  /** Resolves with the ms from `since` (default: the spawn) until `text` appears on the screen (escapes removed). */
  until: (text: RegExp, since?: number) => Promise<{ ms: number; match: RegExpExecArray }>;
}

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** Spawn `kvmdbg ARGS` in a pty, watching its output cheaply (a slow reader would slow the TUI: its writes block). */
function in_pty(pty: Pty, args: string[]): PtyRun {
  const t0 = performance.now();
  const p = pty.spawn(process.execPath, [package_path('bin/kvmdbg.js'), ...args], { name: 'xterm-256color', cols: 120, rows: 40, cwd: package_path('.'), env: env() });
  let tail = '';
  let frames = 0;
  let waiter: { re: RegExp; since: number; resolve: (v: { ms: number; match: RegExpExecArray }) => void } | null = null;
  const check = () => {
    if (!waiter) return;
    const m = waiter.re.exec(strip(tail));
    if (m) {
      const w = waiter;
      waiter = null;
      w.resolve({ ms: performance.now() - w.since, match: m });
    }
  };
  p.onData((d) => {
    frames += d.split('\x1b[?2026h').length - 1;
    tail = (tail + d).slice(-16_384);
    check();
  });
  return {
    p,
    frames: () => frames,
    until: (re, since = t0) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kvmdbg ${args.join(' ')}: no ${String(re)} in 30 s:\n${strip(tail).slice(-2000)}`)), 30_000);
        waiter = {
          re,
          since,
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
        };
        check();
      }),
  };
}

async function quit(p: import('node-pty').IPty): Promise<void> {
  await new Promise<void>((res) => {
    p.onExit(() => res());
    p.write('q');
    setTimeout(() => p.kill(), 5000);
  });
}

export async function bench_tui(): Promise<void> {
  const rows: Row[] = [];
  if (!existsSync(package_path('dist/commands/main.js'))) {
    rows.push({ name: 'kvmdbg tui: first frame', value: NaN, unit: 'ms', note: 'not built (npm run build)' });
    print_rows('tui', rows);
    return;
  }
  let pty: Pty;
  try {
    const m = (await import('node-pty')) as Pty & { default?: Pty };
    pty = m.default ?? m;
  } catch {
    rows.push({ name: 'kvmdbg tui: first frame', value: NaN, unit: 'ms', note: 'node-pty is not installed (npm install --include=dev)' });
    print_rows('tui', rows);
    return;
  }

  // Time to the first frame: until the status bar is on the screen.
  const base = spawn_ms(['-e', '']);
  const ink = spawn_ms(['--input-type=module', '-e', "await import('react'); await import('ink');"], { ...process.env, NODE_ENV: 'production' });
  const first: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = in_pty(pty, ['tui']);
    first.push((await r.until(/kvmdbg \| default \| step 0/)).ms);
    await quit(r.p);
  }
  const ms = median(first);
  rows.push({ name: "node -e ''", value: base, unit: 'ms' });
  rows.push({ name: 'node: import react and ink (production)', value: ink, unit: 'ms', peer: "node -e ''", peer_value: base });
  rows.push({ name: 'kvmdbg tui: first frame (default scenario)', value: ms, unit: 'ms', peer: 'importing ink', peer_value: ink, note: `goal < 1000 ms; ${ms < 1000 ? 'met' : 'NOT met'}` });

  // A long continue: frames per second on the terminal and steps per second.
  const dir = mkdtempSync(join(tmpdir(), 'kvmdbg-bench-tui-'));
  const file = join(dir, 'long.yaml');
  writeFileSync(file, readFileSync(package_path('scenarios/default.yaml'), 'utf8').replace(/times: 3/g, 'times: 20000').replace(/^name: default/m, 'name: long'));
  const t_run = spawn_ms([package_path('bin/kvmdbg.js'), 'run', file, '--events', 'thread.exit'], process.env, 3);
  const r = in_pty(pty, ['tui', file]);
  await r.until(/step 0/);
  const f0 = r.frames();
  const t0 = performance.now();
  r.p.write('c');
  const { ms: t_tui, match } = await r.until(/step (\d+) \| end/, t0);
  const frames = r.frames() - f0;
  const steps = Number(match[1]);
  await quit(r.p);
  rows.push({ name: 'kvmdbg tui: frames/s during a continue', value: (frames * 1000) / t_tui, unit: 'frames/s', note: `${frames} frames in ${t_tui.toFixed(0)} ms; goal <= 30 (+ the first and last)` });
  rows.push({ name: `kvmdbg tui: continue over ${steps} steps`, value: (steps * 1000) / t_tui, unit: 'steps/s', peer: 'kvmdbg run (whole process)', peer_value: (steps * 1000) / t_run });
  print_rows('tui', rows);
}

const self = process.argv[1] ?? '';
if (self.endsWith('tui.js') || self.endsWith('tui.ts')) await bench_tui();
