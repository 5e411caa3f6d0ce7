/**
 * What one call consumed, in the provider-neutral shape the ledger stores. All counts are
 * non-negative integers and the input buckets are disjoint:
 *
 *   total input = inputTokens + cacheReadTokens + cacheWrite5mTokens + cacheWrite1hTokens
 *
 * `reasoningTokens` is the part of `outputTokens` spent on hidden reasoning (OpenAI
 * `completion_tokens_details.reasoning_tokens`, Anthropic thinking): it is a subset of output,
 * kept apart for visibility and priced separately only where the catalog has a reasoning rate.
 */
export interface Usage {
  /** Input tokens read at the full input rate (not from cache, not written to it). */
  inputTokens: number;
  /** Input tokens served from the prompt cache. */
  cacheReadTokens: number;
  /** Input tokens written to a 5-minute cache (Anthropic's default TTL). */
  cacheWrite5mTokens: number;
  /** Input tokens written to a 1-hour cache. */
  cacheWrite1hTokens: number;
  /** All generated tokens, reasoning included. */
  outputTokens: number;
  /** Of `outputTokens`, those spent reasoning. */
  reasoningTokens: number;
  /** Billable requests (per-request fees); 1 for an ordinary call. */
  requests: number;
}

export const EMPTY_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  cacheReadTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  requests: 1,
});

export const USAGE_FIELDS = [
  'inputTokens',
  'cacheReadTokens',
  'cacheWrite5mTokens',
  'cacheWrite1hTokens',
  'outputTokens',
  'reasoningTokens',
  'requests',
] as const satisfies readonly (keyof Usage)[];

export function usage(partial: Partial<Usage>): Usage {
  return { ...EMPTY_USAGE, ...partial };
}

/** Every input token, whatever its cache state: what long-context tier thresholds look at. */
export function totalInputTokens(u: Usage): number {
  return u.inputTokens + u.cacheReadTokens + u.cacheWrite5mTokens + u.cacheWrite1hTokens;
}

/** Returns a list of problems, empty when the usage is well-formed. */
export function validateUsage(u: Usage): string[] {
  const problems: string[] = [];
  const bad = new Set<string>();
  for (const f of USAGE_FIELDS) {
    const v = u[f];
    if (!Number.isSafeInteger(v) || v < 0) {
      problems.push(`${f} must be a non-negative integer, got ${String(v)}`);
      bad.add(f);
    }
  }
  // Compared only when both are valid: "0 cannot exceed -1" would repeat the problem already listed.
  if (!bad.has('reasoningTokens') && !bad.has('outputTokens') && u.reasoningTokens > u.outputTokens) {
    problems.push(`reasoningTokens (${u.reasoningTokens}) cannot exceed outputTokens (${u.outputTokens})`);
  }
  return problems;
}
