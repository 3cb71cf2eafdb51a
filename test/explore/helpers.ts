// Shared by the explorer's tests: bundled scenarios by id, fixtures, and a
// quiet explore() (one worker unless told, no progress).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/core/world_init.js';
import { bundled_scenarios } from '../../src/scenario/bundled.js';
import { load_scenario, type LoadedScenario } from '../../src/scenario/load.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/explore/explore.js';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

export function bundled(id: string, variants: string[] = []): LoadedScenario {
  const s = bundled_scenarios().find((x) => x.id === id);
  if (!s) throw new Error(`no bundled scenario ${id}`);
  return load_scenario(s.path, { variants });
}

export function fixture(name: string, variants: string[] = []): LoadedScenario {
  return load_scenario(join(FIXTURES, `${name}.yaml`), { variants });
}

export function run(loaded: LoadedScenario, o: Partial<ExploreOptions> & Pick<ExploreOptions, 'strategy'>): Promise<ExploreResult> {
  return explore(loaded, { variants: loaded.config.variants }, { workers: 1, ...o });
}
