// The bundled CLI validates scenarios with ajv standalone code compiled at
// build time (src/scenario/validators_gen.ts, swapped in for validators.ts
// by scripts/build.mjs); the sources compile each schema with ajv when first
// used. The two must say the same thing about every input, down to the
// message, and the precompiled set must hold every schema the loader uses.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../cli/helpers.js';

type Loader = { parse_scenario: (text: string, file: string) => unknown; runtime_compiles: () => number };

async function loader(precompiled: string | null): Promise<Loader> {
  vi.resetModules();
  if (precompiled) vi.doMock('../../src/scenario/validators.js', () => import(precompiled));
  else vi.doUnmock('../../src/scenario/validators.js');
  await import('../../src/core/world_init.js');
  const { parse_scenario } = await import('../../src/scenario/load.js');
  const { runtime_compiles } = await import('../../src/scenario/ajv.js');
  return { parse_scenario, runtime_compiles };
}

/** The generated module as a file Node can import (its ajv runtime helpers are require()d). */
async function write_precompiled(): Promise<string> {
  vi.resetModules();
  const { validators_module } = await import('../../src/scenario/validators_gen.js');
  const file = join(mkdtempSync(join(tmpdir(), 'kvmdbg-validators-')), 'validators.mjs');
  const req = `import { createRequire } from 'node:module';\nconst require = createRequire(${JSON.stringify(pathToFileURL(join(ROOT, 'package.json')).href)});\n`;
  writeFileSync(file, req + validators_module());
  return pathToFileURL(file).href;
}

type Doc = Record<string, unknown>;
const clone = (d: Doc): Doc => structuredClone(d);
const BAD_VALUES: unknown[] = ['str', -1, 2 ** 60, 0.5, true, [1], { a: 1 }, null];
const OP_BAD_VALUES: unknown[] = ['str', -1, 2 ** 60, true, [1]];

/** Scenario texts: each bundled scenario, and mutations of it at the top level, in the VM, and in every op's arguments. */
function corpus(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const add = (name: string, d: Doc) => out.push({ name, text: stringify(d) });
  for (const f of readdirSync(join(ROOT, 'scenarios')).filter((x) => x.endsWith('.yaml'))) {
    const base = parse(readFileSync(join(ROOT, 'scenarios', f), 'utf8')) as Doc;
    add(f, base);
    for (const k of ['vm', 'threads', 'arch']) {
      const d = clone(base);
      delete d[k];
      add(`${f}: no ${k}`, d);
    }
    for (const [k, v] of [['bogus', 1], ['arch', 'mips'], ['name', ''], ['variants', 'x'], ['schedule', { policy: 'fifo' }], ['schedule', { seed: -1 }], ['expect', { violation: 3 }]] as const) {
      add(`${f}: ${k}=${JSON.stringify(v)}`, { ...clone(base), [k]: v });
    }
    for (const v of BAD_VALUES) {
      const d = clone(base);
      (d.vm as Doc).vcpus = v;
      add(`${f}: vm.vcpus=${JSON.stringify(v)}`, d);
      const m = clone(base);
      const slots = (m.vm as Doc).memslots as Doc[] | undefined;
      if (slots?.[0]) {
        slots[0].size = v === -1 ? 3 * 4096 + 100 : v;
        add(`${f}: memslots[0].size=${JSON.stringify(v)}`, m);
      }
    }
    // Each op's arguments (its first use in the scenario): each key dropped, an unknown key, each key given each bad value.
    const threads = base.threads as Record<string, unknown[]>;
    const seen = new Set<string>();
    for (const [t, ops] of Object.entries(threads)) {
      ops.forEach((op, i) => {
        if (!op || typeof op !== 'object') return;
        const [name, args] = Object.entries(op as Doc)[0]!;
        if (seen.has(name)) return;
        seen.add(name);
        const put = (label: string, a: unknown) => {
          const d = clone(base);
          (d.threads as Record<string, unknown[]>)[t]![i] = { [name]: a };
          add(`${f}: ${t}[${i}] ${name} ${label}`, d);
        };
        if (!args || typeof args !== 'object' || Array.isArray(args)) {
          for (const v of BAD_VALUES.slice(0, 3)) put(`= ${JSON.stringify(v)}`, v);
          return;
        }
        put('+bogus', { ...(args as Doc), bogus: 1 });
        for (const k of Object.keys(args as Doc)) {
          const { [k]: _drop, ...rest } = args as Doc;
          put(`-${k}`, rest);
          for (const v of OP_BAD_VALUES) put(`${k}=${JSON.stringify(v)}`, { ...(args as Doc), [k]: v });
        }
      });
    }
  }
  return out;
}

function outcome(l: Loader, c: { name: string; text: string }): string {
  try {
    const r = l.parse_scenario(c.text, 's.yaml') as { config: unknown };
    return `ok ${JSON.stringify(r.config, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  } catch (e) {
    return `error ${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('precompiled scenario validators', () => {
  afterAll(() => {
    vi.doUnmock('../../src/scenario/validators.js');
    vi.resetModules();
  });

  it('say what ajv compiling at run time says, for the bundled scenarios and hundreds of mutations of them', async () => {
    const cases = corpus();
    const url = await write_precompiled();
    const at_run_time = await loader(null);
    const want = cases.map((c) => outcome(at_run_time, c));
    expect(at_run_time.runtime_compiles()).toBeGreaterThan(2);

    const ahead = await loader(url);
    const got = cases.map((c) => outcome(ahead, c));
    for (let i = 0; i < cases.length; i++) expect(got[i], cases[i]!.name).toBe(want[i]);
    // Every schema the loader used was among the precompiled ones.
    expect(ahead.runtime_compiles()).toBe(0);

    // Not vacuous: the corpus loads and fails in many ways.
    const errors = new Set(want.filter((w) => w.startsWith('error')));
    expect(want.filter((w) => w.startsWith('ok')).length).toBeGreaterThanOrEqual(8);
    expect(errors.size).toBeGreaterThan(150);
    for (const what of ['unknown key', 'wrong type', 'out of range', 'missing the required key', 'not a multiple of']) {
      expect([...errors].some((e) => e.includes(what)), what).toBe(true);
    }
  });
});
