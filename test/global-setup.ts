// vitest globalSetup: build dist/ once before the tests (the CLI tests run
// the bundled `kvmdbg` in child processes; some import dist/ modules), so
// that test files running in parallel find it built.
import { ensure_built } from './cli/helpers.js';

export default function setup(): void {
  ensure_built();
}
