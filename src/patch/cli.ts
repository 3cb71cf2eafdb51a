// The command line's side of patches: `--patch FILE` (repeatable) loads
// each file before the command runs; `--trust-patch` lets recordings run
// the patches they carry. commands/main.ts imports this only when one of
// the two is given.
import { trust_patches } from './gate.js';
import { load_patch_files } from './load.js';

export function cli_patches(files: string[], trust: boolean): void {
  trust_patches(trust);
  load_patch_files(files);
}

export { show_patches } from './gate.js';
