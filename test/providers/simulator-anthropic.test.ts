/**
 * The simulator against the official Anthropic SDK: the usage the SDK reports equals what the simulator
 * recorded, which equals what our adapter reads from the exact bytes it sent.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../src/domain/usage.ts';
import { usage } from '../../src/domain/usage.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { SimulatedCall, Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import { trackStream } from './track-stream.ts';

let sim: Simulator;
let client: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ outputTokens: 10 });
  client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const MODEL = 'claude-sonnet-4-5';
const SYSTEM = 'You answer finance questions.';
const MESSAGES: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'Which team spent most in May?' }] }];
const PROMPT_WORDS = 10;

function lastCall(): SimulatedCall {
  const call = sim.calls.at(-1);
  if (!call) throw new Error('no call recorded');
  return call;
}

function recorded(call: SimulatedCall): Usage {
  expect(call.usage).not.toBeNull();
  const adapter = adapterFor('anthropic.messages');
  const fromBytes = call.stream ? trackStream('anthropic.messages', call.sent).tracker.reported() : adapter.usageFromBody(JSON.parse(call.sent));
  expect(fromBytes?.usage).toEqual(call.usage);
  return call.usage as Usage;
}

/** The SDK's usage in the ledger's shape, mapped field by field by hand. */
function fromSdk(u: Anthropic.Usage): Usage {
  return usage({
    inputTokens: u.input_tokens,
    cacheReadTokens: u.cache_read_input_tokens ?? 0,
    cacheWrite5mTokens: u.cache_creation?.ephemeral_5m_input_tokens ?? 0,
    cacheWrite1hTokens: u.cache_creation?.ephemeral_1h_input_tokens ?? 0,
    outputTokens: u.output_tokens,
    reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
  });
}

const CACHE_HEADERS = { 'x-sim-cached-tokens': '40000', 'x-sim-cache-write-5m': '1000', 'x-sim-cache-write-1h': '2000' };
const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
const textOf = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');

