#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` builds), with esbuild:
//  1. every .ts/.tsx of src/, commands/ and bench/ to dist/, one file each,
//     as tsc would emit them (what the tests import, `npm run bench`, and
//     the explorer's worker when the sources run under vitest);
//  2. the scenario validators as ajv standalone code (validators_gen.ts);
//  3. the CLI that bin/kvmdbg.js runs, in dist/cli/:
//     main.js    CommonJS: commander, the commands, the model, the REPL, the
//                TUI's controller. Each `await import()` of the sources
//                stays lazy (esbuild wraps the module in an init function
//                run on first import), so `--version` runs commander alone.
//                bin/kvmdbg.js compiles it with a V8 code cache (main.js.cache,
//                written by step 4), which Node 20 has no other way to keep.
//     tui.mjs    ES module: the Ink view (src/tui/*.tsx) with Ink, React and
//                yoga (whose top-level await rules out CommonJS). Our .ts
//                modules it imports are not copied: it takes main.js's own
//                instances (the "bridge" below), so there is one Session,
//                one set of registries.
//     worker.js  CommonJS: the explorer's worker thread (its own copy of the
//                model: a thread has its own module graph anyway), loaded
//                by Node itself, without the code cache.
//  4. the code cache, from runs of the CLI (KVMDBG_CODE_CACHE=write).
// Type errors do not stop the build: `npm run typecheck` (tsc) reports them.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const CLI = join(DIST, 'cli');
const BRIDGE = "globalThis[Symbol.for('kvmdbg.modules')]";

function sources(dir) {
  const out = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `src/x/y.ts` for a path of ours, with / on every platform. */
const rel = (p) => relative(ROOT, p).split(sep).join('/');

/** The source file a relative import of ours names (`./view.js` is view.ts or view.tsx). */
function source_of(dir, spec) {
  const base = join(dir, spec).replace(/\.js$/, '');
  for (const ext of ['.ts', '.tsx']) {
    try {
      readFileSync(base + ext);
      return base + ext;
    } catch {
      // not this one
    }
  }
  return null;
}

const common = { absWorkingDir: ROOT, platform: 'node', target: 'node20', tsconfig: 'tsconfig.json', logLevel: 'warning' };

// 1. One file each.
await build({ ...common, entryPoints: ['src', 'commands', 'bench'].flatMap(sources), outdir: DIST, outbase: '.', format: 'esm', sourcemap: true });

// 2. The validators, from the registries the model fills at import time.
const { validators_module } = await import(pathToFileURL(join(DIST, 'src/scenario/validators_gen.js')).href);
const validators = validators_module();

/**
 * Modules of the sources that the CLI bundle replaces: the validators
 * compiled ahead of time; import() by way of the launcher (code from V8's
 * code cache has none of its own in Node 20: src/import_url.ts); and the
 * TUI's view as tui.mjs beside main.js.
 */
const SWAPS = {
  'src/scenario/validators.ts': () => validators,
  'src/import_url.ts': () =>
    [
      "const lent = globalThis[Symbol.for('kvmdbg.import')];",
      'export function import_url(url) {',
      "  if (!lent) throw new Error('kvmdbg: dist/cli/main.js runs from bin/kvmdbg.js, which lends it a dynamic import');",
      '  return lent(url);',
      '}',
    ].join('\n'),
  'src/tui/load_view.ts': () =>
    [`import { import_url } from ${JSON.stringify(join(ROOT, 'src/import_url.ts'))};`, "export const load_view = () => import_url(new URL('./tui.mjs', import.meta.url).href);"].join('\n'),
};
/** A plugin putting SWAPS[path] (for the paths in `which`) in place of those modules. */
function swap(which) {
  return {
    name: 'swap',
    setup(b) {
      b.onResolve({ filter: /^[./]|^[A-Za-z]:/ }, (a) => {
        const src = isAbsolute(a.path) ? a.path : source_of(a.resolveDir, a.path);
        const r = src && rel(src);
        return r && which.includes(r) ? { path: r, namespace: 'kvmdbg-swap' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'kvmdbg-swap' }, (a) => ({ contents: SWAPS[a.path](), loader: 'js', resolveDir: join(ROOT, dirname(a.path)) }));
    },
  };
}

/** React's production build only (its index.js picks one by NODE_ENV at run time). */
const react_production = {
  name: 'react-production',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/](react|react-reconciler|scheduler)[\\/].*\.js$/ }, (a) => ({
      contents: readFileSync(a.path, 'utf8').replace(/process\.env\.NODE_ENV/g, '"production"'),
      loader: 'js',
    }));
  },
};

// CommonJS has no import.meta: the bundle's own URL stands in (package_root(),
// createRequire, the worker's URL all resolve from dist/cli/ as they would
// from the module).
const cjs = {
  ...common,
  bundle: true,
  format: 'cjs',
  define: { 'import.meta.url': '__kvmdbg_url' },
  banner: { js: "var __kvmdbg_url = require('node:url').pathToFileURL(__filename).href;" },
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
};

