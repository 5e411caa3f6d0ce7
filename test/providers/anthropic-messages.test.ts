import { describe, expect, it } from 'vitest';
import { usage } from '../../src/domain/usage.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { sse, trackStream } from './track-stream.ts';

const messages = adapterFor('anthropic.messages');
const MODEL = 'claude-sonnet-4-5-20250929';

const ev = (type: string, fields: Record<string, unknown> = {}) => sse({ type, ...fields }, type);
const START_USAGE = {
  input_tokens: 12,
  cache_creation_input_tokens: 3000,
  cache_read_input_tokens: 40000,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
  output_tokens: 1,
  service_tier: 'standard',
};
const start = (u: unknown = START_USAGE) => ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, usage: u } });
const delta = (d: unknown) => ev('content_block_delta', { index: 0, delta: d });
const messageDelta = (u: unknown) => ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: u });

describe('anthropic.messages adapter', () => {
  it('reads a JSON body: input_tokens is already uncached, cache writes split 5m/1h', () => {
    const body = { id: 'msg_1', type: 'message', model: MODEL, content: [], usage: { ...START_USAGE, output_tokens: 250 } };
    expect(messages.usageFromBody(body)).toEqual({
      usage: usage({ inputTokens: 12, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000, outputTokens: 250 }),
      servedModel: MODEL,
    });
  });

  it('counts a cache-write total without breakdown as 5-minute writes', () => {
    const body = { model: MODEL, usage: { input_tokens: 5, cache_creation_input_tokens: 700, cache_read_input_tokens: 0, output_tokens: 9 } };
    expect(messages.usageFromBody(body)?.usage).toEqual(usage({ inputTokens: 5, cacheWrite5mTokens: 700, outputTokens: 9 }));
  });

  it('takes thinking tokens from output_tokens_details when reported, else reasoning is 0', () => {
    const body = { model: MODEL, usage: { input_tokens: 5, output_tokens: 90, output_tokens_details: { thinking_tokens: 60 } } };
    expect(messages.usageFromBody(body)?.usage).toEqual(usage({ inputTokens: 5, outputTokens: 90, reasoningTokens: 60 }));
    expect(messages.usageFromBody({ model: MODEL, usage: { input_tokens: 5, output_tokens: 90 } })?.usage?.reasoningTokens).toBe(0);
  });

  it('returns null for an error body', () => {
    expect(messages.usageFromBody({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).toBeNull();
  });

  it('takes the LAST cumulative output_tokens of message_delta, never the sum (5, 12, 20 → 20)', () => {
    const text =
      start() +
      ev('ping') +
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      delta({ type: 'text_delta', text: 'Hello' }) +
      messageDelta({ output_tokens: 5 }) +
      delta({ type: 'text_delta', text: ' there' }) +
      messageDelta({ output_tokens: 12 }) +
      messageDelta({ output_tokens: 20 }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_stop');
    for (let seed = 1; seed <= 10; seed++) {
      const { tracker, forwarded } = trackStream('anthropic.messages', text, { seed });
      expect(tracker.reported()).toEqual({
        usage: usage({ inputTokens: 12, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000, outputTokens: 20 }),
        servedModel: MODEL,
      });
      expect(tracker.finished()).toBe(true);
      expect(tracker.textSeen()).toBe('Hello there');
      expect(forwarded).toBe(text);
    }
  });

  it('takes updated input and cache counts from message_delta when present', () => {
    const text = start() + messageDelta({ input_tokens: 15, cache_read_input_tokens: 40010, cache_creation_input_tokens: 3000, output_tokens: 7 }) + ev('message_stop');
    expect(trackStream('anthropic.messages', text).tracker.reported()?.usage).toEqual(
      usage({ inputTokens: 15, cacheReadTokens: 40010, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000, outputTokens: 7 }),
    );
    // A changed write total without breakdown: the known 1h part stays, the rest is 5m.
    const grown = start() + messageDelta({ cache_creation_input_tokens: 3500, output_tokens: 7 }) + ev('message_stop');
    expect(trackStream('anthropic.messages', grown).tracker.reported()?.usage).toMatchObject({ cacheWrite5mTokens: 1500, cacheWrite1hTokens: 2000 });
  });

  it('reads thinking, text, tool JSON deltas as generated text; ignores signatures', () => {
    const text =
      start() +
      delta({ type: 'thinking_delta', thinking: 'Let me think. ' }) +
      delta({ type: 'signature_delta', signature: 'abc' }) +
      delta({ type: 'text_delta', text: 'Calling tool. ' }) +
      delta({ type: 'input_json_delta', partial_json: '{"city": ' }) +
      delta({ type: 'input_json_delta', partial_json: '"Zürich"}' }) +
      messageDelta({ output_tokens: 55, output_tokens_details: { thinking_tokens: 30 } }) +
      ev('message_stop');
    const { tracker } = trackStream('anthropic.messages', text);
    expect(tracker.textSeen()).toBe('Let me think. Calling tool. {"city": "Zürich"}');
    expect(tracker.reported()?.usage).toMatchObject({ outputTokens: 55, reasoningTokens: 30 });
  });

  it('before message_delta: no reported usage, but the prompt side is known for partial billing', () => {
    const text = start() + delta({ type: 'text_delta', text: 'Partial' });
    const { tracker } = trackStream('anthropic.messages', text);
    expect(tracker.reported()).toBeNull();
    expect(tracker.finished()).toBe(false);
    expect(tracker.partial()).toEqual({
      usage: usage({ inputTokens: 12, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000 }),
      servedModel: MODEL,
    });
    expect(tracker.textSeen()).toBe('Partial');
    expect(trackStream('anthropic.messages', '').tracker.partial()).toBeNull();
  });

  it('reports an error event sent mid-stream', () => {
    const text = start() + delta({ type: 'text_delta', text: 'Hi' }) + ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
    const { tracker } = trackStream('anthropic.messages', text);
    expect(tracker.upstreamError()).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(tracker.finished()).toBe(false);
    expect(tracker.partial()?.usage?.inputTokens).toBe(12);
  });

  it('recognises events by the event: line when data has no type', () => {
    const text = 'event: message_stop\ndata: {}\n\n';
    expect(trackStream('anthropic.messages', text).tracker.finished()).toBe(true);
  });

  describe('refuses absurd usage as suspicious', () => {
    it('in a JSON body', () => {
      const bad = { model: MODEL, usage: { input_tokens: 3, output_tokens: -2 } };
      expect(messages.usageFromBody(bad)).toEqual({ usage: null, servedModel: MODEL, suspicious: 'usage.output_tokens is not a token count: -2' });
      expect(messages.usageFromBody({ model: MODEL, usage: { output_tokens: 3 } })?.suspicious).toBe('usage.input_tokens is missing');
      expect(messages.usageFromBody({ model: MODEL, usage: 7 })?.suspicious).toBe('usage is not an object: 7');
      const breakdown = { model: MODEL, usage: { input_tokens: 1, output_tokens: 1, cache_creation: { ephemeral_1h_input_tokens: 1.5 } } };
      expect(messages.usageFromBody(breakdown)?.suspicious).toBe('usage.cache_creation.ephemeral_1h_input_tokens is not a token count: 1.5');
      const thinking = { model: MODEL, usage: { input_tokens: 1, output_tokens: 10, output_tokens_details: { thinking_tokens: 11 } } };
      expect(messages.usageFromBody(thinking)?.suspicious).toBe('reasoningTokens (11) cannot exceed outputTokens (10)');
    });

    it('in a stream: one bad report taints the call, partial included', () => {
      const text = start({ ...START_USAGE, input_tokens: 'twelve' }) + messageDelta({ output_tokens: 20 }) + ev('message_stop');
      const { tracker } = trackStream('anthropic.messages', text);
      expect(tracker.reported()).toEqual({ usage: null, servedModel: MODEL, suspicious: 'message.usage.input_tokens is not a token count: "twelve"' });
      expect(tracker.partial()?.suspicious).toBe('message.usage.input_tokens is not a token count: "twelve"');
      const huge = start() + messageDelta({ output_tokens: 2e9 }) + ev('message_stop');
      expect(trackStream('anthropic.messages', huge).tracker.reported()?.suspicious).toBe('usage.output_tokens is not a token count: 2000000000');
    });
  });
});
