/**
 * `GET /metrics`: what a real gateway call and a refusal put in the Prometheus exposition, who may
 * scrape it, and the label caps that keep its cardinality bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import { GatewayMetrics } from '../../src/gateway/metrics.ts';
import type { LedgerEvent } from '../../src/ledger/contract.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, AGENT, startHarness } from '../support/gateway.ts';

let h: Harness;
const TOKEN = 'prom-scrape-token-0123456789';

beforeAll(async () => {
  h = await startHarness({ gateway: { metrics: { token: TOKEN } } });
});
afterAll(async () => {
  await h?.close();
});

async function scrape(url: string, secret: string | null): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/metrics`, { headers: secret === null ? {} : { authorization: `Bearer ${secret}` } });
  return { status: res.status, text: await res.text() };
}

/** The value of one sample, by its exact name and labels as Prometheus prints them. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function chat(model: string): Promise<Response> {
  return fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.secret}` }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }) });
}

describe('GET /metrics on a running gateway', () => {
  it('counts spend, tokens, requests and latency of a call per scope, equal to its ledger row', async () => {
    const res = await chat('gpt-4o-mini');
    expect(res.status).toBe(200);
    await h.gateway.writer.flush();
    const row = (await h.store.ledger.get(res.headers.get('x-tollgate-request-id')!))!;
    const { status, text } = await scrape(h.url, TOKEN);
    expect(status).toBe(200);
    const labels = `scope="${AGENT}",provider="openai",model="${row.servedModel}"`;
    expect(row.effectiveCostNano).toBeGreaterThan(0n);
    expect(sample(text, `tollgate_spend_nano_usd_total{${labels}}`)).toBe(Number(row.effectiveCostNano));
    expect(sample(text, `tollgate_tokens_total{${labels},type="input"}`)).toBe(row.usage.inputTokens);
    expect(sample(text, `tollgate_tokens_total{${labels},type="output"}`)).toBe(row.usage.outputTokens);
    expect(sample(text, `tollgate_requests_total{scope="${AGENT}",status_class="2xx"}`)).toBe(1);
    expect(sample(text, `tollgate_request_duration_seconds_count{scope="${AGENT}"}`)).toBe(1);
    expect(sample(text, 'tollgate_counters_up')).toBe(1);
    expect(sample(text, 'tollgate_ledger_pending_rows')).toBe(0);
    expect(sample(text, 'tollgate_in_flight_calls')).toBe(0);
    expect(sample(text, 'tollgate_virtual_keys_cached')).toBe(1);
  });

  it('counts refusals by code and scope: a kill switch, a bad key', async () => {
    await h.store.controls.kill(AGENT, 'metrics test', 'test');
    await h.gateway.controls.reload();
    expect((await chat('gpt-4o-mini')).status).toBe(403);
    expect((await chat('gpt-4o-mini')).status).toBe(403);
    await h.store.controls.revive(AGENT, 'test');
    await h.gateway.controls.reload();
    const bad = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer tg-nope' }, body: '{}' });
    expect(bad.status).toBe(401);
    const { text } = await scrape(h.url, ADMIN_KEY);
    expect(sample(text, `tollgate_refusals_total{scope="${AGENT}",code="killed"}`)).toBe(2);
    expect(sample(text, 'tollgate_refusals_total{scope="_none",code="key_invalid"}')).toBe(1);
  });

  it('counts OTLP spans by outcome', async () => {
    const start = String(BigInt(Date.UTC(2026, 10, 2)) * 1_000_000n);
    const attrs = [
      { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '10' } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 2 } },
    ];
    const span = { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', name: 'chat', startTimeUnixNano: start, endTimeUnixNano: start, attributes: attrs };
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span, { ...span, spanId: '3333333333333333', attributes: [] }] }] }] });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${h.url}/v1/otlp/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.secret}` }, body });
      expect(res.status).toBe(200);
    }
    const { text } = await scrape(h.url, TOKEN);
    expect(sample(text, 'tollgate_otel_spans_total{outcome="recorded"}')).toBe(1);
    expect(sample(text, 'tollgate_otel_spans_total{outcome="duplicate"}')).toBe(1);
    expect(sample(text, 'tollgate_otel_spans_total{outcome="ignored"}')).toBe(2);
  });

  it('needs the metrics token or the admin key', async () => {
    expect((await scrape(h.url, null)).status).toBe(401);
    const wrong = await scrape(h.url, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('wrong metrics token');
    expect((await scrape(h.url, ADMIN_KEY)).status).toBe(200);
  });

  it('with no admin key and no token, serves loopback callers only', async () => {
    const open = await startHarness({ gateway: { adminKey: null } });
    try {
      const r = await scrape(open.url, null);
      expect(r.status).toBe(200);
      expect(r.text).toContain('tollgate_counters_up 1');
    } finally {
      await open.close();
    }
  });
});

describe('label caps', () => {
  const health = { countersUp: () => true, ledgerPending: () => 0, spoolBytes: () => 0, inFlight: () => 0, keysCached: () => 0 };
  const chain = (n: number): ScopeChain => ({ orgId: 'o', orgName: 'acme', teamId: 't', teamName: 'eng', projectId: 'p', projectName: 'bots', agentId: `a${n}`, agentName: `bot-${n}` });
  const event = (n: number, model: string): LedgerEvent => ({
    id: `req_${n}`,
    startedAt: 0,
    endedAt: 40,
    chain: chain(n),
    keyId: null,
    provider: 'openai',
    requestedModel: model,
    servedModel: model,
    route: 'openai.chat',
    status: 200,
    errorCode: null,
    usage: usage({ inputTokens: 10, outputTokens: 5 }),
    listCostNano: 1_000n,
    effectiveCostNano: 1_000n,
    priceSource: 'catalog',
    latencyMs: 40,
    stream: false,
    estimated: false,
    traceId: null,
    tags: {},
  });

  it('reports scopes and models past their caps as _other, and counts the overflow', async () => {
    const m = new GatewayMetrics(health, { maxScopes: 2, maxModels: 1 });
    for (const n of [1, 2, 3, 4, 1]) m.observe(event(n, 'gpt-4o'));
    m.observe(event(1, 'client-chosen-name'));
    const text = await m.registry.metrics();
    expect(sample(text, 'tollgate_spend_nano_usd_total{scope="acme/eng/bots/bot-1",provider="openai",model="gpt-4o"}')).toBe(2_000);
    expect(sample(text, 'tollgate_spend_nano_usd_total{scope="acme/eng/bots/bot-2",provider="openai",model="gpt-4o"}')).toBe(1_000);
    expect(sample(text, 'tollgate_spend_nano_usd_total{scope="_other",provider="openai",model="gpt-4o"}')).toBe(2_000);
    expect(sample(text, 'tollgate_spend_nano_usd_total{scope="acme/eng/bots/bot-1",provider="openai",model="_other"}')).toBe(1_000);
    expect(text).not.toContain('bot-3');
    expect(text).not.toContain('client-chosen-name');
    expect(sample(text, 'tollgate_metrics_label_overflow_total{label="scope"}')).toBe(2);
    expect(sample(text, 'tollgate_metrics_label_overflow_total{label="model"}')).toBe(1);
  });

  it('folds new scopes into _other once the series cap is reached', async () => {
    const m = new GatewayMetrics(health, { maxSeries: 1 });
    m.observe(event(1, 'gpt-4o'));
    m.observe(event(2, 'gpt-4o'));
    const text = await m.registry.metrics();
    expect(sample(text, 'tollgate_spend_nano_usd_total{scope="_other",provider="openai",model="gpt-4o"}')).toBe(1_000);
    expect(sample(text, 'tollgate_metrics_label_overflow_total{label="series"}')).toBe(1);
  });
});
