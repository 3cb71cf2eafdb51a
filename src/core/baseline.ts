// The upstream release the default World models (docs/baseline.md says
// which files were read and how they were dated). Every departure from it
// is a variant (src/core/machine/variants.ts) whose source says where it
// comes from.
export const BASELINE = 'Linux v6.18';
