/** OpenAI Embeddings (`POST /v1/embeddings`): input tokens only, never streamed. */
import type { ProviderAdapter, StreamTracker, UsageCapture } from '../contract.ts';
import { asObject, stringOf } from '../json-object.ts';
import { SilentStreamTracker } from '../silent-stream-tracker.ts';
import { embeddingsUsage } from './openai-usage.ts';

export const embeddingsAdapter = {
  route: 'openai.embeddings',
  usageFromBody(body: unknown): UsageCapture | null {
    const obj = asObject(body);
    return obj === null ? null : embeddingsUsage(obj.usage, stringOf(obj.model));
  },
  streamTracker: (): StreamTracker => new SilentStreamTracker(),
} satisfies ProviderAdapter;
