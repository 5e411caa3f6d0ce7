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
import type { Usage } from '../domain/usage.ts';
import type { Pricer } from '../pricing/index.ts';
import { adapterFor, MAX_TOKEN_COUNT } from '../providers/index.ts';
import type { ApiRoute, TokenBound } from '../providers/index.ts';

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
  /**
   * Most input tokens a provider can report for this request whatever its hidden prompts: a context
   * window per model turn (the body's own bytes for embeddings, whose inputs each have a window).
   * `inputTokens` is tighter, but it rests on margins for prompts the provider adds unseen; a report
   * past this ceiling is impossible, not merely unexpected.
   */
  inputCeiling: number;
}

/**
 * Context window assumed when neither the catalog nor the config gives one (a custom or fallback-priced
 * model; set `context_window` on a custom model for a tighter bound): 2M tokens, the largest window sold
 * (Gemini 1.5 Pro; OpenAI and Anthropic stop near 1M).
 */
export const DEFAULT_CONTEXT_WINDOW = 2_000_000;

/** Bytes a client adds to write a max-tokens field the request lacked, before the digits: `,"max_completion_tokens":`. */
export const NEW_FIELD_BYTES = 25;

/** Tokens of a request once the model's limits apply. */
interface Tokens {
  input: number;
  inputCeiling: number;
  /** Per choice; null when the route generates nothing. */
  perChoice: number | null;
  outputFromRequest: boolean;
  extraPerChoice: number;
  multiplier: number;
}

/** The bound of `body` (forwarded as `bodyBytes` bytes) sent to `model` through `provider`, priced at `at`: pass the instant settle prices at. */
export function costBound(
  pricer: Pricer,
  provider: string,
  model: string,
  route: ApiRoute,
  body: Record<string, unknown>,
  bodyBytes: number,
  at: number,
): CostBound {
  const window = contextWindow(pricer, provider, model);
  const t = limit(adapterFor(route).requestBound(body, bodyBytes), window);
  const output = outputOf(t, t.perChoice ?? 0);
  const worst = worstCost(pricer, provider, model, t.input, output, at);
  return { inputTokens: t.input, outputTokens: output, costNano: worst.effective, listNano: worst.list, outputFromRequest: t.outputFromRequest, inputCeiling: t.inputCeiling };
}

/**
 * Largest max_tokens whose bound fits in `roomNano`; 0 when even the input does not fit.
 *
 * Exact for the request resent with that value written in place of its own (or added, when it set
 * none): the body's size changes with the digits, and so does its input bound. The search runs up to
 * the model's context window. A route that generates nothing (embeddings) answers 0.
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
  const b = adapterFor(route).requestBound(body, bodyBytes);
  if (b.outputTokens === 'none') return 0;
  const window = contextWindow(pricer, provider, model);
  // Input tokens follow the body's bytes one for one (see TokenBound.inputTokens).
  const written = typeof b.outputTokens === 'number' ? -digits(b.outputTokens) : NEW_FIELD_BYTES;
  const fits = (maxTokens: number) => {
    const t = limit({ ...b, inputTokens: b.inputTokens + written + digits(maxTokens), outputTokens: maxTokens }, window);
    return worstCost(pricer, provider, model, t.input, outputOf(t, t.perChoice ?? 0), at).effective <= roomNano;
  };
  // The cost only grows with max_tokens (more output, as many digits or more; no price is negative): bisect.
  if (!fits(0)) return 0;
  let lo = 0; // fits
  let hi = window;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function contextWindow(pricer: Pricer, provider: string, model: string): number {
  return pricer.limits(provider, model).contextWindow ?? DEFAULT_CONTEXT_WINDOW;
}

/** The adapter's bound under the model's context window. */
function limit(b: TokenBound, window: number): Tokens {
  // Each model turn reads at most a window; content out of the body's sight is bounded by nothing else.
  const input =
    b.unseenInput || b.samplingTurns > 1 ? window * b.samplingTurns : b.cappedByContext ? Math.min(b.inputTokens, window) : b.inputTokens;
  const out = b.outputTokens;
  return {
    // No count above MAX_TOKEN_COUNT is ever billed (the usage is refused as corrupt): absurd requests
    // (n = 2^50) bound there instead of overflowing the pricer's safe integers.
    input: Math.min(input, MAX_TOKEN_COUNT),
    inputCeiling: Math.min(Math.max(input, b.cappedByContext ? window * b.samplingTurns : b.inputTokens), MAX_TOKEN_COUNT),
    perChoice: out === 'none' ? null : out === 'model-max' ? window : Math.min(out, window),
    outputFromRequest: typeof out === 'number',
    extraPerChoice: b.extraOutputTokens,
    multiplier: b.outputMultiplier,
  };
}

