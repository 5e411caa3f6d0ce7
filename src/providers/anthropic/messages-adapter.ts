/**
 * Anthropic Messages (`POST /v1/messages`). A stream opens with `message_start` (the input side of the
 * usage and a first output count), and `message_delta` near the end carries the CUMULATIVE output count
 * (and, on newer API versions, updated input/cache counts); `message_stop` ends it.
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
import type { ProviderAdapter, StreamTracker, UpstreamStreamError, UsageCapture } from '../contract.ts';
import { asObject, parseJsonObject, stringOf } from '../json-object.ts';
import type { SseEvent } from '../sse.ts';
import { captureUsage, suspiciousCapture } from '../usage-capture.ts';
import type { AnthropicCounts } from './anthropic-usage.ts';
import { anthropicUsage, mergeCounts, readAnthropicCounts } from './anthropic-usage.ts';
import { messagesBound } from './messages-bound.ts';

export const messagesAdapter = {
  route: 'anthropic.messages',
  requestBound: messagesBound,
  usageFromBody(body: unknown): UsageCapture | null {
    const obj = asObject(body);
    if (obj === null) return null;
    const model = stringOf(obj.model);
    const problems: string[] = [];
    const counts = readAnthropicCounts(obj.usage, 'usage', problems);
    if (counts === null) return problems.length > 0 ? suspiciousCapture(model, problems) : null;
    return captureUsage(anthropicUsage(counts, problems, { promptOnly: false }), model, problems);
  },
  streamTracker: (): StreamTracker => new MessagesStreamTracker(),
} satisfies ProviderAdapter;

/** `content_block_delta` kinds that carry generated text, and the field holding it. */
const DELTA_TEXT: Readonly<Record<string, string>> = {
  text_delta: 'text',
  input_json_delta: 'partial_json',
  thinking_delta: 'thinking',
};

class MessagesStreamTracker implements StreamTracker {
  #model: string | null = null;
  #counts: AnthropicCounts | null = null;
  /** Problems met in any usage of the stream: one bad report taints the whole call. */
  #problems: string[] = [];
  #sawDelta = false;
  /** Raw data of content deltas, parsed only if the text is ever needed (a stream cut short). */
  #deltas: string[] = [];
  #done = false;
  #error: UpstreamStreamError | null = null;

  onEvent(e: SseEvent): 'forward' | 'drop' {
    if (e.oversized === true) return 'forward';
    // Hot path: content deltas are nearly every event and carry no usage; keep them unparsed.
    if (e.event === 'content_block_delta') {
      this.#deltas.push(e.data);
      return 'forward';
    }
    if (e.event === 'ping') return 'forward';
    const data = parseJsonObject(e.data);
    if (data === null) return 'forward';
    switch (stringOf(data.type) ?? e.event) {
      case 'message_start': {
        const message = asObject(data.message);
        this.#model = stringOf(message?.model) ?? this.#model;
        this.#absorb(readAnthropicCounts(message?.usage, 'message.usage', this.#problems));
        break;
      }
      case 'content_block_delta':
        this.#deltas.push(e.data);
        break;
      case 'message_delta':
        this.#sawDelta = true;
        this.#absorb(readAnthropicCounts(data.usage, 'usage', this.#problems));
        break;
      case 'message_stop':
        this.#done = true;
        break;
      case 'error': {
        const error = asObject(data.error);
        this.#error = { type: stringOf(error?.type) ?? 'error', message: stringOf(error?.message) ?? '' };
        break;
      }
      default: // ping, content_block_start/stop: nothing to count
    }
    return 'forward';
  }

  #absorb(counts: AnthropicCounts | null): void {
    if (counts !== null) this.#counts = this.#counts === null ? counts : mergeCounts(this.#counts, counts);
  }

  reported(): UsageCapture | null {
    // message_start's output count is only a first tick: the usage is reported once message_delta came.
    return this.#sawDelta ? this.#capture(false) : null;
  }

  partial(): UsageCapture | null {
    return this.#capture(true);
  }

  #capture(promptOnly: boolean): UsageCapture | null {
    const problems = [...this.#problems];
    if (this.#counts === null) return problems.length > 0 ? suspiciousCapture(this.#model, problems) : null;
    return captureUsage(anthropicUsage(this.#counts, problems, { promptOnly }), this.#model, problems);
  }

  textSeen(): string {
    const text: string[] = [];
    for (const raw of this.#deltas) {
      const delta = asObject(parseJsonObject(raw)?.delta);
      const field = DELTA_TEXT[stringOf(delta?.type) ?? ''];
      const t = field === undefined ? null : stringOf(delta?.[field]);
      if (t !== null) text.push(t);
    }
    return text.join('');
  }

  finished(): boolean {
    return this.#done;
  }

  upstreamError(): UpstreamStreamError | null {
    return this.#error;
  }
}
