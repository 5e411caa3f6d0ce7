/**
 * The admin API's anomalies over real HTTP: listing and filtering, one anomaly with its evidence,
 * resolving by hand, auto-kill policies and the delivery log; admin key required, bad input refused
 * in the admin error shape with nothing changed.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/analytics/anomalies/contract.ts';
import { installAccess } from '../../src/gateway/access.ts';
import { registerAnomalyRoutes } from '../../src/gateway/anomaly-routes.ts';
import { KeyCache } from '../../src/gateway/key-cache.ts';
import { SessionCodec } from '../../src/gateway/session.ts';
import type { AlertEvent, AnomalyAlert } from '../../src/ledger/anomalies-contract.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, AGENT, startHarness } from '../support/gateway.ts';
import { makeFinding, USD } from '../support/findings.ts';

const HOUR = 3_600_000;
let h: Harness;
let ids: { loop: string; spike: string; old: string };

async function finding(path: string, over: Partial<Finding> = {}): Promise<Finding> {
  return makeFinding((await h.store.directory.ensureScope(path, { create: true, actor: 'test' })).nodes.at(-1)!, { summary: '290 calls of one trace in 5 min', ...over });
}

beforeAll(async () => {
  h = await startHarness();
  const loop = await h.store.anomalies.open(await finding(AGENT));
  const spike = await h.store.anomalies.open(await finding('globex/ops/billing/bot', { signal: 'spend_spike', atRiskNanoPerHour: 0.5 * USD }));
  const old = await h.store.anomalies.open(await finding('globex/ops/billing/bot', { signal: 'prompt_bloat', since: Date.now() - 72 * HOUR, at: Date.now() - 71 * HOUR }));
  await h.store.anomalies.resolve(old.alert.scopeId, 'prompt_bloat', Date.now() - 70 * HOUR);
  await h.store.anomalies.recordDelivery({ anomalyId: loop.alert.id, sink: 'webhook', url: 'https://hooks.example.com/t', event: 'opened', attempts: 5, lastError: 'HTTP 503', state: 'dead', at: Date.now() });
  ids = { loop: loop.alert.id, spike: spike.alert.id, old: old.alert.id };
});
afterAll(async () => {
  await h?.close();
});

async function api(method: string, path: string, body?: unknown, key: string | null = ADMIN_KEY): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-tollgate-actor': 'oncall' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const listIds = async (qs: string) => ((await api('GET', `/api/anomalies${qs}`)).json['data'] as { id: string }[]).map((a) => a.id);

describe('GET /api/anomalies', () => {
  it('needs the admin key', async () => {
    expect(await api('GET', '/api/anomalies', undefined, null)).toMatchObject({ status: 401, json: { error: { code: 'unauthenticated' } } });
    expect(await api('GET', '/api/anomaly-policies', undefined, 'wrong')).toMatchObject({ status: 401 });
    expect(await api('GET', '/api/alert-deliveries', undefined, h.secret)).toMatchObject({ status: 401 });
  });

  it('lists newest first, filtered by state, scope and time', async () => {
    const res = await api('GET', '/api/anomalies');
    expect(res.status).toBe(200);
    const data = res.json['data'] as Record<string, unknown>[];
    expect(data.map((a) => a['id'])).toEqual([ids.spike, ids.loop, ids.old]);
    expect(data[1]).toMatchObject({ scope: { tier: 'agent', path: AGENT }, signal: 'runaway_loop', state: 'open', at_risk_usd_per_hour: '9.100000000', at_risk_nano_per_hour: 9_100_000_000, dashboard_url: null });
    expect(await listIds('?open=1')).toEqual([ids.spike, ids.loop]);
    expect(await listIds('?open=0')).toEqual([ids.old]);
    expect(await listIds('?scope=globex')).toEqual([ids.spike, ids.old]);
    expect(await listIds('?since=24h')).toEqual([ids.spike, ids.loop]);
    expect(await listIds('?limit=1&offset=1')).toEqual([ids.loop]);
  });

  it('refuses bad filters in the admin error shape', async () => {
    for (const [qs, message] of [
      ['?open=maybe', 'open is 1 or 0 (true or false), got "maybe"'],
      ['?limit=-1', 'limit must be a whole number, got "-1"'],
      ['?limit=5000', 'limit must be a whole number from 1 to 1000, got 5000'],
      ['?since=soon', 'cannot read since "soon"'],
      ['?scope=a&scope=b', 'give scope once, as text'],
    ] as const) {
      const res = await api('GET', `/api/anomalies${qs}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining(message) as unknown } });
    }
  });
});

describe('GET /api/anomalies/:id and resolve', () => {
  it('returns one anomaly with its evidence and deliveries', async () => {
    const res = await api('GET', `/api/anomalies/${ids.loop}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: ids.loop, evidence: { topTraces: [{ traceId: 'trace-7', costNano: 650_000_000, calls: 290 }] }, deliveries: [{ state: 'dead', attempts: 5, last_error: 'HTTP 503' }] });
    expect(await api('GET', '/api/anomalies/anm_nope')).toMatchObject({ status: 404, json: { error: { code: 'not_found', message: 'no anomaly anm_nope' } } });
  });

  it('resolves by hand once, audited with the actor', async () => {
    const res = await api('POST', `/api/anomalies/${ids.spike}/resolve`);
    expect(res).toMatchObject({ status: 200, json: { anomaly: { id: ids.spike, state: 'resolved', resolved_by: 'api:oncall' } } });
    expect(await api('POST', `/api/anomalies/${ids.spike}/resolve`)).toMatchObject({ status: 409, json: { error: { code: 'conflict' } } });
    expect(await api('POST', '/api/anomalies/anm_nope/resolve')).toMatchObject({ status: 404 });
    expect((await h.store.directory.audit({ limit: 1 }))[0]).toMatchObject({ actor: 'api:oncall', action: 'anomaly.resolve', target: 'globex/ops/billing/bot' });
  });

  it('tells the alert sinks when one is resolved, and links the dashboard', async () => {
    const sent: [string, AlertEvent][] = [];
    const app = Fastify();
    installAccess(app, { adminKey: ADMIN_KEY, keys: new KeyCache(h.store.directory), sessions: new SessionCodec({ adminKey: ADMIN_KEY }) });
    registerAnomalyRoutes(app, { store: h.store, adminKey: ADMIN_KEY, now: Date.now, dashboardUrl: 'https://tollgate.example.com', alerts: { deliver: (a: AnomalyAlert, e: AlertEvent) => void sent.push([a.id, e]) } });
    try {
      const res = await app.inject({ method: 'POST', url: `/api/anomalies/${ids.loop}/resolve`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ anomaly: { id: ids.loop, state: 'resolved', dashboard_url: `https://tollgate.example.com/#/anomalies/${ids.loop}` } });
      expect(sent).toEqual([[ids.loop, 'resolved']]);
    } finally {
      await app.close();
    }
  });
});

describe('/api/anomaly-policies', () => {
  it('sets, lists and deletes policies', async () => {
    const set = await api('PUT', '/api/anomaly-policies', { scope: 'acme/support', auto_kill: true, min_usd_per_hour: '5' });
    expect(set).toMatchObject({ status: 200, json: { replaced: false, policy: { scope: 'acme/support', auto_kill: true, min_usd_per_hour: '5.000000000', min_nano_per_hour: '5000000000', updated_by: 'api:oncall' } } });
    expect(await api('PUT', '/api/anomaly-policies', { scope: 'acme/support', auto_kill: true, min_usd_per_hour: 12.5 })).toMatchObject({ json: { replaced: true, policy: { min_usd_per_hour: '12.500000000' } } });
    await api('PUT', '/api/anomaly-policies', { scope: AGENT, auto_kill: false, min_usd_per_hour: 0 });
    const list = await api('GET', '/api/anomaly-policies?scope=acme');
    expect((list.json['data'] as { scope: string; auto_kill: boolean }[]).map((p) => [p.scope, p.auto_kill])).toEqual([
      ['acme/support', true],
      [AGENT, false],
    ]);
    // The nearest policy up the agent's chain is the agent's own.
    expect(await h.store.anomalies.policyFor((await h.store.directory.getScope(AGENT))!.id)).toMatchObject({ scopePath: AGENT, autoKill: false });
    expect(await api('DELETE', `/api/anomaly-policies?scope=${AGENT}`)).toMatchObject({ status: 200, json: { deleted: { scope: AGENT } } });
    expect(await api('DELETE', `/api/anomaly-policies?scope=${AGENT}`)).toMatchObject({ status: 404 });
    expect(await api('DELETE', '/api/anomaly-policies')).toMatchObject({ status: 400 });
  });

  it('refuses bad policies, changing nothing', async () => {
    const before = await api('GET', '/api/anomaly-policies');
    for (const [body, message] of [
      [{ auto_kill: true, min_usd_per_hour: 5 }, 'missing "scope"'],
      [{ scope: 'acme', auto_kill: 'yes', min_usd_per_hour: 5 }, '"auto_kill" must be true or false'],
      [{ scope: 'acme', auto_kill: true }, '"min_usd_per_hour" must be an amount of USD per hour'],
      [{ scope: 'acme', auto_kill: true, min_usd_per_hour: 'lots' }, '"lots" is not an amount of USD per hour'],
      [{ scope: 'acme', auto_kill: true, min_usd_per_hour: -2 }, 'at least $0'],
      [[1, 2], 'send a JSON object'],
    ] as const) {
      const res = await api('PUT', '/api/anomaly-policies', body);
      expect(res.status).toBe(400);
      expect((res.json['error'] as { message: string }).message).toContain(message);
    }
    expect(await api('PUT', '/api/anomaly-policies', { scope: 'acme/nowhere', auto_kill: true, min_usd_per_hour: 1 })).toMatchObject({ status: 404 });
    expect(await api('GET', '/api/anomaly-policies')).toEqual(before);
  });
});

describe('GET /api/alert-deliveries', () => {
  it('lists deliveries and the dead letters', async () => {
    await h.store.anomalies.recordDelivery({ anomalyId: ids.spike, sink: 'slack', url: 'https://hooks.slack.com/…', event: 'resolved', attempts: 1, lastError: null, state: 'delivered', at: Date.now() + 1 });
    const all = (await api('GET', '/api/alert-deliveries')).json['data'] as { anomaly_id: string; state: string }[];
    expect(all.map((d) => [d.anomaly_id, d.state])).toEqual([
      [ids.spike, 'delivered'],
      [ids.loop, 'dead'],
    ]);
    expect(((await api('GET', '/api/alert-deliveries?state=dead')).json['data'] as unknown[]).length).toBe(1);
    expect(((await api('GET', `/api/alert-deliveries?anomaly=${ids.spike}&limit=5`)).json['data'] as unknown[]).length).toBe(1);
    expect(await api('GET', '/api/alert-deliveries?state=lost')).toMatchObject({ status: 400, json: { error: { message: 'state is dead or delivered, got "lost"' } } });
  });
});