function outputOf(t: Tokens, perChoice: number): number {
  return t.perChoice === null ? 0 : Math.min((perChoice + t.extraPerChoice) * t.multiplier, MAX_TOKEN_COUNT);
}

/** Characters of a non-negative integer written in JSON. */
function digits(n: number): number {
  return String(n).length;
}

/** The dearest of the usages with `input` tokens in one bucket and `output` tokens all plain or all reasoning. */
function worstCost(pricer: Pricer, provider: string, model: string, input: number, output: number, at: number): { effective: bigint; list: bigint } {
  let effective = 0n;
  let list = 0n;
  const reasoningSplits = output > 0 ? [0, output] : [0];
  for (let bucket = 0; bucket < 4; bucket++) {
    for (const reasoning of reasoningSplits) {
      const q = pricer.price(provider, model, vertex(bucket, input, output, reasoning), at);
      if (q.effectiveNano > effective) effective = q.effectiveNano;
      if (q.listNano > list) list = q.listNano;
    }
  }
  return { effective, list };
}

/** All input in bucket 0 (uncached), 1 (cache read), 2 (5m write) or 3 (1h write); a literal, twice as fast to price as a spread. */
function vertex(bucket: number, input: number, output: number, reasoning: number): Usage {
  return {
    inputTokens: bucket === 0 ? input : 0,
    cacheReadTokens: bucket === 1 ? input : 0,
    cacheWrite5mTokens: bucket === 2 ? input : 0,
    cacheWrite1hTokens: bucket === 3 ? input : 0,
    outputTokens: output,
    reasoningTokens: reasoning,
    requests: 1,
  };
}

/** A usage held within a request's bound, and what had to be cut to get there. */
export interface BoundedUsage {
  usage: Usage;
  /** One line per count that was over its bound, e.g. `output 9000 > bound 4096`; empty when none was. */
  over: string[];
}

/**
 * `u` held within what the request allowed: output at most `bound.outputTokens` (its max_tokens, or
 * the model's window, times n), reasoning within output, total input at most `bound.inputCeiling`
 * (cut from the cheapest bucket up: cache reads, uncached, 5m writes, 1h writes). A report past these
 * is corrupt or hostile: no provider generates past max_tokens or reads past its window.
 */
export function clampToBound(u: Usage, bound: Pick<CostBound, 'inputCeiling' | 'outputTokens'>): BoundedUsage {
  const over: string[] = [];
  const input = u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens;
  let out = u;
  if (input > bound.inputCeiling) {
    over.push(`input ${input} > bound ${bound.inputCeiling}`);
    let excess = input - bound.inputCeiling;
    const cut = (n: number) => {
      const c = Math.min(n, excess);
      excess -= c;
      return n - c;
    };
    const cacheReadTokens = cut(u.cacheReadTokens);
    const inputTokens = cut(u.inputTokens);
    const cacheWrite5mTokens = cut(u.cacheWrite5mTokens);
    out = { ...out, cacheReadTokens, inputTokens, cacheWrite5mTokens, cacheWrite1hTokens: cut(u.cacheWrite1hTokens) };
  }
  if (u.outputTokens > bound.outputTokens) {
    over.push(`output ${u.outputTokens} > bound ${bound.outputTokens}`);
    out = { ...out, outputTokens: bound.outputTokens, reasoningTokens: Math.min(u.reasoningTokens, bound.outputTokens) };
  }
  return { usage: out, over };
}
