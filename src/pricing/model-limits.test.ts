import { describe, expect, it } from 'vitest';
import { findProvider } from '@pydantic/genai-prices';
import { pricingConfigSchema } from './config.ts';
import { createPricer } from './pricer.ts';

const window = (provider: string, id: string) => findProvider({ providerId: provider })?.models.find((m) => m.id === id)?.context_window;

describe('Pricer.limits', () => {
  const pricer = createPricer();

  it("is the catalog's context window, found as prices are (snapshot names, fallback providers)", () => {
    expect(window('openai', 'gpt-4o')).toBe(128_000);
    expect(pricer.limits('openai', 'gpt-4o-2024-08-06')).toEqual({ contextWindow: 128_000 });
    expect(pricer.limits('azure', 'gpt-4o')).toEqual({ contextWindow: 128_000 });
  });

  it('is null for an unknown model, and where the catalog prices a tier the window would forbid', () => {
    expect(pricer.limits('acme', 'mystery')).toEqual({ contextWindow: null });
    // claude-sonnet-4-5 is listed at 200k beside a >200k tier (its 1M-context beta).
    expect(window('anthropic', 'claude-sonnet-4-5')).toBe(200_000);
    expect(pricer.limits('anthropic', 'claude-sonnet-4-5-20250929')).toEqual({ contextWindow: null });
    expect(pricer.limits('anthropic', 'claude-opus-4-6')).toEqual({ contextWindow: 1_000_000 });
  });

  it("takes a custom model's context_window (the largest of its dated entries), else the catalog's", () => {
    const p = createPricer(
      pricingConfigSchema.parse({
        custom_models: [
          { provider: 'vllm', model: 'llama-ft', prices: { input_mtok: 1, output_mtok: 2 }, context_window: 8192 },
          { provider: 'vllm', model: 'llama-ft', from: '2026-01-01', prices: { input_mtok: 1, output_mtok: 2 }, context_window: 32_768 },
          { provider: 'openai', model: 'gpt-4o', prices: { input_mtok: 2, output_mtok: 8 } },
        ],
      }),
    );
    expect(p.limits('VLLM', 'Llama-FT')).toEqual({ contextWindow: 32_768 });
    expect(p.limits('openai', 'gpt-4o')).toEqual({ contextWindow: 128_000 });
  });

  it('rejects a context_window that is not a positive integer', () => {
    const entry = (w: unknown) => ({ custom_models: [{ provider: 'x', model: 'y', prices: { input_mtok: 1, output_mtok: 1 }, context_window: w }] });
    expect(pricingConfigSchema.safeParse(entry(0)).success).toBe(false);
    expect(pricingConfigSchema.safeParse(entry(1.5)).success).toBe(false);
    expect(pricingConfigSchema.safeParse(entry('8k')).success).toBe(false);
  });
});
