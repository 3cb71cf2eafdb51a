// Bundled scenarios without variants, first half (see bundled.ts).
import { describe } from 'vitest';
import { check_half, check_halves_cover } from './bundled.js';

describe('bundled scenarios are clean upstream (first half)', () => {
  check_halves_cover();
  check_half(0);
});
