// JSON-schema validation with ajv, and its errors turned into one-line
// `FILE:LINE:COL: what; expected ...` messages that point at the YAML node.
//
// The bundled CLI validates with ajv standalone code compiled ahead of time
// (validators.ts, filled in by scripts/build.mjs); a schema it does not hold
// (run from the sources, or an op a user registers) is compiled here on
// first use, and only then is ajv itself loaded.
import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { isScalar, type Path, type Scalar, type YamlFile } from './yaml_doc.js';
import type { ScenarioError } from './errors.js';
import { PRECOMPILED } from './validators.js';

/** The options of every validator, compiled here or ahead of time. */
export const AJV_OPTIONS = { allErrors: false, verbose: true, strict: false, useDefaults: true } as const;

/** What identifies a schema among the precompiled validators: its JSON text. */
export function schema_key(schema: object): string {
  return JSON.stringify(schema);
}

let ajv: Ajv2020 | null = null;
const cache = new WeakMap<object, ValidateFunction>();
let compiled_here = 0;

/** How many schemas were compiled at run time, not ahead of time (the tests check the bundle's set is complete). */
export function runtime_compiles(): number {
  return compiled_here;
}

function compile_now(schema: object): ValidateFunction {
  compiled_here++;
  if (!ajv) {
    // ajv is CommonJS: a synchronous load, on the first schema not precompiled.
    const load_cjs = createRequire(import.meta.url);
    const { Ajv2020 } = load_cjs('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    ajv = new Ajv2020(AJV_OPTIONS);
  }
  return ajv.compile(schema);
}

export function compile(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = (PRECOMPILED.size ? PRECOMPILED.get(schema_key(schema)) : undefined) ?? compile_now(schema);
    cache.set(schema, v);
  }
  return v;
}

/** A copy ajv can read: bigints become (inexact) numbers, so range checks still fail where they should. */
export function shadow(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(shadow);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shadow(x)]));
  return v;
}

/** Put the bigints of `orig` back into the validated copy (which may have gained defaults). */
export function restore_bigints(orig: unknown, copy: unknown): unknown {
  if (typeof orig === 'bigint') return orig;
  if (Array.isArray(orig) && Array.isArray(copy)) return copy.map((x, i) => restore_bigints(orig[i], x));
  if (orig && typeof orig === 'object' && copy && typeof copy === 'object' && !Array.isArray(copy)) {
    const o = orig as Record<string, unknown>;
    const c = copy as Record<string, unknown>;
    for (const k of Object.keys(c)) if (k in o) c[k] = restore_bigints(o[k], c[k]);
    return c;
  }
  return copy;
}

/** `vm.memslots[0].size` from a base label and path segments. */
export function path_label(base: string, segs: Path): string {
  let s = base;
  for (const seg of segs) {
    if (typeof seg === 'number' || /^\d+$/.test(seg)) s += `[${seg}]`;
    else s += s ? `.${seg}` : seg;
  }
  return s;
}

