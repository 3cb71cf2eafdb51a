#!/usr/bin/env node
// The launcher. The CLI is bundled into dist/cli/ by `npm run build` (also
// run by `npm install` through `prepare`; scripts/build.mjs says what is
// where). This file is CommonJS (bin/package.json): an ES module entry costs
// Node 20 the start of its ES module loader, some 15 ms.
//
// dist/cli/main.js is compiled with V8's code cache (main.js.cache), so a
// start deserializes the functions it needs instead of parsing them: the
// idea of v8-compile-cache, as Node 20 has no module.enableCompileCache().
// A cache V8 rejects (another Node, a rebuilt bundle) is rewritten at exit.
'use strict';
const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const file = join(__dirname, '..', 'dist', 'cli', 'main.js');
const cache_file = `${file}.cache`;

let source;
try {
  source = readFileSync(file, 'utf8');
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
  process.stderr.write('kvmdbg: not built yet; run `npm run build` first\n');
  process.exit(2);
}
let cached;
try {
  cached = readFileSync(cache_file);
} catch {
  cached = undefined;
}

// Code compiled from a cache has no import() in Node 20: this file lends
// its own (src/import_url.ts uses it).
globalThis[Symbol.for('kvmdbg.import')] = (url) => import(url);

const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData: cached,
});
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
mod.exports.main(process.argv).then((code) => {
  process.exitCode = code;
});