const tmp = `${CLI}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });

// The view first: it says which of our modules it imports (the bridge).
const bridged = new Map();
const view = await build({
  ...common,
  entryPoints: { tui: 'src/tui/app.tsx' },
  bundle: true,
  splitting: true,
  format: 'esm',
  outdir: tmp,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'tui-[hash]',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  // Ink imports it only with DEV=true, as React's devtools; not installed.
  external: ['react-devtools-core'],
  // Ink's CommonJS dependencies need a require().
  banner: { js: "import { createRequire as __kvmdbg_require } from 'node:module'; const require = __kvmdbg_require(import.meta.url);" },
  plugins: [
    react_production,
    {
      name: 'bridge',
      setup(b) {
        b.onResolve({ filter: /^\.\.?\// }, (a) => {
          if (a.importer.includes(`${sep}node_modules${sep}`)) return undefined;
          const src = source_of(a.resolveDir, a.path);
          if (!src || src.endsWith('.tsx')) return undefined;
          bridged.set(rel(src), src);
          return { path: rel(src), namespace: 'kvmdbg-bridge' };
        });
        b.onLoad({ filter: /.*/, namespace: 'kvmdbg-bridge' }, async (a) => {
          const names = Object.keys(await import(pathToFileURL(join(DIST, a.path.replace(/\.tsx?$/, '.js'))).href));
          return {
            contents: [
              `const bridge = ${BRIDGE};`,
              `if (!bridge) throw new Error('tui.mjs runs inside kvmdbg (bin/kvmdbg.js), which provides ${a.path}');`,
              `const m = await bridge[${JSON.stringify(a.path)}]();`,
              `export const { ${names.join(', ')} } = m;`,
            ].join('\n'),
            loader: 'js',
          };
        });
      },
    },
  ],
});

// main.js: the CLI, the bridged modules offered lazily to the view, and the
// view itself (src/tui/app.tsx) loaded as the ES module tui.mjs.
const entry = [
  `export * from ${JSON.stringify(join(ROOT, 'commands/main.ts'))};`,
  `${BRIDGE} = {`,
  ...[...bridged].map(([r, abs]) => `  ${JSON.stringify(r)}: () => import(${JSON.stringify(abs)}),`),
  '};',
].join('\n');
const main = await build({
  ...cjs,
  stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'kvmdbg-main.js', loader: 'js' },
  outfile: join(tmp, 'main.js'),
  plugins: [swap(Object.keys(SWAPS))],
});

// Code from the cache has no import() in Node 20 (src/import_url.ts).
const native = /\bimport\(/.exec(readFileSync(join(tmp, 'main.js'), 'utf8'));
if (native) {
  const text = readFileSync(join(tmp, 'main.js'), 'utf8');
  throw new Error(`dist/cli/main.js has an import() of its own (...${text.slice(native.index - 60, native.index + 40)}...): it fails from the code cache; use import_url() (src/import_url.ts)`);
}

const worker = await build({ ...cjs, entryPoints: { worker: 'src/explore/worker.ts' }, outdir: tmp, plugins: [swap(['src/scenario/validators.ts'])] });

// Into dist/cli: the view's chunks first and the entries last, so a CLI
// already running from dist/cli keeps finding what it loads later.
writeFileSync(join(tmp, 'package.json'), '{ "type": "commonjs" }\n');
mkdirSync(CLI, { recursive: true });
const made = readdirSync(tmp);
const last = ['tui.mjs', 'worker.js', 'main.js'];
for (const f of made) if (!last.includes(f)) renameSync(join(tmp, f), join(CLI, f));
for (const f of last) renameSync(join(tmp, f), join(CLI, f));
rmSync(tmp, { recursive: true, force: true });
for (const f of readdirSync(CLI)) if (!made.includes(f) && f !== 'main.js.cache') rmSync(join(CLI, f), { force: true });

// 4. The code cache: what a run and a REPL session compile.
const warm = [
  ['run', 'fault-vs-invalidate'],
  ['repl', '--json', '-e', 'info vcpus', '-e', 'step 10', '-e', 'where vcpu0'],
];
rmSync(join(CLI, 'main.js.cache'), { force: true });
for (const args of warm) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/kvmdbg.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KVMDBG_CODE_CACHE: 'write' } });
  if (r.status !== 0) console.warn(`build: warming the code cache with \`kvmdbg ${args.join(' ')}\` failed (exit ${r.status}):\n${r.stderr}`);
}

if (process.argv.includes('--sizes')) {
  for (const r of [main, worker, view]) {
    for (const [f, o] of Object.entries(r.metafile.outputs)) {
      if (f.endsWith('js')) console.log(`${f.replace(/.*[\\/]/, '').padEnd(20)} ${String(o.bytes).padStart(9)} bytes  ${Object.keys(o.inputs).length} inputs`);
    }
  }
}
