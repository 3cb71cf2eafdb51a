// Bundled scenarios: scenarios/*.yaml beside package.json, found from this
// module's location (not the working directory) so an installed kvmdbg
// finds its own.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { parse } from 'yaml';
import { package_root } from './package.js';

export { package_root, package_version } from './package.js';

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
    // The file itself, not bundled_scenarios(): that parses every scenario.
    const id = arg.replace(/\.ya?ml$/, '');
    for (const ext of ['.yaml', '.yml']) {
      const path = join(bundled_dir(), id + ext);
      if (existsSync(path)) return path;
    }
  }
  return arg;
}
