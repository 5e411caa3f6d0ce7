/**
 * POST /v1/outcomes over real HTTP: the agent's key stamps its chain on the outcome, retries are
 * named as duplicates, bad bodies and keys are refused in OpenAI's error shape with nothing recorded.
 * And the admin API's unit-economics and board reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyId, generateKeySecret } from '../../src/domain/virtual-key.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, AGENT, startHarness } from '../support/gateway.ts';
import { makeEvent } from '../support/events.ts';

const USD = 1_000_000_000n;
let h: Harness;
let viewerSecret: string;
let agentId: string;
const at = '2026-10-12T10:00:00Z';

beforeAll(async () => {
  h = await startHarness();
  await h.store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'resolved_ticket', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6n * USD, targetNano: null }, 'test');
  const team = (await h.store.directory.getScope('acme/support'))!;
  agentId = (await h.store.directory.getScope(AGENT))!.id;
  const v = generateKeySecret('viewer');
  await h.store.directory.insertKey({ id: newKeyId(), hash: v.hash, display: v.display, kind: 'viewer', scopeId: team.id, name: 'viewer', expiresAt: null }, 'test');
  viewerSecret = v.secret;
  await h.gateway.keys.reload();
});
afterAll(async () => {
  await h?.close();
});

async function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${h.secret}` }): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.url}/v1/outcomes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The error, checked to be in OpenAI's shape. */
function openaiError(json: Record<string, unknown>): { message: string; type: string; code: string; param: unknown } {
  const err = json['error'] as { message: string; type: string; code: string; param: unknown };
  expect(Object.keys(json)).toEqual(['error']);
  expect(typeof err.message).toBe('string');
  expect(typeof err.type).toBe('string');
  expect(err.param).toBeNull();
  return err;
}

async function recorded(): Promise<bigint> {
  const rows = await h.store.outcomes.counts({ from: 0, to: Date.now() + 86_400_000, within: { tier: 'agent', id: agentId } });
  return rows.reduce((s, r) => s + r.outcomes, 0n);
}

