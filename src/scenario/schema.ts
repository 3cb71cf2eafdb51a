// The JSON schema of a scenario file (see shared/docs/CONTRACT.md, "Scenario
// files"). Ops, variants, thread names, schedule tokens and expectations are
// checked against the registries afterwards (validate.ts), where the list of
// what is allowed depends on the architecture and the thread kind.

export const MAX_VCPUS = 64;
export const MAX_MEMSLOTS = 32;
export const MAX_NESTED_MMUS = 64;
/** Total ops of all threads after `repeat` expansion. */
export const MAX_OPS = 100_000;
export const PAGE = 4096;

const addr = { type: 'integer', minimum: 0, maximum: 2 ** 52, multipleOf: PAGE };

export const SCENARIO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['arch', 'vm', 'threads'],
  properties: {
    name: { type: 'string', minLength: 1 },
    summary: { type: 'string' },
    source: { type: 'string' },
    arch: { enum: ['arm64', 'x86'] },
    vm: {
      type: 'object',
      additionalProperties: false,
      required: ['vcpus'],
      properties: {
        vcpus: { type: 'integer', minimum: 1, maximum: MAX_VCPUS },
        memslots: {
          type: 'array',
          maxItems: MAX_MEMSLOTS,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['gpa', 'size'],
            properties: {
              gpa: addr,
              size: { ...addr, minimum: PAGE },
              hva: addr,
            },
          },
        },
        nested_mmus: { type: 'integer', minimum: 0, maximum: MAX_NESTED_MMUS },
        ipa_bits: { type: 'integer', minimum: 32, maximum: 52 },
      },
    },
    variants: { type: 'array', items: { type: 'string' } },
    threads: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: ['object', 'string'] } },
    },
    schedule: {
      type: 'object',
      additionalProperties: false,
      properties: {
        policy: { enum: ['random', 'rr', 'script'] },
        seed: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 },
        script: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        violation: { type: 'string' },
      },
    },
  },
} as const;

/** `repeat: {times: N, do: [ops...]}` */
export const REPEAT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['times', 'do'],
  properties: {
    times: { type: 'integer', minimum: 0, maximum: MAX_OPS },
    do: { type: 'array', items: { type: ['object', 'string'] } },
  },
} as const;
