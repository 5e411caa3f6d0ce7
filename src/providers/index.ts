/**
 * The provider layer: one adapter per proxied API, looked up by route. Shared code never branches on
 * a provider's name; it asks `adapterFor(route)`.
 */
import { messagesAdapter } from './anthropic/messages-adapter.ts';
import type { ApiRoute, ProviderAdapter } from './contract.ts';
import { chatAdapter } from './openai/chat-adapter.ts';
import { embeddingsAdapter } from './openai/embeddings-adapter.ts';
import { responsesAdapter } from './openai/responses-adapter.ts';

const ADAPTERS: Readonly<Record<ApiRoute, ProviderAdapter>> = {
  'openai.chat': chatAdapter,
  'openai.responses': responsesAdapter,
  'openai.embeddings': embeddingsAdapter,
  'anthropic.messages': messagesAdapter,
};

/** The adapter that reads usage for `route`. */
export function adapterFor(route: ApiRoute): ProviderAdapter {
  return ADAPTERS[route];
}

export { API_ROUTES } from './contract.ts';
export type {
  ApiRoute,
  ProviderAdapter,
  StreamTracker,
  SuspiciousCapture,
  TrustedCapture,
  UpstreamStreamError,
  UsageCapture,
} from './contract.ts';
export { MAX_TOKEN_COUNT } from './count-reader.ts';
export type { TokenBound } from './request-bound.ts';
export { injectStreamUsage } from './openai/inject-usage.ts';
export type { InjectedBody } from './openai/inject-usage.ts';
export { DEFAULT_MAX_EVENT_CHARS, SseSplitter } from './sse.ts';
export type { SseEvent } from './sse.ts';
