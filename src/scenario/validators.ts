// Validators compiled ahead of time, keyed by schema_key(): none here, so
// that the sources (and the tests that run them) compile each schema with
// ajv on first use. The bundle built by scripts/build.mjs replaces this
// module with ajv standalone code for every schema the model registers
// (validators_gen.ts); a schema it does not hold still compiles at run time.
import type { ValidateFunction } from 'ajv/dist/2020.js';

export const PRECOMPILED: ReadonlyMap<string, ValidateFunction> = new Map();
