// kvmdbg's own package: its root directory (found from this module's
// location, so an installed or bundled kvmdbg finds its own files) and its
// version. Kept apart from bundled.ts so `--version` loads no YAML parser.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
