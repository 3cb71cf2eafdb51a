// Which patches (--patch FILE, or a recording's) are loaded in this process,
// and how to take each one out again. A patch changes the process-wide
// registries (model functions, variants, invariants, ops) while it is
// loaded; every change it makes leaves an undo here, so tests can load
// several patches one after another in one process. No esbuild here: the
// recorder and the explorer import this module on every run.

/** A patch as a recording carries it: its name, the sha256 of its text, the text. */
export interface PatchSource {
  file: string;
  sha256: string;
  text: string;
}

/** Where a loaded patch came from: the command line, or a recording's header. */
export type PatchOrigin = 'cli' | 'recording';

interface Loaded {
  source: PatchSource;
  origin: PatchOrigin;
  undo: (() => void)[];
}

const loaded: Loaded[] = [];
let loading: Loaded | null = null;

/** The patch whose module is being evaluated now, or null. */
export function patch_loading(): PatchSource | null {
  return loading?.source ?? null;
}

/** Remember how to take back a change the loading patch makes (nothing outside a load). */
export function on_unload(fn: () => void): void {
  loading?.undo.push(fn);
}

/** Evaluate a patch (`run`) as one unit: all its changes stay, or none does. */
export function with_patch(source: PatchSource, origin: PatchOrigin, run: () => void): void {
  if (loading) throw new Error(`patch ${source.file} loaded while ${loading.source.file} loads`);
  const p: Loaded = { source, origin, undo: [] };
  loading = p;
  try {
    run();
  } catch (e) {
    undo(p);
    throw e;
  } finally {
    loading = null;
  }
  loaded.push(p);
}

function undo(p: Loaded): void {
  for (let i = p.undo.length - 1; i >= 0; i--) p.undo[i]!();
  p.undo.length = 0;
}

/** The patches loaded now, in load order (a recording's header lists these). */
export function active_patches(origin?: PatchOrigin): PatchSource[] {
  return loaded.filter((p) => origin === undefined || p.origin === origin).map((p) => p.source);
}

/** `; patches a.ts, b.ts` for a run's header line, or '' with none loaded. */
export function patches_note(): string {
  const ps = active_patches();
  return ps.length ? `; patches ${ps.map((p) => p.file).join(', ')}` : '';
}

/** Take out the loaded patches (of one origin, or all), the last loaded first. */
export function unload_patches(origin?: PatchOrigin): void {
  for (let i = loaded.length - 1; i >= 0; i--) {
    const p = loaded[i]!;
    if (origin !== undefined && p.origin !== origin) continue;
    undo(p);
    loaded.splice(i, 1);
  }
}
