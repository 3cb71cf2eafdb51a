// kvmdbg variants: every variant with its arch, where it comes from, what
// it is expected to break, and what it changes.
import '../src/core/world_init.js';
import { all_variants } from '../src/core/machine/variants.js';
import { ANSI, paint, to_json } from '../src/repl/format.js';
import { EXIT_OK, Out, use_color, type CommonOptions } from './common.js';

export function variants_command(opts: CommonOptions & { json?: boolean }): number {
  const list = all_variants().filter((v) => !opts.arch || !v.arch || v.arch === opts.arch);
  const out = new Out();
  if (opts.json) {
    for (const v of list) out.line(to_json({ name: v.name, arch: v.arch ?? 'any', source: v.source, breaks: v.breaks, description: v.description }));
    out.flush();
    return EXIT_OK;
  }
  if (list.length === 0) {
    out.line('no variants');
    out.flush();
    return EXIT_OK;
  }
  const color = use_color(opts);
  const rows = list.map((v) => [v.name, v.arch ?? 'any', v.breaks]);
  const heads = ['NAME', 'ARCH', 'BREAKS'];
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  out.line(paint(color, ANSI.bold, pad(heads)));
  for (const [i, v] of list.entries()) {
    out.line(pad(rows[i]!));
    out.line(`    ${v.description}`);
    out.line(paint(color, ANSI.dim, `    source: ${v.source}`));
  }
  out.flush();
  return EXIT_OK;
}
