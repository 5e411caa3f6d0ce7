/** The simulator as an HTTP server: credentials, error shapes, knobs, timing, disconnects. */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const CHAT = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] };
const OPENAI = { 'content-type': 'application/json', authorization: 'Bearer sk-test' };
const ANTHROPIC = { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

describe('simulator server', () => {
  it('requires credentials, and answers in each API error shape', async () => {
    const openai = await post(`${sim.url}/v1/chat/completions`, CHAT, { 'content-type': 'application/json' });
    expect(openai.status).toBe(401);
    expect(openai.json).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
    const anthropic = await post(`${sim.url}/v1/messages`, { ...CHAT, max_tokens: 5 }, { 'content-type': 'application/json', authorization: 'Basic x' });
    expect(anthropic.status).toBe(401);
    expect(anthropic.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(anthropic.headers.get('request-id')).toMatch(/^req_sim/);
    expect(sim.calls.at(-1)).toMatchObject({ auth: null, status: 401 });
  });

  it('refuses bad input like the real APIs: unknown path, broken JSON, missing model or max_tokens, bad x-sim header', async () => {
    expect((await post(`${sim.url}/v1/nope`, {}, OPENAI)).status).toBe(404);
    expect((await post(`${sim.url}/v1/chat/completions`, '{"model":', OPENAI)).status).toBe(400);
    expect((await post(`${sim.url}/v1/chat/completions`, { messages: [] }, OPENAI)).json).toMatchObject({ error: { message: 'model: field required' } });
    expect((await post(`${sim.url}/v1/messages`, { model: 'claude', messages: [] }, ANTHROPIC)).json).toMatchObject({ error: { type: 'invalid_request_error', message: 'max_tokens: field required' } });
    const bad = await post(`${sim.url}/v1/chat/completions`, CHAT, { ...OPENAI, 'x-sim-output-tokens': 'ten' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { message: 'x-sim-output-tokens must be a non-negative integer, got ten' } });
    expect((await post(`${sim.url}/v1/chat/completions`, CHAT, { ...OPENAI, 'x-sim-error': '200' })).status).toBe(400);
  });

  it('records the request headers and body it received', async () => {
    await post(`${sim.url}/v1/chat/completions`, { ...CHAT, user: 'u1' }, { ...OPENAI, 'x-trace': 't1' });
    const call = sim.calls.at(-1);
    expect(call?.headers['x-trace']).toBe('t1');
    expect(call?.body).toEqual({ ...CHAT, user: 'u1' });
  });

  it('waits x-sim-latency-ms before the first byte', async () => {
    const t0 = performance.now();
    await post(`${sim.url}/v1/chat/completions`, CHAT, { ...OPENAI, 'x-sim-latency-ms': '80' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
  });

  it('spaces stream chunks by x-sim-chunk-delay-ms', async () => {
    const t0 = performance.now();
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...OPENAI, 'x-sim-chunk-delay-ms': '10', 'x-sim-output-tokens': '4' },
      body: JSON.stringify({ ...CHAT, stream: true }),
    });
    await res.text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(60); // 7 chunks: role, 4 words, finish, [DONE]
  });

  it('fails a seeded share of calls, the same ones for the same seed', async () => {
    const statuses = async (seed: number) => {
      const flaky = await startSimulator({ errorRate: 0.3, errorStatus: 503, seed, recordCalls: false });
      try {
        const out: number[] = [];
        for (let i = 0; i < 40; i++) out.push((await post(`${flaky.url}/v1/chat/completions`, CHAT, OPENAI)).status);
        expect(flaky.calls).toEqual([]);
        return out;
      } finally {
        await flaky.close();
      }
    };
    const a = await statuses(11);
    expect(await statuses(11)).toEqual(a);
    const failed = a.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(3);
    expect(failed).toBeLessThan(25);
    expect(a.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it('stops writing when the client goes away mid-stream, and keeps serving', async () => {
    const before = sim.calls.length;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${sim.url}/v1/messages`, { method: 'POST', headers: { ...ANTHROPIC, 'x-sim-chunk-delay-ms': '20' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end(JSON.stringify({ model: 'claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    });
    await sleep(80);
    const call = sim.calls[before];
    expect(call).toMatchObject({ disconnected: true, completed: false, broken: false, usage: null });
    const sentSoFar = call?.sent.length ?? 0;
    await sleep(60);
    expect(call?.sent.length).toBe(sentSoFar); // nothing more was written
    expect((await post(`${sim.url}/v1/chat/completions`, CHAT, OPENAI)).status).toBe(200);
  });

  it('cuts a JSON answer before its body with x-sim-fail-after', async () => {
    const err = await fetch(`${sim.url}/v1/embeddings`, { method: 'POST', headers: { ...OPENAI, 'x-sim-fail-after': '0' }, body: JSON.stringify({ model: 'e', input: 'x' }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(sim.calls.at(-1)).toMatchObject({ broken: true, sent: '', usage: null });
  });

  it('reports the model given by x-sim-served-model', async () => {
    const res = await post(`${sim.url}/v1/chat/completions`, CHAT, { ...OPENAI, 'x-sim-served-model': 'gpt-4o-2024-08-06' });
    expect(res.json).toMatchObject({ model: 'gpt-4o-2024-08-06' });
  });
});
