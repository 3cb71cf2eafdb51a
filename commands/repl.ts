// kvmdbg repl [SCENARIO] [-x FILE] [-e CMD]... [--json] [--keep-going]:
// the debugger's REPL, interactive on a terminal, batch with -x/-e. This
// file only declares the flags; src/repl/main.ts (loaded when the command
// runs) builds the Session and picks the front end.
import { InvalidArgumentError, type Command } from 'commander';

function parse_step(v: string): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a step number (a whole number from 0)');
  return n;
}

export function register_repl(program: Command, set_code: (code: number) => void): void {
  // -x and -e run in the order given, as gdb's -x and -ex do.
  const inputs: { kind: 'script' | 'eval'; value: string }[] = [];
  const push = (kind: 'script' | 'eval') => (value: string, prev: string[] = []) => {
    inputs.push({ kind, value });
    return [...prev, value];
  };
  program
    .command('repl')
    .description('the interactive REPL on a scenario (default: the bundled default.yaml); -x/-e run commands and exit')
    .argument('[scenario]', 'a scenario file, the name of a bundled one (`kvmdbg scenarios`), or a recording', 'default')
    .option('-x, --script <file>', 'run commands from FILE (- for stdin), then exit', push('script'))
    .option('-e, --eval <cmd>', 'run one command (repeatable), then exit', push('eval'))
    .option('--json', 'one JSON object per command, one per line')
    .option('--keep-going', 'in batch, do not stop at the first failing command')
    .option('--record <file>', 'record the session (from step 0, time travel included) to FILE')
    .option('--force', 'with --record: replace an existing recording')
    .option('--goto <step>', 'opening a recording: stand at this step (default: its end)', (v) => parse_step(v))
    .action(async (scenario: string, _opts: unknown, cmd: Command) => {
      const { repl_main } = await import('../src/repl/main.js');
      const o = cmd.optsWithGlobals<{ json?: boolean; keepGoing?: boolean; variant?: string[]; seed?: number; arch?: 'arm64' | 'x86'; record?: string; goto?: number; force?: boolean }>();
      set_code(
        await repl_main(scenario, {
          inputs,
          json: o.json === true,
          keep_going: o.keepGoing === true,
          variant: o.variant ?? [],
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.arch ? { arch: o.arch } : {}),
          ...(o.record ? { record: o.record } : {}),
          ...(o.goto !== undefined ? { goto: o.goto } : {}),
          ...(o.force ? { force: true } : {}),
        }),
      );
    });
}
