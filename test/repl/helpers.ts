// Interpreters over the bundled scenarios (arm64 stack) or the test workers.
import { Session } from '../../src/debugger/session.js';
import { Interpreter, type InterpreterOptions } from '../../src/repl/interpreter.js';
import { load_world } from '../../src/repl/main.js';
import { small_world } from '../debugger/worlds.js';

export function scenario_interp(path: string, opts: InterpreterOptions = {}, session: { interval?: number } = {}): Interpreter {
  const lw = load_world(path, {});
  return new Interpreter({ session: new Session({ world: lw.world, ...session }), load: (p) => load_world(p, {}), scenario: { name: lw.name, path: lw.path } }, opts);
}

export function small_interp(opts: InterpreterOptions = {}, seed = 1, times = 10): Interpreter {
  return new Interpreter({ session: new Session({ world: () => small_world(seed, times) }) }, opts);
}

/** Run lines; every outcome (nulls dropped). */
export function run(i: Interpreter, lines: string[]) {
  return lines.map((l) => i.exec(l)).filter((o) => o !== null);
}
