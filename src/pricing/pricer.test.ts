// Catalog pricing. Every expectation is worked out by hand from the bundled genai-prices rates.
// $x/MTok = x × 1000 nano-USD per token, e.g. $3/MTok = 3000 nano per token.
import { describe, expect, it } from 'vitest';
import { findProvider } from '@pydantic/genai-prices';
import { TollgateError } from '../domain/errors.ts';
import { usage } from '../domain/usage.ts';
import { bundledCatalog } from './catalog.ts';
import type { Catalog } from './catalog.ts';
import { pricingConfigSchema } from './config.ts';
import { createPricer } from './pricer.ts';

const AT = Date.UTC(2026, 5, 1); // 2026-06-01, after every dated change these tests rely on
const pricer = createPricer();

/** The raw catalog sheet, to pin the rates the hand arithmetic assumes. */
function rawPrices(provider: string, modelId: string): unknown {
  return findProvider({ providerId: provider })?.models.find((m) => m.id === modelId)?.prices;
}

describe('Anthropic prompt caching', () => {
  it('prices input, cache read, 5m write and 1h write each at its own rate, once', () => {
    expect(rawPrices('anthropic', 'claude-sonnet-4-5')).toMatchObject({
      input_mtok: { base: 3 },
      cache_read_mtok: { base: 0.3 },
      cache_write_mtok: { base: 3.75 },
      cache_write_1h_mtok: { base: 6 },
      output_mtok: { base: 15 },
    });
    const u = usage({ inputTokens: 1000, cacheReadTokens: 20_000, cacheWrite5mTokens: 4000, cacheWrite1hTokens: 2000, outputTokens: 500 });
    // input     1000 × 3000 nano =  3_000_000
    // read     20000 ×  300 nano =  6_000_000
    // write 5m  4000 × 3750 nano = 15_000_000
    // write 1h  2000 × 6000 nano = 12_000_000
    // output     500 × 15000 nano =  7_500_000
    // total (27_000 input tokens, base tier)  43_500_000 nano = $0.0435
    expect(pricer.price('anthropic', 'claude-sonnet-4-5-20250929', u, AT)).toEqual({
      listNano: 43_500_000n,
      effectiveNano: 43_500_000n,
      source: 'catalog',
      catalogModelId: 'claude-sonnet-4-5',
      provider: 'anthropic',
      discountBp: 0,
      tierStart: 0,
    });
  });
});

describe('OpenAI cached input', () => {
  it('gpt-4o: cached tokens at $1.25, the rest at $2.50', () => {
    expect(rawPrices('openai', 'gpt-4o')).toMatchObject({ input_mtok: 2.5, cache_read_mtok: 1.25, output_mtok: 10 });
    // 2000 × 2500 + 8000 × 1250 + 300 × 10000 = 5_000_000 + 10_000_000 + 3_000_000 = 18_000_000
    const q = pricer.price('openai', 'gpt-4o', usage({ inputTokens: 2000, cacheReadTokens: 8000, outputTokens: 300 }), AT);
    expect(q.listNano).toBe(18_000_000n);
  });

  it('gpt-4.1: cached tokens at $0.50', () => {
    expect(rawPrices('openai', 'gpt-4.1')).toMatchObject({ input_mtok: 2, cache_read_mtok: 0.5, output_mtok: 8 });
    // 10_000 × 2000 + 90_000 × 500 + 1000 × 8000 = 20_000_000 + 45_000_000 + 8_000_000 = 73_000_000
    const q = pricer.price('openai', 'gpt-4.1', usage({ inputTokens: 10_000, cacheReadTokens: 90_000, outputTokens: 1000 }), AT);
    expect(q.listNano).toBe(73_000_000n);
  });
});

describe('long-context tier (a cliff on total input > start)', () => {
  const sonnet = (u: Parameters<typeof usage>[0]) => pricer.price('anthropic', 'claude-sonnet-4-5', usage(u), AT);

  it('above 200k input tokens every token of each tiered key is at the tier price', () => {
    // 150_000 + 50_001 = 200_001 > 200_000: input $6, cache read $0.60, output $22.50
    // 150_000 × 6000 = 900_000_000; 50_001 × 600 = 30_000_600; 1000 × 22_500 = 22_500_000
    expect(sonnet({ inputTokens: 150_000, cacheReadTokens: 50_001, outputTokens: 1000 })).toMatchObject({
      listNano: 952_500_600n,
      tierStart: 200_000,
    });
  });

  it('at exactly 200k the base tier applies', () => {
    // 150_000 × 3000 = 450_000_000; 50_000 × 300 = 15_000_000; 1000 × 15_000 = 15_000_000
    expect(sonnet({ inputTokens: 150_000, cacheReadTokens: 50_000, outputTokens: 1000 })).toMatchObject({
      listNano: 480_000_000n,
      tierStart: 0,
    });
  });

  it('cache writes count toward the threshold', () => {
    // 199_000 + 1_001 = 200_001: 199_000 × 6000 = 1_194_000_000; 1001 × 12_000 (1h write tier) = 12_012_000
    expect(sonnet({ inputTokens: 199_000, cacheWrite1hTokens: 1001 })).toMatchObject({ listNano: 1_206_012_000n, tierStart: 200_000 });
  });
});

