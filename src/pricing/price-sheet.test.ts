import { describe, expect, it } from 'vitest';
import { usage } from '../domain/usage.ts';
import { compileSheet, costNumerator, selectTier, toPerMTok } from './price-sheet.ts';

describe('compileSheet', () => {
  it('is cached per sheet object', () => {
    const prices = { input_mtok: 1, output_mtok: 2 };
    expect(compileSheet(prices)).toBe(compileSheet(prices));
  });

  it('falls back cache rates: 1h → cache_write → input; read → input; reasoning → output', () => {
    const r = compileSheet({ input_mtok: 2, cache_write_mtok: 2.5, output_mtok: 8 }).base.rates;
    expect(r).toEqual({
      input: 2_000_000_000n,
      cacheRead: 2_000_000_000n,
      cacheWrite5m: 2_500_000_000n,
      cacheWrite1h: 2_500_000_000n,
      output: 8_000_000_000n,
      reasoning: 8_000_000_000n,
      request: 0n,
    });
    expect(compileSheet({ input_mtok: 2, output_mtok: 8 }).base.rates.cacheWrite1h).toBe(2_000_000_000n);
  });

  it('gives each interval the tier each key has reached when keys have different thresholds', () => {
    const sheet = compileSheet({
      input_mtok: { base: 1, tiers: [{ start: 100, price: 2 }, { start: 300, price: 3 }] },
      output_mtok: { base: 10, tiers: [{ start: 200, price: 20 }] },
    });
    const at = (total: number) => {
      const t = selectTier(sheet, total);
      return [t.start, t.rates.input / 1_000_000_000n, t.rates.output / 1_000_000_000n];
    };
    expect(at(100)).toEqual([0, 1n, 10n]);
    expect(at(101)).toEqual([100, 2n, 10n]);
    expect(at(201)).toEqual([200, 2n, 20n]);
    expect(at(300)).toEqual([200, 2n, 20n]);
    expect(at(301)).toEqual([300, 3n, 20n]);
  });

  it('marks sheets that cannot price tokens; an empty sheet means free', () => {
    expect(compileSheet({ audio_hours: 0.36 }).pricesUsage).toBe(false);
    expect(compileSheet({}).pricesUsage).toBe(true);
    expect(compileSheet({ requests_kcount: 5 }).pricesUsage).toBe(true);
  });
});

describe('costNumerator', () => {
  it('is Σ tokens × nano/MTok, unrounded (nano-USD × 1e-6)', () => {
    const r = compileSheet({ input_mtok: 0.0375, output_mtok: 1, output_reasoning_mtok: 3, requests_kcount: 12 }).base.rates;
    // 3 × 37_500_000 + 5 × 1e9 + 2 × 3e9 + 1 × 12e12 (= $0.012 per request × 1e15)
    expect(costNumerator(r, usage({ inputTokens: 3, outputTokens: 7, reasoningTokens: 2 }))).toBe(
      112_500_000n + 5_000_000_000n + 6_000_000_000n + 12_000_000_000_000n,
    );
  });
});

describe('toPerMTok', () => {
  it('is exact to nine decimals and rounds float artefacts half away from zero', () => {
    expect(toPerMTok(0.0375)).toBe(37_500_000n);
    expect(toPerMTok('1e-7')).toBe(100n);
    expect(toPerMTok(0.18000000000000002)).toBe(180_000_000n);
    expect(toPerMTok(0.08333333333333334)).toBe(83_333_333n);
    expect(toPerMTok('0.0000000005')).toBe(1n);
  });
});
