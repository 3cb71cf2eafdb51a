// `npm run bench`: every benchmark, each figure beside its peer or baseline.
import os from 'node:os';

// Names pick benchmarks; the explorer's flags (--quick, --side, --verify) go to it.
const args = process.argv.slice(2);
const which = new Set(args.filter((a) => !a.startsWith('--')));
const flags = new Set(args.filter((a) => a.startsWith('--')));
const known = new Set(['--quick', '--side', '--verify']);
for (const f of flags) {
  if (known.has(f)) continue;
  console.error(`bench: unknown flag ${f}; expected one of ${[...known].join(', ')}`);
  process.exit(2);
}
const want = (name: string) => which.size === 0 || which.has(name);

console.log(`# kvmdbg benchmarks: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${os.platform()} ${os.arch()}`);
if (want('startup')) await (await import('./startup.js')).bench_startup();
if (want('core')) await (await import('./core.js')).bench_core();
if (want('maple')) await (await import('./maple.js')).bench_maple();
if (want('pgtable')) await (await import('./pgtable.js')).bench_pgtable();
if (want('numa')) await (await import('./numa.js')).bench_numa();
if (want('record')) await (await import('./record.js')).bench_record();
if (want('tui')) await (await import('./tui.js')).bench_tui();
if (want('step')) await (await import('./step.js')).bench_step();
if (want('explore')) await (await import('./explore.js')).bench_explore({ quick: flags.has('--quick'), side_only: flags.has('--side'), verify_only: flags.has('--verify') });
if (want('debugger')) await (await import('./debugger.js')).bench_debugger();
if (want('explain')) await (await import('./explain.js')).bench_explain();
