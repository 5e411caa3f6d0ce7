/**
 * No secret in any log line. A full gateway logs at `trace` (everything Fastify and Tollgate write)
 * into a captured stream while it serves model calls with an agent key (Bearer and x-api-key), admin
 * calls with the admin key, a viewer's dashboard sign-in and session, wrong keys of every kind, failing
 * upstreams, an upstream that echoes the provider credential back, and an internal error. Then every
 * captured line is searched for every secret: the keys themselves, their random parts, a slice of
 * their middle, their stored hashes, the session cookie and the provider API keys.
 */
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { hashKey } from '../../src/domain/virtual-key.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import type { FakeUpstream } from '../fuzz/fake-upstream.ts';
import { startFakeUpstream } from '../fuzz/fake-upstream.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from '../support/gateway.ts';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
    done();
  },
});

let h: Harness;
let upstream: FakeUpstream;
let viewerSecret: string;
/** Every secret the run handled, by name. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // Fastify hands `stream` to pino: every line the gateway logs, at every level, lands in `lines`.
  const logger = { level: 'trace', stream: sink };
  h = await startHarness({
    gateway: {
      logger,
      upstreams: createUpstreams({
        openai: { base_url: `${upstream.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
        anthropic: { base_url: upstream.url, api_key: UPSTREAM_ANTHROPIC_KEY, api: 'anthropic' },
        // A provider nobody listens on: calls to it fail after the key was checked.
        down: { base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-down-provider-secret-key' },
      }),
    },
  });
  await h.store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'ticket_resolved', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6_000_000_000n, targetNano: null }, 'test');
  viewerSecret = (await createKey(h.store, { scope: 'acme/support', kind: 'viewer', name: 'finance', actor: 'test' })).secret;
  await h.gateway.keys.reload();
  for (const [name, secret] of [
    ['agent key', h.secret],
    ['viewer key', viewerSecret],
    ['admin key', ADMIN_KEY],
    ['openai provider key', UPSTREAM_OPENAI_KEY],
    ['anthropic provider key', UPSTREAM_ANTHROPIC_KEY],
    ['down provider key', 'sk-down-provider-secret-key'],
    ['a wrong agent key', WRONG_AGENT_KEY],
    ['a wrong admin key', WRONG_ADMIN_KEY],
  ] as const) {
    secrets.set(name, secret);
    secrets.set(`${name} hash`, hashKey(secret));
    const random = secret.replace(/^[a-z]+-/, '');
    if (random !== secret) secrets.set(`${name} without its prefix`, random);
    // The display form shows 6 characters and the last 4; a middle slice is never shown.
    if (random.length >= 30) secrets.set(`${name} middle`, random.slice(8, 24));
  }
});
afterAll(async () => {
  await h?.close();
  await upstream?.close();
});

const WRONG_AGENT_KEY = `tg-${'Q'.repeat(20)}wrongwrongwrongwrong123`;
const WRONG_ADMIN_KEY = `${ADMIN_KEY}-not-quite`;

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const res = await request(h.url + path, {
    method: method as 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'gpt-4.1-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }], ...extra });
const message = (extra: Record<string, unknown> = {}) => ({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }], ...extra });

describe('logs of a full run', () => {
  it('carry no key, hash, cookie or provider credential', async () => {
    const agent = { authorization: `Bearer ${h.secret}` };
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    const statuses: number[] = [];
    const s = async (...args: Parameters<typeof send>) => {
      const r = await send(...args);
      statuses.push(r.status);
      return r;
    };

    // Model calls with the agent key, both ways of presenting it, streamed and not.
    expect((await s('POST', '/v1/chat/completions', agent, chat())).status).toBe(200);
    expect((await s('POST', '/v1/chat/completions', agent, chat({ stream: true }))).status).toBe(200);
    expect((await s('POST', '/v1/messages', { 'x-api-key': h.secret, 'anthropic-version': '2023-06-01' }, message({ stream: true }))).status).toBe(200);
    expect((await s('POST', '/v1/responses', agent, { model: 'gpt-4.1-mini', input: 'hi' })).status).toBe(200);
    expect((await s('POST', '/v1/messages/count_tokens', { 'x-api-key': h.secret }, message())).status).toBe(200);
    expect((await s('GET', '/v1/models', agent)).status).toBe(200);
    // Failing calls: wrong keys, malformed headers, bad bodies, a provider that is down, an upstream that breaks.
    expect((await s('POST', '/v1/chat/completions', { authorization: `Bearer ${WRONG_AGENT_KEY}` }, chat())).status).toBe(401);
    expect((await s('POST', '/v1/messages', { 'x-api-key': WRONG_AGENT_KEY }, message())).status).toBe(401);
    expect((await s('POST', '/v1/chat/completions', { authorization: `Token ${h.secret}` }, chat())).status).toBe(401);
    expect((await s('POST', '/v1/chat/completions', { authorization: `Bearer ${viewerSecret}` }, chat())).status).toBeGreaterThanOrEqual(400);
    expect((await s('POST', '/v1/chat/completions', agent, '{"model": "gpt-4.1-mini", "messages": [')).status).toBe(400);
    expect((await s('POST', '/v1/chat/completions', agent, chat({ model: 'down/some-model' }))).status).toBe(502);
    upstream.script('drop', { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: [Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\n')], ending: 'cut' });
    expect((await s('POST', '/v1/chat/completions', { ...agent, 'x-sim-fuzz': 'drop' }, chat({ stream: true }))).status).toBe(200);
    // An upstream that echoes the credential it was sent, in its usage and in an error.
    upstream.script('echo', { status: 200, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(JSON.stringify({ model: 'gpt-4.1-mini', usage: { prompt_tokens: UPSTREAM_OPENAI_KEY, completion_tokens: `Bearer ${UPSTREAM_OPENAI_KEY}` } }))], ending: 'end' });
    expect((await s('POST', '/v1/chat/completions', { ...agent, 'x-sim-fuzz': 'echo' }, chat())).status).toBe(200);
    upstream.script('echo-error', { status: 401, headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${UPSTREAM_ANTHROPIC_KEY}` } }))], ending: 'end' });
    expect((await s('POST', '/v1/messages', { 'x-api-key': h.secret, 'x-sim-fuzz': 'echo-error' }, message())).status).toBe(401);
    // An internal error (or, once refused properly, a 400): an outcome time past the calendar.
    await s('POST', '/v1/outcomes', agent, { type: 'ticket_resolved', count: 1, occurred_at: 9007199254740991 });
    // Span ingest with the agent key.
    expect((await s('POST', '/v1/otlp/traces', agent, { resourceSpans: [] })).status).toBe(200);

    // The admin API with the admin key, and with a wrong one.
    expect((await s('GET', '/api/budgets', admin)).status).toBe(200);
    // A spent soft budget whose degrade alias does not resolve: logged as an error (with its `err`) on the next call.
    expect((await s('PUT', '/api/budgets', admin, { scope: 'acme/support', amount_usd: '0.000001', period: 'day', action: 'soft', degrade_to: 'no-such-alias' })).status).toBe(200);
    expect((await s('POST', '/v1/chat/completions', agent, chat())).status).toBe(200);
    expect((await s('POST', '/v1/chat/completions', agent, chat())).status).toBe(200);
    expect((await s('POST', '/api/kill', admin, { scope: 'acme/support/helpdesk', reason: 'log test' })).status).toBe(200);
    expect((await s('POST', '/v1/chat/completions', agent, chat())).status).toBe(403);
    expect((await s('POST', '/api/revive', admin, { scope: 'acme/support/helpdesk' })).status).toBe(200);
    expect((await s('GET', '/api/reports/showback', admin)).status).toBe(200);
    expect((await s('GET', '/api/budgets', { authorization: `Bearer ${WRONG_ADMIN_KEY}` })).status).toBe(401);
    expect((await s('GET', '/api/budgets', { authorization: ADMIN_KEY })).status).toBe(401);

    // A viewer's dashboard sign-in: the key traded for a session cookie, then used as one.
    const signIn = await s('POST', '/api/session', {}, { key: viewerSecret });
    expect(signIn.status).toBe(200);
    const setCookie = signIn.headers['set-cookie'];
    const cookie = (Array.isArray(setCookie) ? String(setCookie[0]) : typeof setCookie === 'string' ? setCookie : '').split(';')[0]!;
    expect(cookie).toMatch(/=./);
    secrets.set('session cookie', cookie.slice(cookie.indexOf('=') + 1));
    expect((await s('GET', '/api/session', { cookie })).status).toBe(200);
    expect((await s('GET', '/api/reports/showback', { cookie })).status).toBeLessThan(500);
    expect((await s('POST', '/api/session', {}, { key: WRONG_ADMIN_KEY })).status).toBe(401);
    expect((await s('POST', '/api/session', {}, { key: ADMIN_KEY })).status).toBe(200);

    await h.gateway.writer.flush();
    // The run was logged (Fastify's request lines at least), so an empty capture cannot pass for a clean one.
    expect(lines.length).toBeGreaterThan(statuses.length);
    expect(lines.some((l) => l.includes('/v1/chat/completions'))).toBe(true);
    expect(lines.some((l) => l.includes('"level":50') && l.includes('"err"')), 'no error line with an err was logged').toBe(true);
    const leaks: string[] = [];
    for (const line of lines) for (const [name, secret] of secrets) if (line.includes(secret)) leaks.push(`${name} in: ${line.slice(0, 300)}`);
    expect(leaks).toEqual([]);
  });
});
