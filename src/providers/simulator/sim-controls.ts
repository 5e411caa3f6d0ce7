import type { IncomingHttpHeaders } from 'node:http';

/** Per-request knobs, from `x-sim-*` headers over the simulator's options. */
export interface SimControls {
  /** Uncached input tokens (`x-sim-input-tokens`); null: counted from the prompt. */
  inputTokens: number | null;
  /** Total output tokens, reasoning included (`x-sim-output-tokens`); null: the default, capped by the request. */
  outputTokens: number | null;
  /** Cache-read tokens (`x-sim-cached-tokens`). */
  cachedTokens: number;
  /** 5-minute cache writes (`x-sim-cache-write-5m`); Anthropic only, OpenAI reports none. */
  cacheWrite5m: number;
  /** 1-hour cache writes (`x-sim-cache-write-1h`); Anthropic only. */
  cacheWrite1h: number;
  /** Reasoning tokens inside the output (`x-sim-reasoning-tokens`). */
  reasoningTokens: number;
  /** Time to first byte (`x-sim-latency-ms`). */
  latencyMs: number;
  /** Delay between stream chunks (`x-sim-chunk-delay-ms`). */
  chunkDelayMs: number;
  /** Answer with this HTTP status, in the API's error shape (`x-sim-error`). */
  errorStatus: number | null;
  /** Break the connection after this many stream chunks (`x-sim-fail-after`); a JSON answer is cut before its body. */
  failAfter: number | null;
  /** Send the API's mid-stream error event after this many chunks, then end (`x-sim-error-after`). */
  errorAfter: number | null;
  /** Report this model as the one that served the call (`x-sim-served-model`). */
  servedModel: string | null;
}

/** A request the simulator refuses (a malformed `x-sim-*` header). */
export class SimRequestError extends Error {
  override readonly name = 'SimRequestError';
}

export function readControls(headers: IncomingHttpHeaders, defaults: { latencyMs: number; chunkDelayMs: number }): SimControls {
  const errorStatus = count(headers, 'x-sim-error');
  if (errorStatus !== null && (errorStatus < 400 || errorStatus > 599)) throw new SimRequestError('x-sim-error must be an HTTP error status (400-599)');
  const served = headers['x-sim-served-model'];
  return {
    inputTokens: count(headers, 'x-sim-input-tokens'),
    outputTokens: count(headers, 'x-sim-output-tokens'),
    cachedTokens: count(headers, 'x-sim-cached-tokens') ?? 0,
    cacheWrite5m: count(headers, 'x-sim-cache-write-5m') ?? 0,
    cacheWrite1h: count(headers, 'x-sim-cache-write-1h') ?? 0,
    reasoningTokens: count(headers, 'x-sim-reasoning-tokens') ?? 0,
    latencyMs: count(headers, 'x-sim-latency-ms') ?? defaults.latencyMs,
    chunkDelayMs: count(headers, 'x-sim-chunk-delay-ms') ?? defaults.chunkDelayMs,
    errorStatus,
    failAfter: count(headers, 'x-sim-fail-after'),
    errorAfter: count(headers, 'x-sim-error-after'),
    servedModel: typeof served === 'string' && served !== '' ? served : null,
  };
}

function count(headers: IncomingHttpHeaders, name: string): number | null {
  const v = headers[name];
  if (v === undefined) return null;
  // A typo in a test header must fail loudly, not fall back to a default that happens to pass.
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v.trim())) throw new SimRequestError(`${name} must be a non-negative integer, got ${String(v)}`);
  return Number(v.trim());
}
