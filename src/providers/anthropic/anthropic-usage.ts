/**
 * Anthropic usage objects → the ledger's Usage. Unlike OpenAI, Anthropic's buckets are already
 * disjoint: `input_tokens` is the UNCACHED input only, beside `cache_read_input_tokens` and
 * `cache_creation_input_tokens` (split by TTL in `cache_creation`).
 * https://docs.anthropic.com/en/api/messages#response-usage
 */
import type { Usage } from '../../domain/usage.ts';
import { CountReader, UNKNOWN_COUNT } from '../count-reader.ts';

/** The counts as reported, before folding: a stream reports them in two steps (message_start, message_delta). */
export interface AnthropicCounts {
  input: number | null;
  cacheRead: number | null;
  /** `cache_creation_input_tokens`: every cache write, whatever its TTL. */
  cacheCreation: number | null;
  /** `cache_creation.ephemeral_5m_input_tokens`, when the breakdown is present. */
  cache5m: number | null;
  /** `cache_creation.ephemeral_1h_input_tokens`, when the breakdown is present. */
  cache1h: number | null;
  output: number | null;
  /** `output_tokens_details.thinking_tokens`: the reasoning part of `output_tokens`, when reported. */
  thinking: number | null;
}

/** Reads a `usage` object; null when absent or not an object (the latter noted in `problems`). */
export function readAnthropicCounts(raw: unknown, path: string, problems: string[]): AnthropicCounts | null {
  const r = CountReader.of(raw, path, problems);
  if (r === null) return null;
  const breakdown = r.child('cache_creation');
  return {
    input: r.maybe('input_tokens'),
    cacheRead: r.maybe('cache_read_input_tokens'),
    cacheCreation: r.maybe('cache_creation_input_tokens'),
    cache5m: breakdown?.maybe('ephemeral_5m_input_tokens') ?? null,
    cache1h: breakdown?.maybe('ephemeral_1h_input_tokens') ?? null,
    output: r.maybe('output_tokens'),
    thinking: r.child('output_tokens_details')?.maybe('thinking_tokens') ?? null,
  };
}

/** Later counts override earlier ones field by field: message_delta's counts are cumulative totals, never increments. */
export function mergeCounts(earlier: AnthropicCounts, later: AnthropicCounts): AnthropicCounts {
  return {
    input: later.input ?? earlier.input,
    cacheRead: later.cacheRead ?? earlier.cacheRead,
    cacheCreation: later.cacheCreation ?? earlier.cacheCreation,
    cache5m: later.cache5m ?? earlier.cache5m,
    cache1h: later.cache1h ?? earlier.cache1h,
    output: later.output ?? earlier.output,
    thinking: later.thinking ?? earlier.thinking,
  };
}

/** Folds counts into a Usage; missing required counts are noted in `problems`. */
export function anthropicUsage(c: AnthropicCounts, problems: string[], opts: { promptOnly: boolean }): Usage {
  if (c.input === null) problems.push('usage.input_tokens is missing');
  // A missing count is salvaged as unknown: the gateway bills it at the request's bound.
  const output = opts.promptOnly ? 0 : (c.output ?? UNKNOWN_COUNT);
  if (!opts.promptOnly && c.output === null) problems.push('usage.output_tokens is missing');
  const [write5m, write1h] = cacheWrites(c);
  return {
    inputTokens: c.input ?? UNKNOWN_COUNT,
    cacheReadTokens: c.cacheRead ?? 0,
    cacheWrite5mTokens: write5m,
    cacheWrite1hTokens: write1h,
    outputTokens: output,
    reasoningTokens: opts.promptOnly ? 0 : (c.thinking ?? 0),
    requests: 1,
  };
}

/** [5m, 1h] cache writes. The total is authoritative; the TTL breakdown only apportions it. */
function cacheWrites(c: AnthropicCounts): [number, number] {
  const breakdown = c.cache5m !== null || c.cache1h !== null;
  if (!breakdown) return [c.cacheCreation ?? 0, 0]; // no breakdown: 5 minutes is Anthropic's default TTL
  const b5 = c.cache5m ?? 0;
  const b1 = c.cache1h ?? 0;
  if (c.cacheCreation === null || c.cacheCreation === b5 + b1) return [b5, b1];
  // message_delta updates the total without a breakdown: keep the known 1h part, the rest is 5m.
  const oneHour = Math.min(b1, c.cacheCreation);
  return [c.cacheCreation - oneHour, oneHour];
}
