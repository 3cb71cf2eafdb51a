#!/usr/bin/env node
// The launcher. The CLI is bundled into dist/cli/ by `npm run build` (also
// run by `npm install` through `prepare`; scripts/build.mjs says what is
// where). This file is CommonJS (bin/package.json): an ES module entry costs
// Node 20 the start of its ES module loader, some 15 ms.
//
// dist/cli/main.js, and core.js when a command needs it, are compiled with
// V8's code cache (main.js.cache, core.js.cache), so a start deserializes
// the functions it runs instead of parsing and compiling them: the idea of
// v8-compile-cache, as Node 20 has no module.enableCompileCache(). A cache
// that V8 rejects (another Node, a rebuilt bundle) is rewritten at exit.
'use strict';
const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const CLI = join(__dirname, '..', 'dist', 'cli');
const loaded = new Map();

/** dist/cli/NAME's module.exports, compiled with its code cache. */
function load(name) {
  let exports = loaded.get(name);
  if (exports) return exports;
  const file = join(CLI, name);
  const cache_file = `${file}.cache`;
  const source = readFileSync(file, 'utf8');
  let cached;
  try {
    cached = readFileSync(cache_file);
  } catch {
    cached = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData: cached });
  if (cached === undefined || script.cachedDataRejected || process.env.KVMDBG_CODE_CACHE === 'write') {
    // At exit, whatever way it comes: the functions compiled by then.
    process.once('exit', () => {
      const tmp = `${cache_file}.${process.pid}`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cache_file);
      } catch {
        // A read-only install: start without the cache.
        rmSync(tmp, { force: true });
      }
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file));
  loaded.set(name, mod.exports);
  return mod.exports;
}

// What the bundle's files find here: load(); and import(), which code
// compiled from a cache lacks in Node 20 (src/import_url.ts).
globalThis[Symbol.for('kvmdbg')] = { load, import: (url) => import(url) };

let main;
try {
  main = load('main.js').main;
} catch (e) {
  if (e.code !== 'ENOENT' || e.path !== join(CLI, 'main.js')) throw e;
  process.stderr.write('kvmdbg: not built yet; run `npm run build` first\n');
  process.exit(2);
}
main(process.argv).then((code) => {
  process.exitCode = code;
});
