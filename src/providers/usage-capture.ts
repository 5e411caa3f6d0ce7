import type { Usage } from '../domain/usage.ts';
import { validateUsage } from '../domain/usage.ts';
import type { SuspiciousCapture, UsageCapture } from './contract.ts';
import { UNKNOWN_COUNT } from './count-reader.ts';

/** Turns counts read from a provider into a capture: trusted only when nothing was wrong with them. */
export function captureUsage(usage: Usage, servedModel: string | null, problems: readonly string[]): UsageCapture {
  // The domain check also catches cross-field absurdities such as reasoning > output.
  const all = problems.length > 0 ? problems : validateUsage(usage);
  if (all.length > 0) return new SuspectCapture(servedModel, all.join('; '), billable(usage));
  return { usage, servedModel };
}

/** A capture refused outright (e.g. the usage field is not an object): every count is unknown. */
export function suspiciousCapture(servedModel: string | null, problems: readonly string[]): UsageCapture {
  return new SuspectCapture(servedModel, problems.join('; '), billable({ inputTokens: UNKNOWN_COUNT, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, outputTokens: UNKNOWN_COUNT, reasoningTokens: 0, requests: 1 }));
}

/** The same capture, naming `servedModel` as the model that served it. */
export function withServedModel(capture: UsageCapture, servedModel: string | null): UsageCapture {
  if (capture.usage !== null) return { usage: capture.usage, servedModel };
  return new SuspectCapture(servedModel, capture.suspicious, capture.salvaged);
}

/**
 * The salvaged counts live on the prototype, not as an own field: a capture prints, serialises and
 * compares as what the provider said, and the gateway's replacement counts are read on purpose.
 */
class SuspectCapture implements SuspiciousCapture {
  readonly usage = null;
  readonly servedModel: string | null;
  readonly suspicious: string;
  readonly #salvaged: Usage;

  constructor(servedModel: string | null, suspicious: string, salvaged: Usage) {
    this.servedModel = servedModel;
    this.suspicious = suspicious;
    this.#salvaged = salvaged;
  }

  get salvaged(): Usage {
    return this.#salvaged;
  }
}

/** Every count a non-negative safe integer, reasoning within output: a usage the pricer accepts. */
function billable(u: Usage): Usage {
  const count = (n: number) => (Number.isSafeInteger(n) && n > 0 ? n : Number.isFinite(n) && n > 0 ? Math.min(Math.ceil(n), Number.MAX_SAFE_INTEGER) : 0);
  const outputTokens = count(u.outputTokens);
  return {
    inputTokens: count(u.inputTokens),
    cacheReadTokens: count(u.cacheReadTokens),
    cacheWrite5mTokens: count(u.cacheWrite5mTokens),
    cacheWrite1hTokens: count(u.cacheWrite1hTokens),
    outputTokens,
    reasoningTokens: Math.min(count(u.reasoningTokens), outputTokens),
    requests: count(u.requests),
  };
}
