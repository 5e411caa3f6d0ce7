/**
 * Guarantee 2 on one node: an agent with $0.50 left receives 600 concurrent calls of varying cost.
 * Settled spend never passes the ceiling, every refusal is `budget_exceeded`, no reservation is left,
 * and no call was refused while its bound still fitted (checked against the ledger afterwards).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/domain/money.ts';
import { costBound } from '../../src/gateway/cost-bound.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, AGENT, startHarness } from '../support/gateway.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';

const LIMIT = usdToNano('0.50');
const MODEL = 'gpt-4.1-mini';
const pricer = createPricer();

interface Sent {
  body: string;
  maxTokens: number;
  outputTokens: number;
}

function plan(n: number, seed: number, exact: boolean): Sent[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const maxTokens = 200 + Math.floor(rand() * 3800);
    const words = 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(rand() * 40));
    const body = JSON.stringify({ model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: `#${i} ${words}` }] });
    // Exact runs make the provider bill precisely the bound, so "could it have fitted" is decidable from the ledger.
    return { body, maxTokens, outputTokens: exact ? maxTokens : Math.floor(rand() * maxTokens) };
  });
}

async function fire(h: Harness, calls: Sent[]) {
  return Promise.all(
    calls.map(async (c) => {
      // The gateway's own bound for these bytes; the simulator then bills exactly that input.
      const bound = costBound(pricer, 'openai', MODEL, 'openai.chat', JSON.parse(c.body) as Record<string, unknown>, Buffer.byteLength(c.body), Date.now());
      const res = await request(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.secret}`,
          'content-type': 'application/json',
          'x-sim-input-tokens': String(bound.inputTokens),
          'x-sim-output-tokens': String(c.outputTokens),
          'x-sim-latency-ms': '20',
        },
        body: c.body,
      });
      const json = (await res.body.json()) as { error?: { code?: string; details?: Record<string, unknown> } };
      return { status: res.statusCode, json, bound: bound.costNano, retry: res.headers['x-should-retry'] };
    }),
  );
}

async function budgetState(h: Harness) {
  const res = await request(`${h.url}/api/budgets`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const { data } = (await res.body.json()) as { data: { scope: string; spent_usd: string; reserved_usd: string | null; remaining_usd: string }[] };
  return data.find((b) => b.scope === AGENT)!;
}

describe.each([
  { name: 'provider bills the whole bound', exact: true, seed: 7 },
  { name: 'provider bills less than the bound', exact: false, seed: 11 },
])('600 concurrent calls against a $0.50 hard ceiling, memory counters ($name)', ({ exact, seed }) => {
  let h: Harness;
  let results: Awaited<ReturnType<typeof fire>>;

  beforeAll(async () => {
    h = await startHarness({ sim: { latencyMs: 20 } });
    await h.store.controls.setBudget({ scopePath: AGENT, amountNano: LIMIT, period: 'day', action: 'hard', thresholds: [50, 100], timeZone: 'UTC', degradeTo: null }, 'test');
    await h.gateway.controls.reload();
    results = await fire(h, plan(600, seed, exact));
    await h.gateway.writer.flush();
  });
  afterAll(() => h.close());

  it('settles at or under the ceiling, to the nano-dollar', async () => {
    const spent = (await h.store.ledger.totals({})).effectiveCostNano;
    expect(spent).toBeLessThanOrEqual(LIMIT);
    const admitted = results.filter((r) => r.status === 200);
    expect(admitted.length).toBeGreaterThan(10);
    expect(admitted.length).toBeLessThan(600);
    expect((await h.store.ledger.totals({})).calls).toBe(admitted.length);
  });

  it('refuses only with budget_exceeded, telling SDKs not to retry', () => {
    for (const r of results.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(429);
      expect(r.json.error?.code).toBe('budget_exceeded');
      expect(r.retry).toBe('false');
      expect(r.json.error?.details?.['scope']).toBe(AGENT);
      // The bound the gateway reserved is the one computed here from the bytes sent and max_tokens.
      expect(usdToNano(String(r.json.error?.details?.['required_usd']))).toBe(r.bound);
      expect(usdToNano(String(r.json.error?.details?.['remaining_usd']))).toBeLessThan(r.bound);
    }
  });

  it('leaves no reservation behind', async () => {
    const state = await budgetState(h);
    expect(usdToNano(String(state.reserved_usd))).toBe(0n);
    expect(usdToNano(state.spent_usd)).toBe((await h.store.ledger.totals({})).effectiveCostNano);
  });

  it.runIf(exact)('refused nothing that could still have fitted', async () => {
    // Every admitted call billed exactly its bound, so spent+reserved only ever grew towards the final total:
    // a refused call fitted at no moment if it does not fit beside the final total.
    const finalSpent = (await h.store.ledger.totals({})).effectiveCostNano;
    for (const r of results.filter((r) => r.status === 429)) expect(finalSpent + r.bound).toBeGreaterThan(LIMIT);
  });
});
