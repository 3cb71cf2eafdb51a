// Pokes: state changes made from the debugger (`variant`, `pt map`, `mt
// store`, ...). A poke is recorded in the Session's timeline as {step,
// name, args} and applied by the handler registered here, both when the
// user makes it and whenever re-execution passes that step again, so time
// travel and `save` include it. Handlers must be deterministic functions of
// the World and their (plain-data) arguments.
import type { World } from '../core/machine/world.js';
import { variant_named } from '../core/machine/variants.js';
import { DebugError } from './errors.js';

export interface PokeDef<A extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** Check the arguments against the World before the poke is recorded (throw DebugError). */
  check?: (w: World, args: A) => void;
  /** Apply to the World; the result is what the command reports. */
  apply: (w: World, args: A) => unknown;
}

const pokes = new Map<string, PokeDef>();

export function define_poke<A extends Record<string, unknown>>(def: PokeDef<A>): PokeDef<A> {
  if (pokes.has(def.name)) throw new Error(`poke ${def.name} defined twice`);
  pokes.set(def.name, def as unknown as PokeDef);
  return def;
}

export function poke_def(name: string): PokeDef {
  const d = pokes.get(name);
  if (!d) throw new DebugError('ENOSYS', `no poke handler ${name}`);
  return d;
}

/** `variant NAME on|off`: switch a variant live (it changes w.variants). */
define_poke<{ name: string; on: boolean }>({
  name: 'variant',
  check: (w, a) => {
    const v = variant_named(a.name);
    if (!v) throw new DebugError('ENOENT', `no variant ${a.name}`);
    if (v.arch && v.arch !== w.arch) throw new DebugError('EINVAL', `variant ${a.name} is ${v.arch}-only and this World is ${w.arch}`);
  },
  apply: (w, a) => {
    if (a.on) w.variants[a.name] = true;
    else delete w.variants[a.name];
    return { variant: a.name, on: a.on };
  },
});

/** Apply a recorded poke (a recording's command line) to a World. */
export function apply_poke(w: World, name: string, args: Record<string, unknown>): void {
  poke_def(name).apply(w, args);
}
