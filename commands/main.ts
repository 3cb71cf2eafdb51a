// The kvmdbg command line (CONTRACT.md, "Command line"). One file per
// subcommand, each loaded only when used; this file wires commander, the
// common options and the exit codes.
import { Command, CommanderError, Option } from 'commander';
import { UserError, safe_line } from '../src/scenario/errors.js';
import { package_version } from '../src/scenario/package.js';
import { BASELINE } from '../src/core/baseline.js';
import { EXIT_USAGE, collect, int_arg } from './common.js';
import { register_repl } from './repl.js';
import { register_explore } from './explore.js';
import { register_tui, run_tui } from './tui.js';

function one_line(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function build_program(set_code: (code: number) => void): Command {
  const program = new Command('kvmdbg');
  program
    .description('A deterministic debugger for the concurrency of the Linux KVM MMU')
    .version(`kvmdbg ${package_version()} (model: ${BASELINE})`, '-V, --version', 'print the version and the upstream release the model follows')
    .option('--variant <name>', 'enable a variant (repeatable; see `kvmdbg variants`)', collect)
    .option('--patch <file>', 'load a patch: a .ts or .js module over kvmdbg/model (repeatable; README "Your own patch")', collect)
    .option('--trust-patch', 'run the patches a recording carries (read them first: `kvmdbg replay REC --show-patches`)')
    .option('--seed <n>', 'the schedule seed (a missing policy becomes random)', int_arg('a seed', 0, 2 ** 32 - 1))
    .addOption(new Option('--arch <arch>', 'the architecture').choices(['arm64', 'x86']))
    .option('--no-color', 'no colour (also NO_COLOR, or when stdout is not a terminal)')
    .option('--debug', 'show stack traces of errors')
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (s, write) => write(`kvmdbg: ${one_line(s).replace(/^error: /, '')}\n`),
    })
    .hook('preAction', async (_program, action) => {
      // Patches load before the command opens its scenario, which may name their variants and ops.
      const o = action.optsWithGlobals<{ patch?: string[]; trustPatch?: boolean }>();
      if (!o.patch?.length && !o.trustPatch) return;
      const { cli_patches } = await import('../src/patch/cli.js');
      cli_patches(o.patch ?? [], o.trustPatch === true);
    });

  program
    .command('run')
    .description('run a scenario to the end; print its events and the invariant report')
    .argument('<scenario>', 'a scenario file, or the name of a bundled one (`kvmdbg scenarios`)')
    .option('--events <kinds>', 'print only these event kinds (comma-separated; `request` matches request.*)')
    .option('--json', 'JSON Lines: one object per event, then a summary object')
    .option('--steps <n>', 'stop after N steps', int_arg('a step count', 1))
    .option('--record <file>', 'write a recording of the run to FILE (`kvmdbg replay FILE` re-runs it)')
    .option('--force', 'with --record: replace an existing recording')
    .option('--hash-every <n>', 'with --record: a state hash every N steps (default: 1000, further apart while hashing costs over 3% of the run)', int_arg('a step count', 1))
    .action(async (scenario: string, _opts: unknown, cmd: Command) => {
      const { run_command } = await import('./run.js');
      set_code(await run_command(scenario, cmd.optsWithGlobals()));
    });

  program
    .command('replay')
    .description('re-run a recording and print what `run` printed; with --verify, check its state hashes')
    .argument('<recording>', 'a recording (`kvmdbg run SCENARIO --record FILE`)')
    .option('--verify', 'compare the World with every state hash in the recording')
    .option('--show-patches', 'print the patches the recording carries (name, sha256, text) and run nothing')
    .option('--events <kinds>', 'print only these event kinds (comma-separated; `request` matches request.*)')
    .option('--json', 'JSON Lines: one object per event, then a summary object')
    .action(async (recording: string, _opts: unknown, cmd: Command) => {
      if (cmd.opts<{ showPatches?: boolean }>().showPatches) {
        const { show_patches } = await import('../src/patch/cli.js');
        show_patches(recording, (s) => process.stdout.write(s));
        return;
      }
      const { replay_command } = await import('./replay.js');
      set_code(replay_command(recording, cmd.optsWithGlobals()));
    });

  program
    .command('export')
    .description('write a recording as a Perfetto (Chrome JSON) trace or as trace-cmd report text')
    .argument('<recording>', 'a recording (`kvmdbg run SCENARIO --record FILE`)')
    .addOption(new Option('--format <format>', 'the output format').choices(['perfetto', 'ftrace']).makeOptionMandatory())
    .option('-o, --output <file>', 'the file to write (- for stdout)')
    .option('--force', 'replace an existing recording')
    .action(async (recording: string, _opts: unknown, cmd: Command) => {
      const { export_command } = await import('./export.js');
      set_code(export_command(recording, cmd.optsWithGlobals()));
    });

  program
    .command('explain')
    .description("draw a recording's violation (or step N) as a race diagram: one column per thread, the steps of its causal slice")
    .argument('<recording>', 'a recording (`kvmdbg run SCENARIO --record FILE`, `kvmdbg explore --out FILE`)')
    .option('--step <n>', 'explain step N instead of the first violation', int_arg('a step number', 1))
    .addOption(new Option('--format <format>', 'the output format').choices(['text', 'markdown', 'json']).default('text'))
    .action(async (recording: string, _opts: unknown, cmd: Command) => {
      const { explain_command } = await import('./explain.js');
      set_code(explain_command(recording, cmd.optsWithGlobals()));
    });

  register_repl(program, set_code);
  register_explore(program, set_code);
  register_tui(program, set_code);

  program
    .command('scenarios')
    .description('list the bundled scenarios with one-line summaries')
    .option('--json', 'one JSON object per scenario')
    .action(async (_opts: unknown, cmd: Command) => {
      const { scenarios_command } = await import('./scenarios.js');
      set_code(scenarios_command(cmd.optsWithGlobals()));
    });

  program
    .command('variants')
    .description('list the variants: name, arch, source, what it breaks')
    .option('--json', 'one JSON object per variant')
    .action(async (_opts: unknown, cmd: Command) => {
      const { variants_command } = await import('./variants.js');
      set_code(variants_command(cmd.optsWithGlobals()));
    });

  return program;
}

/** Run the command line; resolves to the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const debug = argv.includes('--debug');
  let code = 0;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(code);
    throw e;
  });
  try {
    const program = build_program((c) => (code = c));
    if (argv.length <= 2) {
      // CONTRACT.md: on a terminal, the TUI on the default scenario;
      // otherwise (a pipe, a file, CI): help.
      if (process.stdin.isTTY && process.stdout.isTTY) return await run_tui('default');
      process.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof UserError) {
      process.stderr.write(`kvmdbg: ${safe_line(e.message)}\n`);
      if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    process.stderr.write(`kvmdbg: internal error: ${safe_line(err?.message ?? String(e))}${debug ? '' : ' (--debug shows the stack trace)'}\n`);
    if (debug && err?.stack) process.stderr.write(`${err.stack}\n`);
    return EXIT_USAGE;
  }
}
