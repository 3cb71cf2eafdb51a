// Reading an expression before it runs: acorn parses it (exactly one
// expression: `1); while (1) {} (0` is refused, where a function body
// built around the text would have run it), and a walk decides whether it
// is in the *bounded* subset that runs on the main thread at every step
// (sandbox_realm.ts), or needs the worker, where time and memory are
// limited by force (sandbox.ts).
//
// The bounded subset: literals (no regular expressions), names, property
// reads, operators (no assignment, no `delete`, no `**` and no shift by
// more than a literal 64, which could make a gigantic bigint), `?:`, `?.`,
// templates, array and object literals (no spread, no getters), calls of
// the helpers (hex, thread, vcpu, mmu, tree, Number, String, Boolean,
// BigInt) and of a fixed list of methods whose result is no larger than
// their input (some, every, find, filter, map, includes, slice, join,
// Object.keys, Math.max, ...), and arrow functions only as the callbacks
// of those methods, with an expression body. Without loops, recursion
// (no callable name is ever bound to a user function), `new` or
// bulk-allocating methods, its cost is bounded by the expression's size
// times the World's; nested callbacks (n^depth) are bounded at run time
// by a guard call counted in every callback body.
import { parse, type Node } from 'acorn';
import { DebugError, clip } from './errors.js';
import { GUARD } from './sandbox_realm.js';

/** Names reserved for the sandbox's own use. */
const RESERVED = /^__kvmdbg/;

/** Names an expression may read: its scope (parameters), the helpers, and harmless globals. */
export const SCOPE = ['w', 'e', 'ev', 'v'] as const;
export const HELPERS = ['hex', 'thread', 'vcpu', 'mmu', 'tree'] as const;
const CALLABLE = new Set<string>([...HELPERS, 'Number', 'String', 'Boolean', 'BigInt']);
const GLOBALS = new Set<string>([...SCOPE, ...CALLABLE, 'undefined', 'NaN', 'Infinity', 'Math', 'Object', 'Array', 'JSON']);

/** Methods whose result is no bigger than their receiver and arguments. */
const METHODS = new Set([
  'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'filter', 'map', 'includes', 'indexOf', 'lastIndexOf',
  'at', 'slice', 'join', 'keys', 'values', 'entries', 'hasOwn', 'isArray', 'isInteger', 'isSafeInteger',
  'startsWith', 'endsWith', 'toString', 'toLowerCase', 'toUpperCase', 'trim', 'toFixed',
  'max', 'min', 'abs', 'floor', 'ceil', 'round', 'trunc', 'sign', 'log2', 'stringify',
]);

/** Property names no expression reads: the ways out of a read-only view, and into the engine's internals. */
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'caller', 'callee', 'arguments']);

export interface Checked {
  /** The expression's text, instrumented for the bounded subset (a guard in every callback body). */
  code: string;
  /** In the bounded subset: runs on the main thread. */
  bounded: boolean;
  /** Why not, for `help` and the tests. */
  why: string | null;
}

type N = Node & Record<string, unknown>;

/** Parse `src` as one expression; a syntax error is an EINVAL that quotes it. */
export function check_expr(src: string): Checked {
  const text = src.trim();
  if (!text) throw new DebugError('EINVAL', 'an expression is needed');
  let root: N;
  try {
    // Inside parentheses, so that `{a: 1}` is an object; the newline ends a trailing // comment.
    const prog = parse(`(${text}\n)`, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: false }) as unknown as N;
    const body = prog['body'] as N[];
    if (body.length !== 1 || body[0]!.type !== 'ExpressionStatement') throw new SyntaxError('expected one expression');
    root = body[0]!['expression'] as N;
  } catch (err) {
    const msg = (err as Error).message.replace(/\s*\((\d+):(\d+)\)$/, (_m, l: string, c: string) => (l === '1' ? ` at column ${Math.max(1, Number(c))}` : ` at line ${l}`));
    throw new DebugError('EINVAL', `cannot parse ${clip(text)}: ${clip(msg, 200, false)}`);
  }
  reserved(root);
  const why = bounded(root, new Set());
  if (why !== null) return { code: text, bounded: false, why };
  // Guards go in at each callback body's ends; positions are in `(${text}\n)`, so shift by one.
  const at: [number, string][] = [];
  walk(root, (n) => {
    if (n.type === 'ArrowFunctionExpression') {
      const b = n['body'] as N;
      at.push([b.start - 1, `(${GUARD}(), `], [b.end - 1, ')']);
    }
  });
  at.sort((a, b) => b[0] - a[0]);
  let code = text;
  for (const [i, s] of at) code = code.slice(0, i) + s + code.slice(i);
  return { code, bounded: true, why: null };
}

function walk(n: unknown, f: (n: N) => void): void {
  if (!n || typeof n !== 'object') return;
  if (Array.isArray(n)) {
    for (const x of n) walk(x, f);
    return;
  }
  const node = n as N;
  if (typeof node.type !== 'string') return;
  f(node);
  for (const k of Object.keys(node)) if (k !== 'type' && k !== 'start' && k !== 'end') walk(node[k], f);
}

