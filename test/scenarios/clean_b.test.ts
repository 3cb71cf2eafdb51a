// Bundled scenarios without variants, second half (see bundled.ts).
import { describe } from 'vitest';
import { check_half } from './bundled.js';

describe('bundled scenarios are clean upstream (second half)', () => {
  check_half(1);
});
