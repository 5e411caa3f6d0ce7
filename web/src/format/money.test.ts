import { describe, expect, it } from 'vitest';
import { compareUsd, formatCount, formatPct, formatUsd, formatUsdAxis, formatUsdChange, formatUsdExact, nanoToUsd, usdToNano } from './money.ts';

describe('formatUsd', () => {
  it('shows cents from a cent up, with grouping', () => {
    expect(formatUsd('1234.567891234')).toBe('$1,234.57');
    expect(formatUsd('0.393112653')).toBe('$0.39');
    expect(formatUsd('12000.000000000')).toBe('$12,000.00');
    expect(formatUsd('0.01')).toBe('$0.01');
  });

  it('keeps two significant digits below a cent so small unit costs do not read as zero', () => {
    expect(formatUsd('0.0042')).toBe('$0.0042');
    expect(formatUsd('0.004249')).toBe('$0.0042');
    expect(formatUsd('0.000000001')).toBe('$0.0000000010');
  });

  it('formats the decimal string itself, not a float of it', () => {
    // 2^53 + 1 dollars: a float would print ...992.
    expect(formatUsd('9007199254740993.000000000')).toBe('$9,007,199,254,740,993.00');
    expect(formatUsdExact('9007199254740993.000000001')).toBe('$9,007,199,254,740,993.000000001');
  });

  it('handles zero, negatives and junk', () => {
    expect(formatUsd('0.000000000')).toBe('$0.00');
    expect(formatUsd('-2.753368500')).toBe('-$2.75');
    expect(formatUsd('-0.000000000')).toBe('$0.00');
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd('12.3e4')).toBe('—');
    expect(formatUsd('')).toBe('—');
  });
});

describe('formatUsdExact', () => {
  it('shows every digit the API gave, at least two decimals', () => {
    expect(formatUsdExact('1176.586169550')).toBe('$1,176.58616955');
    expect(formatUsdExact('5.000000000')).toBe('$5.00');
  });
});

describe('formatUsdChange', () => {
  it('signs the change', () => {
    expect(formatUsdChange('137.0931332')).toBe('+$137.09');
    expect(formatUsdChange('-2.7533685')).toBe('−$2.75');
    expect(formatUsdChange('0.000000000')).toBe('$0.00');
  });
});

describe('nano-USD', () => {
  it('round-trips decimal strings exactly', () => {
    expect(usdToNano('1176.586169550')).toBe(1176586169550n);
    expect(usdToNano('-0.5')).toBe(-500000000n);
    expect(nanoToUsd(1176586169550n)).toBe('1176.586169550');
    expect(nanoToUsd(-500000000n)).toBe('-0.500000000');
    expect(nanoToUsd(usdToNano('0.1') + usdToNano('0.2'))).toBe('0.300000000');
  });

  it('compares amounts exactly', () => {
    expect(compareUsd('0.300000001', '0.3')).toBe(1);
    expect(compareUsd('2', '10')).toBe(-1);
    expect(compareUsd('1.0', '1.000000000')).toBe(0);
  });
});

describe('axis, percent and counts', () => {
  it('abbreviates axis values with units', () => {
    expect(formatUsdAxis(12300)).toBe('$12.3k');
    expect(formatUsdAxis(1_200_000)).toBe('$1.2M');
    expect(formatUsdAxis(0.05)).toBe('$0.05');
    expect(formatUsdAxis(0)).toBe('$0');
  });

  it('formats percentages and exact counts', () => {
    expect(formatPct(13.19)).toBe('13.2%');
    expect(formatPct(13.19, { signed: true })).toBe('+13.2%');
    expect(formatPct(-2.24, { signed: true })).toBe('−2.2%');
    expect(formatPct(null)).toBe('—');
    expect(formatCount('27613304')).toBe('27,613,304');
    expect(formatCount('90071992547409931')).toBe('90,071,992,547,409,931');
  });
});