/** Names the sandbox uses for itself are refused everywhere. */
function reserved(root: N): void {
  walk(root, (n) => {
    if ((n.type === 'Identifier' || n.type === 'PrivateIdentifier') && RESERVED.test(n['name'] as string)) {
      throw new DebugError('EINVAL', `the name ${n['name'] as string} is reserved`);
    }
  });
}

/** Null when `n` is in the bounded subset, else the first reason it is not. */
function bounded(n: N, params: Set<string>): string | null {
  const sub = (x: unknown) => bounded(x as N, params);
  const all = (xs: unknown) => {
    for (const x of xs as (N | null)[]) {
      if (x === null) continue;
      if (x.type === 'SpreadElement') return 'spread (...)';
      const r = sub(x);
      if (r) return r;
    }
    return null;
  };
  switch (n.type) {
    case 'Literal':
      return n['regex'] ? 'a regular expression' : null;
    case 'Identifier': {
      const name = n['name'] as string;
      return params.has(name) || GLOBALS.has(name) ? null : `the name ${name}`;
    }
    case 'MemberExpression': {
      if (n['object'] && (n['object'] as N).type === 'Super') return 'super';
      const p = n['property'] as N;
      if (!n['computed'] && FORBIDDEN.has(p['name'] as string)) return `.${p['name'] as string}`;
      if (n['computed'] && p.type === 'Literal' && FORBIDDEN.has(String(p['value']))) return `[${JSON.stringify(p['value'])}]`;
      return sub(n['object']) ?? (n['computed'] ? sub(p) : null);
    }
    case 'ChainExpression':
      return sub(n['expression']);
    case 'UnaryExpression':
      return n['operator'] === 'delete' ? 'delete' : sub(n['argument']);
    case 'BinaryExpression': {
      const op = n['operator'] as string;
      if (op === '**') return '**';
      if (op === '<<' || op === '>>' || op === '>>>') {
        const r = n['right'] as N;
        const v = r.type === 'Literal' ? r['value'] : null;
        if (!((typeof v === 'number' || typeof v === 'bigint') && v >= 0 && v <= 64)) return `${op} by more than a literal 64`;
      }
      return sub(n['left']) ?? sub(n['right']);
    }
    case 'LogicalExpression':
      return sub(n['left']) ?? sub(n['right']);
    case 'ConditionalExpression':
      return sub(n['test']) ?? sub(n['consequent']) ?? sub(n['alternate']);
    case 'SequenceExpression':
      return all(n['expressions']);
    case 'TemplateLiteral':
      return all(n['expressions']);
    case 'ArrayExpression':
      return all(n['elements']);
    case 'ObjectExpression':
      for (const p of n['properties'] as N[]) {
        if (p.type !== 'Property') return 'spread (...)';
        if (p['kind'] !== 'init' || p['method']) return 'a getter, setter or method';
        const key = p['key'] as N;
        if (!p['computed'] && (key['name'] === '__proto__' || key['value'] === '__proto__')) return '__proto__';
        const r = (p['computed'] ? sub(key) : null) ?? sub(p['value']);
        if (r) return r;
      }
      return null;
    case 'CallExpression': {
      const c = n['callee'] as N;
      if (c.type === 'Identifier') {
        const name = c['name'] as string;
        if (!CALLABLE.has(name) || params.has(name)) return `a call of ${name}`;
      } else if (c.type === 'MemberExpression' && !c['computed']) {
        const m = (c['property'] as N)['name'] as string;
        if (!METHODS.has(m)) return `the method ${m}`;
        const r = sub(c['object']);
        if (r) return r;
      } else return 'a call of a computed function';
      for (const a of n['arguments'] as N[]) {
        if (a.type === 'SpreadElement') return 'spread (...)';
        const r = a.type === 'ArrowFunctionExpression' ? arrow(a, params) : sub(a);
        if (r) return r;
      }
      return null;
    }
    default:
      return describe_node(n);
  }
}

/** A callback: simple parameters, an expression body. */
function arrow(n: N, params: Set<string>): string | null {
  if (n['async'] || n['generator']) return 'an async callback';
  if (n['expression'] !== true) return 'a callback with a block body';
  const inner = new Set(params);
  for (const p of n['params'] as N[]) {
    if (p.type !== 'Identifier') return 'a callback parameter pattern';
    const name = p['name'] as string;
    if (GLOBALS.has(name)) return `a callback parameter named ${name}`;
    inner.add(name);
  }
  return bounded(n['body'] as N, inner);
}

function describe_node(n: N): string {
  switch (n.type) {
    case 'AssignmentExpression':
    case 'UpdateExpression':
      return 'an assignment';
    case 'NewExpression':
      return 'new';
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return 'a function that is not a method callback';
    case 'TaggedTemplateExpression':
      return 'a tagged template';
    case 'ThisExpression':
      return 'this';
    default:
      return n.type;
  }
}
