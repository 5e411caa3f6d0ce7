import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../support/gateway.ts';
import { startHarness } from '../support/gateway.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ upstreamTimeoutMs: 300 });
});
afterAll(async () => {
  await h?.close();
});

describe('an upstream that does not answer in time', () => {
  it.each([
    ['/v1/chat/completions', { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }, 'error'],
    ['/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, 'type'],
  ] as const)('%s → 504 in the route\'s shape, recorded with its status and no cost', async (path, body, shapeKey) => {
    const res = await fetch(h.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', 'x-sim-latency-ms': '3000' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(504);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toHaveProperty(shapeKey);
    expect(JSON.stringify(json)).toContain('did not answer in time');
    await h.gateway.writer.flush();
    const row = await h.store.ledger.get(res.headers.get('x-tollgate-request-id')!);
    expect(row).toMatchObject({ status: 504, errorCode: 'upstream_timeout', effectiveCostNano: 0n });
  });
});
