// kvmdbg explore SCENARIO [--strategy random|pct|dfs] [--budget N] [--time S]
// [--depth D] [--workers N] [--shard K/N] [--out RECORDING] [--json];
// kvmdbg explore --merge FILES...: search schedules for a violation. This
// file only declares the flags; src/explore/cli.ts (loaded when the command
// runs) does the work. Exit 0 without a violation, 1 with one, 2 for bad input.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { int_arg } from './common.js';

function seconds(s: string): number {
  const v = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s.trim()) || !(v > 0)) throw new InvalidArgumentError('expected a number of seconds greater than 0');
  return v;
}

function shard(s: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new InvalidArgumentError('expected K/N with 1 <= K <= N, e.g. 2/8');
  return { k, n };
}

export function register_explore(program: Command, set_code: (code: number) => void): void {
  program
    .command('explore')
    .description('search schedules (and injected faults) for an invariant violation; shrink it and write a recording')
    .argument('[scenario]', 'a scenario file, or the name of a bundled one (`kvmdbg scenarios`)')
    .addOption(new Option('--strategy <s>', 'random walks, PCT, or bounded exhaustive DFS').choices(['random', 'pct', 'dfs']).default('random'))
    .option('--budget <n>', 'schedules to try (random, pct: default 1000; dfs: no bound)', int_arg('a number of schedules', 1))
    .option('--time <s>', 'stop after S seconds of wall-clock time', seconds)
    .option('--depth <d>', 'steps per schedule at most (random, pct: default 100000; dfs: twice the longest of 4 random runs)', int_arg('a number of steps', 1))
    .option('--workers <n>', 'worker threads (default: one per core)', int_arg('a number of workers', 1, 256))
    .option('--shard <k/n>', 'run shard K of N of the search (writes a shard result for --merge)', shard)
    .option('--merge <files...>', 'combine shard results (no scenario)')
    .option('--out <recording>', 'where to write the counterexample (default: <scenario name>.rec in the current directory, or the first free <scenario name>-N.rec)')
    .option('--force', 'with --out: replace an existing recording')
    .option('--result <file>', 'with --shard: where to write the shard result (default: <scenario name>.shard-K-of-N.json)')
    .option('--json', 'print one JSON object: the summary')
    .option('--pct-depth <d>', 'pct: the bug depth d (default 3)', int_arg('a bug depth', 1, 100))
    .option('--preemptions <n>', 'dfs: at most N preemptions per schedule, injected ones (a vCPU scheduled out at a preemption point) included (turns sleep sets off)', int_arg('a number of preemptions', 0))
    .option('--no-iterate', 'dfs with --preemptions N: search bound N at once (by default 0, 1, ..., N in turn, stopping at the first violation)')
    .option('--faults <n>', 'at most N injected faults (non-zero choice answers) per schedule', int_arg('a number of faults', 0))
    .option('--no-por', 'dfs: no sleep sets')
    .option('--no-coarse', "dfs: every step is a scheduling point (by default a thread's steps that touch only its own frames run with its previous one)")
    .option('--no-facts', 'dfs: coarse transitions on own frames only (by default locations that random runs show one thread alone touches count as its own, checked as the search goes)')
    .option('--no-shrink', 'report the violating schedule as found')
    .option('--no-progress', 'no progress line, even on a terminal')
    .option('--states', 'random, pct: hash every state and count the distinct ones (walks run about 20x slower)')
    .action(async (scenario: string | undefined, _opts: unknown, cmd: Command) => {
      const { explore_command } = await import('../src/explore/cli.js');
      set_code(await explore_command(scenario, cmd.optsWithGlobals()));
    });
}
