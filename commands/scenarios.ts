// kvmdbg scenarios: the bundled scenarios with one-line summaries.
import { bundled_scenarios } from '../src/scenario/bundled.js';
import { to_json } from '../src/repl/format.js';
import { ANSI, paint } from '../src/repl/format.js';
import { EXIT_OK, Out, use_color, type CommonOptions } from './common.js';

export function scenarios_command(opts: CommonOptions & { json?: boolean }): number {
  const list = bundled_scenarios().filter((s) => !opts.arch || s.arch === opts.arch);
  const out = new Out();
  if (opts.json) {
    for (const s of list) out.line(to_json({ id: s.id, name: s.name, arch: s.arch, summary: s.summary, path: s.path }));
  } else if (list.length === 0) {
    out.line('no bundled scenarios');
  } else {
    const color = use_color(opts);
    const w = Math.max(...list.map((s) => s.id.length));
    const aw = Math.max(...list.map((s) => s.arch.length));
    for (const s of list) out.line(`${paint(color, ANSI.bold, s.id.padEnd(w))}  ${s.arch.padEnd(aw)}  ${s.summary}`.trimEnd());
  }
  out.flush();
  return EXIT_OK;
}
