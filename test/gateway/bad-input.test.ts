/**
 * Bad input gets a clear error in the route's own shape, the server keeps serving, and nothing
 * already recorded is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness } from '../support/gateway.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ gateway: { bodyLimit: 64 * 1024 } });
});
afterAll(async () => {
  await h?.close();
});

type Shape = 'openai' | 'anthropic';
const ROUTES: [Shape, string][] = [
  ['openai', '/v1/chat/completions'],
  ['anthropic', '/v1/messages'],
];

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(h.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The message, checked to be in the route's own error shape. */
function message(shape: Shape, json: Record<string, unknown>): string {
  if (shape === 'anthropic') {
    expect(json['type']).toBe('error');
    const err = json['error'] as { type: string; message: string };
    expect(typeof err.type).toBe('string');
    return err.message;
  }
  const err = json['error'] as { message: string; type: string; code: string };
  expect(typeof err.type).toBe('string');
  expect(typeof err.code).toBe('string');
  return err.message;
}

const valid = (shape: Shape) =>
  JSON.stringify(shape === 'openai' ? { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] } : { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

describe.each(ROUTES)('%s route %s', (shape, path) => {
  it('malformed JSON → 400 naming the problem', async () => {
    const r = await post(path, '{"model": "gpt-4.1-mini", "messages": [');
    expect(r.status).toBe(400);
    expect(message(shape, r.json)).toMatch(/not valid JSON/);
  });

  it('wrong content type → 415', async () => {
    const r = await post(path, valid(shape), { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(message(shape, r.json)).toContain('application/json');
  });

  it('a body over the limit → 413 naming the limit', async () => {
    const r = await post(path, JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'a'.repeat(70 * 1024) }] }));
    expect(r.status).toBe(413);
    expect(message(shape, r.json)).toContain('65,536-byte limit');
  });

  it('missing model, non-object body, empty body → 400', async () => {
    const missing = await post(path, JSON.stringify({ messages: [] }));
    expect(missing.status).toBe(400);
    expect(message(shape, missing.json)).toContain('missing "model"');
    const array = await post(path, '[1,2,3]');
    expect(array.status).toBe(400);
    expect(message(shape, array.json)).toContain('JSON object');
    const empty = await post(path, '');
    expect(empty.status).toBe(400);
  });

  it('unknown model → 404 that says how to choose a provider', async () => {
    const r = await post(path, JSON.stringify({ model: 'no-such-model-xyz', messages: [] }));
    expect(r.status).toBe(404);
    expect(message(shape, r.json)).toMatch(/unknown model "no-such-model-xyz"/);
    const prefixed = await post(path, JSON.stringify({ model: 'nosuchprovider/model', messages: [] }));
    expect(prefixed.status).toBe(404);
  });

  it('no key, a malformed key, an unknown key → 401 that says which', async () => {
    const none = await fetch(h.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid(shape) });
    expect(none.status).toBe(401);
    expect(message(shape, (await none.json()) as Record<string, unknown>)).toContain('missing virtual key');
    const bad = await post(path, valid(shape), { authorization: 'Bearer sk-not-ours' });
    expect(bad.status).toBe(401);
    expect(message(shape, bad.json)).toContain('invalid virtual key');
    const unknown = await post(path, valid(shape), { authorization: `Bearer tg-${'A'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(message(shape, unknown.json)).toContain('unknown virtual key');
  });
});

describe('key states', () => {
  it('suspended → 403, revoked → 401, each saying so', async () => {
    const { createKey } = await import('../../src/admin/create-key.ts');
    const k = await createKey(h.store, { scope: 'acme/support/helpdesk/other', actor: 'test' });
    await h.store.directory.setKeyState(k.key.id, 'suspended', 'test');
    await h.gateway.keys.reload();
    const s = await post('/v1/chat/completions', valid('openai'), { authorization: `Bearer ${k.secret}` });
    expect(s.status).toBe(403);
    expect(message('openai', s.json)).toContain('suspended');
    await h.store.directory.setKeyState(k.key.id, 'revoked', 'test');
    await h.gateway.keys.reload();
    const r = await post('/v1/messages', valid('anthropic'), { authorization: `Bearer ${k.secret}` });
    expect(r.status).toBe(401);
    expect(message('anthropic', r.json)).toContain('revoked');
  });
});

describe('the server keeps serving and keeps what it recorded', () => {
  it('after all of the above, a good call still works and earlier rows are intact', async () => {
    const before = await h.store.ledger.totals({});
    const ok = await post('/v1/chat/completions', valid('openai'));
    expect(ok.status).toBe(200);
    await h.gateway.writer.flush();
    const after = await h.store.ledger.totals({});
    expect(after.calls).toBe(before.calls + 1);
    expect(after.effectiveCostNano).toBeGreaterThan(before.effectiveCostNano);
  });

  it('unsupported route → 404 listing what is served; GET on a POST route too', async () => {
    const r = await fetch(`${h.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('/v1/chat/completions');
    expect((await fetch(`${h.url}/v1/chat/completions`)).status).toBe(404);
  });

  it('the admin API needs the admin key and returns the ledger row of a call', async () => {
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json' }, body: valid('openai') });
    const id = res.headers.get('x-tollgate-request-id')!;
    const cost = res.headers.get('x-tollgate-cost-usd');
    expect((await fetch(`${h.url}/api/calls/${id}`)).status).toBe(401);
    expect((await fetch(`${h.url}/api/calls/${id}`, { headers: { authorization: `Bearer ${h.secret}` } })).status).toBe(401);
    const row = (await (await fetch(`${h.url}/api/calls/${id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as Record<string, unknown>;
    expect(row).toMatchObject({ id, effectiveCostUsd: cost, scope: 'acme/support/helpdesk/triage-bot', route: 'openai.chat' });
    expect(typeof row['effectiveCostNano']).toBe('string');
    const missing = await fetch(`${h.url}/api/calls/req_nope`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
