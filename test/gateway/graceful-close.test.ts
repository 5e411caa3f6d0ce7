import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startHarness } from '../support/gateway.ts';

describe('graceful close', () => {
  it('lets a stream in flight finish and records its row before the ledger writer closes', async () => {
    const h = await startHarness();
    const res = await request(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '20', 'x-sim-chunk-delay-ms': '25' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const id = res.headers['x-tollgate-request-id'] as string;
    const chunks: string[] = [];
    let closing: Promise<void> | null = null;
    for await (const chunk of res.body) {
      chunks.push((chunk as Buffer).toString());
      // Shut down while the stream is still being produced.
      closing ??= h.gateway.close();
    }
    await closing;
    expect(chunks.join('')).toContain('data: [DONE]');
    const row = await h.store.ledger.get(id);
    expect(row).toMatchObject({ status: 200, estimated: false });
    expect(row!.usage.outputTokens).toBe(20);
    await h.sim.close();
    await h.store.close();
  });
});
