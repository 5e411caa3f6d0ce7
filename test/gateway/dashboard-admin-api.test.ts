/**
 * The dashboard's administrative API over real HTTP (port 0) in front of the simulator: keys issued,
 * suspended and revoked through it take effect on the very next model call (the key cache re-checks
 * only once a minute here, so nothing but the routes' own reload can make that happen); secrets are
 * shown once; a viewer key reads its subtree and nothing else; the forecast and the reconciliation
 * are the CLI's, figure for figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/analytics/forecast/random.ts';
import { cliRunner } from '../support/cli.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness } from '../support/gateway.ts';
import { seedForecastHistory } from '../forecast/forecast-history.ts';
import { recordGatewayOpenAi } from '../fixtures/provider-reports/gateway-ledger.ts';

let h: Harness;
const root = mkdtempSync(join(tmpdir(), 'tollgate-admin-api-'));
const emptyConfig = join(root, 'tollgate.yaml');
const { json: cliJson, ok: cliOk } = cliRunner(() => h.store.location);

interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

interface KeyJson {
  id: string;
  display: string;
  kind: 'agent' | 'viewer';
  scopePath: string;
  name: string;
  state: string;
  expired: boolean;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

interface ErrorJson {
  error: { code: string; message: string; details?: { param?: string } };
}

async function api<T = Record<string, unknown>>(method: string, path: string, opts: { key?: string; body?: unknown; actor?: string } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? ADMIN_KEY}` };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.actor !== undefined) headers['x-tollgate-actor'] = opts.actor;
  const res = await fetch(`${h.url}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

/** One chat completion with `secret`: 'ok' or the error code the gateway answered with. */
async function callWith(secret: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: secret, maxRetries: 0 });
  try {
    await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? err);
  }
}

