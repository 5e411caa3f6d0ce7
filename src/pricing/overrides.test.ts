// Config overrides: custom model prices and negotiated discounts. Hand-computed expectations;
// $x/MTok = x × 1000 nano-USD per token.
import { describe, expect, it } from 'vitest';
import { usage } from '../domain/usage.ts';
import { pricingConfigSchema } from './config.ts';
import type { PricingConfigInput } from './config.ts';
import { createPricer } from './pricer.ts';

const pricerWith = (cfg: PricingConfigInput) => createPricer(pricingConfigSchema.parse(cfg));

describe('custom models', () => {
  const p = pricerWith({
    custom_models: [
      { provider: 'vllm', model: 'llama-3.1-70b-ft', from: '2026-01-01', prices: { input_mtok: 0.2, output_mtok: 0.6, cache_read_mtok: 0.05 } },
      { provider: 'vllm', model: 'llama-3.1-70b-ft', from: '2026-06-01', prices: { input_mtok: 0.1, output_mtok: 0.3 } },
      { provider: 'anthropic', model: 'claude-haiku-4-5', from: '2026-02-01', prices: { input_mtok: 0.8, output_mtok: 4 } },
      { provider: 'vllm', model: 'metered', prices: { input_mtok: 0, output_mtok: 0, requests_kcount: '0.5' } },
    ],
  });
  const u = usage({ inputTokens: 1_000_000, cacheReadTokens: 200_000, outputTokens: 500_000 });

  it('apply the dated price in force', () => {
    // from 2026-01-01: 1_000_000 × 200 + 200_000 × 50 + 500_000 × 600 = 200_000_000 + 10_000_000 + 300_000_000
    expect(p.price('vllm', 'llama-3.1-70b-ft', u, Date.parse('2026-05-31T23:59:59Z'))).toMatchObject({
      listNano: 510_000_000n,
      source: 'custom',
      catalogModelId: 'llama-3.1-70b-ft',
      provider: 'vllm',
    });
    // from 2026-06-01 (no cache_read price: input rate): 1_000_000 × 100 + 200_000 × 100 + 500_000 × 300
    //   = 100_000_000 + 20_000_000 + 150_000_000
    expect(p.price('VLLM', 'Llama-3.1-70B-ft', u, Date.parse('2026-06-01T00:00:00Z')).listNano).toBe(270_000_000n);
  });

  it('before the first date the model is unknown', () => {
    expect(p.price('vllm', 'llama-3.1-70b-ft', u, Date.parse('2025-12-31T23:59:59Z')).source).toBe('unpriced');
  });

  it('override the catalog from their date', () => {
    const small = usage({ inputTokens: 10_000, outputTokens: 1000 });
    // catalog ($1/$5): 10_000 × 1000 + 1000 × 5000 = 15_000_000
    expect(p.price('anthropic', 'claude-haiku-4-5', small, Date.UTC(2026, 0, 31))).toMatchObject({ listNano: 15_000_000n, source: 'catalog' });
    // custom ($0.80/$4): 10_000 × 800 + 1000 × 4000 = 12_000_000
    expect(p.price('anthropic', 'claude-haiku-4-5', small, Date.UTC(2026, 1, 1))).toMatchObject({ listNano: 12_000_000n, source: 'custom' });
  });

  it('can charge per request', () => {
    // $0.5 per 1000 requests = 500_000 nano per request; 2 requests
    expect(p.price('vllm', 'metered', usage({ inputTokens: 99, requests: 2 }), Date.UTC(2020, 0, 1)).listNano).toBe(1_000_000n);
  });
});

describe('negotiated discounts', () => {
  const haiku = usage({ inputTokens: 1234, outputTokens: 567 });
  // list: 1234 × 1000 + 567 × 5000 = 1_234_000 + 2_835_000 = 4_069_000

  it('20% off a whole provider inside its window', () => {
    const p = pricerWith({ discounts: [{ provider: 'anthropic', percent: 20, from: '2026-01-01', until: '2027-01-01' }] });
    // effective: 4_069_000 × 0.8 = 3_255_200
    expect(p.price('anthropic', 'claude-haiku-4-5', haiku, Date.UTC(2026, 0, 1))).toMatchObject({
      listNano: 4_069_000n,
      effectiveNano: 3_255_200n,
      discountBp: 2000,
    });
    // outside [from, until): list price, no discount recorded
    for (const at of [Date.parse('2025-12-31T23:59:59.999Z'), Date.parse('2027-01-01T00:00:00Z')]) {
      expect(p.price('anthropic', 'claude-haiku-4-5', haiku, at)).toMatchObject({ effectiveNano: 4_069_000n, discountBp: 0 });
    }
  });

  it('the most specific discount wins and they do not stack', () => {
    const p = pricerWith({
      discounts: [
        { provider: 'openai', percent: 10, from: '2026-01-01' },
        { provider: 'openai', model: 'gpt-4o*', percent: 12.5, from: '2026-01-01', until: '2027-01-01' },
        { provider: 'openai', model: 'gpt-4o-mini', percent: 30, from: '2026-01-01' },
      ],
    });
    const u = usage({ inputTokens: 1000, outputTokens: 100 });
    const at = Date.UTC(2026, 5, 1);
    // gpt-4o: 1000 × 2500 + 100 × 10_000 = 3_500_000; × 0.875 = 3_062_500
    expect(p.price('openai', 'gpt-4o', u, at)).toMatchObject({ listNano: 3_500_000n, effectiveNano: 3_062_500n, discountBp: 1250 });
    expect(p.price('openai', 'gpt-4o-mini', u, at).discountBp).toBe(3000);
    expect(p.price('openai', 'gpt-4.1', u, at).discountBp).toBe(1000);
    // the glob's window has closed: the provider-wide discount is the one in force
    expect(p.price('openai', 'gpt-4o', u, Date.UTC(2027, 1, 1)).discountBp).toBe(1000);
    // the glob also matches a dated snapshot through its catalog id
    expect(p.price('openai', 'gpt-4o-2024-08-06', u, at).discountBp).toBe(1250);
  });

  it('effective cost is rounded once from the unrounded cost', () => {
    const p = pricerWith({
      custom_models: [{ provider: 'vllm', model: 'tiny', prices: { input_mtok: 0.0375, output_mtok: 0 } }],
      discounts: [{ provider: 'vllm', percent: 1, from: '2020-01-01' }],
    });
    // one token: 37.5 nano → list 38; effective 37.5 × 0.99 = 37.125 → 37 (rounding 38 again would give 37.62 → 38)
    expect(p.price('vllm', 'tiny', usage({ inputTokens: 1 }), Date.UTC(2026, 0, 1))).toMatchObject({ listNano: 38n, effectiveNano: 37n });
  });

  it('applies to fallback prices of the provider too', () => {
    const p = pricerWith({ fallback: { input_mtok: 10, output_mtok: 30 }, discounts: [{ provider: 'acme', percent: 50, from: '2026-01-01' }] });
    // 1000 × 10_000 = 10_000_000; half = 5_000_000
    expect(p.price('acme', 'x', usage({ inputTokens: 1000 }), Date.UTC(2026, 0, 2))).toMatchObject({
      listNano: 10_000_000n,
      effectiveNano: 5_000_000n,
      source: 'fallback',
    });
  });
});
