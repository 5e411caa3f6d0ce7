/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`). A stream reports usage only when asked
 * (`stream_options.include_usage`), in one extra chunk with `choices: []` just before `data: [DONE]`.
 * https://platform.openai.com/docs/api-reference/chat-streaming
 */
import type { ProviderAdapter, StreamTracker, UpstreamStreamError, UsageCapture } from '../contract.ts';
import { asObject, parseJsonObject, stringOf } from '../json-object.ts';
import type { SseEvent } from '../sse.ts';
import { chatBound } from './chat-bound.ts';
import { chatUsage } from './openai-usage.ts';
import { withServedModel } from '../usage-capture.ts';

export const chatAdapter = {
  route: 'openai.chat',
  requestBound: chatBound,
  usageFromBody(body: unknown): UsageCapture | null {
    const obj = asObject(body);
    return obj === null ? null : chatUsage(obj.usage, stringOf(obj.model));
  },
  streamTracker: (opts: { injectedUsage: boolean }): StreamTracker => new ChatStreamTracker(opts.injectedUsage),
} satisfies ProviderAdapter;

/** Chunks worth parsing as they pass: any usage that is not `"usage":null` (counts, or junk to flag), and errors. */
const USAGE_OR_ERROR = /"usage"\s*:\s*(?!null\b)|"error"\s*:/;

class ChatStreamTracker implements StreamTracker {
  readonly #injectedUsage: boolean;
  #model: string | null = null;
  #usage: UsageCapture | null = null;
  /** Raw data of ordinary chunks, parsed only if the text is ever needed (a stream cut short). */
  #chunks: string[] = [];
  #done = false;
  #error: UpstreamStreamError | null = null;

  constructor(injectedUsage: boolean) {
    this.#injectedUsage = injectedUsage;
  }

  onEvent(e: SseEvent): 'forward' | 'drop' {
    if (e.oversized === true) return 'forward';
    // The SDKs test with startsWith too: the sentinel is not JSON.
    if (e.data.startsWith('[DONE]')) {
      this.#done = true;
      return 'forward';
    }
    // Hot path: most chunks carry neither counts nor an error; keep them unparsed until needed.
    if (!USAGE_OR_ERROR.test(e.data)) {
      this.#chunks.push(e.data);
      return 'forward';
    }
    const chunk = parseJsonObject(e.data);
    if (chunk === null) return 'forward';
    this.#model = stringOf(chunk.model) ?? this.#model;
    const error = asObject(chunk.error);
    if (error !== null) {
      this.#error = { type: stringOf(error.type) ?? stringOf(error.code) ?? 'error', message: stringOf(error.message) ?? '' };
      return 'forward';
    }
    const choices = chunk.choices;
    if (Array.isArray(choices) && choices.length > 0) this.#chunks.push(e.data);
    // Every chunk carries `usage: null` once usage is asked for; only the last one has the counts.
    if (chunk.usage === undefined || chunk.usage === null) return 'forward';
    this.#usage = chatUsage(chunk.usage, this.#model);
    const usageOnly = Array.isArray(choices) && choices.length === 0;
    return this.#injectedUsage && usageOnly ? 'drop' : 'forward';
  }

  #collectText(text: string[], delta: Record<string, unknown> | null): void {
    if (delta === null) return;
    const content = stringOf(delta.content);
    if (content !== null) text.push(content);
    const refusal = stringOf(delta.refusal);
    if (refusal !== null) text.push(refusal);
    const calls = delta.tool_calls;
    if (!Array.isArray(calls)) return;
    for (const call of calls) {
      const args = stringOf(asObject(asObject(call)?.function)?.arguments);
      if (args !== null) text.push(args);
    }
  }

  reported(): UsageCapture | null {
    if (this.#usage !== null && this.#usage.servedModel === null && this.#chunks.length > 0) {
      // The counts chunk named no model: take it from the first ordinary chunk.
      const model = stringOf(parseJsonObject(this.#chunks[0]!)?.model);
      if (model !== null) this.#usage = withServedModel(this.#usage, model);
    }
    return this.#usage;
  }

  textSeen(): string {
    const text: string[] = [];
    for (const raw of this.#chunks) {
      const choices = parseJsonObject(raw)?.choices;
      if (Array.isArray(choices)) for (const choice of choices) this.#collectText(text, asObject(asObject(choice)?.delta));
    }
    return text.join('');
  }

  partial(): UsageCapture | null {
    return null; // chat streams say nothing about usage before their last chunk
  }

  finished(): boolean {
    return this.#done;
  }

  upstreamError(): UpstreamStreamError | null {
    return this.#error;
  }
}
