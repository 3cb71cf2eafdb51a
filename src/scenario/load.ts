// Loading a scenario: YAML with positions, integer literals, the schema,
// then the registries (ops per thread kind and arch, variants, invariants,
// scheduler choices), `repeat` expansion, and the WorldConfig for
// create_world(). The registries must be populated first: importing
// src/core/world_init.js registers every layer.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { WorldConfig } from '../core/world_init.js';
import type { ThreadKind } from '../core/machine/world.js';
import { all_variants, variant_named } from '../core/machine/variants.js';
import { all_invariants, invariant_named } from '../core/machine/invariants.js';
import { choice_kind } from '../core/machine/scheduler.js';
import { check_schema, compile } from './ajv.js';
import { ScenarioError, UserError, list_or } from './errors.js';
import { parse_int_literal } from './numbers.js';
import { SCENARIO_SCHEMA } from './schema.js';
import { load_threads, op_paths } from './threads.js';
import { check_programs } from './check.js';
import { YamlFile, isMap } from './yaml_doc.js';

export type Arch = WorldConfig['arch'];

export interface Expect {
  /** 'none', or the name of the invariant the run should break. */
  violation?: string;
}

export interface ScenarioMeta {
  name: string;
  summary: string;
  source: string;
  /** The file as the user named it. */
  path: string;
  /** The full YAML text (recordings embed it). */
  text: string;
  expect: Expect | null;
}

export interface LoadedScenario {
  meta: ScenarioMeta;
  config: WorldConfig;
}

export interface Overrides {
  /** Added to the scenario's own variants (`--variant`). */
  variants?: string[];
  /** Replaces the schedule's seed (`--seed`). */
  seed?: number;
}

export const DEFAULT_SEED = 1;

interface RawScenario {
  name?: string;
  summary?: string;
  source?: string;
  arch: Arch;
  vm: { vcpus: number; memslots?: { gpa: number; size: number; hva?: number }[]; nested_mmus?: number; ipa_bits?: number };
  variants?: string[];
  threads: Record<string, unknown[]>;
  schedule?: { policy?: 'random' | 'rr' | 'script'; seed?: number; script?: string[] };
  expect?: Expect;
}

/** Read and parse a scenario file. Errors are UserError (ScenarioError when there is a position). */
export function load_scenario(path: string, overrides: Overrides = {}): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : ((e as Error).message ?? String(e));
    throw new UserError(`${path}: cannot read the scenario: ${why}`);
  }
  return parse_scenario(text, path, overrides);
}

