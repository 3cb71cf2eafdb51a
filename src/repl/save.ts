// `save FILE`: the session so far as a script that reproduces it when run
// with `kvmdbg repl SCENARIO -x FILE`: the scenario and seed, the steps the
// user forced and the pokes at their steps (the scheduler re-makes every
// other pick), the current step, then the breakpoints.
import { format_filter, type Breakpoint } from '../debugger/breakpoints.js';
import type { Session } from '../debugger/session.js';
import type { ReplHost } from './command.js';

export function session_script(s: Session, host: ReplHost): string[] {
  const lines = [`# kvmdbg session saved at step ${s.step_no} of ${s.end_step}${host.scenario ? `; run it with: kvmdbg repl ${host.scenario.path} -x FILE` : ''}`];
  if (host.scenario) lines.push(`load ${quote(host.scenario.path)}`);
  lines.push(`seed ${s.seed}`);
  const picks = s.schedule().picks;
  const names = s.world.threads.map((t) => t.name);
  // A forced step N runs between positions N-1 and N; a poke at N comes after step N.
  const items = [
    ...s.forced_steps().map((n) => ({ key: n - 0.5, forced: n, line: `step ${names[picks[n - 1]!]}` })),
    ...s.pokes().map((p) => ({ key: p.step, forced: 0, line: p.text })),
  ].sort((a, b) => a.key - b.key);
  let cur = 0;
  const go = (n: number) => {
    if (n > cur) lines.push(`goto ${n}`);
    cur = Math.max(cur, n);
  };
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
