// YAML with positions: the `yaml` library's Document keeps each node's
// source range; a LineCounter turns offsets into line:column. Plain scalars
// that read as integer literals (0x8000_0000, 2M, 1_000) become numbers, or
// bigints beyond 2^53; quoted scalars stay strings.
import { Alias, Document, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { ScenarioError, one_line } from './errors.js';
import { parse_int_literal, normalize_int } from './numbers.js';

export type Path = (string | number)[];

/**
 * Values the aliases of one file may expand to in all (the yaml library's
 * maxAliasCount, by size): an alias bomb (`&a [*b, *b, ...]` nested ten
 * deep) is refused at its first alias, before anything is expanded.
 */
export const MAX_ALIAS_VALUES = 200_000;

export class YamlFile {
  readonly doc: Document.Parsed;
  private readonly lc = new LineCounter();
  /** Values expanded through aliases so far, and each node's size with its aliases expanded. */
  private aliased = 0;
  private readonly sizes = new Map<object, number>();

  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, intAsBigInt: true, prettyErrors: true, uniqueKeys: true });
    const err = this.doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? this.lc.linePos(err.pos[0]);
      const msg = one_line(err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, ''));
      throw new ScenarioError(file, pos.line, pos.col, `invalid YAML: ${msg}`);
    }
  }

  /** 1-based line and column of a node (or of the document start). */
  pos(node: Node | Pair | null | undefined): { line: number; col: number } {
    const n = isPair(node) ? (node.key as Node | null) : node;
    const off = n?.range?.[0] ?? 0;
    return this.lc.linePos(off);
  }

  error(node: Node | Pair | null | undefined, what: string, expected = ''): ScenarioError {
    const { line, col } = this.pos(node);
    return new ScenarioError(this.file, line, col, what, expected);
  }

  get root(): Node | null {
    return (this.doc.contents as Node | null) ?? null;
  }

  resolve(n: unknown): Node | null {
    if (isAlias(n)) return ((n as Alias).resolve(this.doc) as Node | undefined) ?? null;
    return (n as Node | null) ?? null;
  }

  /** How many values `n` stands for with its aliases expanded (Infinity for an alias inside its own anchor). */
  private size(n: unknown): number {
    const node = this.resolve(n);
    if (node === null || isScalar(node)) return 1;
    const known = this.sizes.get(node);
    if (known !== undefined) return known;
    this.sizes.set(node, Infinity);
    let s = 1;
    if (isMap(node)) for (const p of (node as YAMLMap).items) s += 1 + this.size(p.value);
    else if (isSeq(node)) for (const x of (node as YAMLSeq).items) s += this.size(x);
    this.sizes.set(node, s);
    return s;
  }

  /** The plain value of a node, with integer literals converted. */
  to_js(n: unknown): unknown {
    if (isAlias(n)) {
      this.aliased += this.size(n);
      if (this.aliased > MAX_ALIAS_VALUES) {
        const { line, col } = this.lc.linePos((n as Alias).range?.[0] ?? 0);
        throw new ScenarioError(this.file, line, col, `YAML aliases expand this file to more than ${MAX_ALIAS_VALUES} values (an alias of itself, or aliases of aliases)`, 'fewer aliases, or aliases of smaller nodes');
      }
    }
    const node = this.resolve(n);
    if (node === null) return null;
    if (isScalar(node)) return scalar_value(node);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const p of (node as YAMLMap).items) out[key_of(p)] = this.to_js(p.value);
      return out;
    }
    if (isSeq(node)) return (node as YAMLSeq).items.map((x) => this.to_js(x));
    return null;
  }

  /** The pair of map `m` with key `k`. */
  pair(m: Node | null, k: string): Pair | undefined {
    const node = this.resolve(m);
    if (!isMap(node)) return undefined;
    return (node as YAMLMap).items.find((p) => key_of(p) === k) as Pair | undefined;
  }

  /** The node at `path` (JSON-pointer segments); the nearest existing ancestor if it is missing. */
  node_at(path: Path, opts: { key?: boolean } = {}): Node | Pair | null {
    let cur: Node | null = this.root;
    let last_pair: Pair | undefined;
    for (const seg of path) {
      cur = this.resolve(cur);
      if (isMap(cur)) {
        const p = this.pair(cur, String(seg));
        if (!p) return cur;
        last_pair = p;
        cur = (p.value as Node | null) ?? null;
        if (cur === null) return p;
      } else if (isSeq(cur)) {
        const item = (cur as YAMLSeq).items[Number(seg)] as Node | undefined;
        if (!item) return cur;
        last_pair = undefined;
        cur = item;
      } else {
        return cur;
      }
    }
    if (opts.key && last_pair) return last_pair;
    return cur;
  }
}

export function key_of(p: Pair): string {
  const k = p.key as unknown;
  if (isScalar(k)) return String((k as Scalar).source ?? (k as Scalar).value);
  return String(k);
}

function scalar_value(s: Scalar): unknown {
  if (s.type === 'PLAIN' && typeof s.source === 'string') {
    const n = parse_int_literal(s.source);
    if (n !== null) return n;
  }
  const v = s.value;
  if (typeof v === 'bigint') return normalize_int(v);
  return v;
}

export { isMap, isScalar, isSeq, isPair };
export type { Node, Pair, YAMLMap, YAMLSeq, Scalar };