describe('dated catalog price change', () => {
  it('claude-opus-4-6 drops its long-context tier from 2026-03-13', () => {
    const prices = rawPrices('anthropic', 'claude-opus-4-6');
    expect(prices).toMatchObject([
      { prices: { input_mtok: { base: 5, tiers: [{ start: 200_000, price: 10 }] }, output_mtok: { tiers: [{ price: 37.5 }] } } },
      { constraint: { type: 'start_date', start_date: '2026-03-13' }, prices: { input_mtok: 5, output_mtok: 25 } },
    ]);
    const u = usage({ inputTokens: 300_000, outputTokens: 10_000 });
    // before: 300_000 × 10_000 + 10_000 × 37_500 = 3_000_000_000 + 375_000_000
    expect(pricer.price('anthropic', 'claude-opus-4-6', u, Date.parse('2026-03-12T23:59:59.999Z'))).toMatchObject({
      listNano: 3_375_000_000n,
      tierStart: 200_000,
    });
    // from: 300_000 × 5000 + 10_000 × 25_000 = 1_500_000_000 + 250_000_000
    expect(pricer.price('anthropic', 'claude-opus-4-6', u, new Date('2026-03-13T00:00:00Z'))).toMatchObject({
      listNano: 1_750_000_000n,
      tierStart: 0,
    });
  });

  it('o3 went from $10/$40 to $2/$8 on 2025-06-10', () => {
    const u = usage({ inputTokens: 1000, outputTokens: 100 });
    // 1000 × 10_000 + 100 × 40_000 = 14_000_000; then 1000 × 2000 + 100 × 8000 = 2_800_000
    expect(pricer.price('openai', 'o3', u, Date.parse('2025-06-09T12:00:00Z')).listNano).toBe(14_000_000n);
    expect(pricer.price('openai', 'o3', u, Date.parse('2025-06-10T00:00:00Z')).listNano).toBe(2_800_000n);
  });
});

describe('reasoning tokens', () => {
  it('are part of output, billed once at the output rate when no reasoning rate exists', () => {
    // o3 output $8: 1000 output tokens (800 of them reasoning) × 8000 = 8_000_000, not 1800 × 8000
    const q = pricer.price('openai', 'o3', usage({ outputTokens: 1000, reasoningTokens: 800 }), AT);
    expect(q.listNano).toBe(8_000_000n);
  });

  it('use output_reasoning_mtok where the catalog has one', () => {
    expect(rawPrices('perplexity', 'sonar-deep-research')).toMatchObject({ input_mtok: 2, output_mtok: 8, output_reasoning_mtok: 3 });
    // input 100 × 2000 = 200_000; plain output 200 × 8000 = 1_600_000; reasoning 800 × 3000 = 2_400_000
    const q = pricer.price('perplexity', 'sonar-deep-research', usage({ inputTokens: 100, outputTokens: 1000, reasoningTokens: 800 }), AT);
    expect(q.listNano).toBe(4_200_000n);
  });
});

describe('per-request fee', () => {
  it('perplexity sonar charges $12 per 1000 requests on top of tokens', () => {
    expect(rawPrices('perplexity', 'sonar')).toMatchObject({ input_mtok: 1, output_mtok: 1, requests_kcount: 12 });
    // 500 × 1000 + 250 × 1000 = 750_000; one request = $0.012 = 12_000_000
    expect(pricer.price('perplexity', 'sonar', usage({ inputTokens: 500, outputTokens: 250 }), AT).listNano).toBe(12_750_000n);
    // three requests: 36_000_000 + 750_000
    expect(pricer.price('perplexity', 'sonar', usage({ inputTokens: 500, outputTokens: 250, requests: 3 }), AT).listNano).toBe(36_750_000n);
  });
});

