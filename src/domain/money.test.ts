import { describe, expect, it } from 'vitest';
import { divRound, formatUsd, NANO_PER_USD, nanoToDecimalString, parseDecimal, perMTok, sumNano, usdToNano } from './money.ts';

describe('parseDecimal', () => {
  it.each([
    ['1', 9, 1_000_000_000n],
    ['0.0375', 9, 37_500_000n],
    ['3.00', 9, 3_000_000_000n],
    ['0.000000001', 9, 1n],
    ['0.1000000000', 9, 100_000_000n],
    ['00012', 0, 12n],
    [' 2 ', 0, 2n],
    ['0', 9, 0n],
    ['-0', 9, 0n],
    ['-0.5', 9, -500_000_000n],
    ['12.34', 2, 1234n],
    ['12345678901234567890.123456789', 9, 12_345_678_901_234_567_890_123_456_789n],
  ])('reads the string %j at scale %i exactly', (text, scale, expected) => {
    expect(parseDecimal(text, scale)).toBe(expected);
  });

  it.each([
    ['1e-7', 9, 100n],
    ['1E-7', 9, 100n],
    ['-1e-7', 9, -100n],
    ['1e-9', 9, 1n],
    ['1.5e3', 0, 1500n],
    ['1.5e3', 9, 1_500_000_000_000n],
    ['1.5E+3', 2, 150_000n],
    ['2.50e-1', 2, 25n],
    ['100e-11', 9, 1n],
    ['0e999999999', 9, 0n],
  ])('applies the exponent in %j at scale %i', (text, scale, expected) => {
    expect(parseDecimal(text, scale)).toBe(expected);
  });

  it.each([
    [0.0375, 9, 37_500_000n],
    [1e-7, 9, 100n],
    [3, 9, 3_000_000_000n],
    [-0.5, 9, -500_000_000n],
    [-0, 9, 0n],
    [1e21, 0, 1_000_000_000_000_000_000_000n],
    [1.5e21, 0, 1_500_000_000_000_000_000_000n],
    [9_007_199_254_740_991, 0, 9_007_199_254_740_991n],
  ])('reads the number %d as written, not as its binary value', (value, scale, expected) => {
    expect(parseDecimal(value, scale)).toBe(expected);
  });

  it('gives the same answer for a number and the string that writes it', () => {
    expect(parseDecimal(0.1, 9)).toBe(100_000_000n);
    expect(parseDecimal('0.1', 9)).toBe(100_000_000n);
  });

  it.each([
    ['0.0000000001', 9],
    ['1e-10', 9],
    ['1.001', 2],
    ['2.5e-1', 1],
    ['-0.125', 2],
  ])('refuses %j at scale %i because it would lose precision', (text, scale) => {
    expect(() => parseDecimal(text, scale)).toThrow(RangeError);
    expect(() => parseDecimal(text, scale)).toThrow(`more than ${scale} decimal places`);
  });

  it('refuses a float sum that is not the decimal it looks like', () => {
    // 0.1 + 0.2 is 0.30000000000000004: seventeen decimals.
    expect(() => parseDecimal(0.1 + 0.2, 9)).toThrow(/more than 9 decimal places/);
  });

  it.each(['', ' ', 'abc', '1.2.3', '.5', '5.', '+5', '1e', 'e5', '1,000', '$1', '0x10', 'NaN', 'Infinity', '1 000', '--1', '1e+-2', '١'])(
    'refuses the garbage string %j',
    (text) => {
      expect(() => parseDecimal(text, 9)).toThrow(/not a decimal number/);
    },
  );

  it.each([NaN, Infinity, -Infinity])('refuses the non-finite number %d', (value) => {
    expect(() => parseDecimal(value, 9)).toThrow(/not a finite number/);
  });

  it('refuses an absurd exponent at once instead of building a giant bigint', () => {
    const started = performance.now();
    expect(() => parseDecimal('1e999999999', 9)).toThrow(/out of range/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('still reads the largest finite double', () => {
    // 1.7976931348623157e308 at scale 0 is 17976931348623157 followed by 292 zeros.
    expect(parseDecimal(Number.MAX_VALUE, 0)).toBe(17_976_931_348_623_157n * 10n ** 292n);
  });
});

describe('usdToNano', () => {
  it.each([
    ['$1,234.50', 1_234_500_000_000n],
    ['1234.50', 1_234_500_000_000n],
    ['$1,234,567', 1_234_567_000_000_000n],
    ['1_000', 1_000_000_000_000n],
    ['$0.000000001', 1n],
    ['$12', 12_000_000_000n],
    [' $12 ', 12_000_000_000n],
    ['-$1,234.57', -1_234_570_000_000n],
    ['$-5', -5_000_000_000n],
    ['$0', 0n],
  ])('reads %j', (text, expected) => {
    expect(usdToNano(text)).toBe(expected);
  });

  it('reads numbers', () => {
    expect(usdToNano(12.5)).toBe(12_500_000_000n);
    expect(usdToNano(-0.01)).toBe(-10_000_000n);
  });

  it.each(['$1,50', '$12,34.5', '$1,2345', '1,,000', ',100', '$0.0000000001', '$', '', 'USD 5', '5 USD', '$$5', '1__000', '_1000', '€5'])(
    'refuses %j',
    (text) => {
      expect(() => usdToNano(text)).toThrow(RangeError);
    },
  );

  it('does not read a decimal comma as a thousands separator', () => {
    expect(() => usdToNano('$1,50')).toThrow(/commas must separate thousands/);
  });
});

describe('perMTok', () => {
  it('scales $/MTok to nano-USD per MTok', () => {
    expect(perMTok('3')).toBe(3_000_000_000n);
    expect(perMTok(0.0375)).toBe(37_500_000n);
    expect(perMTok('0.0375')).toBe(37_500_000n);
    expect(perMTok('1e-7')).toBe(100n);
  });
});

describe('divRound', () => {
  it.each([
    [4n, 2n, 2n],
    [5n, 2n, 3n],
    [-5n, 2n, -3n],
    [7n, 2n, 4n],
    [-7n, 2n, -4n],
    [14n, 10n, 1n],
    [15n, 10n, 2n],
    [-14n, 10n, -1n],
    [-15n, 10n, -2n],
    [16n, 10n, 2n],
    [-16n, 10n, -2n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
    [-1n, 3n, 0n],
    [-2n, 3n, -1n],
    [0n, 7n, 0n],
    [1n, 1n, 1n],
    [-9n, 1n, -9n],
  ])('%i / %i → %i (half away from zero)', (numerator, denominator, expected) => {
    expect(divRound(numerator, denominator)).toBe(expected);
  });

  it('is exact far beyond 2^53', () => {
    // (10^30 + 5·10^20) / 10^21 = 10^9 + 0.5 → 10^9 + 1
    expect(divRound(10n ** 30n + 5n * 10n ** 20n, 10n ** 21n)).toBe(1_000_000_001n);
    expect(divRound(-(10n ** 30n + 5n * 10n ** 20n), 10n ** 21n)).toBe(-1_000_000_001n);
    expect(divRound(10n ** 30n + 5n * 10n ** 20n - 1n, 10n ** 21n)).toBe(1_000_000_000n);
  });

  it('refuses a zero or negative denominator', () => {
    expect(() => divRound(1n, 0n)).toThrow(RangeError);
    expect(() => divRound(1n, -2n)).toThrow(/denominator must be positive/);
  });
});

describe('formatUsd', () => {
  it('shows cents by default', () => {
    expect(formatUsd(0n)).toBe('$0.00');
    expect(formatUsd(12_500_000_000n)).toBe('$12.50');
    expect(formatUsd(NANO_PER_USD)).toBe('$1.00');
  });

  it.each([
    [0, '$1,235'],
    [1, '$1,234.6'],
    [2, '$1,234.57'],
    [3, '$1,234.568'],
    [4, '$1,234.5679'],
    [5, '$1,234.56789'],
    [6, '$1,234.567891'],
    [7, '$1,234.5678912'],
    [8, '$1,234.56789123'],
    [9, '$1,234.567891234'],
  ])('formats $1234.567891234 with %i digits as %s', (digits, expected) => {
    expect(formatUsd(1_234_567_891_234n, digits)).toBe(expected);
  });

  it('rounds half away from zero', () => {
    expect(formatUsd(5_000_000n)).toBe('$0.01');
    expect(formatUsd(4_999_999n)).toBe('$0.00');
    expect(formatUsd(-5_000_000n)).toBe('-$0.01');
    expect(formatUsd(500_000_000n, 0)).toBe('$1');
    expect(formatUsd(-500_000_000n, 0)).toBe('-$1');
    expect(formatUsd(499_999_999n, 0)).toBe('$0');
  });

  it('never shows a negative zero', () => {
    expect(formatUsd(-4_999_999n)).toBe('$0.00');
    expect(formatUsd(-1n)).toBe('$0.00');
    expect(formatUsd(-1n, 8)).toBe('$0.00000000');
  });

  it('carries a rounding into the thousands', () => {
    expect(formatUsd(999_999_994_999_999n)).toBe('$999,999.99');
    expect(formatUsd(999_999_995_000_000n)).toBe('$1,000,000.00');
  });

  it.each([
    [123n, '$123.00'],
    [1_234n, '$1,234.00'],
    [12_345n, '$12,345.00'],
    [123_456n, '$123,456.00'],
    [1_000_000_000n, '$1,000,000,000.00'],
    [-1_234_567n, '-$1,234,567.00'],
  ])('groups thousands in $%i', (dollars, expected) => {
    expect(formatUsd(dollars * NANO_PER_USD)).toBe(expected);
  });

  it('shows the exact ledger value with 9 digits, negative too', () => {
    expect(formatUsd(-1n, 9)).toBe('-$0.000000001');
    expect(formatUsd(-1_234_567_891_234n, 9)).toBe('-$1,234.567891234');
  });

  it.each([-1, 10, 2.5, NaN])('refuses %d digits', (digits) => {
    expect(() => formatUsd(1n, digits)).toThrow(RangeError);
  });
});

describe('nanoToDecimalString', () => {
  it.each([
    [0n, '0.000000000'],
    [1n, '0.000000001'],
    [-1n, '-0.000000001'],
    [1_234_500_000_000n, '1234.500000000'],
    [-12_345_678_901n, '-12.345678901'],
    [10n ** 30n, '1000000000000000000000.000000000'],
  ])('writes %i as %s', (nano, expected) => {
    expect(nanoToDecimalString(nano)).toBe(expected);
  });

  it('round-trips through parseDecimal', () => {
    for (const nano of [0n, 1n, -1n, 37_500_000n, -12_345_678_901n, 10n ** 30n + 7n]) {
      expect(parseDecimal(nanoToDecimalString(nano), 9)).toBe(nano);
    }
  });
});

describe('sumNano', () => {
  it('sums exactly', () => {
    expect(sumNano([])).toBe(0n);
    expect(sumNano([1n, 2n, 3n])).toBe(6n);
    expect(sumNano([5n, -7n])).toBe(-2n);
    expect(sumNano([9_007_199_254_740_993n, 1n])).toBe(9_007_199_254_740_994n);
  });

  it('takes any iterable, once', () => {
    function* values(): Generator<bigint> {
      yield 10n;
      yield 20n;
      yield 30n;
    }
    expect(sumNano(values())).toBe(60n);
    expect(sumNano(new Set([100n, 200n]))).toBe(300n);
  });
});
