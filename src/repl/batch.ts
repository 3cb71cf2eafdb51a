// Batch mode: commands from -x files (or stdin) and -e arguments, run in
// order; text or one JSON line per command; the first failure ends the run
// unless --keep-going. Exit 0 when every command and assert succeeded, 1
// otherwise.
import { Interpreter, type Outcome } from './interpreter.js';

export interface BatchSource {
  /** The file name (for error lines) or "-e". */
  name: string;
  lines: string[];
}

export interface BatchOutput {
  out: (s: string) => void;
  err: (s: string) => void;
}

export function run_batch(interp: Interpreter, sources: BatchSource[], io: BatchOutput): number {
  let failed = false;
  const report = (o: Outcome, where: string): boolean => {
    if (interp.json) io.out(Interpreter.json_line(o));
    else if (o.ok) {
      if (o.text) io.out(o.text);
    } else io.err(`${where}${o.text}`);
    if (!o.ok) failed = true;
    return o.ok || interp.keep_going;
  };
  for (const src of sources) {
    for (let i = 0; i < src.lines.length; i++) {
      const o = interp.exec(src.lines[i]!);
      if (!o) continue;
      if (!report(o, src.name === '-e' ? '' : `${src.name}:${i + 1}: `)) return 1;
      if (o.quit) return failed ? 1 : 0;
    }
    const open = interp.finish();
    if (open && !report(open, `${src.name}: `)) return 1;
  }
  return failed ? 1 : 0;
}
