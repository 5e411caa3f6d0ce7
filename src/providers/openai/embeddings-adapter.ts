/** OpenAI Embeddings (`POST /v1/embeddings`): input tokens only, never streamed. */
import type { ProviderAdapter, StreamTracker, UsageCapture } from '../contract.ts';
import { asObject, stringOf } from '../json-object.ts';
import type { TokenBound } from '../request-bound.ts';
import { SilentStreamTracker } from '../silent-stream-tracker.ts';
import { embeddingsUsage } from './openai-usage.ts';

export const embeddingsAdapter = {
  route: 'openai.embeddings',
  // Text or token ids: each token is at least a byte of the body. Each input has its own window, so
  // the total is not capped by one. Billed is exactly the input's tokens: no hidden prompt.
  requestBound: (_body: Record<string, unknown>, bodyBytes: number): TokenBound => ({
    inputTokens: bodyBytes,
    cappedByContext: false,
    unseenInput: false,
    samplingTurns: 1,
    outputTokens: 'none',
    outputMultiplier: 1,
    extraOutputTokens: 0,
  }),
  usageFromBody(body: unknown): UsageCapture | null {
    const obj = asObject(body);
    return obj === null ? null : embeddingsUsage(obj.usage, stringOf(obj.model));
  },
  streamTracker: (): StreamTracker => new SilentStreamTracker(),
} satisfies ProviderAdapter;
