// Bundled scenarios: scenarios/*.yaml beside package.json, found from this
// module's location (not the working directory) so an installed kvmdbg
// finds its own.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

let root: string | null = null;

/** The directory holding kvmdbg's package.json. */
export function package_root(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'kvmdbg') return (root = dir);
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the kvmdbg package root');
    dir = up;
  }
}

export function package_version(): string {
  return (JSON.parse(readFileSync(join(package_root(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function bundled_dir(): string {
  return join(package_root(), 'scenarios');
}

export interface BundledScenario {
  /** File name without .yaml: what `kvmdbg run` accepts. */
  id: string;
  path: string;
  name: string;
  summary: string;
  arch: string;
}

/** The bundled scenarios, sorted by id. Only their headers are read (a broken file still lists). */
export function bundled_scenarios(): BundledScenario[] {
  const dir = bundled_dir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      const id = basename(f).replace(/\.ya?ml$/, '');
      let head: Record<string, unknown> = {};
      try {
        const v = parse(readFileSync(path, 'utf8')) as unknown;
        if (v && typeof v === 'object') head = v as Record<string, unknown>;
      } catch {
        // listed with an empty summary; `run` reports the error
      }
      const str = (x: unknown) => (typeof x === 'string' ? x : '');
      return { id, path, name: str(head.name) || id, summary: str(head.summary), arch: str(head.arch) };
    });
}

/**
 * The file a SCENARIO argument names: an existing path, else a bundled
 * scenario by id (`default`, `fault-vs-invalidate.yaml`, or `scenarios/NAME.yaml` from
 * any directory). Unknown names are
 * returned unchanged so the loader reports them.
 */
export function resolve_scenario_arg(arg: string): string {
  if (existsSync(arg)) return arg;
  if (/^scenarios\/[^/]+$/.test(arg) && existsSync(join(package_root(), arg))) return join(package_root(), arg);
  if (!arg.includes('/')) {
    const id = arg.replace(/\.ya?ml$/, '');
    const hit = bundled_scenarios().find((s) => s.id === id);
    if (hit) return hit.path;
  }
  return arg;
}
