// Thread programs: each thread name maps to a list of ops. An op is a
// mapping with one key, the op's name, whose value holds its arguments
// (`- access: {ipa: 0x1000, write: true}`), or a bare name for an op
// without arguments. `repeat: {times: N, do: [ops...]}` expands here.
import type { Op, ThreadKind } from '../core/machine/world.js';
import { all_ops, op_named, type OpDef } from '../core/machine/ops.js';
import { check_schema, compile, describe_value, path_label } from './ajv.js';
import { list_or } from './errors.js';
import { U64_MAX, is_int, normalize_int, parse_int_literal } from './numbers.js';
import { MAX_OPS, REPEAT_SCHEMA } from './schema.js';
import { isMap, isScalar, isSeq, key_of, type Node, type Pair, type Path, type Scalar, type YAMLMap, type YAMLSeq, type YamlFile } from './yaml_doc.js';

type Arch = 'arm64' | 'x86';

export interface ThreadSpec {
  name: string;
  kind: ThreadKind;
  prog: Op[];
}

const HOST_NAME = /^(mm|vmm)(\d+|[_-][A-Za-z0-9_-]+)?$/;

/** The kind of thread a name denotes, or null when the name is not allowed. */
export function thread_kind(name: string): ThreadKind | null {
  if (/^vcpu(0|[1-9]\d*)$/.test(name)) return 'vcpu';
  const m = HOST_NAME.exec(name);
  if (m) return m[1] === 'mm' ? 'mm' : 'vmm';
  return null;
}

function allowed_names(vcpus: number): string {
  const v = vcpus === 1 ? 'vcpu0' : `vcpu0..vcpu${vcpus - 1}`;
  return `${v}, mm or vmm (more host threads: mm_NAME, vmm_NAME, mm1, ...)`;
}

/** Ops a thread of this kind may run on this arch. */
export function ops_for(kind: ThreadKind, arch: Arch): OpDef[] {
  return all_ops().filter((o) => o.threads.includes(kind) && (!o.arch || o.arch === arch));
}

class Counter {
  n = 0;
}

/** Where each op was written (for errors found after loading: check.ts); repeated ops share their body's place. */
export const op_paths = new WeakMap<Op, Path>();

export function load_threads(yf: YamlFile, arch: Arch, vcpus: number): ThreadSpec[] {
  const map = yf.resolve(yf.pair(yf.root, 'threads')?.value);
  const out: ThreadSpec[] = [];
  if (!isMap(map)) return out;
  const count = new Counter();
  for (const pair of (map as YAMLMap).items) {
    const name = key_of(pair as Pair);
    const kind = thread_kind(name);
    if (!kind) throw yf.error(pair as Pair, `unknown thread "${name}"`, allowed_names(vcpus));
    if (kind === 'vcpu' && Number(name.slice(4)) >= vcpus) {
      throw yf.error(pair as Pair, `thread "${name}" but the VM has ${vcpus} vCPU${vcpus === 1 ? '' : 's'} (vm.vcpus)`, allowed_names(vcpus));
    }
    const seq = yf.resolve((pair as Pair).value);
    const prog: Op[] = [];
    if (seq !== null) load_ops(yf, { arch, kind, thread: name, count }, seq, ['threads', name], prog);
    out.push({ name, kind, prog });
  }
  return out;
}

interface Ctx {
  arch: Arch;
  kind: ThreadKind;
  thread: string;
  count: Counter;
}