describe('POST /v1/outcomes', () => {
  it('records one outcome with the key\'s chain, and says a retry is a duplicate', async () => {
    const body = { type: 'resolved_ticket', count: 1, occurred_at: at, trace_id: 'trace-1', value_usd: '12.50', idempotency_key: 'ticket-1' };
    expect(await post(body)).toEqual({ status: 200, json: { object: 'outcome.batch', inserted: 1, duplicates: [] } });
    expect(await post(body)).toEqual({ status: 200, json: { object: 'outcome.batch', inserted: 0, duplicates: ['ticket-1'] } });
    const [c] = await h.store.outcomes.counts({ from: Date.parse(at), to: Date.parse(at) + 1, within: { tier: 'agent', id: agentId } });
    expect(c).toMatchObject({ type: 'resolved_ticket', outcomes: 1n, valueNano: 12_500_000_000n });
  });

  it('takes a batch (x-api-key works too) and names the duplicates', async () => {
    const res = await post(
      {
        outcomes: [
          { type: 'resolved_ticket', count: 2, occurred_at: at, idempotency_key: 'ticket-2' },
          { type: 'resolved_ticket', occurred_at: Date.parse(at), idempotency_key: 'ticket-1' },
          { type: 'resolved_ticket', count: '3', occurred_at: '2026-10-12', idempotency_key: 'ticket-3' },
        ],
      },
      { 'x-api-key': h.secret },
    );
    expect(res).toEqual({ status: 200, json: { object: 'outcome.batch', inserted: 2, duplicates: ['ticket-1'] } });
    expect(await recorded()).toBe(6n);
  });

  it('ties outcomes to the cost of their trace', async () => {
    const chain = (await h.store.directory.loadKeys()).find((k) => k.id === h.keyId)!.chain!;
    await h.store.ledger.record([makeEvent(chain, { traceId: 'trace-1', startedAt: Date.parse(at) - 1000, usage: usage({ inputTokens: 10 }), effectiveCostNano: 42n })]);
    const rows = await h.store.outcomes.traceOutcomes({ from: 0, to: Date.now(), within: { tier: 'agent', id: agentId } });
    expect(rows.map((r) => [r.traceId, r.costNano])).toEqual([['trace-1', 42n]]);
  });

  it('refuses bad bodies in OpenAI\'s error shape, recording nothing', async () => {
    const before = await recorded();
    const good = { type: 'resolved_ticket', count: 1, occurred_at: at, idempotency_key: 'fresh-1' };
    const cases: [unknown, number, RegExp][] = [
      ['{"type": "resolved', 400, /not valid JSON/],
      [[good], 400, /one outcome as a JSON object, or \{"outcomes": \[\.\.\.\]\}/],
      [{ ...good, idempotency_key: undefined }, 400, /idempotency_key is missing/],
      [{ ...good, type: 'merged_pr' }, 400, /type "merged_pr" is not configured for project acme\/support\/helpdesk/],
      [{ ...good, count: 0 }, 400, /count must be a whole number from 1/],
      [{ ...good, count: 'two' }, 400, /count must be a whole number/],
      [{ ...good, occurred_at: 'yesterday' }, 400, /occurred_at "yesterday" is not a time/],
      [{ ...good, occurred_at: 1_760_000_000 }, 400, /looks like seconds/],
      [{ ...good, occurred_at: '2099-01-01T00:00:00Z' }, 400, /in the future/],
      [{ ...good, value_usd: '1,50' }, 400, /value_usd: "1,50": commas must separate thousands/],
      [{ ...good, value_usd: '0.0000000001' }, 400, /more than 9 decimal places/],
      [{ ...good, cost: 1 }, 400, /unknown field "cost"/],
      [{ outcomes: [] }, 400, /"outcomes" is empty/],
      [{ outcomes: good }, 400, /"outcomes" must be an array/],
      [{ outcomes: [good], extra: 1 }, 400, /a batch is \{"outcomes": \[\.\.\.\]\} and nothing else/],
      [{ outcomes: Array.from({ length: 1001 }, (_, i) => ({ ...good, idempotency_key: `k${i}` })) }, 400, /at most 1000 outcomes per request \(got 1001\)/],
      [{ outcomes: [good, { ...good, idempotency_key: 'fresh-2', count: -1 }] }, 400, /^outcomes\[1\]: count must be/],
      [{ outcomes: [good, { ...good, idempotency_key: 'fresh-2', type: 'nope' }] }, 400, /^outcomes\[1\]: type "nope" is not configured/],
    ];
    for (const [body, status, message] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const err = openaiError(res.json);
      expect(err).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });
      expect(err.message).toMatch(message);
    }
    const wrongType = await fetch(`${h.url}/v1/outcomes`, { method: 'POST', headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'text/csv' }, body: 'a,b' });
    expect(wrongType.status).toBe(415);
    expect(openaiError((await wrongType.json()) as Record<string, unknown>).code).toBe('unsupported_media_type');
    expect(await recorded()).toBe(before);
    // The server keeps serving, and the keys refused above are still free.
    expect((await post(good)).json).toMatchObject({ inserted: 1 });
  });

  it('refuses viewer, unknown, missing and revoked keys', async () => {
    const good = { type: 'resolved_ticket', occurred_at: at, idempotency_key: 'by-someone-else' };
    const viewer = await post(good, { authorization: `Bearer ${viewerSecret}` });
    expect(viewer.status).toBe(401);
    expect(openaiError(viewer.json)).toMatchObject({ code: 'key_invalid', type: 'authentication_error' });
    expect(openaiError(viewer.json).message).toMatch(/viewer key/);
    const unknown = await post(good, { authorization: `Bearer tg-${'A'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(openaiError(unknown.json).message).toMatch(/unknown virtual key/);
    const missing = await post(good, {});
    expect(missing.status).toBe(401);
    expect(openaiError(missing.json).code).toBe('unauthenticated');
    const admin = await post(good, { authorization: `Bearer ${ADMIN_KEY}` });
    expect(admin.status).toBe(401);
    await h.store.directory.setKeyState(h.keyId, 'revoked', 'test');
    await h.gateway.keys.reload();
    const revoked = await post(good);
    expect(revoked.status).toBe(401);
    expect(openaiError(revoked.json).code).toMatch(/key_(revoked|invalid)/);
    const rows = await h.store.outcomes.counts({ from: 0, to: Date.now() + 86_400_000 });
    expect(rows.reduce((s, r) => s + r.outcomes, 0n)).toBe(7n);
  });
});

describe('admin reports', () => {
  const get = async (path: string, key: string | null = ADMIN_KEY) => {
    const res = await fetch(h.url + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it('GET /api/reports/unit-economics', async () => {
    const res = await get('/api/reports/unit-economics?scope=acme/support&from=2026-10-01&to=2026-11-01');
    expect(res.status).toBe(200);
    const j = JSON.parse(res.text) as { scope: string; workloads: Record<string, unknown>[] };
    expect(j.scope).toBe('acme/support');
    // 7 tickets for the one call of $0.000000042: 42 / 7 = 6 nano-USD each.
    expect(j.workloads[0]).toMatchObject({ type: 'resolved_ticket', outcomes: '7', cost_nano: '42', cost_per_outcome_nano: '6', baseline_usd: '6.000000000' });
    const month = JSON.parse((await get('/api/reports/unit-economics?scope=acme/support&month=2026-10&drift_band=12.5&drift_weeks=2')).text) as Record<string, unknown>;
    expect(month['drift_settings']).toEqual({ band_pct: '12.50', weeks: 2 });
  });

  it('GET /api/reports/board, as JSON and as Markdown', async () => {
    const j = JSON.parse((await get('/api/reports/board?quarter=2026-Q4')).text) as Record<string, unknown>;
    expect(j).toMatchObject({ org: 'acme', spend_nano: '42', plan: null });
    const md = await get('/api/reports/board?quarter=2026-Q4&format=markdown');
    expect(md.status).toBe(200);
    expect(md.type).toMatch(/^text\/markdown/);
    expect(md.text).toMatch(/^# acme: AI spend, 2026-Q4/);
  });

  it('refuses without the admin key and with bad parameters, in the admin shape', async () => {
    for (const [path, key, status, code] of [
      ['/api/reports/unit-economics?scope=acme', null, 401, 'unauthenticated'],
      ['/api/reports/board?quarter=2026-Q4', viewerSecret, 403, 'forbidden'],
      ['/api/reports/unit-economics', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/unit-economics?scope=acme&from=2026-10-01', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/unit-economics?scope=acme&month=2026-13', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/unit-economics?scope=acme&drift_band=lots', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/unit-economics?scope=nobody', ADMIN_KEY, 404, 'not_found'],
      ['/api/reports/board', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/board?quarter=Q4', ADMIN_KEY, 400, 'invalid_request'],
      ['/api/reports/board?quarter=2026-Q4&format=pdf', ADMIN_KEY, 400, 'invalid_request'],
    ] as const) {
      const res = await get(path, key);
      expect(res.status, path).toBe(status);
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