beforeAll(async () => {
  // Keys are re-read from the database only once a minute: a change is visible at once only if the route reloads the cache.
  h = await startHarness({ gateway: { keyCheckEveryMs: 60_000 } });
  writeFileSync(emptyConfig, '{}\n');
  // Three months of heavy-tailed spend by 30 tagged customers.
  await seedForecastHistory(h.store, { rng: new Rng(7), customers: 30, callsPerMonth: 4, level: (rng) => 20 * Math.exp(1.2 * rng.normal()), monthLogShift: 0, budgetUsd: 300n });
});
afterAll(async () => {
  await h?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('keys over the admin API', () => {
  it('issues an agent key that works on the next call, shows its secret once, and audits under the caller', async () => {
    const before = Date.now();
    const created = await api<KeyJson & { key: string; createdScopes: string[] }>('POST', '/api/keys', { body: { scope: 'acme/support/helpdesk/new-bot', name: 'ci', expires: '30d' }, actor: 'alice' });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const secret = created.body.key;
    expect(secret).toMatch(/^tg-[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ kind: 'agent', scopePath: 'acme/support/helpdesk/new-bot', name: 'ci', state: 'active', expired: false, revokedAt: null, createdScopes: ['acme/support/helpdesk/new-bot'] });
    expect(created.body.display).toBe(`${secret.slice(0, 9)}…${secret.slice(-4)}`);
    expect(created.body.expiresAt).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(created.body.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000);

    expect(await callWith(secret)).toBe('ok');

    const listed = await api<{ data: KeyJson[] }>('GET', '/api/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((k) => k.id === created.body.id)).toMatchObject({ display: created.body.display, kind: 'agent', state: 'active' });
    const audit = await api<{ data: { actor: string; action: string; target: string; after: unknown }[] }>('GET', `/api/audit?target=${created.body.id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.data).toEqual([expect.objectContaining({ actor: 'api:alice', action: 'key.create', target: created.body.id })]);
    // Shown once: no later answer carries the secret, nor its random part.
    const random = secret.slice(3);
    for (const later of [listed, audit, await api('GET', '/api/audit?limit=1000'), await api('GET', '/api/keys?all=1')]) expect(JSON.stringify(later.body)).not.toContain(random);
  });

  it('suspends, resumes and revokes a key for the very next call; revocation is final', async () => {
    const { body: k } = await api<KeyJson & { key: string }>('POST', '/api/keys', { body: { scope: 'acme/support/helpdesk/triage-bot', name: 'rotate-me' } });
    expect(await callWith(k.key)).toBe('ok');

    const suspended = await api<{ key: KeyJson }>('POST', `/api/keys/${k.id}/suspend`);
    expect(suspended.body.key).toMatchObject({ id: k.id, state: 'suspended' });
    expect(await callWith(k.key)).toBe('key_suspended');

    expect((await api<{ key: KeyJson }>('POST', `/api/keys/${k.id}/resume`)).body.key.state).toBe('active');
    expect(await callWith(k.key)).toBe('ok');

    const revoked = await api<{ key: KeyJson }>('POST', `/api/keys/${k.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.key).toMatchObject({ state: 'revoked', revokedAt: expect.any(Number) as number });
    expect(await callWith(k.key)).toBe('key_revoked');
    // The harness's own key, never touched, still works: the reload dropped only what changed.
    expect(await callWith(h.secret)).toBe('ok');

    const again = await api<ErrorJson>('POST', `/api/keys/${k.id}/resume`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('revocation is final');
    expect((await api<{ data: KeyJson[] }>('GET', '/api/keys')).body.data.map((x) => x.id)).not.toContain(k.id);
    expect((await api<{ data: KeyJson[] }>('GET', '/api/keys?all=1')).body.data.map((x) => x.id)).toContain(k.id);
    const actions = (await api<{ data: { action: string }[] }>('GET', `/api/audit?target=${k.id}`)).body.data.map((e) => e.action);
    expect(actions).toEqual(['key.revoke', 'key.activate', 'key.suspend', 'key.create']);
  });

  it('refuses bad key requests with a 400 naming the field, and unknown keys with a 404', async () => {
    const cases: [body: unknown, param: string | null, message: RegExp][] = [
      [{}, 'scope', /missing "scope"/],
      [{ scope: 'acme/support' }, null, /"acme\/support" is a team.*viewer key/],
      [{ scope: 'acme/support/helpdesk/x', expires: 'soon' }, null, /cannot read expiry "soon"/],
      [{ scope: 'acme/support/helpdesk/x', expires: '2001-01-01' }, null, /in the past/],
      [{ scope: 'acme/support/helpdesk/x', kind: 'owner' }, 'kind', /agent .* or viewer/],
      [{ scope: 'acme/support/helpdesk/x', name: '' }, 'name', /"name" is a label/],
      [{ scope: 'acme/support/helpdesk/x', scopes: ['a'] }, 'scopes', /unknown field "scopes"/],
      [{ scope: 42 }, 'scope', /"scope" must be a string/],
      [['acme'], null, /send a JSON object/],
    ];
    for (const [body, param, message] of cases) {
      const r = await api<ErrorJson>('POST', '/api/keys', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.message).toMatch(message);
      if (param !== null) expect(r.body.error.details?.param).toBe(param);
    }
    // Nothing was created by any of them.
    expect((await api<{ data: { path: string }[] }>('GET', '/api/keys?scope=acme/support/helpdesk/x')).status).toBe(200);
    expect((await h.store.directory.getScope('acme/support/helpdesk/x'))).toBeNull();
    const missing = await api<ErrorJson>('POST', '/api/keys/key_doesnotexist/revoke');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('a viewer key', () => {
  let viewer: KeyJson & { key: string };
  let engKey: KeyJson & { key: string };

  beforeAll(async () => {
    engKey = (await api<KeyJson & { key: string }>('POST', '/api/keys', { body: { scope: 'acme/eng/ci/test-fixer' } })).body;
    const r = await api<KeyJson & { key: string }>('POST', '/api/keys', { body: { scope: 'acme/support', kind: 'viewer', name: 'support leads' } });
    expect(r.status).toBe(201);
    viewer = r.body;
  });

  it('is issued on a team, shown once, and makes no model calls', async () => {
    expect(viewer.key).toMatch(/^tgv-[A-Za-z0-9_-]{43}$/);
    expect(viewer).toMatchObject({ kind: 'viewer', scopePath: 'acme/support', name: 'support leads', state: 'active' });
    expect(await callWith(viewer.key)).toBe('key_invalid');
    const audit = await api('GET', '/api/audit');
    expect(JSON.stringify(audit.body)).not.toContain(viewer.key.slice(4));
    // A viewer of a scope that does not exist is refused, and creates nothing.
    const missing = await api<ErrorJson>('POST', '/api/keys', { body: { scope: 'acme/suport', kind: 'viewer' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('scope "acme/suport" does not exist');
    expect(await h.store.directory.getScope('acme/suport')).toBeNull();
  });

  it('lists only the keys of its subtree, never a secret', async () => {
    const all = (await api<{ data: KeyJson[] }>('GET', '/api/keys')).body.data;
    expect(all.map((k) => k.scopePath)).toContain('acme/eng/ci/test-fixer');
    const seen = await api<{ data: KeyJson[] }>('GET', '/api/keys', { key: viewer.key });
    expect(seen.status).toBe(200);
    expect(seen.body.data.length).toBeGreaterThan(1);
    expect(seen.body.data.every((k) => k.scopePath === 'acme/support' || k.scopePath.startsWith('acme/support/'))).toBe(true);
    expect(seen.body.data.map((k) => k.id).sort()).toEqual(all.filter((k) => k.scopePath.startsWith('acme/support')).map((k) => k.id).sort());
    expect(seen.body.data.map((k) => k.id)).toContain(viewer.id);
    expect(seen.body.data.map((k) => k.id)).not.toContain(engKey.id);
    for (const k of seen.body.data) expect(Object.keys(k).sort()).toEqual(['createdAt', 'display', 'expired', 'expiresAt', 'id', 'kind', 'name', 'revokedAt', 'scopePath', 'state']);
    const narrower = await api<{ data: KeyJson[] }>('GET', '/api/keys?scope=acme/support/helpdesk', { key: viewer.key });
    expect(narrower.body.data.map((k) => k.id)).not.toContain(viewer.id);
    for (const outside of ['acme', 'acme/eng', 'acme/supportx']) {
      const r = await api<ErrorJson>('GET', `/api/keys?scope=${outside}`, { key: viewer.key });
      expect(r.status, outside).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
  });

  it('cannot issue, suspend or revoke keys, nor read the audit log or the reconciliation', async () => {
    const writes: [string, unknown][] = [
      ['/api/keys', { scope: 'acme/support/helpdesk/sneaky' }],
      ['/api/keys', { scope: 'acme/support', kind: 'viewer' }],
      [`/api/keys/${engKey.id}/revoke`, undefined],
      [`/api/keys/${h.keyId}/suspend`, undefined],
      [`/api/keys/${viewer.id}/revoke`, undefined],
    ];
    for (const [path, body] of writes) {
      const r = await api<ErrorJson>('POST', path, { key: viewer.key, body });
      expect(r.status, path).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
    }
    for (const path of ['/api/audit', '/api/reconcile']) expect((await api('GET', path, { key: viewer.key })).status, path).toBe(403);
    expect(await callWith(engKey.key)).toBe('ok');
    expect(await callWith(h.secret)).toBe('ok');
    expect(await h.store.directory.getScope('acme/support/helpdesk/sneaky')).toBeNull();
  });

  it('is refused at once once revoked', async () => {
    expect((await api('GET', '/api/keys', { key: viewer.key })).status).toBe(200);
    expect((await api('POST', `/api/keys/${viewer.id}/revoke`)).status).toBe(200);
    const r = await api<ErrorJson>('GET', '/api/keys', { key: viewer.key });
    expect(r.status).toBe(401);
  });
});

interface CliForecast {
  scope: string;
  unit: string;
  trials: number;
  fit: { model: string };
  months: { month: string; units: number; p50_usd: string; p90_usd: string; p99_usd: string; naive_usd: string; contributions: { p90: Record<string, string> } }[];
  horizon_total: { p50_usd: string; p90_usd: string; p99_usd: string };
  budget_advice: { month: string; budgets: { scope: string; tier: string; action: string; amount_usd: string; thresholds: number[]; p90_usd: string; p99_usd: string }[] };
}

interface ApiForecast {
  asOf: string;
  scope: string;
  unit: string;
  trials: number;
  note?: string;
  fit: { winner: string; why: string };
  months: { month: string; units: number; p50Usd: string; p90Usd: string; p99Usd: string; naiveUsd: string; p90Parts: Record<string, string> }[];
  horizonTotal: { p50Usd: string; p90Usd: string; p99Usd: string };
  history: { month: string; spendUsd: string; days: number; coveredDays: number }[];
  budgets: { scope: string; tier: string; period: string; action: string; amountUsd: string; alertAtUsd: string; refuseAtUsd: string | null; thresholds: number[]; p90Usd: string; p99Usd: string }[];
}

describe('GET /api/forecast', () => {
  const AS_OF = '2026-04-01';

  function expectSameForecast(a: ApiForecast, c: CliForecast): void {
    expect(a.scope).toBe(c.scope);
    expect(a.unit).toBe(c.unit);
    expect(a.trials).toBe(c.trials);
    expect(a.fit.winner).toBe(c.fit.model === 'lognormal+pareto' ? 'pareto-tail' : 'lognormal');
    expect(a.months.map((m) => [m.month, m.units, m.p50Usd, m.p90Usd, m.p99Usd, m.naiveUsd])).toEqual(c.months.map((m) => [m.month, m.units, m.p50_usd, m.p90_usd, m.p99_usd, m.naive_usd]));
    expect(a.months.map((m) => m.p90Parts)).toEqual(
      c.months.map((m) => ({ todayUsd: m.contributions.p90['today_usd'], adoptionUsd: m.contributions.p90['adoption_usd'], mixUsd: m.contributions.p90['mix_usd'], priceUsd: m.contributions.p90['price_usd'], tailUsd: m.contributions.p90['tail_usd'] })),
    );
    expect(a.horizonTotal).toEqual({ p50Usd: c.horizon_total.p50_usd, p90Usd: c.horizon_total.p90_usd, p99Usd: c.horizon_total.p99_usd });
    expect(a.budgets.map((b) => [b.scope, b.tier, b.action, b.amountUsd, b.thresholds, b.p90Usd, b.p99Usd])).toEqual(
      c.budget_advice.budgets.map((b) => [b.scope, b.tier, b.action, b.amount_usd, b.thresholds, b.p90_usd, b.p99_usd]),
    );
  }

  it('is the CLI\'s forecast for the same inputs, figure for figure', async () => {
    const scenario = ['--growth', '10%/month', '--users', '40', '--price-change', 'anthropic:x2@2026-05-15', '--price-change', 'openai:x0.5', '--horizon', '2'];
    const cli = await cliJson<CliForecast>('forecast', '--as-of', AS_OF, '--trials', '2000', ...scenario);
    const r = await api<ApiForecast>('GET', `/api/forecast?as_of=${AS_OF}&growth=${encodeURIComponent('10%/month')}&users=40&price_change=anthropic:x2@2026-05-15,openai:x0.5&months=2`);
    expect(r.status).toBe(200);
    expectSameForecast(r.body, cli);
    expect(r.body).toMatchObject({ asOf: AS_OF, scope: 'acme', unit: 'customer', trials: 2000 });
    expect(r.body.note).toContain('2,000 Monte Carlo trials');
    expect(r.body.months.map((m) => m.month)).toEqual(['2026-04', '2026-05']);
    expect(r.body.history.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(r.body.fit.why).toMatch(/log-normal/);
    // The contributions add up to the P90, and the price change shows up in them.
    for (const m of r.body.months) {
      const parts = Object.values(m.p90Parts).reduce((s, v) => s + Number(v), 0);
      expect(Math.abs(parts - Number(m.p90Usd))).toBeLessThan(0.00001 * 5);
      expect(Number(m.p90Parts['priceUsd'])).not.toBe(0);
    }
    // acme/eng has a chargeback budget: its advice refuses at P99 and alerts at the P90 level; the others only alert.
    const eng = r.body.budgets.find((b) => b.scope === 'acme/eng')!;
    expect(eng).toMatchObject({ action: 'chargeback', period: 'month', refuseAtUsd: eng.amountUsd });
    expect(Number(eng.alertAtUsd)).toBeLessThan(Number(eng.amountUsd));
    const org = r.body.budgets.find((b) => b.scope === 'acme')!;
    expect(org).toMatchObject({ tier: 'org', refuseAtUsd: null, alertAtUsd: org.amountUsd });

    // Repeated parameters are the same as a comma-separated one; the same trials and seed give the same figures.
    const repeated = await api<ApiForecast>('GET', `/api/forecast?as_of=${AS_OF}&growth=10%25&users=40&price_change=anthropic:x2@2026-05-15&price_change=openai:x0.5&months=2`);
    expect(repeated.body.months).toEqual(r.body.months);
  });

  it('forecasts per agent with the CLI\'s full trials when asked, and a viewer forecasts its own subtree only', async () => {
    const cli = await cliJson<CliForecast>('forecast', '--as-of', AS_OF, '--by', 'agent', '--tiers', 'team,project', '--scope', 'acme/support');
    const r = await api<ApiForecast>('GET', `/api/forecast?as_of=${AS_OF}&unit=agent&tiers=team,project&scope=acme/support&trials=10000`);
    expect(r.status).toBe(200);
    expectSameForecast(r.body, cli);
    expect(r.body.note).toBeUndefined();

    const viewer = (await api<{ key: string }>('POST', '/api/keys', { body: { scope: 'acme/support', kind: 'viewer', name: 'forecast' } })).body.key;
    const own = await api<ApiForecast>('GET', `/api/forecast?as_of=${AS_OF}&unit=agent&tiers=team,project&trials=10000`, { key: viewer });
    expect(own.status).toBe(200);
    expect(own.body.scope).toBe('acme/support');
    expect(own.body.months).toEqual(r.body.months);
    expect(own.body.budgets.every((b) => b.scope.startsWith('acme/support'))).toBe(true);
    expect((await api<ErrorJson>('GET', `/api/forecast?as_of=${AS_OF}&scope=acme`, { key: viewer })).status).toBe(403);
    expect((await api<ErrorJson>('GET', `/api/forecast?as_of=${AS_OF}&scope=acme/eng`, { key: viewer })).status).toBe(403);
  });

  it('refuses bad parameters with a 400 naming the parameter', async () => {
    const bad: [query: string, param: string][] = [
      ['months=0', 'months'],
      ['months=soon', 'months'],
      ['users=many', 'users'],
      ['users=0', 'users'],
      ['growth=fast', 'growth'],
      ['frontier_share=1.5', 'frontier_share'],
      ['price_change=anthropic:2.5', 'price_change'],
      ['price_change=anthropic:x2,openai', 'price_change'],
      ['price_change=anthropic:x0', 'price_change'],
      ['unit=team', 'unit'],
      ['tiers=galaxy', 'tiers'],
      ['as_of=2026-02-30', 'as_of'],
      ['history=0', 'history'],
      ['trials=5', 'trials'],
      ['trials=1000000', 'trials'],
      ['seed=-1', 'seed'],
    ];
    for (const [query, param] of bad) {
      const r = await api<ErrorJson>('GET', `/api/forecast?${query.startsWith('as_of=') ? '' : `as_of=${AS_OF}&`}${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error.code, query).toBe('invalid_request');
      expect(r.body.error.details?.param, query).toBe(param);
      expect(r.body.error.message, query).toContain(param);
    }
    expect((await api<ErrorJson>('GET', '/api/forecast?scope=acme/nowhere')).status).toBe(404);
  });
});

describe('GET /api/reconcile', () => {
  beforeAll(async () => {
    await recordGatewayOpenAi(h.store);
    const fixtures = join(import.meta.dirname, '../fixtures/provider-reports');
    for (const f of ['openai-usage-bypass.json', 'openai-costs-bypass.json']) await cliOk('import', 'usage', '--provider', 'openai', join(fixtures, f));
  });

  it('is the CLI\'s report, for ISO dates and epoch ms alike', async () => {
    const cli = await cliJson<Record<string, unknown>>('--config', emptyConfig, 'reconcile', '--from', '2026-11-03', '--to', '2026-11-05');
    const r = await api<Record<string, unknown>>('GET', '/api/reconcile?from=2026-11-03&to=2026-11-05');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(cli);
    expect(r.body).toMatchObject({ bypass_undetectable: ['openai'], totals: { billed_usd: '6.305000000', billed_nano: '6305000000' } });
    expect((r.body['lines'] as unknown[]).length).toBeGreaterThan(0);
    const ms = await api('GET', `/api/reconcile?from=${Date.UTC(2026, 10, 3)}&to=${Date.UTC(2026, 10, 5)}`);
    expect(ms.body).toEqual(cli);
    const openaiOnly = await cliJson<Record<string, unknown>>('--config', emptyConfig, 'reconcile', '--month', '2026-11', '--provider', 'openai', '--tolerance', '5');
    expect((await api('GET', '/api/reconcile?month=2026-11&provider=openai&tolerance=5')).body).toEqual(openaiOnly);
  });

  it('refuses bad parameters with a 400', async () => {
    for (const q of ['provider=azure', 'tolerance=lots', 'from=2026-11-03', 'from=yesterday&to=2026-11-05', 'month=2026-13']) {
      const r = await api<ErrorJson>('GET', `/api/reconcile?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('invalid_request');
    }
  });
});
