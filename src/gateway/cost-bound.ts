/**
 * The upper bound of a request's cost, computed before it is forwarded: admission reserves it on every
 * enforcing tier and settles the actual cost later (DESIGN guarantee 2). It must never be below what the
 * pricer will charge for any usage the provider can report for this request.
 *
 * The adapter bounds the tokens; the model's context window caps them; then the bound is priced at the
 * worst usage those tokens allow. Within a price tier the cost is linear in each usage bucket, so the
 * worst usage puts all input in its dearest bucket (uncached, cache read, 5m or 1h cache write) and all
 * output in its dearest kind (plain or reasoning): the maximum of eight prices. The tier is a cliff on
 * total input, and pricing the input bound picks the highest tier the call can reach; every catalog tier
 * charges at least the tier below it in every bucket (tested), so no lower tier can cost more.
 */
import { EMPTY_USAGE } from '../domain/usage.ts';
import type { Usage } from '../domain/usage.ts';
import type { Pricer } from '../pricing/index.ts';
import { adapterFor } from '../providers/index.ts';
import type { ApiRoute } from '../providers/index.ts';

export interface CostBound {
  /** Upper bound of input tokens, all cache buckets together. */
  inputTokens: number;
  /** Upper bound of output tokens (reasoning included, times n). */
  outputTokens: number;
  /** Upper bound of the effective cost (after discounts), nano-USD: what budgets count. */
  costNano: bigint;
  /** Upper bound at list price, nano-USD. */
  listNano: bigint;
  /** True when the output bound came from the request's own max_tokens field. */
  outputFromRequest: boolean;
}

/**
 * Context window assumed when neither the catalog nor the config gives one (a custom or fallback-priced
 * model): 1M tokens, the largest window the OpenAI and Anthropic models offer.
 */
export const DEFAULT_CONTEXT_WINDOW = 1_000_000;

/**
 * Bytes a resent body may grow by when the client writes the suggested max_tokens:
 * `,"max_completion_tokens":1000000` is 32.
 */
export const MAX_TOKENS_FIELD_BYTES = 40;

const INPUT_BUCKETS = ['inputTokens', 'cacheReadTokens', 'cacheWrite5mTokens', 'cacheWrite1hTokens'] as const;

/** Tokens of a request once the model's limits apply. */
interface Tokens {
  input: number;
  /** Per choice; null when the route generates nothing. */
  perChoice: number | null;
  /** The most a choice can generate: the context window. */
  modelMax: number;
  outputFromRequest: boolean;
  extraPerChoice: number;
  multiplier: number;
}

export function costBound(
  pricer: Pricer,
  provider: string,
  model: string,
  route: ApiRoute,
  body: Record<string, unknown>,
  bodyBytes: number,
  at: number,
): CostBound {
  const t = boundTokens(pricer, provider, model, route, body, bodyBytes);
  const output = outputOf(t, t.perChoice ?? 0);
  const worst = worstCost(pricer, provider, model, t.input, output, at);
  return { inputTokens: t.input, outputTokens: output, costNano: worst.effective, listNano: worst.list, outputFromRequest: t.outputFromRequest };
}

/**
 * Largest max_tokens whose bound fits in `roomNano`; 0 when even the input does not fit.
 *
 * The body is counted as if it were `MAX_TOKENS_FIELD_BYTES` longer, so that the value still fits once
 * the client writes it into the request. A route that generates nothing (embeddings) answers 0.
 */
export function largestFittingMaxTokens(
  pricer: Pricer,
  provider: string,
  model: string,
  route: ApiRoute,
  body: Record<string, unknown>,
  bodyBytes: number,
  at: number,
  roomNano: bigint,
): number {
  const t = boundTokens(pricer, provider, model, route, body, bodyBytes + MAX_TOKENS_FIELD_BYTES);
  if (t.perChoice === null) return 0;
  // The cost only grows with output (no price is negative, the tier depends on input alone): bisect.
  const fits = (perChoice: number) => worstCost(pricer, provider, model, t.input, outputOf(t, perChoice), at).effective <= roomNano;
  if (!fits(0)) return 0;
  let lo = 0; // fits
  let hi = t.modelMax;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function boundTokens(pricer: Pricer, provider: string, model: string, route: ApiRoute, body: Record<string, unknown>, bodyBytes: number): Tokens {
  const b = adapterFor(route).requestBound(body, bodyBytes);
  const window = pricer.limits(provider, model).contextWindow ?? DEFAULT_CONTEXT_WINDOW;
  // Each model turn reads at most a window; content out of the body's sight is bounded by nothing else.
  const input =
    b.unseenInput || b.samplingTurns > 1 ? window * b.samplingTurns : b.cappedByContext ? Math.min(b.inputTokens, window) : b.inputTokens;
  const out = b.outputTokens;
  return {
    input,
    perChoice: out === 'none' ? null : out === 'model-max' ? window : Math.min(out, window),
    modelMax: window,
    outputFromRequest: typeof out === 'number',
    extraPerChoice: b.extraOutputTokens,
    multiplier: b.outputMultiplier,
  };
}

function outputOf(t: Tokens, perChoice: number): number {
  return t.perChoice === null ? 0 : (perChoice + t.extraPerChoice) * t.multiplier;
}

/** The dearest of the usages with `input` tokens in one bucket and `output` tokens all plain or all reasoning. */
function worstCost(pricer: Pricer, provider: string, model: string, input: number, output: number, at: number): { effective: bigint; list: bigint } {
  let effective = 0n;
  let list = 0n;
  const reasoningSplits = output > 0 ? [0, output] : [0];
  for (const bucket of INPUT_BUCKETS) {
    for (const reasoning of reasoningSplits) {
      const u: Usage = { ...EMPTY_USAGE, [bucket]: input, outputTokens: output, reasoningTokens: reasoning };
      const q = pricer.price(provider, model, u, at);
      if (q.effectiveNano > effective) effective = q.effectiveNano;
      if (q.listNano > list) list = q.listNano;
    }
  }
  return { effective, list };
}
