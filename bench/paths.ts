import { fileURLToPath } from 'node:url';
import { dirname, join, sep } from 'node:path';

/** A path inside the package, whether running from bench/ or dist/bench/. */
export function package_path(rel: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, here.endsWith(`dist${sep}bench`) ? '../..' : '..', rel);
}
