// The cost bound against the bundled catalog. $x/MTok = x × 1000 nano-USD per token.
import { describe, expect, it } from 'vitest';
import { findProvider } from '@pydantic/genai-prices';
import { seededRandom } from '../domain/seeded-random.ts';
import { usage } from '../domain/usage.ts';
import { createPricer, pricingConfigSchema } from '../pricing/index.ts';
import type { Pricer } from '../pricing/index.ts';
import { compileSheet } from '../pricing/price-sheet.ts';
import type { Rates } from '../pricing/price-sheet.ts';
import type { ApiRoute } from '../providers/index.ts';
import { costBound, DEFAULT_CONTEXT_WINDOW, largestFittingMaxTokens } from './cost-bound.ts';

const AT = Date.UTC(2026, 5, 1);
const pricer = createPricer();
const OPENAI_OVERHEAD = 500;
const ANTHROPIC_OVERHEAD = 500;

const bytesOf = (body: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(body));

function bound(provider: string, route: ApiRoute, body: Record<string, unknown>, p: Pricer = pricer, at = AT) {
  const bytes = bytesOf(body);
  return { bytes, ...costBound(p, provider, String(body.model), route, body, bytes, at) };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Summarise the plot of Hamlet.' }], ...extra });

describe('costBound', () => {
  it('chat: input at the dearest input rate, output from max_tokens', () => {
    // gpt-4o: input $2.50 (cache writes fall back to it), cache read $1.25, output $10
    const b = bound('openai', 'openai.chat', chat({ max_tokens: 100 }));
    const input = b.bytes + OPENAI_OVERHEAD;
    expect(b).toMatchObject({ inputTokens: input, outputTokens: 100, outputFromRequest: true });
    expect(b.costNano).toBe(BigInt(input) * 2500n + 100n * 10_000n);
    expect(b.listNano).toBe(b.costNano);
  });

  it('chat without max_tokens: output up to the context window, times n', () => {
    expect(bound('openai', 'openai.chat', chat())).toMatchObject({ outputTokens: 128_000, outputFromRequest: false });
    expect(bound('openai', 'openai.chat', chat({ n: 3 }))).toMatchObject({ outputTokens: 3 * 128_000 });
    expect(bound('openai', 'openai.chat', chat({ n: 3, max_completion_tokens: 100 })).outputTokens).toBe(300);
    // A max_tokens above the window cannot be reached.
    expect(bound('openai', 'openai.chat', chat({ max_tokens: 10_000_000 }))).toMatchObject({ outputTokens: 128_000, outputFromRequest: true });
  });

  it('caps input at the context window', () => {
    const b = bound('openai', 'openai.chat', chat({ max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(300_000) }] }));
    expect(b.inputTokens).toBe(128_000);
  });

  it('images by URL add their maximum; inline data is swapped for it', () => {
    const part = (url: string) => chat({ max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] });
    const byUrl = bound('openai', 'openai.chat', part('https://example.com/a.png'));
    expect(byUrl.inputTokens).toBe(byUrl.bytes + 50_000 + OPENAI_OVERHEAD);
    const data = `data:image/jpeg;base64,${'/9j/'.repeat(100_000)}`;
    const inline = bound('openai', 'openai.chat', part(data));
    expect(inline.inputTokens).toBe(inline.bytes - data.length + 50_000 + OPENAI_OVERHEAD);
  });

  it('responses: previous_response_id bounds input by the context window', () => {
    const b = bound('openai', 'openai.responses', { model: 'gpt-5', input: 'and then?', previous_response_id: 'resp_1', max_output_tokens: 500 });
    // gpt-5: 400k window; input $1.25, output $10
    expect(b).toMatchObject({ inputTokens: 400_000, outputTokens: 500, outputFromRequest: true });
    expect(b.costNano).toBe(400_000n * 1250n + 500n * 10_000n);
  });

  it('embeddings: no output, input not capped by one window', () => {
    const input = Array.from({ length: 10 }, () => 'lorem ipsum '.repeat(300));
    const b = bound('openai', 'openai.embeddings', { model: 'text-embedding-3-small', input });
    expect(b.bytes).toBeGreaterThan(8192); // the model's window, per input
    expect(b).toMatchObject({ inputTokens: b.bytes, outputTokens: 0, outputFromRequest: false });
    expect(b.costNano).toBe(BigInt(b.bytes) * 20n); // $0.02
  });

  it('anthropic: input priced as a 1-hour cache write, the dearest bucket', () => {
    // claude-haiku-4-5: input $1, 5m write $1.25, 1h write $2, read $0.10, output $5; window 200k
    const body = { model: 'claude-haiku-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Hi' }] };
    const b = bound('anthropic', 'anthropic.messages', body);
    const input = b.bytes + ANTHROPIC_OVERHEAD;
    expect(b).toMatchObject({ inputTokens: input, outputTokens: 1000 });
    expect(b.costNano).toBe(BigInt(input) * 2000n + 1000n * 5000n);
  });

  it('anthropic server tools: a context window per loop turn', () => {
    const body = { model: 'claude-haiku-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'News?' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
    expect(bound('anthropic', 'anthropic.messages', body).inputTokens).toBe(10 * 200_000);
  });

  it('an absurd request bounds at the largest count ever billed instead of overflowing', () => {
    const b = bound('openai', 'openai.chat', chat({ n: 2 ** 50 }));
    expect(b.outputTokens).toBe(1_000_000_000);
    expect(b.costNano).toBe(BigInt(b.inputTokens) * 2500n + 1_000_000_000n * 10_000n);
  });

  it('an unknown model is unpriced: bound cost 0, tokens still bounded by the default window', () => {
    const b = bound('acme', 'openai.chat', chat({ model: 'mystery-model' }));
    expect(b).toMatchObject({ costNano: 0n, listNano: 0n, outputTokens: DEFAULT_CONTEXT_WINDOW, outputFromRequest: false });
  });

  it("a custom model's context_window bounds its output; the discount lowers the effective bound only", () => {
    const p = createPricer(
      pricingConfigSchema.parse({
        custom_models: [{ provider: 'vllm', model: 'llama-ft', prices: { input_mtok: 1, output_mtok: 2 }, context_window: 32_768 }],
        discounts: [{ provider: 'vllm', percent: 25, from: '2026-01-01' }],
      }),
    );
    const b = bound('vllm', 'openai.chat', chat({ model: 'llama-ft' }), p);
    expect(b.outputTokens).toBe(32_768);
    expect(b.listNano).toBe(BigInt(b.inputTokens) * 1000n + 32_768n * 2000n);
    expect(b.costNano).toBe((b.listNano * 3n) / 4n);
  });
});

