import { describe, expect, it } from 'vitest';
import { usage } from '../../src/domain/usage.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { sse, trackStream } from './track-stream.ts';

const responses = adapterFor('openai.responses');
const MODEL = 'o4-mini-2025-04-16';
const USAGE = {
  input_tokens: 5000,
  input_tokens_details: { cached_tokens: 4096 },
  output_tokens: 900,
  output_tokens_details: { reasoning_tokens: 768 },
  total_tokens: 5900,
};
// 5000 input includes 4096 cached → 904 uncached; 900 output includes 768 reasoning.
const EXPECTED = usage({ inputTokens: 904, cacheReadTokens: 4096, outputTokens: 900, reasoningTokens: 768 });

let seq = 0;
const ev = (type: string, fields: Record<string, unknown>) => sse({ type, ...fields, sequence_number: seq++ }, type);
const resp = (status: string, extra: Record<string, unknown> = {}) => ({ id: 'resp_1', object: 'response', model: MODEL, status, output: [], usage: null, ...extra });

function stream(final: string, finalResponse: Record<string, unknown>): string {
  seq = 0;
  return (
    ev('response.created', { response: resp('in_progress') }) +
    ev('response.in_progress', { response: resp('in_progress') }) +
    ev('response.output_item.added', { output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', content: [], role: 'assistant' } }) +
    ev('response.content_part.added', { item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }) +
    ev('response.output_text.delta', { item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Bonjour', logprobs: [] }) +
    ev('response.output_text.delta', { item_id: 'msg_1', output_index: 0, content_index: 0, delta: ' à tous', logprobs: [] }) +
    ev('response.output_item.added', { output_index: 1, item: { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '' } }) +
    ev('response.function_call_arguments.delta', { item_id: 'fc_1', output_index: 1, delta: '{"x":1}' }) +
    ev('response.output_text.done', { item_id: 'msg_1', output_index: 0, content_index: 0, text: 'Bonjour à tous', logprobs: [] }) +
    ev(final, { response: finalResponse })
  );
}

describe('openai.responses adapter', () => {
  it('reads a JSON body: cached out of input_tokens, reasoning inside output_tokens', () => {
    expect(responses.usageFromBody(resp('completed', { usage: USAGE }))).toEqual({ usage: EXPECTED, servedModel: MODEL });
    expect(responses.usageFromBody(resp('in_progress'))).toBeNull(); // background responses carry usage: null
  });

  it('reads a stream ending in response.completed', () => {
    const { tracker, forwarded } = trackStream('openai.responses', stream('response.completed', resp('completed', { usage: USAGE })));
    expect(tracker.reported()).toEqual({ usage: EXPECTED, servedModel: MODEL });
    expect(tracker.textSeen()).toBe('Bonjour à tous{"x":1}');
    expect(tracker.finished()).toBe(true);
    expect(tracker.upstreamError()).toBeNull();
    expect(forwarded).toContain('response.completed');
  });

  it('reads usage from response.incomplete (max_output_tokens reached)', () => {
    const { tracker } = trackStream('openai.responses', stream('response.incomplete', resp('incomplete', { usage: USAGE, incomplete_details: { reason: 'max_output_tokens' } })));
    expect(tracker.reported()?.usage).toEqual(EXPECTED);
    expect(tracker.finished()).toBe(true);
  });

  it('reads usage and the error from response.failed', () => {
    const failed = resp('failed', { usage: USAGE, error: { code: 'server_error', message: 'The model failed.' } });
    const { tracker } = trackStream('openai.responses', stream('response.failed', failed));
    expect(tracker.reported()?.usage).toEqual(EXPECTED);
    expect(tracker.finished()).toBe(true);
    expect(tracker.upstreamError()).toEqual({ type: 'server_error', message: 'The model failed.' });
  });

  it('reports a mid-stream error event, and a stream cut short has no usage', () => {
    const text = stream('response.completed', resp('completed', { usage: USAGE }));
    const cut = text.slice(0, text.indexOf('event: response.output_text.done')) + sse({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null }, 'error');
    const { tracker } = trackStream('openai.responses', cut);
    expect(tracker.upstreamError()).toEqual({ type: 'rate_limit_exceeded', message: 'slow down' });
    expect(tracker.reported()).toBeNull();
    expect(tracker.partial()).toBeNull();
    expect(tracker.finished()).toBe(false);
    expect(tracker.textSeen()).toBe('Bonjour à tous{"x":1}');
  });

  it('never drops an event, even with injectedUsage', () => {
    const text = stream('response.completed', resp('completed', { usage: USAGE }));
    const { forwarded, dropped } = trackStream('openai.responses', text, { injectedUsage: true });
    expect(dropped).toEqual([]);
    expect(forwarded).toBe(text);
  });

  it('refuses absurd usage as suspicious', () => {
    const bad = { ...USAGE, output_tokens_details: { reasoning_tokens: -5 } };
    const capture = responses.usageFromBody(resp('completed', { usage: bad }));
    expect(capture).toEqual({ usage: null, servedModel: MODEL, suspicious: 'usage.output_tokens_details.reasoning_tokens is not a token count: -5' });
    const { tracker } = trackStream('openai.responses', stream('response.completed', resp('completed', { usage: { input_tokens: 1 } })));
    expect(tracker.reported()).toEqual({ usage: null, servedModel: MODEL, suspicious: 'usage.output_tokens is missing' });
  });
});

describe('openai.embeddings adapter', () => {
  const embeddings = adapterFor('openai.embeddings');

  it('reads prompt_tokens as input, no output', () => {
    const body = { object: 'list', data: [], model: 'text-embedding-3-small', usage: { prompt_tokens: 42, total_tokens: 42 } };
    expect(embeddings.usageFromBody(body)).toEqual({ usage: usage({ inputTokens: 42 }), servedModel: 'text-embedding-3-small' });
  });

  it('refuses absurd usage and ignores bodies without usage', () => {
    expect(embeddings.usageFromBody({ model: 'm', usage: { prompt_tokens: true } })?.suspicious).toBe('usage.prompt_tokens is not a token count: true');
    expect(embeddings.usageFromBody({ error: { message: 'x' } })).toBeNull();
  });

  it('has a tracker that forwards and learns nothing', () => {
    const { tracker, forwarded } = trackStream('openai.embeddings', sse({ usage: { prompt_tokens: 1 } }));
    expect(tracker.reported()).toBeNull();
    expect(forwarded).toBe(sse({ usage: { prompt_tokens: 1 } }));
  });
});
