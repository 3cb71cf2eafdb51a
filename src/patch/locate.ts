// Where in a patch's own file an error happened: the stack frames of code
// compiled from a patch name its script (see load.ts), and the source map
// esbuild made turns their line:col back into the file the user wrote.
import { SourceMap } from 'node:module';

interface Script {
  /** The patch's name as the user gave it (`patches/x.ts`). */
  file: string;
  text: string;
  map: SourceMap;
  /** Lines the evaluation wrapper puts before the compiled code. */
  skip: number;
}

const scripts = new Map<string, Script>();

/** Register the compiled script `name` (the vm filename) of patch `file`. */
export function add_script(name: string, file: string, text: string, map_json: string, skip: number): void {
  scripts.set(name, { file, text, map: new SourceMap(JSON.parse(map_json) as ConstructorParameters<typeof SourceMap>[0]), skip });
}

export interface Place {
  file: string;
  /** 1-based, as editors count. */
  line: number;
  col: number;
}

const FRAME = /\(?([^()\s]+):(\d+):(\d+)\)?$/;

/** The first stack frame of `e` inside a patch, mapped back to its source; null when none is. */
export function patch_place(e: unknown): Place | null {
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack : '';
  for (const ln of stack.split('\n')) {
    if (!/^\s+at /.test(ln)) continue;
    const m = FRAME.exec(ln.trim());
    if (!m) continue;
    const s = scripts.get(m[1]!);
    if (!s) continue;
    const line0 = Number(m[2]) - 1 - s.skip;
    const col0 = Number(m[3]) - 1;
    if (line0 < 0) continue;
    const hit = s.map.findEntry(line0, col0) as { originalLine?: number; originalColumn?: number };
    if (hit.originalLine === undefined) return { file: s.file, line: 1, col: 1 };
    return { file: s.file, line: hit.originalLine + 1, col: (hit.originalColumn ?? 0) + 1 };
  }
  return null;
}

/**
 * The place of `key` written as an object key (`key:`, `'key':`, `key(`)
 * at or after `from` in the patch's text: a label is better named where
 * it is spelt than at the call it is passed to. `from` when not found.
 */
export function key_place(from: Place, key: string): Place {
  const s = [...scripts.values()].reverse().find((x) => x.file === from.file);
  if (!s) return from;
  const lines = s.text.split('\n');
  let off = 0;
  for (let i = 0; i < from.line - 1 && i < lines.length; i++) off += lines[i]!.length + 1;
  off += from.col - 1;
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\w$])(?:${esc}|'${esc}'|"${esc}")\\s*[:(]`, 'g');
  re.lastIndex = off;
  const m = re.exec(s.text);
  if (!m) return from;
  const before = s.text.slice(0, m.index).split('\n');
  return { file: s.file, line: before.length, col: before[before.length - 1]!.length + 1 };
}

export function place_str(p: Place): string {
  return `${p.file}:${p.line}:${p.col}`;
}
