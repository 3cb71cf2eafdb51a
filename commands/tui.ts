// kvmdbg tui [SCENARIO|RECORDING]: the full-screen debugger (src/tui,
// loaded only when the command runs: neither `run` nor `repl` ever loads
// Ink). Bare `kvmdbg` on a terminal comes here too (commands/main.ts).
import type { Command } from 'commander';
import { int_arg } from './common.js';

interface TuiCliOptions {
  variant?: string[];
  seed?: number;
  arch?: 'arm64' | 'x86';
  record?: string;
  goto?: number;
  color?: boolean;
  force?: boolean;
}

/** Open the TUI on `scenario`; resolves to the exit code. */
export async function run_tui(scenario: string, o: TuiCliOptions = {}): Promise<number> {
  const { tui_main } = await import('../src/tui/main.js');
  return tui_main(scenario, {
    variant: o.variant ?? [],
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    ...(o.record ? { record: o.record } : {}),
    ...(o.goto !== undefined ? { goto: o.goto } : {}),
    ...(o.force ? { force: true } : {}),
    ...(o.color === false ? { color: false } : {}),
  });
}

export function register_tui(program: Command, set_code: (code: number) => void): void {
  program
    .command('tui')
    .description('the full-screen debugger on a scenario (default: the bundled default.yaml); needs a terminal')
    .argument('[scenario]', 'a scenario file, the name of a bundled one (`kvmdbg scenarios`), or a recording', 'default')
    .option('--record <file>', 'record the session (from step 0, time travel included) to FILE')
    .option('--force', 'with --record: replace an existing recording')
    .option('--goto <step>', 'opening a recording: stand at this step (default: its end)', int_arg('a step number'))
    .action(async (scenario: string, _opts: unknown, cmd: Command) => {
      set_code(await run_tui(scenario, cmd.optsWithGlobals<TuiCliOptions>()));
    });
}
