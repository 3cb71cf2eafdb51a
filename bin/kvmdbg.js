#!/usr/bin/env node
// Thin launcher: the CLI is built into dist/ by `npm run build` (also run by
// `npm install` through `prepare`).
let mod;
try {
  mod = await import('../dist/commands/main.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/commands/main.js')) {
    process.stderr.write('kvmdbg: not built yet; run `npm run build` first\n');
    process.exit(2);
  }
  throw e;
}
process.exitCode = await mod.main(process.argv);
