import { describe, expect, it } from 'vitest';
import { calcPrice, findProvider } from '@pydantic/genai-prices';
import type { MatchLogic } from '@pydantic/genai-prices';
import { usage } from '../domain/usage.ts';
import type { Usage } from '../domain/usage.ts';
import { bundledCatalog } from './catalog.ts';
import { dashDateSuffix } from './match-logic.ts';
import { createPricer } from './pricer.ts';

const found = (provider: string, model: string) => {
  const m = bundledCatalog.find(provider, model);
  return m && `${m.providerId}/${m.model.id}`;
};

describe('bundledCatalog', () => {
  it('matches case-insensitively and ignores surrounding blanks', () => {
    expect(found(' OpenAI ', 'GPT-4o')).toBe('openai/gpt-4o');
  });

  it('retries a compact date suffix in dashed form', () => {
    expect(dashDateSuffix('gpt-4o-20240806')).toBe('gpt-4o-2024-08-06');
    expect(dashDateSuffix('model-20240231')).toBe('model-20240231'); // no 31 February
    expect(found('openai', 'gpt-4o-20240806')).toBe('openai/gpt-4o');
  });

  it("follows a provider's fallback providers (azure → openai)", () => {
    expect(findProvider({ providerId: 'azure' })?.fallback_model_providers).toContain('openai');
    expect(found('azure', 'gpt-4o')).toBe('openai/gpt-4o');
  });

  it('finds the provider by model name when the provider id is unknown', () => {
    expect(found('my-gateway', 'claude-haiku-4-5')).toBe('anthropic/claude-haiku-4-5');
    expect(found('my-gateway', 'totally-unknown-model')).toBeNull();
  });
});

/**
 * Whole-catalog cross-check against the library's own float calculator (not used for money):
 * same model, same dated/time-of-day sheet, same tiers and cache buckets, within float error.
 */
describe('parity with genai-prices calcPrice', () => {
  const usages: Usage[] = [
    usage({ inputTokens: 1200, cacheReadTokens: 3400, cacheWrite5mTokens: 560, cacheWrite1hTokens: 78, outputTokens: 900, reasoningTokens: 300 }),
    usage({ inputTokens: 150_000, cacheReadTokens: 60_000, cacheWrite5mTokens: 40_000, cacheWrite1hTokens: 30_000, outputTokens: 9000, reasoningTokens: 1000 }),
  ];
  const instants = ['2025-01-01T00:00:00Z', '2026-03-13T02:00:00Z', '2026-08-20T07:00:00Z', '2026-08-20T20:00:00Z', '2027-02-01T00:00:00Z'].map(Date.parse);
  const pricer = createPricer();

  it('agrees on every model that prices tokens', () => {
    const warn = console.warn; // the library warns about price keys its calculator does not use
    console.warn = () => undefined;
    let compared = 0;
    const mismatches: string[] = [];
    try {
      for (const provider of ['anthropic', 'openai', 'google', 'deepseek', 'x-ai', 'mistral', 'perplexity', 'openrouter', 'aws', 'azure']) {
        for (const model of findProvider({ providerId: provider })?.models ?? []) {
          const name = equalsName(model.match) ?? model.id;
          for (const u of usages) {
            for (const at of instants) {
              const ref = calcPrice(libraryUsage(u), name, { providerId: provider, timestamp: new Date(at) });
              const ours = pricer.price(provider, name, u, at);
              if (!ref || ours.source === 'unpriced') continue;
              compared++;
              const refNano = ref.total_price * 1e9;
              if (Math.abs(refNano - Number(ours.listNano)) > 1 + refNano * 1e-9) {
                mismatches.push(`${provider}/${name}@${new Date(at).toISOString()}: ${refNano} vs ${ours.listNano}`);
              }
            }
          }
        }
      }
    } finally {
      console.warn = warn;
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(5000);
  });
});

/** The library's usage keys are nested: input_tokens includes cache reads and writes. */
function libraryUsage(u: Usage): Record<string, number> {
  return {
    input_tokens: u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens,
    cache_read_tokens: u.cacheReadTokens,
    cache_write_tokens: u.cacheWrite5mTokens + u.cacheWrite1hTokens,
    cache_write_1h_tokens: u.cacheWrite1hTokens,
    output_tokens: u.outputTokens,
    output_reasoning_tokens: u.reasoningTokens,
  };
}

function equalsName(match: MatchLogic): string | undefined {
  return 'equals' in match ? match.equals : undefined;
}