function pointer_segments(p: string): string[] {
  if (!p) return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

export function describe_type(t: unknown): string {
  const ts = Array.isArray(t) ? t : [t];
  return ts.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(' or ');
}

export function describe_value(v: unknown, source?: string): string {
  if (source !== undefined && (typeof v === 'number' || typeof v === 'bigint')) return source;
  if (v === null || v === undefined) return 'empty';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : `the number ${v}`;
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

function num(n: number, hexish: boolean): string {
  return hexish ? `0x${n.toString(16)}` : String(n);
}

function size_name(n: number): string {
  for (const [s, v] of [['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) if (n % v === 0 && n >= v) return `${n / v}${s}`;
  return String(n);
}

/**
 * Validate `value` (the plain value of the node at `base`) with `validate`.
 * Throws a ScenarioError for the first problem.
 */
export function check_schema(yf: YamlFile, base: Path, label: string, value: unknown, validate: ValidateFunction, root_desc?: string): unknown {
  const copy = shadow(value);
  if (validate(copy)) return restore_bigints(value, copy);
  throw schema_error(yf, base, label, validate.errors ?? [], root_desc);
}

/**
 * The first of ajv's errors as a ScenarioError. `label` names the value at
 * `base` in paths (`vm.vcpus`, `access.ipa`); `root_desc` names the value
 * itself in messages about its keys ("the arguments of op access").
 */
export function schema_error(yf: YamlFile, base: Path, label: string, errors: ErrorObject[], root_desc?: string): ScenarioError {
  let e = errors[0]!;
  // Prefer the anyOf/oneOf summary over the first branch's complaint.
  const alt = errors.find((x) => (x.keyword === 'anyOf' || x.keyword === 'oneOf') && e.instancePath.startsWith(x.instancePath));
  const segs: Path = [...base, ...pointer_segments((alt ?? e).instancePath)];
  const rel = pointer_segments((alt ?? e).instancePath);
  const where = path_label(label, rel) || 'the scenario';
  const container = rel.length === 0 && root_desc ? root_desc : where;
  const node = yf.node_at(segs);
  const src = isScalar(node) && typeof (node as Scalar).source === 'string' ? (node as Scalar).source : undefined;
  if (alt) {
    const forms = ((alt.schema as unknown[]) ?? []).map(branch_desc);
    return yf.error(node, `${where} is ${describe_value(alt.data, src)}, which matches none of its allowed forms`, forms.join(' or '));
  }
  const ps = (e.parentSchema ?? {}) as Record<string, unknown>;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return yf.error(node, `wrong type: ${where} is ${describe_value(e.data, src)}`, describe_type(p.type));
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const knode = yf.node_at([...segs, key], { key: true });
      const allowed = Object.keys((ps.properties as object) ?? {});
      const in_where = rel.length === 0 && label === '' ? 'at the top level' : `in ${container}`;
      return yf.error(knode, `unknown key "${key}" ${in_where}`, allowed.length ? `one of: ${allowed.join(', ')}` : 'no keys here');
    }
    case 'required': {
      const allowed = Object.keys((ps.properties as object) ?? {});
      const required = (ps.required as string[] | undefined) ?? [];
      const optional = allowed.filter((k) => !required.includes(k));
      const exp = `the required key${required.length === 1 ? '' : 's'} ${required.join(', ')}${optional.length ? `, and optionally ${optional.join(', ')}` : ''}`;
      return yf.error(node, `missing the required key "${String(p.missingProperty)}" in ${container}`, exp);
    }
    case 'enum':
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, `one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'const':
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, String(p.allowedValue));
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const lo = (ps.minimum ?? ps.exclusiveMinimum) as number | undefined;
      const hi = (ps.maximum ?? ps.exclusiveMaximum) as number | undefined;
      const hexish = (hi ?? 0) >= 2 ** 32 || (src?.startsWith('0x') ?? false);
      const what = describe_type(ps.type ?? 'number').replace(/^an? /, '');
      let range: string;
      if (lo !== undefined && hi !== undefined) range = `${what} from ${num(lo, hexish)} to ${num(hi, hexish)}`;
      else if (lo !== undefined) range = `${what} >= ${num(lo, hexish)}`;
      else range = `${what} <= ${num(hi!, hexish)}`;
      if (ps.exclusiveMinimum !== undefined || ps.exclusiveMaximum !== undefined) range += ' (exclusive)';
      return yf.error(node, `out of range: ${where} is ${describe_value(e.data, src)}`, `an ${range}`.replace(/^an ([^aeiou])/, 'a $1'));
    }
    case 'multipleOf': {
      const m = p.multipleOf as number;
      return yf.error(node, `${where} is ${describe_value(e.data, src)}, not a multiple of ${num(m, m >= 4096)}`, `a multiple of ${size_name(m)}`);
    }
    case 'minLength':
      return yf.error(node, `${where} is too short`, `at least ${String(p.limit)} characters`);
    case 'maxLength':
      return yf.error(node, `${where} is too long`, `at most ${String(p.limit)} characters`);
    case 'minItems':
      return yf.error(node, `${where} has too few items`, `at least ${String(p.limit)}`);
    case 'maxItems':
      return yf.error(node, `${where} has too many items`, `at most ${String(p.limit)}`);
    case 'minProperties':
    case 'maxProperties':
      return yf.error(node, `${where} ${e.message ?? 'has the wrong number of keys'}`, '');
    case 'pattern':
      return yf.error(node, `${where} is ${describe_value(e.data, src)}`, `a string matching ${String(p.pattern)}`);
    default:
      return yf.error(node, `${where} ${e.message ?? 'is invalid'}`, '');
  }
}

function branch_desc(b: unknown): string {
  const s = (b ?? {}) as Record<string, unknown>;
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map(String).join('|')}`;
  if (s.type === 'object' && s.properties) return `a mapping with keys ${Object.keys(s.properties).join(', ')}`;
  if (s.type !== undefined) return describe_type(s.type);
  return 'another form';
}

