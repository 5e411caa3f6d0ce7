/**
 * Controls through real HTTP: kill switches (refusal, in-flight stream cut, revive), rate limits with
 * their headers, budget actions (showback never refuses, chargeback does, soft degrades), threshold
 * alerts recorded once, the calendar roll-over in a time zone with an injected clock, and counters
 * that are down (fail closed for refusing budgets, open for showback).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import { usdToNano } from '../../src/domain/money.ts';
import type { BudgetInput } from '../../src/ledger/contract.ts';
import type { Harness } from '../support/gateway.ts';
import { AGENT, startHarness } from '../support/gateway.ts';

const PROJECT = 'acme/support/helpdesk';
const TEAM = 'acme/support';

function budget(scopePath: string, usd: string, extra: Partial<BudgetInput> = {}): BudgetInput {
  return { scopePath, amountNano: usdToNano(usd), period: 'day', action: 'hard', thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null, ...extra };
}

async function call(h: Harness, opts: { model?: string; maxTokens?: number; output?: number; stream?: boolean; headers?: Record<string, string> } = {}) {
  const res = await request(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.secret}`,
      'content-type': 'application/json',
      'x-sim-output-tokens': String(opts.output ?? 100),
      ...opts.headers,
    },
    body: JSON.stringify({ model: opts.model ?? 'gpt-4.1-mini', max_tokens: opts.maxTokens ?? 1000, stream: opts.stream ?? false, messages: [{ role: 'user', content: 'hello' }] }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: opts.stream ? null : (JSON.parse(text) as { error?: { code: string; message: string; details?: Record<string, unknown> }; model?: string }) };
}

describe('kill switch', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ gateway: { controlsPollMs: 50 } });
  });
  afterAll(() => h.close());

  it('refuses with who, when and why, cuts an in-flight stream, and revives', async () => {
    expect((await call(h)).status).toBe(200);
    // A long stream in flight when the switch is thrown (from the store, as the CLI on another host would).
    const streaming = request(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '400', 'x-sim-chunk-delay-ms': '20' },
      body: JSON.stringify({ model: 'gpt-4.1-mini', stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'tell me a long story' }] }),
    });
    const res = await streaming;
    expect(res.statusCode).toBe(200);
    let text = '';
    const reading = (async () => {
      for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
    })();
    await new Promise((r) => setTimeout(r, 200));
    const killedAt = Date.now();
    await h.store.controls.kill(PROJECT, 'runaway retry loop (INC-42)', 'oncall@acme');
    await reading;
    const cutAfter = Date.now() - killedAt;
    expect(cutAfter).toBeLessThan(1000);
    expect(text).toContain('killed');
    expect(text).toContain('runaway retry loop (INC-42)');
    expect(text).not.toContain('data: [DONE]');

    const refused = await call(h);
    expect(refused.status).toBe(403);
    expect(refused.json?.error?.code).toBe('killed');
    expect(refused.json?.error?.message).toContain('oncall@acme');
    expect(refused.json?.error?.message).toContain('runaway retry loop (INC-42)');
    expect(refused.headers['x-should-retry']).toBe('false');

    await h.gateway.writer.flush();
    const { rows } = await h.store.ledger.events({});
    const cut = rows.find((r) => r.stream);
    expect(cut?.errorCode).toBe('killed');
    expect(cut?.estimated).toBe(true);
    expect(cut?.usage.outputTokens).toBeGreaterThan(0);
    expect(cut?.usage.outputTokens).toBeLessThan(400);
    expect(cut?.effectiveCostNano).toBeGreaterThan(0n);

    await h.store.controls.revive(PROJECT, 'oncall@acme');
    await h.gateway.controls.reload();
    expect((await call(h)).status).toBe(200);
    const audit = await h.store.directory.audit({ target: PROJECT });
    expect(audit.map((a) => a.action).slice(0, 2)).toEqual(['scope.revive', 'scope.kill']);
  });
});

describe('rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('requests per minute: headers on success, 429 rate_limited with retry-after past the limit', async () => {
    await h.store.controls.setRateLimit(AGENT, { rpm: 3, tpm: null }, 'test');
    await h.gateway.controls.reload();
    const ok = [await call(h), await call(h), await call(h)];
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(ok.map((r) => r.headers['x-ratelimit-remaining-requests'])).toEqual(['2', '1', '0']);
    expect(ok[0]!.headers['x-ratelimit-limit-requests']).toBe('3');
    const refused = await call(h);
    expect(refused.status).toBe(429);
    expect(refused.json?.error?.code).toBe('rate_limited');
    const retry = Number(refused.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('tokens per minute reserve the bound and settle the actual', async () => {
    await h.store.controls.setRateLimit(AGENT, { rpm: null, tpm: 5000 }, 'test');
    await h.gateway.controls.reload();
    // The bound (max_tokens 4000 + the request's bytes) fits once; the actual (100 output) frees the rest.
    const first = await call(h, { maxTokens: 4000 });
    expect(first.status).toBe(200);
    const remaining = Number(first.headers['x-ratelimit-remaining-tokens']);
    expect(remaining).toBeLessThan(1000);
    expect((await call(h, { maxTokens: 4000 })).status).toBe(200);
    const tooBig = await call(h, { maxTokens: 20_000 });
    expect(tooBig.status).toBe(429);
    expect(tooBig.json?.error?.code).toBe('rate_limited');
    await h.store.controls.setRateLimit(AGENT, { rpm: null, tpm: null }, 'test');
  });
});

describe('budget actions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ gateway: { aliases: { cheap: 'openai/gpt-4.1-nano' } } });
  });
  afterAll(() => h.close());

  it('showback never refuses; chargeback refuses once spent; alerts fire once per threshold', async () => {
    await h.store.controls.setBudget(budget(TEAM, '0.001', { action: 'showback' }), 'test');
    await h.gateway.controls.reload();
    for (let i = 0; i < 3; i++) expect((await call(h, { output: 2000, maxTokens: 2000 })).status).toBe(200);
    await h.gateway.writer.flush();
    await new Promise((r) => setTimeout(r, 50));
    const alerts = await h.store.controls.alerts();
    expect(alerts.map((a) => a.threshold).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    expect(alerts.every((a) => a.scopePath === TEAM)).toBe(true);

    await h.store.controls.setBudget(budget(TEAM, '0.001', { action: 'chargeback' }), 'test');
    await h.gateway.controls.reload();
    const refused = await call(h);
    expect(refused.status).toBe(429);
    expect(refused.json?.error?.code).toBe('budget_exceeded');
    expect(refused.json?.error?.message).toContain(TEAM);
    expect(refused.json?.error?.details?.['tier']).toBe('team');
    await h.store.controls.deleteBudget(TEAM, 'day', 'test');
  });

  it('the refusal names the largest max_tokens that would fit, and that value is admitted', async () => {
    const spent = (await h.store.ledger.totals({})).effectiveCostNano;
    await h.store.controls.setBudget(budget(AGENT, '0.01', { amountNano: spent + usdToNano('0.002') }), 'test');
    await h.gateway.controls.reload();
    const refused = await call(h, { maxTokens: 100_000 });
    expect(refused.status).toBe(429);
    const fits = Number(refused.json?.error?.details?.['max_tokens_that_fit']);
    expect(fits).toBeGreaterThan(0);
    expect(refused.json?.error?.message).toContain(`max_tokens ≤ ${fits}`);
    expect((await call(h, { maxTokens: fits + 1 })).status).toBe(429);
    expect((await call(h, { maxTokens: fits, output: 1 })).status).toBe(200);
    await h.store.controls.deleteBudget(AGENT, 'day', 'test');
  });

  it('a spent soft budget with degrade_to sends calls to the cheaper alias and says so', async () => {
    const spent = (await h.store.ledger.totals({})).effectiveCostNano;
    await h.store.controls.setBudget(budget(PROJECT, '1', { amountNano: spent + usdToNano('0.001'), action: 'soft', degradeTo: 'cheap' }), 'test');
    await h.gateway.controls.reload();
    // Soft budgets never refuse: this call's bound does not fit, it goes through on the model asked for and spends the budget.
    const r = await call(h, { output: 2000, maxTokens: 2000 });
    expect(r.status).toBe(200);
    expect(r.headers['x-tollgate-degraded-to']).toBeUndefined();
    const degraded = await call(h);
    expect(degraded.status).toBe(200);
    expect(degraded.headers['x-tollgate-degraded-to']).toBe('cheap');
    await h.gateway.writer.flush();
    const row = await h.store.ledger.get(String(degraded.headers['x-tollgate-request-id']));
    expect(row?.servedModel).toBe('gpt-4.1-nano');
    expect(row?.requestedModel).toBe('gpt-4.1-mini');
    await h.store.controls.deleteBudget(PROJECT, 'day', 'test');
  });
});

describe('calendar roll-over in the budget time zone', () => {
  let h: Harness;
  // 23:59:30 on 2026-11-28 in New York (UTC-5): the UTC date is already the 29th.
  let clock = Date.parse('2026-11-29T04:59:30Z');
  beforeAll(async () => {
    h = await startHarness({ gateway: { now: () => clock } });
    await h.store.controls.setBudget(budget(AGENT, '0.002', { timeZone: 'America/New_York' }), 'test');
    await h.gateway.controls.reload();
  });
  afterAll(() => h.close());

  it('refuses when the day is spent and admits again at local midnight', async () => {
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) status = (await call(h, { output: 1000, maxTokens: 1000 })).status;
    const refused = await call(h, { output: 1000, maxTokens: 1000 });
    expect(refused.status).toBe(429);
    expect(refused.json?.error?.details?.['resets_at']).toBe('2026-11-29T05:00:00.000Z');
    clock = Date.parse('2026-11-29T04:59:59Z');
    expect((await call(h, { output: 1000, maxTokens: 1000 })).status).toBe(429);
    clock = Date.parse('2026-11-29T05:00:01Z');
    const next = await call(h, { output: 1000, maxTokens: 1000 });
    expect(next.status).toBe(200);
  });
});

describe('counters unreachable', () => {
  let h: Harness;
  let counters: RedisCounters;
  beforeAll(async () => {
    counters = await RedisCounters.open({ url: 'redis://127.0.0.1:1' });
    h = await startHarness({ gateway: { counters } });
  });
  afterAll(async () => {
    await h.close();
    await counters.close();
  });

  it('refuses calls under a hard budget with 503, lets showback-only calls through', async () => {
    await h.store.controls.setBudget(budget(TEAM, '100', { action: 'showback' }), 'test');
    await h.gateway.controls.reload();
    expect((await call(h)).status).toBe(200);
    await h.store.controls.setBudget(budget(AGENT, '100'), 'test');
    await h.gateway.controls.reload();
    const refused = await call(h);
    expect(refused.status).toBe(503);
    expect(refused.json?.error?.code).toBe('unavailable');
    expect(refused.json?.error?.message).toMatch(/budget counters .*unreachable/);
    const health = await request(`${h.url}/healthz`);
    expect(await health.body.json()).toMatchObject({ counters: 'down' });
  });
});
