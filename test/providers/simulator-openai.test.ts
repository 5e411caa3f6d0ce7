/**
 * The simulator against the official OpenAI SDK: the usage the SDK reports equals what the simulator
 * recorded, which equals what our adapters read from the exact bytes it sent.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../src/domain/usage.ts';
import { usage } from '../../src/domain/usage.ts';
import { adapterFor } from '../../src/providers/index.ts';
import type { ApiRoute } from '../../src/providers/index.ts';
import type { SimulatedCall, Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import { trackStream } from './track-stream.ts';

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const MESSAGES = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'What did the ledger record today?' },
];
const PROMPT_WORDS = 9; // "You are terse." + "What did the ledger record today?"

function lastCall(): SimulatedCall {
  const call = sim.calls.at(-1);
  if (!call) throw new Error('no call recorded');
  return call;
}

/** The recorded usage, and the same read back from the recorded bytes by our adapter. */
function recorded(route: ApiRoute, call: SimulatedCall): Usage {
  expect(call.usage).not.toBeNull();
  const fromBytes = call.stream ? trackStream(route, call.sent).tracker.reported() : adapterFor(route).usageFromBody(JSON.parse(call.sent));
  expect(fromBytes?.usage).toEqual(call.usage);
  return call.usage as Usage;
}

const words = (s: string | null | undefined) => (s ?? '').split(/\s+/).filter(Boolean).length;

