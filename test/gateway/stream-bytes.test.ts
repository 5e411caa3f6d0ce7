/**
 * Transparency: what a streaming client receives is byte for byte what the upstream sent, minus only
 * the usage chunk the gateway asked for on the client's behalf, and it arrives as it is produced.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../support/gateway.ts';
import { startHarness } from '../support/gateway.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Received {
  text: string;
  /** Whether the upstream had finished sending when the client's first bytes arrived. */
  upstreamDoneAtFirstByte: boolean;
}

async function streamRaw(path: string, body: object, headers: Record<string, string>): Promise<Received> {
  const res = await request(h.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(res.statusCode).toBe(200);
  let text = '';
  let upstreamDoneAtFirstByte: boolean | null = null;
  for await (const chunk of res.body) {
    upstreamDoneAtFirstByte ??= h.sim.calls.at(-1)?.completed ?? false;
    text += (chunk as Buffer).toString('utf8');
  }
  return { text, upstreamDoneAtFirstByte: upstreamDoneAtFirstByte ?? true };
}

/** SSE events of a text, each with its terminating blank line. */
function events(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((e) => e.length > 0);
}

const slow = { 'x-sim-output-tokens': '12', 'x-sim-chunk-delay-ms': '25' };

describe('streamed bytes', () => {
  it('OpenAI chat without include_usage: identical except the injected usage chunk, which alone is removed', async () => {
    const got = await streamRaw('/v1/chat/completions', { model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] }, slow);
    const sent = h.sim.calls.at(-1)!.sent;
    const usageEvents = events(sent).filter((e) => /"choices":\[\],/.test(e) && /"usage":\{/.test(e));
    expect(usageEvents.length).toBe(1);
    expect(got.text).toBe(sent.replace(usageEvents[0]!, ''));
    expect(got.upstreamDoneAtFirstByte).toBe(false);
  });

  it('OpenAI chat with include_usage: identical', async () => {
    const got = await streamRaw('/v1/chat/completions', { model: 'gpt-4.1-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }, slow);
    expect(got.text).toBe(h.sim.calls.at(-1)!.sent);
    expect(got.upstreamDoneAtFirstByte).toBe(false);
  });

  it('Anthropic messages and OpenAI Responses: identical', async () => {
    const a = await streamRaw('/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }, slow);
    expect(a.text).toBe(h.sim.calls.at(-1)!.sent);
    expect(a.upstreamDoneAtFirstByte).toBe(false);
    const r = await streamRaw('/v1/responses', { model: 'gpt-4.1', stream: true, input: 'hi' }, slow);
    expect(r.text).toBe(h.sim.calls.at(-1)!.sent);
  });

  it('a non-streaming body is passed through unchanged', async () => {
    const res = await request(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(await res.body.text()).toBe(h.sim.calls.at(-1)!.sent);
    // And the request reached the upstream as the client sent it.
    expect(h.sim.calls.at(-1)!.body).toEqual({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
  });
});
