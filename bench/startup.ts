// Start-up: the built CLI spawned as a user runs it (`node bin/kvmdbg.js`),
// each figure a ratio to a bare `node -e ''` measured in the same run.
// Targets (issue 15): `--version` <= 1.3x, `repl --json -e 'info vcpus'`
// <= 1.8x, `run fault-vs-invalidate` <= 2x, the TUI's first frame < 600 ms.
// The runs are interleaved (one of each, seven times) so that a change in
// the machine's load hits every row alike; each row is the median of 7 with
// its spread (min-max). `node dist/bench/startup.js [ROUNDS]` runs it alone.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { print_rows, type Row } from './harness.js';
import { package_path } from './paths.js';

type Pty = typeof import('node-pty');

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[a.length >> 1]!;
}

function spread(xs: number[]): string {
  return `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms`;
}

/** ms from spawn to exit of `node ARGS`; throws unless it exits 0 (or `ok`). */
function spawn_once(args: string[], ok = [0]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: package_path('.'), encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (!ok.includes(r.status ?? -1)) throw new Error(`node ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

function pty_env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NO_COLOR') out[k] = v;
  return { ...out, TERM: 'xterm-256color' };
}

/** ms from spawn until `kvmdbg tui`'s status bar is on the screen; then quits it. */
function tui_first_frame(pty: Pty, bin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = pty.spawn(process.execPath, [bin, 'tui'], { name: 'xterm-256color', cols: 120, rows: 40, cwd: package_path('.'), env: pty_env() });
    let tail = '';
    let ms = 0;
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`kvmdbg tui: no status bar in 30 s:\n${tail.slice(-2000)}`));
    }, 30_000);
    p.onData((d) => {
      if (ms) return;
      // eslint-disable-next-line no-control-regex
      tail = (tail + d).slice(-16_384).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      if (/kvmdbg \| default \| step 0/.test(tail)) {
        ms = performance.now() - t0;
        p.write('q');
        setTimeout(() => p.kill(), 5000).unref();
      }
    });
    p.onExit(() => {
      clearTimeout(timer);
      if (ms) resolve(ms);
      else reject(new Error(`kvmdbg tui exited before its first frame:\n${tail.slice(-2000)}`));
    });
  });
}

export async function bench_startup(rounds = 7): Promise<void> {
  const bin = package_path('bin/kvmdbg.js');
  const rows: Row[] = [];
  const built = spawnSync(process.execPath, [bin, '--version'], { cwd: package_path('.'), encoding: 'utf8' }).status === 0;
  if (!built) {
    rows.push({ name: 'kvmdbg start-up', value: NaN, unit: 'ms', note: 'not built (npm run build)' });
    print_rows('startup', rows);
    return;
  }
  let pty: Pty | null = null;
  try {
    const m = (await import('node-pty')) as Pty & { default?: Pty };
    pty = m.default ?? m;
  } catch {
    pty = null;
  }

  const targets: { name: string; args: string[]; ok?: number[]; goal: number }[] = [
    { name: 'kvmdbg --version', args: [bin, '--version'], goal: 1.3 },
    { name: "kvmdbg repl --json -e 'info vcpus'", args: [bin, 'repl', '--json', '-e', 'info vcpus'], goal: 1.8 },
    { name: 'kvmdbg run fault-vs-invalidate', args: [bin, 'run', 'fault-vs-invalidate'], goal: 2 },
  ];
  const base: number[] = [];
  const times = targets.map(() => [] as number[]);
  const tui: number[] = [];
  const load0 = loadavg()[0]!;
  // One unmeasured round: the page cache, and npm's own start-up, are behind us.
  spawn_once(['-e', '']);
  for (const t of targets) spawn_once(t.args, t.ok);
  for (let r = 0; r < rounds; r++) {
    base.push(spawn_once(['-e', '']));
    targets.forEach((t, i) => times[i]!.push(spawn_once(t.args, t.ok)));
    if (pty) tui.push(await tui_first_frame(pty, bin));
  }
  const b = median(base);
  rows.push({ name: "node -e ''", value: b, unit: 'ms', note: spread(base) });
  targets.forEach((t, i) => {
    const m = median(times[i]!);
    const x = m / b;
    rows.push({ name: t.name, value: m, unit: 'ms', note: `${spread(times[i]!)}; x${x.toFixed(2)} of node -e '' (goal <= ${t.goal}x: ${x <= t.goal ? 'met' : 'NOT met'})` });
  });
  if (pty) {
    const m = median(tui);
    rows.push({ name: 'kvmdbg tui: first frame', value: m, unit: 'ms', note: `${spread(tui)}; x${(m / b).toFixed(2)} of node -e '' (goal < 600 ms: ${m < 600 ? 'met' : 'NOT met'})` });
  } else {
    rows.push({ name: 'kvmdbg tui: first frame', value: NaN, unit: 'ms', note: 'node-pty is not installed (npm install --include=dev)' });
  }
  print_rows(`startup (medians of ${rounds}, interleaved; load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)})`, rows);
}

const self = process.argv[1] ?? '';
if (self.endsWith('startup.js') || self.endsWith('startup.ts')) await bench_startup(Number(process.argv[2] ?? 7));
