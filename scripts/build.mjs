#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` builds), with esbuild:
//  1. every .ts/.tsx of src/, commands/ and bench/ to dist/, one file each,
//     as tsc would emit them (what the tests import, `npm run bench`, and
//     the explorer's worker when the sources run under vitest);
//  2. the scenario validators as ajv standalone code (validators_gen.ts);
//  3. the CLI that bin/kvmdbg.js runs, in dist/cli/:
//     main.js    CommonJS: the command line (commander, commands/main.ts and
//                the modules it imports statically), all `--version` needs;
//     core.js    CommonJS: what the commands run (every module main.js
//                imports with `await import()`: the model, the scenario
//                loader, the REPL, the recorder, the explorer, the TUI's
//                controller), loaded on the first such import; inside, each
//                module is initialised on first use, as ES modules are;
//     tui.mjs    an ES module: the TUI's Ink view (src/tui/*.tsx) with Ink,
//                React and yoga, whose top-level await rules out CommonJS;
//     worker.js  CommonJS: the explorer's worker thread, loaded by Node
//                itself (a thread has its own module graph: its own copy).
//     bin/kvmdbg.js compiles main.js and core.js with V8's code cache
//     (*.cache, step 4), the one way Node 20 has to keep compiled code.
//     A module of ours exists once: core.js takes main.js's instances of
//     what main.js holds (UserError above all, for `instanceof`), and
//     tui.mjs takes core.js's (one Session, one set of registries), through
//     globalThis[Symbol.for('kvmdbg')], which the launcher sets up.
//  4. the code cache, from runs of the CLI (KVMDBG_CODE_CACHE=write).
// Type errors do not stop the build: `npm run typecheck` (tsc) reports them.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const CLI = join(DIST, 'cli');
const KV = "globalThis[Symbol.for('kvmdbg')]";

function sources(dir) {
  const out = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `src/x/y.ts` for a file of ours, with / on every platform. */
const rel = (p) => relative(ROOT, p).split(sep).join('/');

/** The source file of ours an import names (`./view.js` is view.ts or view.tsx), or null. */
function ours(a) {
  if (a.importer.includes(`${sep}node_modules${sep}`) || !/^[./]|^[A-Za-z]:/.test(a.path)) return null;
  const base = (isAbsolute(a.path) ? a.path : join(a.resolveDir, a.path)).replace(/\.js$/, '');
  for (const ext of ['', '.ts', '.tsx']) if (/\.tsx?$/.test(base + ext) && existsSync(base + ext)) return rel(base + ext);
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
 * TUI's view as tui.mjs.
 */
const SWAPS = {
  'src/scenario/validators.ts': () => validators,
  'src/import_url.ts': () =>
    [
      `const kv = ${KV};`,
      'export function import_url(url) {',
      "  if (!kv) throw new Error('kvmdbg: dist/cli/ runs from bin/kvmdbg.js, which lends it a dynamic import');",
      '  return kv.import(url);',
      '}',
    ].join('\n'),
  'src/tui/load_view.ts': () =>
    [`import { import_url } from ${JSON.stringify(join(ROOT, 'src/import_url.ts'))};`, "export const load_view = () => import_url(new URL('./tui.mjs', import.meta.url).href);"].join('\n'),
};

/**
 * A plugin standing in for modules of ours: `pick(path, args)` returns the
 * contents of the module to use instead (CommonJS or ESM), or undefined.
 */
function stand_in(name, pick) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (a) => {
        const r = ours(a);
        const contents = r && (await pick(r, a));
        return contents === undefined || contents === null ? undefined : { path: r, namespace: name, pluginData: contents };
      });
      b.onLoad({ filter: /.*/, namespace: name }, (a) => ({ contents: a.pluginData, loader: 'js', resolveDir: join(ROOT, dirname(a.path)) }));
    },
  };
}
const swap = (which) => stand_in('swap', (r) => (which.includes(r) ? SWAPS[r]() : undefined));

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

/**
 * commander requires child_process (and with it net, dgram, streams) when
 * it loads, for executable subcommands, which kvmdbg has none of: load it
 * only if one ran. Left as it is if commander's source no longer matches.
 */
const lazy_child_process = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) console.warn(`build: ${rel(a.path)} no longer has \`${eager}\`; child_process loads at start-up`);
      return { contents: text.replace(eager, "const childProcess = new Proxy({}, { get: (_, k) => require('node:child_process')[k] });"), loader: 'js' };
    });
  },
};

// CommonJS has no import.meta: the file's own URL stands in (package_root(),
// createRequire, the worker's URL resolve from dist/cli/ as they would from
// the module).
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
const inputs_of = (r) => new Set(Object.keys(r.metafile.inputs).map((p) => p.split(sep).join('/')).filter((p) => /^(src|commands)\/.*\.tsx?$/.test(p)));

// main.js: its `await import()`s of our modules go to core.js. Built twice:
// the first build says which modules it holds (MAIN) and which it leaves
// to core.js (EDGES); the second also hands MAIN's instances to core.js.
const EDGES = new Set();
let MAIN = new Set();
const main_build = (entry) =>
  build({
    ...cjs,
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'kvmdbg-main.js', loader: 'js' },
    outfile: join(tmp, 'main.js'),
    plugins: [
      lazy_child_process,
      stand_in('core', (r, a) => {
        if (a.kind !== 'dynamic-import' || MAIN.has(r)) return undefined;
        EDGES.add(r);
        return `module.exports = ${KV}.load('core.js')(${JSON.stringify(r)});`;
      }),
    ],
  });
