// vitest globalSetup: build dist/ once before the tests (the CLI tests run
// the built `kvmdbg` in child processes).
import { ensure_built } from './cli/helpers.js';

export default function setup(): void {
  ensure_built();
}
