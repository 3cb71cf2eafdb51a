// `npm run bench`: every benchmark, each figure beside its peer or baseline.
import os from 'node:os';

const which = new Set(process.argv.slice(2));
const want = (name: string) => which.size === 0 || which.has(name);

console.log(`# kvmdbg benchmarks: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${os.platform()} ${os.arch()}`);
if (want('startup')) await (await import('./startup.js')).bench_startup();
if (want('core')) await (await import('./core.js')).bench_core();
if (want('maple')) await (await import('./maple.js')).bench_maple();
if (want('pgtable')) await (await import('./pgtable.js')).bench_pgtable();
if (want('numa')) await (await import('./numa.js')).bench_numa();
if (want('record')) await (await import('./record.js')).bench_record();
if (want('tui')) await (await import('./tui.js')).bench_tui();
if (want('explore')) await (await import('./explore.js')).bench_explore();
if (want('debugger')) await (await import('./debugger.js')).bench_debugger();
if (want('explain')) await (await import('./explain.js')).bench_explain();
