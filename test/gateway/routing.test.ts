/**
 * The cheap-first router through a real gateway in front of real simulators: classification by each
 * feature, the hint header and scope policies, escalation on an upstream error (JSON and stream), on a
 * timeout and on a failed check (every attempt in the ledger, each linked to the one it replaced), no
 * escalation when it is off, degrade on a spent soft budget, an escalation the budget refuses, and the
 * Anthropic route.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { usdToNano } from '../../src/domain/money.ts';
import { routingConfigSchema } from '../../src/gateway/routing/routing-config.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import type { LedgerEvent } from '../../src/ledger/contract.ts';
import type { Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from '../support/gateway.ts';

const TIERS = [
  { name: 'budget', model: 'openai/gpt-4.1-mini' },
  { name: 'frontier', model: 'openai/gpt-4.1' },
];

const ROUTING = routingConfigSchema.parse({
  auto: {
    tiers: TIERS,
    rules: { prompt_chars: { above: 400 }, messages: { above: 6 }, tools: true, code: true, math: 'frontier' },
    escalate_on: { check: { finish_reasons: ['length'], regex: 'I cannot help' } },
    policies: { 'acme/legal': { tier: 'frontier' } },
  },
  flaky: { tiers: [{ name: 'budget', model: 'flaky/gpt-4.1-mini' }, TIERS[1]] },
  stubborn: { tiers: [{ name: 'budget', model: 'flaky/gpt-4.1-mini' }, TIERS[1]], escalate_on: { upstream_error: false } },
  slow: { tiers: [{ name: 'budget', model: 'slow/gpt-4.1-mini' }, TIERS[1]], escalate_on: { timeout_ms: 300 } },
  // Every answer fails its check: a call climbs all three tiers.
  picky: {
    tiers: [{ name: 'nano', model: 'openai/gpt-4.1-nano' }, { name: 'mini', model: 'openai/gpt-4.1-mini' }, { name: 'frontier', model: 'openai/gpt-4.1' }],
    escalate_on: { check: { regex: '/\\p{L}/u' } },
  },
  claude: { tiers: [{ name: 'budget', model: 'claude-haiku-4-5' }, { name: 'frontier', model: 'claude-sonnet-4-5' }] },
});

let good: Simulator;
let flaky: Simulator;
let slow: Simulator;
let h: Harness;

beforeAll(async () => {
  good = await startSimulator({ latencyMs: 0, chunkDelayMs: 0 });
  flaky = await startSimulator({ errorRate: 1, errorStatus: 503 });
  slow = await startSimulator({ latencyMs: 1500 });
  h = await startHarness({
    gateway: {
      upstreams: createUpstreams({
        openai: { base_url: `${good.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
        anthropic: { base_url: good.url, api_key: UPSTREAM_ANTHROPIC_KEY, api: 'anthropic' },
        flaky: { base_url: `${flaky.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
        slow: { base_url: `${slow.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
      }),
      routing: ROUTING,
    },
  });
});

afterAll(async () => {
  await h?.close();
  await Promise.all([good?.close(), flaky?.close(), slow?.close()]);
});

interface Call {
  model?: string;
  content?: string;
  messages?: readonly { role: string; content: string }[];
  tools?: readonly unknown[];
  maxTokens?: number;
  stream?: boolean;
  headers?: Record<string, string>;
  secret?: string;
}

async function chat(c: Call) {
  const res = await request(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.secret ?? h.secret}`, 'content-type': 'application/json', ...c.headers },
    body: JSON.stringify({
      model: c.model ?? 'auto',
      messages: c.messages ?? [{ role: 'user', content: c.content ?? 'hello there' }],
      ...(c.tools ? { tools: c.tools } : {}),
      ...(c.maxTokens === undefined ? {} : { max_tokens: c.maxTokens }),
      ...(c.stream ? { stream: true } : {}),
    }),
  });
  const text = await res.body.text();
  const header = (name: string) => {
    const v = res.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  return { status: res.statusCode, text, header, id: header('x-tollgate-request-id')!, json: () => JSON.parse(text) as { model?: string; error?: { message: string } } };
}

async function row(id: string): Promise<LedgerEvent> {
  await h.gateway.writer.flush();
  const e = await h.store.ledger.get(id);
  if (!e) throw new Error(`no ledger row ${id}`);
  return e;
}

const lastModel = (sim: Simulator) => sim.calls.at(-1)?.model;

describe('classification', () => {
  const weather = { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
  it.each([
    ['a short plain prompt', {}, 'budget', 'no rule fired (prompt 11 chars, 1 message, no tools, no code, no maths)'],
    ['a long prompt', { content: 'word '.repeat(100) }, 'frontier', 'prompt 500 chars > 400 → frontier'],
    ['a deep conversation', { messages: Array.from({ length: 7 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` })) }, 'frontier', '7 messages > 6 → frontier'],
    ['tools', { tools: [weather] }, 'frontier', '1 tool offered → frontier'],
    ['code', { content: 'why does this fail?\n```\nx = [1, 2\n```' }, 'frontier', 'code (a code fence) → frontier'],
    ['code without a fence', { content: 'def area(r):\n    return 3.14 * r * r' }, 'frontier', 'code (a definition) → frontier'],
    ['maths', { content: 'prove that the square root of 2 is irrational' }, 'frontier', 'maths (a maths word) → frontier'],
    ['LaTeX', { content: 'simplify \\frac{a}{b} + 1' }, 'frontier', 'maths (LaTeX) → frontier'],
  ] as const)('%s → %s, and the ledger says why', async (_, call, tier, reason) => {
    const r = await chat(call);
    expect(r.status).toBe(200);
    expect(r.header('x-tollgate-route-tier')).toBe(tier);
    expect(lastModel(good)).toBe(tier === 'budget' ? 'gpt-4.1-mini' : 'gpt-4.1');
    const e = await row(r.id);
    expect(e.requestedModel).toBe('auto');
    expect(e.servedModel).toBe(tier === 'budget' ? 'gpt-4.1-mini' : 'gpt-4.1');
    expect(e.routing).toEqual({ alias: 'auto', tier, reason, escalatedFrom: null, frontier: tier === 'budget' ? 'openai/gpt-4.1' : null });
  });

  it('several firing rules are all named; the highest tier wins', async () => {
    const r = await chat({ content: `${'context '.repeat(60)}\nprove it:\n\`\`\`\nassert f(x) > 0\n\`\`\`` });
    const e = await row(r.id);
    expect(e.routing?.tier).toBe('frontier');
    expect(e.routing?.reason).toBe('prompt 514 chars > 400 → frontier; code (a code fence) → frontier; maths (a maths word) → frontier');
  });

  it('the hint header picks a tier by name; an unknown one is refused with the tiers listed', async () => {
    const up = await chat({ headers: { 'x-tollgate-route-tier': 'frontier' } });
    expect(up.header('x-tollgate-route-tier')).toBe('frontier');
    expect((await row(up.id)).routing?.reason).toBe('hint header → frontier');
    const down = await chat({ content: 'prove that 1 + 1 = 2', headers: { 'x-tollgate-route-tier': 'budget' } });
    expect(down.header('x-tollgate-route-tier')).toBe('budget');
    const bad = await chat({ headers: { 'x-tollgate-route-tier': 'premium' } });
    expect(bad.status).toBe(400);
    expect(bad.json().error?.message).toBe('x-tollgate-route-tier: "premium" is not a tier of "auto" (tiers: budget, frontier)');
  });

  it('a scope policy fixes the tier for its subtree, over the hint', async () => {
    const { secret } = await createKey(h.store, { scope: 'acme/legal/contracts/reviewer', actor: 'test' });
    await h.gateway.keys.reload();
    const r = await chat({ secret, headers: { 'x-tollgate-route-tier': 'budget' } });
    expect(r.header('x-tollgate-route-tier')).toBe('frontier');
    expect((await row(r.id)).routing?.reason).toBe('policy of acme/legal → frontier');
  });

  it('a routed model asked for on an API its tiers do not speak is refused clearly', async () => {
    const res = await request(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'auto', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.text()).toContain('\\"auto\\" is a routed model for generation on the OpenAI');
  });

  it('lists routed models among the models of the API they serve', async () => {
    const ids = async (headers: Record<string, string>) => {
      const res = await request(`${h.url}/v1/models`, { headers: { authorization: `Bearer ${h.secret}`, ...headers } });
      return ((await res.body.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    };
    const openai = await ids({});
    expect(openai).toEqual(expect.arrayContaining(['auto', 'flaky', 'picky', 'gpt-4.1']));
    expect(openai).not.toContain('claude');
    const anthropic = await ids({ 'anthropic-version': '2023-06-01' });
    expect(anthropic).toContain('claude');
    expect(anthropic).not.toContain('auto');
  });

  it('routes Anthropic messages too', async () => {
    const res = await request(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude', max_tokens: 50, system: 'You are terse.', messages: [{ role: 'user', content: 'integrate x^2 from 0 to 1' }] }),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const e = await row(String(res.headers['x-tollgate-request-id']));
    expect(e.routing).toMatchObject({ alias: 'claude', tier: 'frontier', reason: 'maths (an exponent) → frontier' });
    expect(lastModel(good)).toBe('claude-sonnet-4-5');
  });
});

describe('escalation', () => {
  async function chainOf(finalId: string): Promise<LedgerEvent[]> {
    const out = [await row(finalId)];
    while (out[0]!.routing?.escalatedFrom) out.unshift(await row(out[0]!.routing.escalatedFrom));
    return out;
  }

  it('on an upstream error: the frontier answers, and both calls are in the ledger, linked', async () => {
    const before = { flaky: flaky.calls.length, good: good.calls.length };
    const r = await chat({ model: 'flaky' });
    expect(r.status).toBe(200);
    expect(r.json().model).toBe('gpt-4.1');
    expect([flaky.calls.length - before.flaky, good.calls.length - before.good]).toEqual([1, 1]);
    const [first, second] = await chainOf(r.id);
    expect(r.header('x-tollgate-escalated-from')).toBe(first!.id);
    expect(first).toMatchObject({ status: 503, errorCode: 'upstream_error', requestedModel: 'flaky', effectiveCostNano: 0n });
    expect(first!.routing).toEqual({ alias: 'flaky', tier: 'budget', reason: 'no rule fired (prompt 11 chars, 1 message, no tools, no code, no maths) — escalated: upstream answered 503', escalatedFrom: null, frontier: 'openai/gpt-4.1' });
    expect(second).toMatchObject({ status: 200, servedModel: 'gpt-4.1' });
    expect(second!.effectiveCostNano).toBeGreaterThan(0n);
    expect(second!.routing).toEqual({ alias: 'flaky', tier: 'frontier', reason: 'escalated from budget: upstream answered 503', escalatedFrom: first!.id, frontier: null });
  });

  it('a stream escalates before its first byte reaches the client', async () => {
    const r = await chat({ model: 'flaky', stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('data: [DONE]');
    expect(r.header('x-tollgate-route-tier')).toBe('frontier');
    const [first, second] = await chainOf(r.id);
    expect(first).toMatchObject({ status: 503, stream: true, routing: { tier: 'budget' } });
    expect(second).toMatchObject({ status: 200, stream: true, estimated: false, routing: { tier: 'frontier', escalatedFrom: first!.id } });
    expect(second!.usage.outputTokens).toBeGreaterThan(0);
  });

  it('on a timeout of the lower tier', async () => {
    const t0 = Date.now();
    const r = await chat({ model: 'slow' });
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1400);
    const [first, second] = await chainOf(r.id);
    expect(first).toMatchObject({ status: 504, errorCode: 'upstream_timeout' });
    expect(first!.routing?.reason).toContain('escalated: no answer within 300 ms');
    expect(second!.routing).toMatchObject({ tier: 'frontier', reason: 'escalated from budget: no answer within 300 ms' });
  });

  it('on a failed check (stopped for length): the budget answer is billed, the frontier answer delivered', async () => {
    const r = await chat({ maxTokens: 5 });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ model: 'gpt-4.1', choices: [{ finish_reason: 'length' }] });
    const [first, second] = await chainOf(r.id);
    expect(first).toMatchObject({ status: 200, errorCode: null, servedModel: 'gpt-4.1-mini', usage: { outputTokens: 5 } });
    expect(first!.effectiveCostNano).toBeGreaterThan(0n);
    expect(first!.routing?.reason).toMatch(/— escalated: failed check: stopped for length$/);
    expect(second!.routing).toMatchObject({ tier: 'frontier', reason: 'escalated from budget: failed check: stopped for length', escalatedFrom: first!.id });
  });

  it('climbs every tier while the check keeps failing, and stops at the top', async () => {
    const r = await chat({ model: 'picky' });
    expect(r.status).toBe(200);
    const rows = await chainOf(r.id);
    expect(rows.map((e) => [e.routing?.tier, e.servedModel, e.routing?.frontier])).toEqual([
      ['nano', 'gpt-4.1-nano', 'openai/gpt-4.1'],
      ['mini', 'gpt-4.1-mini', 'openai/gpt-4.1'],
      ['frontier', 'gpt-4.1', null],
    ]);
    expect(rows[2]!.routing?.reason).toBe('escalated from mini: failed check: answer matches /\\p{L}/u');
  });

  it('a kill switch thrown while the lower tier runs stops the escalation', async () => {
    const agent = 'acme/ops/kill/escalator';
    const { secret, key } = await createKey(h.store, { scope: agent, actor: 'test' });
    await h.gateway.keys.reload();
    const pending = chat({ secret, model: 'slow' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.store.controls.kill(agent, 'runaway', 'test');
    await h.gateway.controls.reload();
    const r = await pending;
    expect(r.status).toBe(504);
    expect(r.header('x-tollgate-escalation-refused')).toBe('killed');
    await h.gateway.writer.flush();
    const rows = (await h.store.ledger.events({ within: { tier: 'agent', id: key.scopeId } })).rows;
    expect(rows.map((e) => [e.id, e.routing?.tier, e.errorCode])).toEqual([[r.id, 'budget', 'upstream_timeout']]);
  });

  it('does not escalate when escalation on upstream errors is off: one call, the error goes back', async () => {
    const r = await chat({ model: 'stubborn' });
    expect(r.status).toBe(503);
    const e = await row(r.id);
    expect(e.routing).toMatchObject({ tier: 'budget', escalatedFrom: null });
    expect(e.routing?.reason).not.toContain('escalated');
  });

  it('an escalation its budget refuses leaves the client with the lower tier\'s answer, and says so', async () => {
    const agent = 'acme/ops/tight/escalator';
    const { secret, key } = await createKey(h.store, { scope: agent, actor: 'test' });
    await h.gateway.keys.reload();
    // Room for the budget tier's bound (gpt-4.1-mini, 5 output tokens) but not for the frontier's (5× the price).
    await h.store.controls.setBudget({ scopePath: agent, amountNano: usdToNano('0.0005'), period: 'day', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
    await h.gateway.controls.reload();
    const r = await chat({ secret, maxTokens: 5 });
    expect(r.status).toBe(200);
    expect(r.json().model).toBe('gpt-4.1-mini');
    expect(r.header('x-tollgate-escalation-refused')).toBe('budget_exceeded');
    expect(r.header('x-tollgate-route-tier')).toBe('budget');
    expect(r.header('x-tollgate-escalated-from')).toBeUndefined();
    const e = await row(r.id);
    expect(e.routing).toMatchObject({ tier: 'budget', escalatedFrom: null });
    // The refused frontier attempt never went out: the agent's only row is the budget call.
    expect((await h.store.ledger.events({ within: { tier: 'agent', id: key.scopeId } })).rows.map((x) => x.id)).toEqual([r.id]);
  });
});

describe('degrade on a spent soft budget', () => {
  const project = 'acme/ops/batch';
  let secret: string;
  beforeAll(async () => {
    ({ secret } = await createKey(h.store, { scope: `${project}/degrade-bot`, actor: 'test' }));
    await h.gateway.keys.reload();
    await h.store.controls.setBudget({ scopePath: project, amountNano: 1n, period: 'day', action: 'soft', thresholds: [], timeZone: 'UTC', degradeTo: 'auto' }, 'test');
    await h.gateway.controls.reload();
    // Soft budgets never refuse: this call spends the budget and the gateway learns it is spent.
    expect((await chat({ secret, content: 'prove it' })).header('x-tollgate-route-tier')).toBe('frontier');
  });

  it('a routed call runs on the cheapest tier whatever its features, and says so', async () => {
    const r = await chat({ secret, content: 'prove that the series converges' });
    expect(r.status).toBe(200);
    expect(r.header('x-tollgate-route-tier')).toBe('budget');
    expect(r.header('x-tollgate-degraded-to')).toBe('auto');
    expect((await row(r.id)).routing).toMatchObject({ tier: 'budget', reason: 'soft budget spent (degrade_to auto) → budget, no escalation' });
  });

  it('does not escalate to the frontier while degraded', async () => {
    const r = await chat({ secret, model: 'flaky' });
    expect(r.status).toBe(503);
    expect((await row(r.id)).routing).toMatchObject({ alias: 'flaky', tier: 'budget', escalatedFrom: null });
  });

  it('a call naming a model is degraded to the routed model the soft budget names, and recorded as routed', async () => {
    const r = await chat({ secret, model: 'gpt-4.1' });
    expect(r.status).toBe(200);
    expect(r.header('x-tollgate-degraded-to')).toBe('auto');
    const e = await row(r.id);
    expect(e).toMatchObject({ requestedModel: 'gpt-4.1', servedModel: 'gpt-4.1-mini' });
    expect(e.routing).toMatchObject({ alias: 'auto', tier: 'budget', frontier: 'openai/gpt-4.1' });
  });
});

describe('GET /api/reports/routing', () => {
  it('reports what the calls above did, per routed model and tier', async () => {
    await h.gateway.writer.flush();
    const get = (query: string, auth = `Bearer ${ADMIN_KEY}`) => request(`${h.url}/api/reports/routing${query}`, { headers: { authorization: auth } });
    const res = await get('?days=1');
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as {
      period: string;
      routed_models: { alias: string; requests: number; escalated_requests: number; tiers: { tier: string; calls: number; answered: number; escalated: number }[] }[];
    };
    expect(body.period).toBe('last 1 days');
    const picky = body.routed_models.find((m) => m.alias === 'picky');
    expect(picky).toMatchObject({ requests: 1, escalated_requests: 1 });
    expect(picky?.tiers.map((t) => [t.tier, t.calls, t.answered, t.escalated])).toEqual([
      ['nano', 1, 0, 1],
      ['mini', 1, 0, 1],
      ['frontier', 1, 1, 0],
    ]);
    expect((await get('?days=soon')).statusCode).toBe(400);
    expect((await get('?days=1&month=2026-10')).statusCode).toBe(400);
    expect((await get('?days=1', 'Bearer wrong')).statusCode).toBe(401);
  });
});