/** Parse a scenario from its text; `file` names it in error messages. */
export function parse_scenario(text: string, file: string, overrides: Overrides = {}): LoadedScenario {
  const yf = new YamlFile(text, file);
  const root = yf.resolve(yf.root);
  const keys = Object.keys(SCENARIO_SCHEMA.properties).join(', ');
  if (root === null) throw new ScenarioError(file, 1, 1, 'the scenario is empty', `a mapping with keys: ${keys}`);
  if (!isMap(root)) throw yf.error(root, 'a scenario is a YAML mapping', `a mapping with keys: ${keys}`);
  const raw = check_schema(yf, [], '', yf.to_js(root), compile(SCENARIO_SCHEMA)) as RawScenario;
  const arch = raw.arch;

  // The VM.
  const vm = raw.vm;
  if (vm.nested_mmus !== undefined && arch !== 'arm64') {
    throw yf.error(yf.node_at(['vm', 'nested_mmus'], { key: true }), `vm.nested_mmus is arm64-only (this scenario is ${arch})`, 'no nested_mmus for x86');
  }
  // kvm_vcpu_init_nested() sizes kvm->arch.nested_mmus to S2_MMU_PER_VCPU (2) per vCPU, so one
  // free MMU always exists for get_s2_mmu_nested(); any other size could only reach its BUG_ON.
  if (vm.nested_mmus !== undefined && vm.nested_mmus !== 0 && vm.nested_mmus !== 2 * vm.vcpus) {
    throw yf.error(
      yf.node_at(['vm', 'nested_mmus']),
      `vm.nested_mmus is ${vm.nested_mmus}, but kvm_vcpu_init_nested() gives an NV VM 2 shadow stage-2 MMUs per vCPU (S2_MMU_PER_VCPU)`,
      `${2 * vm.vcpus} for ${vm.vcpus} vCPU${vm.vcpus === 1 ? '' : 's'} (NV), or 0 (no NV)`,
    );
  }
  const memslots = (vm.memslots ?? []).map((m) => ({ ...m }));
  memslots.forEach((m, i) => {
    const end = m.gpa + m.size;
    if (vm.ipa_bits !== undefined && end > 2 ** vm.ipa_bits) {
      throw yf.error(yf.node_at(['vm', 'memslots', i]), `memslot ${i} [0x${m.gpa.toString(16)}, 0x${end.toString(16)}) does not fit in ${vm.ipa_bits} IPA bits`, `an end at or below 0x${(2 ** vm.ipa_bits).toString(16)}`);
    }
    for (let j = 0; j < i; j++) {
      const o = memslots[j]!;
      if (m.gpa < o.gpa + o.size && o.gpa < end) {
        throw yf.error(
          yf.node_at(['vm', 'memslots', i]),
          `memslot ${i} [0x${m.gpa.toString(16)}, 0x${end.toString(16)}) overlaps memslot ${j} [0x${o.gpa.toString(16)}, 0x${(o.gpa + o.size).toString(16)})`,
          'memslots that do not overlap',
        );
      }
    }
  });

  // Variants: the file's, then the command line's.
  const variants: string[] = [];
  const known_variants = () => all_variants().filter((v) => !v.arch || v.arch === arch).map((v) => v.name);
  (raw.variants ?? []).forEach((name, i) => {
    const node = yf.node_at(['variants', i]);
    const v = variant_named(name);
    if (!v) throw yf.error(node, `unknown variant "${name}"`, `one of: ${list_or(known_variants())}`);
    if (v.arch && v.arch !== arch) throw yf.error(node, `variant "${name}" is ${v.arch}-only (this scenario is ${arch})`, `one of: ${list_or(known_variants())}`);
    if (!variants.includes(name)) variants.push(name);
  });
  for (const name of overrides.variants ?? []) {
    const v = variant_named(name);
    if (!v) throw new UserError(`--variant ${name}: unknown variant; expected one of: ${list_or(known_variants())}`);
    if (v.arch && v.arch !== arch) throw new UserError(`--variant ${name}: the variant is ${v.arch}-only and ${file} is ${arch}; expected one of: ${list_or(known_variants())}`);
    if (!variants.includes(name)) variants.push(name);
  }

  // Threads and their programs.
  const threads = load_threads(yf, arch, vm.vcpus);
  check_programs(yf, threads, op_paths, { arch, vcpus: vm.vcpus, memslots, nested_mmus: vm.nested_mmus });

  // The schedule.
  const sch = raw.schedule ?? {};
  if (sch.script !== undefined && sch.policy !== undefined && sch.policy !== 'script') {
    throw yf.error(yf.node_at(['schedule', 'script'], { key: true }), `schedule.script is only read by the script policy (this schedule says policy: ${sch.policy})`, 'policy: script, or no script');
  }
  const policy = sch.policy ?? (sch.script !== undefined ? 'script' : 'random');
  if (policy === 'script' && sch.script === undefined) {
    throw yf.error(yf.node_at(['schedule', 'policy']), 'policy script needs a schedule.script', 'a list of thread names and choice=value tokens');
  }
  const thread_names = [...Array.from({ length: vm.vcpus }, (_, i) => `vcpu${i}`), ...threads.filter((t) => t.kind !== 'vcpu').map((t) => t.name)];
  (sch.script ?? []).forEach((tok, i) => {
    const node = yf.node_at(['schedule', 'script', i]);
    const eq = tok.indexOf('=');
    if (eq < 0) {
      if (!thread_names.includes(tok) && !/^rcu/.test(tok)) throw yf.error(node, `schedule.script names an unknown thread "${tok}"`, `a thread (${list_or(thread_names)}) or a choice=value token`);
      return;
    }
    const name = tok.slice(0, eq);
    const kind = choice_kind(name);
    if (!kind) throw yf.error(node, `schedule.script: unknown choice "${name}" in "${tok}"`, `a thread (${list_or(thread_names)}) or a choice=value token naming a scheduler choice`);
    const v = parse_int_literal(tok.slice(eq + 1));
    if (typeof v !== 'number' || v < 0 || v >= kind.n) {
      throw yf.error(node, `schedule.script: "${tok}" answers choice ${name} with "${tok.slice(eq + 1)}"`, `${name}=N with N from 0 to ${kind.n - 1} (${kind.description})`);
    }
  });
  const seed = overrides.seed ?? sch.seed ?? DEFAULT_SEED;

  // What the run should show.
  let expect: Expect | null = null;
  if (raw.expect) {
    expect = { ...raw.expect };
    const want = raw.expect.violation;
    if (want !== undefined && want !== 'none' && !invariant_named(want)) {
      const names = ['none', ...all_invariants().filter((v) => !v.arch || v.arch === arch).map((v) => v.name)];
      throw yf.error(yf.node_at(['expect', 'violation']), `expect.violation names an unknown invariant "${want}"`, `one of: ${list_or(names)}`);
    }
  }

  const config: WorldConfig = {
    arch,
    vcpus: vm.vcpus,
    memslots,
    threads,
    sched: { policy, seed, ...(sch.script ? { script: [...sch.script] } : {}) },
    variants,
  };
  if (vm.nested_mmus !== undefined) config.nested_mmus = vm.nested_mmus;
  if (vm.ipa_bits !== undefined) config.ipa_bits = vm.ipa_bits;

  const meta: ScenarioMeta = {
    name: raw.name ?? basename(file, extname(file)),
    summary: raw.summary ?? '',
    source: raw.source ?? '',
    path: file,
    text,
    expect,
  };
  return { meta, config };
}

export type { ThreadKind };