describe('the bound covers every usage the call can report', () => {
  const config = pricingConfigSchema.parse({
    // Reasoning dearer than output, and 1h writes dearer than 5m: the bound must find both.
    custom_models: [
      {
        provider: 'vllm',
        model: 'odd-prices',
        prices: { input_mtok: 1, output_mtok: 2, cache_read_mtok: 0.5, cache_write_mtok: 3, cache_write_1h_mtok: 4, output_reasoning_mtok: 5, requests_kcount: 7 },
        context_window: 300_000,
      },
    ],
    discounts: [{ provider: 'anthropic', percent: 12.5, from: '2026-01-01' }],
  });
  const p = createPricer(config);
  const cases: { provider: string; model: string; route: ApiRoute; at: number }[] = [
    { provider: 'anthropic', model: 'claude-sonnet-4-5', route: 'anthropic.messages', at: AT }, // >200k tier, 1h writes
    { provider: 'anthropic', model: 'claude-opus-4-6', route: 'anthropic.messages', at: Date.UTC(2026, 1, 1) }, // tiered before 2026-03-13
    { provider: 'openai', model: 'gpt-5.4', route: 'openai.responses', at: AT }, // >271,999 tier
    { provider: 'google', model: 'gemini-1.5-pro', route: 'openai.chat', at: AT }, // >128k tier
    { provider: 'perplexity', model: 'sonar-deep-research', route: 'openai.chat', at: AT }, // reasoning cheaper than output
    { provider: 'vllm', model: 'odd-prices', route: 'openai.chat', at: AT },
  ];
  const sizes = [50, 20_000, 150_000, 260_000, 300_000];

  for (const c of cases) {
    it(`${c.provider}/${c.model}`, () => {
      const random = seededRandom(42);
      const int = (max: number) => Math.floor(random() * (max + 1));
      for (const size of sizes) {
        const maxField = c.route === 'openai.responses' ? 'max_output_tokens' : 'max_tokens';
        const body = { model: c.model, [maxField]: 4000, messages: [{ role: 'user', content: 'w'.repeat(size) }] };
        const b = costBound(p, c.provider, c.model, c.route, body, bytesOf(body), c.at);
        const check = (u: ReturnType<typeof usage>) => {
          const q = p.price(c.provider, c.model, u, c.at);
          expect(q.effectiveNano).toBeLessThanOrEqual(b.costNano);
          expect(q.listNano).toBeLessThanOrEqual(b.listNano);
        };
        for (let i = 0; i < 300; i++) {
          // Any split of any input up to the bound over the four buckets, any output, any reasoning share.
          const total = i % 3 === 0 ? b.inputTokens : int(b.inputTokens);
          const cut = [int(total), int(total), int(total)].sort((x, y) => x - y) as [number, number, number];
          const output = i % 5 === 0 ? b.outputTokens : int(b.outputTokens);
          check(
            usage({
              inputTokens: cut[0],
              cacheReadTokens: cut[1] - cut[0],
              cacheWrite5mTokens: cut[2] - cut[1],
              cacheWrite1hTokens: total - cut[2],
              outputTokens: output,
              reasoningTokens: i % 7 === 0 ? output : int(output),
            }),
          );
        }
        // Every vertex, and each one just below a tier threshold.
        for (const bucket of ['inputTokens', 'cacheReadTokens', 'cacheWrite5mTokens', 'cacheWrite1hTokens'] as const) {
          for (const reasoning of [0, b.outputTokens]) {
            for (const total of [b.inputTokens, Math.min(b.inputTokens, 200_000), Math.min(b.inputTokens, 128_000)]) {
              check(usage({ [bucket]: total, outputTokens: b.outputTokens, reasoningTokens: reasoning }));
            }
          }
        }
      }
    });
  }

  it('every catalog tier charges at least the tier below it, bucket by bucket (what pricing the input bound relies on)', () => {
    const ids =
      'anthropic arcee avian aws azure baseten cerebras cloudflare cohere cursor deepseek doubleword fireworks github-copilot google groq minimax mistral modal moonshotai novita openai openrouter ovhcloud perplexity quicksilverpro together typesafe voyageai x-ai zai zhipuai';
    const keys: (keyof Rates)[] = ['input', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h', 'output', 'reasoning', 'request'];
    let tiered = 0;
    for (const id of ids.split(' ')) {
      for (const model of findProvider({ providerId: id })?.models ?? []) {
        for (const prices of Array.isArray(model.prices) ? model.prices.map((e) => e.prices) : [model.prices]) {
          const sheet = compileSheet(prices);
          const tiers = [sheet.base, ...[...sheet.longContext].reverse()];
          for (let i = 1; i < tiers.length; i++) {
            tiered++;
            for (const k of keys) expect(tiers[i]!.rates[k] >= tiers[i - 1]!.rates[k], `${id}/${model.id} ${k}`).toBe(true);
          }
        }
      }
    }
    expect(tiered).toBeGreaterThan(20);
  });
});

describe('largestFittingMaxTokens', () => {
  const body = { model: 'claude-haiku-4-5', max_tokens: 100_000, messages: [{ role: 'user', content: 'Write an essay.' }] };
  const fit = (room: bigint) => largestFittingMaxTokens(pricer, 'anthropic', 'claude-haiku-4-5', 'anthropic.messages', body, bytesOf(body), AT, room);
  /** The bound of the request resent with `maxTokens`. */
  const resent = (maxTokens: number) => bound('anthropic', 'anthropic.messages', { ...body, max_tokens: maxTokens }).costNano;

  it('is exact for the request resent with it: the value fits, one more does not', () => {
    for (const room of [10_000_000n, 123_456_789n, 400_000_007n, 5_049_999n, 5_050_000n]) {
      const v = fit(room);
      expect(v).toBeGreaterThan(0);
      expect(resent(v)).toBeLessThanOrEqual(room);
      expect(resent(v + 1)).toBeGreaterThan(room);
    }
  });

  it('counts the digit a larger value adds to the body', () => {
    expect(resent(10_000) - resent(9_999)).toBe(5000n + 2000n); // one more output token, one more input byte
    expect(fit(resent(10_000))).toBe(10_000);
    expect(fit(resent(10_000) - 1n)).toBe(9_999);
  });

  it('is 0 when even the input does not fit, and the context window when everything does', () => {
    expect(fit(1000n)).toBe(0);
    expect(fit(10n ** 15n)).toBe(200_000);
  });

  it('counts the field a request without one must add; multiplies by n; is 0 for embeddings', () => {
    const room = 50_000_000n;
    for (const chatBody of [chat({ n: 4 }), chat({ n: 4, max_completion_tokens: 100_000 })]) {
      const v = largestFittingMaxTokens(pricer, 'openai', 'gpt-4o', 'openai.chat', chatBody, bytesOf(chatBody), AT, room);
      const cost = (m: number) => bound('openai', 'openai.chat', { ...chatBody, max_completion_tokens: m }).costNano;
      expect(cost(v)).toBeLessThanOrEqual(room);
      expect(cost(v + 1)).toBeGreaterThan(room);
    }
    const emb = { model: 'text-embedding-3-small', input: 'hi' };
    expect(largestFittingMaxTokens(pricer, 'openai', 'text-embedding-3-small', 'openai.embeddings', emb, bytesOf(emb), AT, 10n ** 12n)).toBe(0);
  });
});
