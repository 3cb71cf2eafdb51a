import { describe, expect, it } from 'vitest';
import { parse_int_literal } from '../../src/scenario/numbers.js';

describe('integer literals', () => {
  it('reads decimal, hex, binary and separators', () => {
    expect(parse_int_literal('0')).toBe(0);
    expect(parse_int_literal('1_000')).toBe(1000);
    expect(parse_int_literal('0x1000')).toBe(4096);
    expect(parse_int_literal('0x8000_0000')).toBe(0x8000_0000);
    expect(parse_int_literal('0XfF')).toBe(255);
    expect(parse_int_literal('0b1010')).toBe(10);
    expect(parse_int_literal('-12')).toBe(-12);
  });
  it('reads size suffixes as powers of 1024', () => {
    expect(parse_int_literal('4K')).toBe(4096);
    expect(parse_int_literal('2M')).toBe(2 * 1024 * 1024);
    expect(parse_int_literal('1G')).toBe(1024 ** 3);
    expect(parse_int_literal('2m')).toBe(2 * 1024 * 1024);
    expect(parse_int_literal('1T')).toBe(1024 ** 4);
  });
  it('gives bigints beyond 2^53 and numbers up to it', () => {
    expect(parse_int_literal('0x0001_0000_4000_0000')).toBe(0x0001_0000_4000_0000);
    expect(parse_int_literal('0x1f_ffff_ffff_ffff')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parse_int_literal('0x20_0000_0000_0000')).toBe(0x20_0000_0000_0000n);
    expect(parse_int_literal('0x20_0000_0000_0001')).toBe(0x20_0000_0000_0001n);
    expect(parse_int_literal('0xffff_ffff_ffff_ffff')).toBe(0xffff_ffff_ffff_ffffn);
    expect(parse_int_literal('18446744073709551615')).toBe(0xffff_ffff_ffff_ffffn);
  });
  it('refuses what is not an integer literal', () => {
    for (const s of ['', 'x', '0x', '1__0', '_1', '1_', '0x_1', '1.5', '2MB', '0xg', 'K', '1e3', 'true']) {
      expect(parse_int_literal(s), s).toBeNull();
    }
  });
});