describe('simulator + official Anthropic SDK', () => {
  it('messages, non-streamed, with cache reads and 5m/1h cache writes', async () => {
    const message = await client.messages.create({ model: MODEL, system: SYSTEM, messages: MESSAGES, max_tokens: 1024 }, { headers: CACHE_HEADERS });
    const call = lastCall();
    // SDK 1.x sends the API key as a bearer token, not in x-api-key.
    expect(call).toMatchObject({ route: 'anthropic.messages', model: MODEL, stream: false, auth: 'Bearer sk-ant-test', status: 200 });
    expect(call.headers['anthropic-version']).toEqual(expect.any(String));
    const expected = usage({ inputTokens: PROMPT_WORDS, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000, outputTokens: 10 });
    expect(recorded(call)).toEqual(expected);
    expect(fromSdk(message.usage)).toEqual(expected);
    expect(message.usage.cache_creation_input_tokens).toBe(3000);
    expect(words(textOf(message))).toBe(10);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('messages, streamed: message_start then a cumulative message_delta, as the SDK accumulates them', async () => {
    const stream = client.messages.stream({ model: MODEL, system: SYSTEM, messages: MESSAGES, max_tokens: 1024 }, { headers: CACHE_HEADERS });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    const call = lastCall();
    const expected = usage({ inputTokens: PROMPT_WORDS, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000, outputTokens: 10 });
    expect(recorded(call)).toEqual(expected);
    expect(fromSdk(final.usage)).toEqual(expected);
    expect(textOf(final)).toBe(text);
    expect(words(text)).toBe(10);
    const { tracker } = trackStream('anthropic.messages', call.sent);
    expect(tracker.textSeen()).toBe(text);
    expect(tracker.finished()).toBe(true);
  });

  it('messages, streamed with thinking: thinking words count as output and are reported as thinking_tokens', async () => {
    const stream = client.messages.stream(
      { model: MODEL, messages: MESSAGES, max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } },
      { headers: { 'x-sim-reasoning-tokens': '6' } },
    );
    const final = await stream.finalMessage();
    const thinking = final.content.find((b) => b.type === 'thinking');
    expect(thinking?.type === 'thinking' ? words(thinking.thinking) : null).toBe(6);
    expect(words(textOf(final))).toBe(10);
    const expected = usage({ inputTokens: 6, outputTokens: 16, reasoningTokens: 6 });
    expect(fromSdk(final.usage)).toEqual(expected);
    expect(recorded(lastCall())).toEqual(expected);
  });

  it('messages, streamed tool_use: input JSON in several deltas', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'spend_by_team', description: 'Spend', input_schema: { type: 'object', properties: { month: { type: 'string' } } } }];
    const stream = client.messages.stream({ model: MODEL, messages: MESSAGES, max_tokens: 1024, tools }, { headers: { 'x-sim-output-tokens': '4' } });
    let partials = 0;
    stream.on('inputJson', () => partials++);
    const final = await stream.finalMessage();
    const toolUse = final.content.find((b) => b.type === 'tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'spend_by_team' });
    expect(words((toolUse?.type === 'tool_use' ? (toolUse.input as { month: string }) : { month: '' }).month)).toBe(4);
    expect(partials).toBe(4);
    expect(final.stop_reason).toBe('tool_use');
    expect(recorded(lastCall())).toEqual(usage({ inputTokens: 6, outputTokens: 4 }));
  });

  it('messages, non-streamed tool_use and max_tokens capping the default output', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'noop', input_schema: { type: 'object' } }];
    const message = await client.messages.create({ model: MODEL, messages: MESSAGES, max_tokens: 2, tools });
    expect(message.content[0]).toMatchObject({ type: 'tool_use', name: 'noop', input: { input: expect.any(String) as unknown } });
    expect(message.stop_reason).toBe('max_tokens');
    expect(recorded(lastCall())).toEqual(usage({ inputTokens: 6, outputTokens: 2 }));
  });

  it('counts tokens', async () => {
    const counted = await client.messages.countTokens({ model: MODEL, system: SYSTEM, messages: MESSAGES });
    expect(counted.input_tokens).toBe(PROMPT_WORDS);
    expect(lastCall()).toMatchObject({ route: 'anthropic.count_tokens', usage: null, auth: 'Bearer sk-ant-test' });
  });

  it('answers x-sim-error in the Anthropic error shape, which the SDK turns into its typed error', async () => {
    const err = await client.messages.create({ model: MODEL, messages: MESSAGES, max_tokens: 10 }, { headers: { 'x-sim-error': '429' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err).toMatchObject({ status: 429, error: { type: 'error', error: { type: 'rate_limit_error' } }, requestID: expect.stringMatching(/^req_sim/) as unknown });
    const overloaded = await client.messages.create({ model: MODEL, messages: MESSAGES, max_tokens: 10 }, { headers: { 'x-sim-error': '529' } }).catch((e: unknown) => e);
    expect(overloaded).toMatchObject({ status: 529, error: { error: { type: 'overloaded_error' } } });
  });

  it('sends an error event mid-stream (x-sim-error-after): the SDK throws, the tracker reports it', async () => {
    const stream = client.messages.stream({ model: MODEL, messages: MESSAGES, max_tokens: 1024 }, { headers: { 'x-sim-error-after': '6' } });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const call = lastCall();
    expect(call.usage).toBeNull(); // message_delta never went out
    const { tracker } = trackStream('anthropic.messages', call.sent);
    expect(tracker.upstreamError()).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(tracker.partial()?.usage).toEqual(usage({ inputTokens: 6 }));
    expect(words(tracker.textSeen())).toBe(3); // message_start, ping, block start, then three words
  });

  it('breaks the connection mid-stream (x-sim-fail-after): prompt side known, output only as text', async () => {
    const stream = client.messages.stream({ model: MODEL, messages: MESSAGES, max_tokens: 1024 }, { headers: { 'x-sim-fail-after': '5', ...CACHE_HEADERS } });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const call = lastCall();
    expect(call).toMatchObject({ broken: true, completed: false, usage: null });
    const { tracker } = trackStream('anthropic.messages', call.sent);
    expect(tracker.finished()).toBe(false);
    expect(tracker.reported()).toBeNull();
    expect(tracker.partial()?.usage).toEqual(usage({ inputTokens: 6, cacheReadTokens: 40000, cacheWrite5mTokens: 1000, cacheWrite1hTokens: 2000 }));
    expect(words(tracker.textSeen())).toBe(2);
  });

  it('accepts an OAuth token, or a hand-set x-api-key header, as the credential', async () => {
    const oauth = new Anthropic({ baseURL: sim.url, apiKey: null, authToken: 'oauth-token', maxRetries: 0 });
    await oauth.messages.create({ model: MODEL, messages: MESSAGES, max_tokens: 10 });
    expect(lastCall().auth).toBe('Bearer oauth-token');
    const keyed = new Anthropic({ baseURL: sim.url, apiKey: null, defaultHeaders: { 'X-Api-Key': 'sk-ant-header', Authorization: null }, maxRetries: 0 });
    await keyed.messages.create({ model: MODEL, messages: MESSAGES, max_tokens: 10 });
    expect(lastCall().auth).toBe('sk-ant-header');
    expect(lastCall().headers.authorization).toBeUndefined();
  });
});