const main_entry = `export * from ${JSON.stringify(join(ROOT, 'commands/main.ts'))};`;
MAIN = inputs_of(await main_build(main_entry));

// tui.mjs: our .ts modules come from main.js or core.js (BRIDGED).
const BRIDGED = new Set();
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
  // No fetch() in the view: yoga then decodes its inline wasm itself rather
  // than fetch()ing its data: URL, which would load Node's undici (~40 ms).
  define: { fetch: 'undefined' },
  // Ink's CommonJS dependencies need a require().
  banner: { js: "import { createRequire as __kvmdbg_require } from 'node:module'; const require = __kvmdbg_require(import.meta.url);" },
  plugins: [
    react_production,
    stand_in('bridge', async (r) => {
      if (r.endsWith('.tsx')) return undefined;
      BRIDGED.add(r);
      const names = Object.keys(await import(pathToFileURL(join(DIST, r.replace(/\.tsx?$/, '.js'))).href));
      const from = MAIN.has(r) ? `kv.main[${JSON.stringify(r)}]` : `kv.load('core.js')(${JSON.stringify(r)})`;
      return [`const kv = ${KV};`, `if (!kv) throw new Error('kvmdbg: tui.mjs runs from bin/kvmdbg.js, which provides ${r}');`, `const m = ${from};`, `export const { ${names.join(', ')} } = m;`].join('\n');
    }),
  ],
});

const main = await main_build(
  [
    main_entry,
    ...[...MAIN].map((r, i) => `import * as m${i} from ${JSON.stringify(join(ROOT, r))};`),
    `${KV}.main = {`,
    ...[...MAIN].map((r, i) => `  ${JSON.stringify(r)}: m${i},`),
    '};',
  ].join('\n'),
);

// core.js: a table of the modules main.js and tui.mjs ask for, each
// initialised when first asked (esbuild's require() of an ES module).
const wanted = [...EDGES, ...[...BRIDGED].filter((r) => !MAIN.has(r))];
const core = await build({
  ...cjs,
  stdin: {
    contents: ['const table = {', ...wanted.map((r) => `  ${JSON.stringify(r)}: () => require(${JSON.stringify(join(ROOT, r))}),`), '};', 'module.exports = (path) => table[path]();'].join('\n'),
    resolveDir: ROOT,
    sourcefile: 'kvmdbg-core.js',
    loader: 'js',
  },
  outfile: join(tmp, 'core.js'),
  plugins: [swap(Object.keys(SWAPS)), stand_in('main', (r) => (MAIN.has(r) ? `module.exports = ${KV}.main[${JSON.stringify(r)}];` : undefined))],
});

// Code from the cache has no import() in Node 20 (src/import_url.ts).
for (const f of ['main.js', 'core.js']) {
  const text = readFileSync(join(tmp, f), 'utf8');
  const native = /(?<![.\w$])import\((?!\))/.exec(text);
  if (native) throw new Error(`dist/cli/${f} has an import() of its own (...${text.slice(native.index - 60, native.index + 40)}...): it fails from the code cache; use import_url() (src/import_url.ts)`);
}

const worker = await build({ ...cjs, entryPoints: { worker: 'src/explore/worker.ts' }, outdir: tmp, plugins: [swap(['src/scenario/validators.ts'])] });
// The expression sandbox's broker thread and evaluator process, started by file beside core.js (src/debugger/sandbox.ts).
await build({ ...cjs, entryPoints: { sandbox_broker: 'src/debugger/sandbox_broker.ts', sandbox_child: 'src/debugger/sandbox_child.ts' }, outdir: tmp });

// Into dist/cli: the rest first and the entries last, so a CLI already
// running from dist/cli keeps finding what it loads later.
writeFileSync(join(tmp, 'package.json'), '{ "type": "commonjs" }\n');
mkdirSync(CLI, { recursive: true });
const made = readdirSync(tmp);
const last = ['tui.mjs', 'worker.js', 'core.js', 'main.js'];
for (const f of made) if (!last.includes(f)) renameSync(join(tmp, f), join(CLI, f));
for (const f of last) renameSync(join(tmp, f), join(CLI, f));
rmSync(tmp, { recursive: true, force: true });
for (const f of readdirSync(CLI)) if (!made.includes(f)) rmSync(join(CLI, f), { force: true });

// 4. The code caches: what a run and a REPL session compile.
const warm = [
  ['run', 'fault-vs-invalidate'],
  ['repl', '--json', '-e', 'info vcpus', '-e', 'step 10', '-e', 'where vcpu0'],
];
for (const args of warm) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/kvmdbg.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KVMDBG_CODE_CACHE: 'write' } });
  if (r.status !== 0) console.warn(`build: warming the code cache with \`kvmdbg ${args.join(' ')}\` failed (exit ${r.status}):\n${r.stderr}`);
}

if (process.argv.includes('--sizes')) {
  for (const r of [main, core, view, worker]) {
    for (const [f, o] of Object.entries(r.metafile.outputs)) {
      if (f.endsWith('js')) console.log(`${f.replace(/.*[\\/]/, '').padEnd(20)} ${String(o.bytes).padStart(9)} bytes  ${Object.keys(o.inputs).length} inputs`);
    }
  }
  console.log(`main.js holds ${[...MAIN].join(' ')}`);
  console.log(`tui.mjs takes ${[...BRIDGED].join(' ')}`);
}
