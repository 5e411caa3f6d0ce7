/**
 * OpenAI Responses (`POST /v1/responses`). A stream is a sequence of typed events; the final one
 * (`response.completed`, `response.incomplete` or `response.failed`) carries the whole response, usage included.
 * https://platform.openai.com/docs/api-reference/responses-streaming
 */
import type { ProviderAdapter, StreamTracker, UpstreamStreamError, UsageCapture } from '../contract.ts';
import { asObject, parseJsonObject, stringOf } from '../json-object.ts';
import type { SseEvent } from '../sse.ts';
import { responsesUsage } from './openai-usage.ts';
import { responsesBound } from './responses-bound.ts';

/** Events whose `delta` is generated output (visible text, tool arguments, open reasoning text). */
const TEXT_DELTAS = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.reasoning_text.delta',
]);

const FINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

export const responsesAdapter = {
  route: 'openai.responses',
  requestBound: responsesBound,
  usageFromBody(body: unknown): UsageCapture | null {
    const obj = asObject(body);
    return obj === null ? null : responsesUsage(obj.usage, stringOf(obj.model));
  },
  streamTracker: (): StreamTracker => new ResponsesStreamTracker(),
} satisfies ProviderAdapter;

class ResponsesStreamTracker implements StreamTracker {
  #model: string | null = null;
  #usage: UsageCapture | null = null;
  #text: string[] = [];
  #done = false;
  #error: UpstreamStreamError | null = null;

  onEvent(e: SseEvent): 'forward' | 'drop' {
    if (e.oversized === true) return 'forward';
    const data = parseJsonObject(e.data);
    if (data === null) return 'forward';
    const type = stringOf(data.type) ?? e.event;
    if (type === null) return 'forward';
    if (TEXT_DELTAS.has(type)) {
      const delta = stringOf(data.delta);
      if (delta !== null) this.#text.push(delta);
    } else if (type === 'error') {
      this.#error = { type: stringOf(data.code) ?? 'error', message: stringOf(data.message) ?? '' };
    } else if (type.startsWith('response.')) {
      this.#onResponse(type, asObject(data.response));
    }
    return 'forward';
  }

  #onResponse(type: string, response: Record<string, unknown> | null): void {
    if (response === null) return;
    this.#model = stringOf(response.model) ?? this.#model;
    if (!FINAL_EVENTS.has(type)) return;
    this.#done = true;
    const usage = responsesUsage(response.usage, this.#model);
    if (usage !== null) this.#usage = usage;
    if (type === 'response.failed') {
      const error = asObject(response.error);
      this.#error = { type: stringOf(error?.code) ?? 'response_failed', message: stringOf(error?.message) ?? '' };
    }
  }

  reported(): UsageCapture | null {
    return this.#usage;
  }

  textSeen(): string {
    return this.#text.join('');
  }

  partial(): UsageCapture | null {
    return null; // response.created carries `usage: null`: nothing is known before the final event
  }

  finished(): boolean {
    return this.#done;
  }

  upstreamError(): UpstreamStreamError | null {
    return this.#error;
  }
}
