/**
 * No SSRF: the gateway connects only to the upstreams of its config. A canary listener on port 0
 * stands for an internal service an attacker would like reached; every request header (Host,
 * X-Forwarded-*, x-tollgate-*, anthropic-*, openai-*), body field (base_url, url, model names that are
 * URLs or provider prefixes, image and document URLs, MCP server URLs) and upstream redirect that
 * names it must leave it untouched, while the configured upstream does receive the calls.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FuzzGateway } from '../fuzz/fuzz-gateway.ts';
import { startFuzzGateway } from '../fuzz/fuzz-gateway.ts';
import { ADMIN_KEY } from '../support/gateway.ts';

let g: FuzzGateway;
let canary: Server;
let canaryHost: string;
let canaryUrl: string;
/** Every connection the canary accepted: must stay empty. */
const touched: string[] = [];

beforeAll(async () => {
  canary = createServer((req, res) => {
    touched.push(`${req.method} ${req.url}`);
    res.end('canary');
  });
  canary.on('connection', () => touched.push('connection'));
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  canaryHost = `127.0.0.1:${(canary.address() as AddressInfo).port}`;
  canaryUrl = `http://${canaryHost}`;
  g = await startFuzzGateway();
});
afterAll(async () => {
  await g?.close();
  await new Promise<void>((resolve) => canary.close(() => resolve()));
});

/** Headers a client may send to steer a proxy elsewhere, all naming the canary. */
function steeringHeaders(): Record<string, string> {
  return {
    'x-forwarded-host': canaryHost,
    'x-forwarded-proto': 'http',
    'x-forwarded-for': '127.0.0.1',
    forwarded: `host=${canaryHost};proto=http`,
    'x-original-url': `${canaryUrl}/v1/chat/completions`,
    'x-rewrite-url': `${canaryUrl}/v1`,
    'x-tollgate-upstream': canaryUrl,
    'x-tollgate-base-url': canaryUrl,
    'x-tollgate-provider': canaryUrl,
    'x-tollgate-tags': `callback=${canaryUrl}`,
    'x-tollgate-route-hint': canaryUrl,
    'anthropic-base-url': canaryUrl,
    'anthropic-beta': `${canaryUrl}/beta`,
    'openai-base-url': canaryUrl,
    'openai-organization': canaryUrl,
    'openai-project': canaryUrl,
    'x-stainless-base-url': canaryUrl,
  };
}

/** Body fields a client may use to name a destination, all naming the canary. */
function steeringFields(): Record<string, unknown> {
  return {
    base_url: canaryUrl,
    baseURL: canaryUrl,
    api_base: `${canaryUrl}/v1`,
    url: `${canaryUrl}/v1/chat/completions`,
    endpoint: canaryUrl,
    host: canaryHost,
    metadata: { callback_url: canaryUrl },
    user: canaryUrl,
  };
}

const CANARY_MODELS = () => [
  `${canaryUrl}/v1`,
  `${canaryUrl}/gpt-4.1-mini`,
  `${canaryHost}/gpt-4.1-mini`,
  `http://localhost:${canaryHost.split(':')[1]}/x`,
  `http://[::1]:${canaryHost.split(':')[1]}/x`,
  'canary/gpt-4.1-mini',
  '//127.0.0.1/x',
];