describe('rounding', () => {
  it('rounds half away from zero once, at the end ($0.0375/MTok = 37.5 nano per token)', () => {
    expect(rawPrices('google', 'gemini-flash-1.5-8b')).toMatchObject({ input_mtok: { base: 0.0375 } });
    const flash = (n: number) => pricer.price('google', 'gemini-flash-1.5-8b', usage({ inputTokens: n }), AT).listNano;
    expect(flash(1)).toBe(38n); // 37.5 → 38
    expect(flash(2)).toBe(75n); // exact
    expect(flash(3)).toBe(113n); // 112.5 → 113
    expect(flash(1001)).toBe(37_538n); // 37_537.5 → 37_538
  });

  it('rounds a float artefact in the catalog to the nano per MTok', () => {
    // openrouter lists cache_write_mtok as 0.08333333333333334 (1/12): 83_333_333 nano per MTok
    expect(rawPrices('openrouter', 'google/gemini-2.5-flash-lite')).toMatchObject({ cache_write_mtok: 0.08333333333333334 });
    const q = pricer.price('openrouter', 'google/gemini-2.5-flash-lite', usage({ cacheWrite5mTokens: 1_000_000 }), AT);
    expect(q.listNano).toBe(83_333_333n);
  });
});

describe('unknown models', () => {
  const u = usage({ inputTokens: 1000, outputTokens: 100 });

  it('are unpriced without a fallback: zero, flagged, never a silent $0 catalog price', () => {
    expect(pricer.price('acme', 'totally-unknown-model', u, AT)).toEqual({
      listNano: 0n,
      effectiveNano: 0n,
      source: 'unpriced',
      catalogModelId: null,
      provider: 'acme',
      discountBp: 0,
      tierStart: 0,
    });
    expect(pricer.price('openai', 'gpt-nonexistent-9', u, AT).source).toBe('unpriced');
  });

  it('use the fallback price when configured', () => {
    const withFallback = createPricer(pricingConfigSchema.parse({ fallback: { input_mtok: 10, output_mtok: 30 } }));
    // 1000 × 10_000 + 100 × 30_000 = 10_000_000 + 3_000_000
    expect(withFallback.price('acme', 'totally-unknown-model', u, AT)).toMatchObject({
      listNano: 13_000_000n,
      source: 'fallback',
      catalogModelId: null,
    });
  });

  it('a catalog model priced only per audio hour cannot price tokens: unpriced', () => {
    expect(rawPrices('openai', 'whisper-1')).toEqual({ audio_hours: 0.36, input_audio_hours: 0.36 });
    expect(pricer.price('openai', 'whisper-1', u, AT).source).toBe('unpriced');
  });
});

describe('input checks', () => {
  it('rejects reasoning beyond output and a bad timestamp', () => {
    expect(() => pricer.price('openai', 'o3', usage({ outputTokens: 1, reasoningTokens: 2 }), AT)).toThrow(TollgateError);
    expect(() => pricer.price('openai', 'o3', usage({ inputTokens: -1 }), AT)).toThrow(/inputTokens must be a non-negative integer/);
    expect(() => pricer.price('openai', 'o3', usage({}), new Date('nope'))).toThrow(/invalid pricing timestamp/);
  });
});

describe('memoised resolution', () => {
  it('resolves each (provider, model) once, unknown ones included', () => {
    const asked: string[] = [];
    const counting: Catalog = {
      find(provider, model) {
        asked.push(`${provider}/${model}`);
        return bundledCatalog.find(provider, model);
      },
    };
    const p = createPricer(undefined, { catalog: counting });
    for (let i = 0; i < 5; i++) {
      p.price('openai', 'gpt-4o', usage({ inputTokens: i }), AT + i);
      p.price('anthropic', 'claude-opus-4-6', usage({ inputTokens: i }), Date.UTC(2026, 0, 1) + i * 86_400_000 * 30);
      p.price('acme', 'mystery', usage({ inputTokens: i }), AT);
    }
    expect(asked).toEqual(['openai/gpt-4o', 'anthropic/claude-opus-4-6', 'acme/mystery']);
  });

  it('drops the oldest pair beyond maxResolutions', () => {
    let calls = 0;
    const p = createPricer(undefined, { catalog: { find: () => (calls++, null) }, maxResolutions: 2 });
    for (const m of ['a', 'b', 'c', 'a']) p.price('x', m, usage({}), AT);
    // a, b, c resolved; c evicts a; a again is resolved anew
    expect(calls).toBe(4);
  });
});

describe('bundled data only', () => {
  it('never reaches for the network, cold or hot', () => {
    const original = globalThis.fetch;
    let calls = 0;
    globalThis.fetch = (() => {
      calls++;
      return Promise.reject(new Error('no network'));
    });
    try {
      const fresh = createPricer();
      fresh.price('anthropic', 'claude-haiku-4-5', usage({ inputTokens: 10 }), AT);
      fresh.price('acme', 'mystery-model', usage({ inputTokens: 10 }), AT);
    } finally {
      globalThis.fetch = original;
    }
    expect(calls).toBe(0);
  });
});
