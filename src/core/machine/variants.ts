// Variants: named switches that select an older, buggy or proposed version
// of one piece of kernel code. Each sits beside the current path it replaces.

export interface Variant {
  name: string;
  description: string;
  /** Commit or mailing-list thread the variant comes from. */
  source: string;
  /** The invariant it is expected to break, or the metric it changes. */
  breaks: string;
  arch?: 'arm64' | 'x86';
}

const variants = new Map<string, Variant>();

export function define_variant(v: Variant): Variant {
  if (variants.has(v.name)) throw new Error(`variant ${v.name} defined twice`);
  variants.set(v.name, v);
  return v;
}

export function all_variants(): Variant[] {
  return [...variants.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function variant_named(name: string): Variant | undefined {
  return variants.get(name);
}

/** Unload a patch's variant (src/patch). */
export function forget_variant(name: string): void {
  variants.delete(name);
}
