import { describe, expect, it } from 'vitest';
import { usage } from '../../src/domain/usage.ts';
import { adapterFor } from '../../src/providers/index.ts';
import { sse, trackStream } from './track-stream.ts';

const chat = adapterFor('openai.chat');
const MODEL = 'gpt-4o-2024-08-06';

const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = { usage: null }) =>
  sse({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra });

const USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0 },
};
// prompt 1200 includes 1024 cached → 176 uncached; completion 300 includes 256 reasoning.
const EXPECTED = usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 300, reasoningTokens: 256 });

const USAGE_CHUNK = sse({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [], usage: USAGE });
const STREAM =
  chunk({ role: 'assistant', content: '', refusal: null }) +
  chunk({ content: 'Hello' }) +
  chunk({ content: ' wörld 🙂' }) +
  chunk({}, 'stop') +
  USAGE_CHUNK +
  sse('[DONE]');

describe('openai.chat adapter', () => {
  it('reads a JSON body: cached tokens come out of prompt_tokens, reasoning stays inside output', () => {
    expect(chat.usageFromBody({ id: 'x', object: 'chat.completion', model: MODEL, choices: [], usage: USAGE })).toEqual({ usage: EXPECTED, servedModel: MODEL });
  });

  it('reads a body without details (older models) as all-uncached, no reasoning', () => {
    const body = { model: 'gpt-3.5-turbo', usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } };
    expect(chat.usageFromBody(body)).toEqual({ usage: usage({ inputTokens: 10, outputTokens: 5 }), servedModel: 'gpt-3.5-turbo' });
  });

  it('returns null for a body without usage (an error body, garbage)', () => {
    expect(chat.usageFromBody({ error: { message: 'nope', type: 'server_error' } })).toBeNull();
    expect(chat.usageFromBody('text')).toBeNull();
    expect(chat.usageFromBody(null)).toBeNull();
    expect(chat.usageFromBody([1, 2])).toBeNull();
  });

  it('reads a stream: usage from the usage-only chunk, text from the deltas, the end from [DONE]', () => {
    const { tracker, forwarded, dropped } = trackStream('openai.chat', STREAM);
    expect(tracker.reported()).toEqual({ usage: EXPECTED, servedModel: MODEL });
    expect(tracker.textSeen()).toBe('Hello wörld 🙂');
    expect(tracker.finished()).toBe(true);
    expect(tracker.upstreamError()).toBeNull();
    expect(tracker.partial()).toBeNull();
    expect(dropped).toEqual([]);
    expect(forwarded).toBe(STREAM);
  });

  it('drops the usage-only chunk only when the gateway injected include_usage, and still reads it', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { tracker, forwarded, dropped } = trackStream('openai.chat', STREAM, { injectedUsage: true, seed });
      expect(tracker.reported()?.usage).toEqual(EXPECTED);
      expect(dropped.map((e) => e.raw)).toEqual([USAGE_CHUNK]);
      expect(forwarded).toBe(STREAM.replace(USAGE_CHUNK, ''));
    }
  });

  it('never drops a chunk that carries choices, even with usage on it', () => {
    const merged = chunk({}, 'stop', { usage: USAGE }) + sse('[DONE]');
    const { tracker, dropped } = trackStream('openai.chat', merged, { injectedUsage: true });
    expect(dropped).toEqual([]);
    expect(tracker.reported()?.usage).toEqual(EXPECTED);
  });

  it('collects tool-call argument deltas as generated text', () => {
    const stream =
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q": "a' } }] }) +
      chunk({ tool_calls: [{ index: 0, function: { arguments: ' b"}' } }] }) +
      chunk({}, 'tool_calls');
    const { tracker } = trackStream('openai.chat', stream);
    expect(tracker.textSeen()).toBe('{"q": "a b"}');
    expect(tracker.finished()).toBe(false);
    expect(tracker.reported()).toBeNull();
  });

  it('a stream cut short has text but no usage and is not finished', () => {
    const cut = STREAM.slice(0, STREAM.indexOf(USAGE_CHUNK) - 30);
    const { tracker } = trackStream('openai.chat', cut);
    expect(tracker.reported()).toBeNull();
    expect(tracker.finished()).toBe(false);
    expect(tracker.textSeen()).toBe('Hello wörld 🙂');
  });

  it('reports an error object sent mid-stream', () => {
    const { tracker } = trackStream('openai.chat', chunk({ content: 'Hi' }) + sse({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } }));
    expect(tracker.upstreamError()).toEqual({ type: 'server_error', message: 'overloaded' });
    expect(tracker.finished()).toBe(false);
  });

  it('does not throw on garbage events', () => {
    const garbage = 'data: {not json\n\ndata: 42\n\ndata: {"choices": "x", "usage": null}\n\ndata: {"choices": [null, 3, {"delta": 5}]}\n\nevent: x\n\n';
    const { tracker } = trackStream('openai.chat', garbage);
    expect(tracker.reported()).toBeNull();
    expect(tracker.textSeen()).toBe('');
  });

  describe('refuses absurd usage as suspicious', () => {
    const cases: [string, unknown, RegExp][] = [
      ['negative', { ...USAGE, prompt_tokens: -1 }, /prompt_tokens is not a token count: -1/],
      ['fractional', { ...USAGE, completion_tokens: 2.5 }, /completion_tokens is not a token count: 2.5/],
      ['a string', { ...USAGE, prompt_tokens: '1200' }, /prompt_tokens is not a token count: "1200"/],
      ['above 1e9', { ...USAGE, completion_tokens: 1e12 }, /completion_tokens is not a token count/],
      ['missing', { ...USAGE, completion_tokens: null, prompt_tokens: 3 }, /completion_tokens is missing/],
      ['cached above prompt', { ...USAGE, prompt_tokens: 10 }, /cached_tokens \(1024\) exceeds prompt_tokens \(10\)/],
      ['reasoning above output', { ...USAGE, completion_tokens: 100 }, /reasoningTokens \(256\) cannot exceed outputTokens \(100\)/],
      ['details not an object', { ...USAGE, prompt_tokens_details: [1] }, /prompt_tokens_details is not an object/],
      ['usage not an object', 'lots', /usage is not an object: "lots"/],
    ];
    for (const [name, bad, reason] of cases) {
      it(name, () => {
        const fromBody = chat.usageFromBody({ model: MODEL, usage: bad });
        expect(fromBody?.usage).toBeNull();
        expect(fromBody?.suspicious).toMatch(reason);
        expect(fromBody?.servedModel).toBe(MODEL);
        const { tracker, dropped } = trackStream('openai.chat', sse({ model: MODEL, choices: [], usage: bad }) + sse('[DONE]'), { injectedUsage: true });
        expect(tracker.reported()?.usage).toBeNull();
        expect(tracker.reported()?.suspicious).toMatch(reason);
        expect(dropped).toHaveLength(1); // still the gateway's own chunk: the client never asked for it
      });
    }
  });
});
