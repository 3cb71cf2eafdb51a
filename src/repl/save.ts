// `save FILE`: the session so far as a script that reproduces it when run
// with `kvmdbg repl -x FILE`: the scenario with every option that changed
// its World (--variant, --seed) and the seed, or the recording it came
// from; the steps the user forced and the pokes at their steps (the
// scheduler re-makes every other pick), the current step, then the
// breakpoints.
import { format_filter, type Breakpoint } from '../debugger/breakpoints.js';
import type { Session } from '../debugger/session.js';
import type { Origin, ReplHost } from './command.js';

export function session_script(s: Session, host: ReplHost): string[] {
  const origin = host.origin;
  const lines = [`# kvmdbg session saved at step ${s.step_no} of ${s.end_step}${host.scenario ? `; run it with: kvmdbg repl -x FILE` : ''}`];
  // The World's origin, with every option that changed it: the variants and the seed.
  let from = 0;
  if (host.scenario) {
    const opts = origin?.kind === 'scenario' ? [...origin.variants.map((v) => `--variant ${v}`), ...(origin.seed !== undefined ? [`--seed ${origin.seed}`] : [])] : [];
    lines.push(['load', quote(host.scenario.path), ...opts].join(' '));
  }
  if (origin?.kind === 'recording') {
    // `load RECORDING` brings its history: only what the session did after leaving it is written.
    from = recorded_prefix(s, origin);
    lines.push(`# the recording's history is followed up to step ${from}`);
  } else lines.push(`seed ${s.seed}`);
  const picks = s.schedule().picks;
  const names = s.world.threads.map((t) => t.name);
  // A forced step N runs between positions N-1 and N; a poke at N comes after step N.
  const pokes = s.pokes();
  const items = [
    ...s.forced_steps().filter((n) => n > from).map((n) => ({ key: n - 0.5, forced: n, line: `step ${names[picks[n - 1]!]}` })),
    ...pokes.slice(origin?.kind === 'recording' ? kept_pokes(pokes, origin, from) : 0).map((p) => ({ key: p.step, forced: 0, line: p.text })),
  ].sort((a, b) => a.key - b.key);
  let cur = 0;
  const go = (n: number) => {
    if (n > cur) lines.push(`goto ${n}`);
    cur = Math.max(cur, n);
  };
  if (origin?.kind === 'recording' && items.length) {
    lines.push(`goto ${from}`);
    cur = from;
  }
  for (const it of items) {
    go(it.forced ? it.forced - 1 : it.key);
    lines.push(it.line);
    if (it.forced) cur = it.forced;
  }
  go(s.end_step);
  if (s.step_no !== cur) lines.push(`goto ${s.step_no}`);
  s.breakpoints.all().forEach((bp, i) => lines.push(...breakpoint_lines(bp, i + 1)));
  return lines;
}

/** The steps at the start of the session's timeline that are the recording's (its picks and commands). */
function recorded_prefix(s: Session, o: Extract<Origin, { kind: 'recording' }>): number {
  const mine = s.picks_since(0);
  const n = Math.min(mine.length, o.picks.length);
  let d = 0;
  while (d < n && mine[d] === o.picks[d]) d++;
  const pokes = s.pokes();
  for (let k = 0; k < Math.max(pokes.length, o.pokes.length); k++) {
    const a = pokes[k];
    const b = o.pokes[k];
    if (a && b && a.step === b.step && a.text === b.text) continue;
    d = Math.min(d, a?.step ?? d, b?.step ?? d);
    break;
  }
  return d;
}

/** How many of the session's pokes the recording already holds (those up to step `from`). */
function kept_pokes(pokes: readonly { step: number; text: string }[], o: Extract<Origin, { kind: 'recording' }>, from: number): number {
  let k = 0;
  while (k < pokes.length && k < o.pokes.length && pokes[k]!.step <= from && pokes[k]!.step === o.pokes[k]!.step && pokes[k]!.text === o.pokes[k]!.text) k++;
  return k;
}

/** Commands that make `bp` again, as breakpoint number `id`. */
function breakpoint_lines(bp: Breakpoint, id: number): string[] {
  const cond = bp.cond ? ` if ${bp.cond}` : '';
  const spec = [bp.kind, ...bp.filters.map(format_filter)].join(' ');
  const out = [
    bp.type === 'watchpoint'
      ? `watch ${bp.expr}`
      : bp.type === 'catchpoint'
        ? `catch violation${bp.invariant ? ` ${bp.invariant}` : ''}${cond}`
        : bp.type === 'dprintf'
          ? `dprintf ${spec}${cond}, ${bp.format}`
          : `${bp.temporary ? 'tbreak' : 'break'} ${spec}${cond}`,
  ];
  if (bp.ignore) out.push(`ignore ${id} ${bp.ignore}`);
  if (bp.commands.length) out.push(`commands ${id}`, ...bp.commands.map((c) => `  ${c}`), 'end');
  if (!bp.enabled) out.push(`disable ${id}`);
  return out;
}

function quote(p: string): string {
  return /[\s"'#]/.test(p) ? JSON.stringify(p) : p;
}
