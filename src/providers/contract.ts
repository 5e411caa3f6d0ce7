/**
 * What the gateway needs from each upstream API: the token bound of a request, usage from a JSON body,
 * and a tracker that reads a stream on the side. One adapter per route; shared code looks adapters up by route, never by provider.
 */
import type { Usage } from '../domain/usage.ts';
import type { TokenBound } from './request-bound.ts';
import type { SseEvent } from './sse.ts';

export const API_ROUTES = ['openai.chat', 'openai.responses', 'openai.embeddings', 'anthropic.messages'] as const;

/** The proxied APIs whose usage Tollgate reads. */
export type ApiRoute = (typeof API_ROUTES)[number];

/** Usage the provider reported, read and checked. */
export interface TrustedCapture {
  /** The provider's counts in the ledger's shape. */
  usage: Usage;
  /** The model the provider says served the call (may differ from the one requested), when it says. */
  servedModel: string | null;
  suspicious?: undefined;
}

/** The provider reported usage that cannot be trusted (negative, fractional, absurd, wrong type, inconsistent). */
export interface SuspiciousCapture {
  usage: null;
  servedModel: string | null;
  /** Why the usage was refused, for the ledger row and the operator. */
  suspicious: string;
  /**
   * The counts as reported with each bad one replaced by the nearest billable count (`salvageCount`:
   * negative → 0, fraction → rounded up, unreadable → `UNKNOWN_COUNT`), buckets made consistent. Not
   * the provider's word: the gateway clamps it to the request's bound before billing it.
   */
  readonly salvaged: Usage;
}

/** `usage` is null exactly when `suspicious` says why: the gateway records the call as suspicious then. */
export type UsageCapture = TrustedCapture | SuspiciousCapture;

/** An error the upstream sent inside a stream that had already started. */
export interface UpstreamStreamError {
  /** The provider's error type or code, e.g. `overloaded_error`, `server_error`. */
  type: string;
  message: string;
}

/** Reads one response stream, event by event, beside the bytes the gateway forwards. */
export interface StreamTracker {
  /**
   * Feed one parsed SSE event (in order). Returns 'drop' when the gateway must not forward this event to
   * the client (only: the OpenAI chat usage-only chunk when the gateway itself injected
   * stream_options.include_usage), else 'forward'. Never throws.
   */
  onEvent(e: SseEvent): 'forward' | 'drop';
  /** Usage as reported by the provider, when the stream reported it (null until then). */
  reported(): UsageCapture | null;
  /** The generated text/tool-argument text seen so far (for estimating a stream cut short). */
  textSeen(): string;
  /**
   * The prompt-side usage known so far (e.g. Anthropic message_start input tokens), for partial billing.
   * Output counts are 0 here: the output of a stream cut short is estimated from `textSeen()`.
   */
  partial(): UsageCapture | null;
  /** True once the provider signalled the end (OpenAI [DONE], Anthropic message_stop, Responses response.completed/incomplete/failed). */
  finished(): boolean;
  /** An error event the upstream sent mid-stream (Anthropic `event: error`, Responses `response.failed`/`error`, chat `{"error":…}`), if any. */
  upstreamError(): UpstreamStreamError | null;
}

/** Everything route-specific about bounding and reading usage. */
export interface ProviderAdapter {
  /** The route this adapter reads. */
  route: ApiRoute;
  /**
   * The most the request can consume, in tokens, from its parsed body and the byte length of the body as
   * forwarded; pure, never throws (a malformed field counts as absent, the upstream refuses it anyway).
   */
  requestBound(body: Record<string, unknown>, bodyBytes: number): TokenBound;
  /** Usage of a non-streamed JSON response; null when the body carries none (e.g. an error body). Never throws. */
  usageFromBody(body: unknown): UsageCapture | null;
  /** A fresh tracker for one streamed response. `injectedUsage`: the gateway added stream_options.include_usage. */
  streamTracker(opts: { injectedUsage: boolean }): StreamTracker;
}