async function call(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await request(g.h.url + path, {
    method: method as 'POST',
    headers: { authorization: `Bearer ${g.h.secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...steeringHeaders(), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.body.dump();
  return res.statusCode;
}

describe('upstream hosts come only from config', () => {
  it('headers and body fields naming another host reach the configured upstream, never the canary', async () => {
    const before = g.upstream.received.length;
    const url = (u: string) => ({ type: 'image_url', image_url: { url: u } });
    const calls: [string, Record<string, unknown>][] = [
      ['/v1/chat/completions', { model: 'gpt-4.1-mini', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text', text: canaryUrl }, url(`${canaryUrl}/cat.png`)] }] }],
      ['/v1/chat/completions', { model: 'gpt-4.1-mini', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] }],
      ['/v1/responses', { model: 'gpt-4.1-mini', max_output_tokens: 5, input: [{ role: 'user', content: [{ type: 'input_image', image_url: `${canaryUrl}/a.png` }, { type: 'input_file', file_url: `${canaryUrl}/a.pdf` }] }], tools: [{ type: 'mcp', server_label: 'x', server_url: canaryUrl }] }],
      ['/v1/embeddings', { model: 'text-embedding-3-small', input: canaryUrl }],
      ['/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: `${canaryUrl}/a.png` } }, { type: 'document', source: { type: 'url', url: `${canaryUrl}/a.pdf` } }] }], mcp_servers: [{ type: 'url', url: canaryUrl, name: 'x' }] }],
      ['/v1/messages/count_tokens', { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }] }],
    ];
    for (const [path, body] of calls) expect(await call('POST', path, { ...body, ...steeringFields() }, { host: canaryHost }), path).toBe(200);
    expect(await call('GET', '/v1/models', undefined, { host: canaryHost })).toBe(200);
    // Every call went to the configured upstream, with the body as sent: the fields were carried, not followed.
    expect(g.upstream.received.length - before).toBe(calls.length);
    expect(g.upstream.received.slice(before).every((r) => r.body.toString('utf8').includes(canaryHost))).toBe(true);
    expect(touched).toEqual([]);
  });

  it('a model named by URL, host or unknown provider prefix is refused, not reached', async () => {
    for (const path of ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/messages', '/v1/messages/count_tokens']) {
      for (const model of CANARY_MODELS()) {
        const status = await call('POST', path, { model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], input: 'hi', ...steeringFields() });
        expect([400, 404], `${path} ${model}`).toContain(status);
      }
    }
    // A configured provider's prefix sends the URL-like name to that provider, as a model name.
    const before = g.upstream.received.length;
    expect(await call('POST', '/v1/chat/completions', { model: `openai/${canaryUrl}`, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })).toBe(200);
    expect(JSON.parse(g.upstream.received.at(-1)!.body.toString('utf8'))).toMatchObject({ model: canaryUrl });
    expect(g.upstream.received.length).toBe(before + 1);
    expect(touched).toEqual([]);
  });

  it('an upstream redirect to another host is passed back, never followed', async () => {
    for (const status of [301, 302, 307, 308]) {
      const id = `redirect-${status}`;
      g.upstream.script(id, { status, headers: { location: `${canaryUrl}/v1/chat/completions`, 'content-type': 'application/json' }, chunks: [Buffer.from('{}')], ending: 'end' });
      expect(await call('POST', '/v1/chat/completions', { model: 'gpt-4.1-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, { 'x-sim-fuzz': id })).toBe(status);
    }
    expect(touched).toEqual([]);
  });

  it('span ingest and the admin API follow no URL either', async () => {
    const attr = (key: string, stringValue: string) => ({ key, value: { stringValue } });
    const span = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name: 'chat',
      startTimeUnixNano: String(BigInt(Date.now() - 1000) * 1_000_000n),
      endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      attributes: [attr('gen_ai.provider.name', 'openai'), attr('gen_ai.request.model', 'gpt-4.1-mini'), attr('server.address', canaryHost), attr('url.full', `${canaryUrl}/v1/chat/completions`), { key: 'gen_ai.usage.input_tokens', value: { intValue: '3' } }],
    };
    const otlp = await call('POST', '/v1/otlp/traces', { resourceSpans: [{ resource: { attributes: [attr('service.name', canaryUrl)] }, scopeSpans: [{ spans: [span] }] }] }, { host: canaryHost });
    expect(otlp).toBe(200);
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    expect(await call('GET', `/api/reports/showback?scope=${encodeURIComponent(canaryUrl)}`, undefined, admin)).toBeLessThan(500);
    expect(await call('GET', `/api/calls/${encodeURIComponent(canaryUrl)}`, undefined, admin)).toBe(404);
    expect(touched).toEqual([]);
  });
});