describe('simulator + official OpenAI SDK', () => {
  it('chat, non-streamed: usage from the prompt words and the generated words', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
    const call = lastCall();
    expect(call).toMatchObject({ route: 'openai.chat', model: 'gpt-4o-mini', stream: false, status: 200, auth: 'Bearer sk-test', completed: true });
    expect(recorded('openai.chat', call)).toEqual(usage({ inputTokens: PROMPT_WORDS, outputTokens: 12 }));
    expect(completion.usage).toMatchObject({ prompt_tokens: PROMPT_WORDS, completion_tokens: 12, total_tokens: PROMPT_WORDS + 12 });
    expect(words(completion.choices[0]?.message.content)).toBe(12);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('chat, streamed with include_usage: cached and reasoning tokens, one token per streamed word', async () => {
    const stream = await client.chat.completions.create(
      { model: 'o3-mini', messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-sim-input-tokens': '300', 'x-sim-cached-tokens': '1024', 'x-sim-output-tokens': '20', 'x-sim-reasoning-tokens': '8' } },
    );
    let text = '';
    let sdkUsage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sdkUsage = chunk.usage;
    }
    const call = lastCall();
    const expected = usage({ inputTokens: 300, cacheReadTokens: 1024, outputTokens: 20, reasoningTokens: 8 });
    expect(recorded('openai.chat', call)).toEqual(expected);
    expect(sdkUsage).toMatchObject({
      prompt_tokens: 1324,
      completion_tokens: 20,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 8 },
    });
    expect(words(text)).toBe(12); // 20 output - 8 hidden reasoning
    expect(trackStream('openai.chat', call.sent).tracker.textSeen()).toBe(text);
  });

  it('chat, streamed without include_usage: the upstream reports nothing (why the gateway injects it)', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true });
    for await (const chunk of stream) expect(chunk.usage).toBeUndefined();
    const call = lastCall();
    expect(call.usage).toBeNull();
    expect(call.planned).toEqual(usage({ inputTokens: PROMPT_WORDS, outputTokens: 12 }));
    const { tracker } = trackStream('openai.chat', call.sent);
    expect(tracker.reported()).toBeNull();
    expect(tracker.finished()).toBe(true);
  });

  it('chat, streamed tool call: JSON arguments in several deltas, valid once joined', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup_spend', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
    ];
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: MESSAGES, tools, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-sim-output-tokens': '5' } },
    );
    let args = '';
    let name = '';
    let argDeltas = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      if (call?.function?.name) name = call.function.name;
      if (call?.function?.arguments) {
        args += call.function.arguments;
        argDeltas++;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('lookup_spend');
    expect(argDeltas).toBe(5);
    expect(words((JSON.parse(args) as { query: string }).query)).toBe(5);
    expect(finish).toBe('tool_calls');
    const call = lastCall();
    expect(recorded('openai.chat', call)).toEqual(usage({ inputTokens: PROMPT_WORDS, outputTokens: 5 }));
    expect(trackStream('openai.chat', call.sent).tracker.textSeen()).toBe(args);
  });

  it('chat, non-streamed tool call, and max_tokens capping the default output', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, tools, max_completion_tokens: 3 });
    const toolCall = completion.choices[0]?.message.tool_calls?.[0];
    expect(toolCall?.type === 'function' ? JSON.parse(toolCall.function.arguments) : null).toEqual({ input: expect.any(String) as unknown });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(recorded('openai.chat', lastCall())).toEqual(usage({ inputTokens: PROMPT_WORDS, outputTokens: 3 }));
  });

  it('responses, non-streamed', async () => {
    const response = await client.responses.create({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'Summarise the spend of team support.' });
    const call = lastCall();
    expect(recorded('openai.responses', call)).toEqual(usage({ inputTokens: 8, outputTokens: 12 }));
    expect(response.usage).toMatchObject({ input_tokens: 8, output_tokens: 12, input_tokens_details: { cached_tokens: 0 } });
    expect(words(response.output_text)).toBe(12);
  });

  it('responses, streamed through the SDK helper (which checks the event sequence)', async () => {
    const stream = client.responses.stream(
      { model: 'o4-mini', input: [{ role: 'user', content: 'Forecast next month.' }] },
      { headers: { 'x-sim-cached-tokens': '2048', 'x-sim-reasoning-tokens': '4' } },
    );
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    const call = lastCall();
    expect(recorded('openai.responses', call)).toEqual(usage({ inputTokens: 3, cacheReadTokens: 2048, outputTokens: 16, reasoningTokens: 4 }));
    expect(final.usage).toMatchObject({ input_tokens: 2051, output_tokens: 16, output_tokens_details: { reasoning_tokens: 4 } });
    // finalResponse() is the accumulated snapshot (no output_text convenience field): read the message part.
    const message = final.output.find((o) => o.type === 'message');
    expect(message?.type === 'message' ? message.content.map((c) => (c.type === 'output_text' ? c.text : '')).join('') : null).toBe(deltas);
    expect(words(deltas)).toBe(12);
    expect(trackStream('openai.responses', call.sent).tracker.textSeen()).toBe(deltas);
  });

  it('responses, streamed function call', async () => {
    const stream = await client.responses.create(
      { model: 'gpt-4.1', input: 'Look it up.', stream: true, tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false }] },
      { headers: { 'x-sim-output-tokens': '4' } },
    );
    let args = '';
    let done: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === 'response.function_call_arguments.delta') args += event.delta;
      if (event.type === 'response.completed') done = event.response;
    }
    expect(words((JSON.parse(args) as { q: string }).q)).toBe(4);
    expect(done?.output[0]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: args });
    expect(recorded('openai.responses', lastCall())).toEqual(usage({ inputTokens: 3, outputTokens: 4 }));
  });

  it('embeddings, in the SDK default base64 encoding and as floats', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['monthly spend per team', 'forecast'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(8);
    expect(result.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(recorded('openai.embeddings', lastCall())).toEqual(usage({ inputTokens: 5 }));
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual(result.data[0]?.embedding.slice(0, 4));
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(lastCall()).toMatchObject({ route: 'openai.models', method: 'GET', usage: null });
  });

  it('answers x-sim-error in the OpenAI error shape, which the SDK turns into its typed error', async () => {
    const failing = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-sim-error': '429' } });
    const err = await failing.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', requestID: expect.stringMatching(/^req_sim/) as unknown });
    expect(lastCall()).toMatchObject({ status: 429, usage: null });
    const server = await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES }, { headers: { 'x-sim-error': '503' } }).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('breaks a stream after N chunks (x-sim-fail-after): the SDK fails, the bytes hold the text so far', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages: MESSAGES, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-sim-fail-after': '4' } },
    );
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    const call = lastCall();
    expect(call).toMatchObject({ broken: true, completed: false, usage: null });
    expect(call.sent.split('\n\n').filter(Boolean)).toHaveLength(4);
    const { tracker } = trackStream('openai.chat', call.sent);
    expect(tracker.finished()).toBe(false);
    expect(tracker.reported()).toBeNull();
    expect(tracker.textSeen()).toBe(text);
    expect(words(text)).toBe(3); // the role chunk, then three words
  });

  it('sends the API error event mid-stream (x-sim-error-after)', async () => {
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'x', stream: true }, { headers: { 'x-sim-error-after': '5' } });
    const failure = await (async () => {
      for await (const _event of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    const { tracker } = trackStream('openai.responses', lastCall().sent);
    expect(tracker.upstreamError()).toEqual({ type: 'server_error', message: 'The server had an error while processing your request.' });
    expect(tracker.finished()).toBe(false);
    // The SDK yields Responses `error` events as data rather than throwing; either is fine for a client.
    expect(failure === undefined || failure instanceof Error).toBe(true);
  });
});