/** Append the ops of list `seq` (at `path`) to `out`. */
function load_ops(yf: YamlFile, ctx: Ctx, seq: Node, path: Path, out: Op[]): void {
  if (!isSeq(seq)) throw yf.error(seq, `the program of ${ctx.thread} must be a list of ops`, `a list like [{op_name: {args}}, ...]`);
  (seq as YAMLSeq).items.forEach((raw, i) => {
    const item = yf.resolve(raw);
    const ipath = [...path, i];
    const allowed = () => `an op of a ${ctx.kind} thread: ${list_or([...ops_for(ctx.kind, ctx.arch).map((o) => o.name), 'repeat'])}`;
    let name: string;
    let key_node: Node | Pair;
    let args_node: Node | null;
    if (isScalar(item) && typeof (item as Scalar).value === 'string') {
      name = (item as Scalar).value as string;
      key_node = item!;
      args_node = null;
    } else if (isMap(item)) {
      const pairs = (item as YAMLMap).items as Pair[];
      if (pairs.length !== 1) {
        throw yf.error(pairs[1] ?? item, `an op is a mapping with exactly one key, the op's name; this one has ${pairs.length}`, allowed());
      }
      name = key_of(pairs[0]!);
      key_node = pairs[0]!;
      args_node = yf.resolve(pairs[0]!.value);
      // `- exit_l2:` (no value) is an op without arguments.
      if (isScalar(args_node) && (args_node as Scalar).value === null) args_node = null;
    } else {
      throw yf.error(item, `${path_label(ctx.thread, [i])} is ${describe_value(yf.to_js(item))}, not an op`, allowed());
    }

    if (name === 'repeat') {
      const r = check_schema(yf, [...ipath, 'repeat'], 'repeat', yf.to_js(args_node), compile(REPEAT_SCHEMA), 'repeat') as { times: number };
      const body: Op[] = [];
      const do_node = yf.resolve(yf.pair(args_node, 'do')?.value);
      load_ops(yf, ctx, do_node!, [...ipath, 'repeat', 'do'], body);
      // The body's ops were counted once; count the other times.
      ctx.count.n += body.length * (r.times - 1);
      if (ctx.count.n > MAX_OPS) throw yf.error(key_node, `repeat expands the scenario to more than ${MAX_OPS} ops`, `at most ${MAX_OPS} ops in all threads together`);
      for (let k = 0; k < r.times; k++) {
        for (const op of body) {
          const copy = { op: op.op, args: { ...op.args } };
          const p = op_paths.get(op);
          if (p) op_paths.set(copy, p);
          out.push(copy);
        }
      }
      return;
    }

    const def = op_named(name);
    if (!def) throw yf.error(key_node, `unknown op "${name}" in thread ${ctx.thread}`, allowed());
    if (!def.threads.includes(ctx.kind)) {
      throw yf.error(key_node, `op "${name}" runs on ${def.threads.join('/')} threads, not on ${ctx.thread} (a ${ctx.kind} thread)`, allowed());
    }
    if (def.arch && def.arch !== ctx.arch) throw yf.error(key_node, `op "${name}" is ${def.arch}-only (this scenario is ${ctx.arch})`, allowed());

    let args: Record<string, unknown> = {};
    const apath = [...ipath, name];
    if (args_node !== null) {
      if (!isMap(args_node)) {
        const keys = Object.keys(((def.schema as Record<string, unknown>).properties as object) ?? {});
        throw yf.error(args_node, `the arguments of op "${name}" must be a mapping, not ${describe_value(yf.to_js(args_node))}`, keys.length ? `a mapping with keys: ${keys.join(', ')}` : 'an empty mapping {}');
      }
      args = yf.to_js(args_node) as Record<string, unknown>;
    }
    const checked = check_schema(yf, apath, name, args, compile(def.schema), `the arguments of op ${name}`) as Record<string, unknown>;
    const op: Op = { op: name, args: fix_u64(yf, apath, name, checked, def.schema) as Record<string, unknown> };
    op_paths.set(op, apath);
    out.push(op);
    if (++ctx.count.n > MAX_OPS) throw yf.error(key_node, `the scenario has more than ${MAX_OPS} ops`, `at most ${MAX_OPS} ops in all threads together`);
  });
}

/** A u64 slot: `type: ['integer', 'string']` (ops.ts S.u64) or `format: 'u64'`. */
export function is_u64_schema(s: unknown): boolean {
  if (!s || typeof s !== 'object') return false;
  const o = s as Record<string, unknown>;
  if (o.format === 'u64') return true;
  return Array.isArray(o.type) && o.type.includes('integer') && o.type.includes('string');
}

/**
 * After the schema: u64 slots get numbers (bigint beyond 2^53) from integer
 * or string literals and are checked against [0, 2^64); any other slot
 * holding a bigint is out of range.
 */
function fix_u64(yf: YamlFile, path: Path, label: string, v: unknown, schema: unknown): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  const where = () => path_label(label, path.slice(path.indexOf(label) + 1));
  const src = () => {
    const n = yf.node_at(path);
    return isScalar(n) ? String((n as Scalar).source ?? (n as Scalar).value) : undefined;
  };
  if (is_u64_schema(s)) {
    let x = v;
    if (typeof x === 'string') {
      x = parse_int_literal(x);
      if (x === null) throw yf.error(yf.node_at(path), `wrong type: ${where()} is ${describe_value(v)}`, 'an unsigned 64-bit integer (decimal or 0x-hex, _ separators allowed)');
    }
    if (!is_int(x)) return x;
    const b = BigInt(x);
    if (b < 0n || b > U64_MAX) throw yf.error(yf.node_at(path), `out of range: ${where()} is ${src() ?? String(x)}`, 'an unsigned 64-bit integer, from 0 to 0xffff_ffff_ffff_ffff');
    return normalize_int(b);
  }
  if (typeof v === 'bigint') throw yf.error(yf.node_at(path), `out of range: ${where()} is ${src() ?? `0x${v.toString(16)}`}`, 'an integer below 2^53');
  if (Array.isArray(v)) return v.map((x, i) => fix_u64(yf, [...path, i], label, x, item_schema(s, i)));
  if (v && typeof v === 'object') {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = fix_u64(yf, [...path, k], label, o[k], props[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined));
    return o;
  }
  return v;
}

function item_schema(s: Record<string, unknown>, i: number): unknown {
  const prefix = s.prefixItems as unknown[] | undefined;
  if (prefix && i < prefix.length) return prefix[i];
  return s.items;
}
