/**
 * Repricing under scenarios, on a small SQLite ledger priced by the real pricer (Anthropic at a 20%
 * negotiated discount), against figures worked out by hand from the catalog's rates: each kind of
 * change, its delta exact to the nano-USD per team, agent and model, and each change's own delta.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reprice } from '../../src/analytics/pricing-scenarios/repricer.ts';
import type { RepriceReport } from '../../src/analytics/pricing-scenarios/repricer.ts';
import { scenarioPricer } from '../../src/analytics/pricing-scenarios/scenario-pricer.ts';
import { parseScenario } from '../../src/analytics/pricing-scenarios/scenario-schema.ts';
import type { PriceTableChange } from '../../src/analytics/pricing-scenarios/scenario-schema.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Usage } from '../../src/domain/usage.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer, pricingConfigSchema } from '../../src/pricing/index.ts';
import { makeEvent } from '../support/events.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-reprice-'));
let store: Store;
const pricing = pricingConfigSchema.parse({ discounts: [{ provider: 'anthropic', percent: 20, from: '2026-01-01' }] });
const pricer = createPricer(pricing);

const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
const oct = (day: number, hour = 12) => Date.UTC(2026, 9, day, hour);

async function chainFor(path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

/**
 * October 2026, effective cost as recorded (Anthropic list × 0.8):
 *   support/helpdesk/triage-bot  Oct 5   sonnet  1,000 in + 200 out        list 6,000,000      eff 4,800,000
 *   eng/ci/fixer                 Oct 10  sonnet  250,000 in + 1,000 out    list 1,522,500,000  eff 1,218,000,000  (long-context tier: $6 / $22.50)
 *   support/helpdesk/triage-bot  Oct 20  haiku   10,000 in + 1,000 out     list 15,000,000     eff 12,000,000
 *   sales/leads/qualifier        Oct 2   gpt-4.1-mini  800,000 in          320,000,000
 *   sales/leads/qualifier        Oct 12  gpt-4.1-mini  3M in + 1M cached + 0.5M out   2,100,000,000
 *   sales/leads/qualifier        Oct 25  gpt-4.1-mini  1,000 in            400,000
 *   sales/leads/qualifier        Nov 1   gpt-4.1-mini  1,000 in            (outside every window below)
 */
const SONNET = 'claude-sonnet-4-5-20250929';
const HAIKU = 'claude-haiku-4-5';
const MINI = 'gpt-4.1-mini';

beforeAll(async () => {
  store = await openSqliteStore(join(root, 'ledger.db'));
  const triage = await chainFor('acme/support/helpdesk/triage-bot');
  const fixer = await chainFor('acme/eng/ci/fixer');
  const qualifier = await chainFor('acme/sales/leads/qualifier');
  const ev = (chain: ScopeChain, provider: string, model: string, u: Usage, startedAt: number, id: string) => {
    const q = pricer.price(provider, model, u, startedAt);
    return makeEvent(chain, { id, startedAt, provider, servedModel: model, requestedModel: model, usage: u, listCostNano: q.listNano, effectiveCostNano: q.effectiveNano });
  };
  await store.ledger.record([
    ev(triage, 'anthropic', SONNET, usage({ inputTokens: 1000, outputTokens: 200 }), oct(5), 'e-triage-sonnet'),
    ev(fixer, 'anthropic', SONNET, usage({ inputTokens: 250_000, outputTokens: 1000 }), oct(10), 'e-fixer-sonnet'),
    ev(triage, 'anthropic', HAIKU, usage({ inputTokens: 10_000, outputTokens: 1000 }), oct(20), 'e-triage-haiku'),
    ev(qualifier, 'openai', MINI, usage({ inputTokens: 800_000 }), oct(2), 'e-q1'),
    ev(qualifier, 'openai', MINI, usage({ inputTokens: 3_000_000, cacheReadTokens: 1_000_000, outputTokens: 500_000 }), oct(12), 'e-q2'),
    ev(qualifier, 'openai', MINI, usage({ inputTokens: 1000 }), oct(25), 'e-q3'),
    ev(qualifier, 'openai', MINI, usage({ inputTokens: 1000 }), NOV, 'e-q4'),
  ]);
});

afterAll(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

const scenario = (yaml: string) => parseScenario(yaml, 'test.yaml');
const run = (yaml: string, opts: { from?: number; to?: number; scope?: string } = {}) =>
  reprice(store, scenario(yaml), { from: opts.from ?? OCT, to: opts.to ?? NOV, pricing, ...(opts.scope ? { scope: opts.scope } : {}) });

const BASE_OCT = 4_800_000n + 1_218_000_000n + 12_000_000n + 320_000_000n + 2_100_000_000n + 400_000n;

function deltas(r: RepriceReport, by: 'byTeam' | 'byAgent' | 'byModel'): Record<string, bigint> {
  return Object.fromEntries(r[by].map((l) => [l.name, l.deltaNano]));
}

/** Every line's scenario − base is its delta, lines sum to the total, and so do the changes' own deltas. */
function consistent(r: RepriceReport): void {
  for (const lines of [r.byTeam, r.byAgent, r.byModel]) {
    for (const l of lines) expect(l.scenarioNano - l.baseNano).toBe(l.deltaNano);
    expect(lines.reduce((s, l) => s + l.deltaNano, 0n) + (r.scope ? 0n : r.unusedCommitmentNano)).toBe(r.deltaNano);
    expect(lines.reduce((s, l) => s + l.baseNano, 0n)).toBe(r.baseNano);
  }
  expect(r.changes.reduce((s, c) => s + c.deltaNano, 0n)).toBe(r.deltaNano);
  expect(r.scenarioNano - r.baseNano).toBe(r.deltaNano);
}

describe('multiply', () => {
  it('scales list prices from a date, long-context tier included, under the negotiated discount', async () => {
    const r = await run('name: x2.5\nchanges:\n  - multiply: { provider: anthropic, factor: 2.5, from: 2026-10-08 }\n');
    // fixer (Oct 10, tier above 200k): 250,000 × $15 + 1,000 × $56.25 = 3,806,250,000 list → × 0.8 = 3,045,000,000; was 1,218,000,000
    // haiku (Oct 20): 15,000,000 × 2.5 = 37,500,000 list → 30,000,000; was 12,000,000. Sonnet on Oct 5 is before the date.
    expect(r.baseNano).toBe(BASE_OCT);
    expect(r.deltaNano).toBe(1_827_000_000n + 18_000_000n);
    expect(deltas(r, 'byTeam')).toEqual({ 'acme/eng': 1_827_000_000n, 'acme/support': 18_000_000n, 'acme/sales': 0n });
    expect(r.byTeam.map((l) => l.name)).toEqual(['acme/eng', 'acme/support', 'acme/sales']);
    expect(deltas(r, 'byAgent')['acme/support/helpdesk/triage-bot']).toBe(18_000_000n);
    expect(deltas(r, 'byModel')).toEqual({ [`anthropic/${SONNET}`]: 1_827_000_000n, [`anthropic/${HAIKU}`]: 18_000_000n, [`openai/${MINI}`]: 0n });
    expect(r.calls).toBe(6);
    expect(r.changedCalls).toBe(2);
    expect(r.changes[0]).toMatchObject({ calls: 2, deltaNano: 1_845_000_000n });
    expect(r.recordedDiffers).toBe(0);
    consistent(r);
  });

  it('rounds a fractional factor per unit price to the nano-USD per MTok, then once per call', async () => {
    const r = await run(`name: thirds\nchanges:\n  - multiply: { provider: openai, model: "gpt-4.1-*", factor: "1.333333333" }\n`);
    // Rates: input 400,000,000 × 1.333333333 = 533,333,333.2 → 533,333,333; cached 133,333,333.3 → 133,333,333;
    // output 2,133,333,332.8 → 2,133,333,333 (nano-USD per MTok).
    // Oct 2: 800,000 × 533,333,333 / 1e6 = 426,666,666.4 → 426,666,666
    // Oct 12: (3e6 × 533,333,333 + 1e6 × 133,333,333 + 5e5 × 2,133,333,333) / 1e6 = 2,799,999,998.5 → 2,799,999,999
    // Oct 25: 1,000 × 533,333,333 / 1e6 = 533,333.333 → 533,333
    const scenarioSales = 426_666_666n + 2_799_999_999n + 533_333n;
    expect(deltas(r, 'byTeam')['acme/sales']).toBe(scenarioSales - 2_420_400_000n);
    expect(r.deltaNano).toBe(scenarioSales - 2_420_400_000n);
    consistent(r);
  });
});

describe('prices', () => {
  it('replaces the price table from its date (tiers and all); a multiply dated before it does not scale it', async () => {
    const r = await run(
      [
        'name: new sonnet prices',
        'changes:',
        '  - multiply: { provider: anthropic, factor: 2, from: 2026-09-01 }',
        '  - prices: { provider: anthropic, model: claude-sonnet-4-5, from: 2026-10-01, input_mtok: 4, output_mtok: 20, cache_read_mtok: "0.40" }',
        '',
      ].join('\n'),
    );
    // The table names the catalog id; the ledger has the dated snapshot name: it still applies.
    // triage sonnet: 1,000 × $4 + 200 × $20 = 8,000,000 list → 6,400,000 (was 4,800,000): +1,600,000
    // fixer sonnet: flat table, no cliff: 250,000 × $4 + 1,000 × $20 = 1,020,000,000 → 816,000,000 (was 1,218,000,000): −402,000,000
    // haiku: × 2 → 24,000,000 (was 12,000,000): +12,000,000
    expect(deltas(r, 'byAgent')).toEqual({
      'acme/eng/ci/fixer': -402_000_000n,
      'acme/support/helpdesk/triage-bot': 1_600_000n + 12_000_000n,
      'acme/sales/leads/qualifier': 0n,
    });
    expect(r.byAgent[0]?.name).toBe('acme/support/helpdesk/triage-bot');
    // Each change's own delta: the multiply alone doubles all three; the table then takes sonnet to its prices.
    expect(r.changes.map((c) => c.deltaNano)).toEqual([4_800_000n + 1_218_000_000n + 12_000_000n, (6_400_000n - 9_600_000n) + (816_000_000n - 2_436_000_000n)]);
    expect(r.changes.map((c) => c.calls)).toEqual([3, 2]);
    consistent(r);
  });

  it('prices a model the catalog does not know from its date', () => {
    const p = scenarioPricer(pricing, scenario('name: own\nchanges:\n  - prices: { provider: vllm, model: llama-70b, from: 2026-10-15, input_mtok: "0.20", output_mtok: "0.60" }\n').changes as PriceTableChange[]);
    const u = usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 });
    expect(p.price('vllm', 'llama-70b', u, oct(14)).effectiveNano).toBe(0n);
    expect(p.price('vllm', 'llama-70b', u, oct(15)).effectiveNano).toBe(800_000_000n);
  });

  it('refuses a dated change to a model whose catalog price depends on the time of day', () => {
    const p = scenarioPricer(undefined, scenario('name: ds\nchanges:\n  - multiply: { provider: deepseek, factor: 2, from: 2026-10-01 }\n').changes as PriceTableChange[]);
    expect(() => p.price('deepseek', 'deepseek-chat', usage({ inputTokens: 10 }), oct(2))).toThrow(/time-of-day prices.*omit `from`/);
  });
});

describe('escalator', () => {
  it('prices tokens beyond each monthly threshold at its factor, counting the month from its first day', async () => {
    const yaml = 'name: tiers\nchanges:\n  - escalator: { provider: openai, tiers: [{ above_mtok_per_month: 1, factor: 1.5 }, { above_mtok_per_month: 3, factor: 2 }] }\n';
    // Window from Oct 5: the 800,000 tokens of Oct 2 count toward October's volume but are not repriced.
    // Oct 12, 4,500,000 tokens from 800,000: 200,000 × 1 + 2,000,000 × 1.5 + 2,300,000 × 2 = 7,800,000 weighted
    //   → 2,100,000,000 × 7.8 / 4.5 = 3,640,000,000 (+1,540,000,000). Oct 25: all beyond 3 MTok → 800,000 (+400,000).
    const r = await run(yaml, { from: oct(5, 0) });
    expect(r.baseNano).toBe(BASE_OCT - 320_000_000n);
    expect(deltas(r, 'byTeam')).toEqual({ 'acme/sales': 1_540_000_000n + 400_000n, 'acme/eng': 0n, 'acme/support': 0n });
    expect(r.changes[0]).toMatchObject({ calls: 2, deltaNano: 1_540_400_000n });
    consistent(r);
  });
});

describe('commit', () => {
  const commit = (amount: string) => `name: commit\nchanges:\n  - commit: { provider: anthropic, monthly_usd: ${amount}, discount_pct: 20 }\n`;

  it('discounts usage up to the commitment and charges what is left unused', async () => {
    // $1.00 a month at 20% off covers $1.25 of usage. October's Anthropic calls, in order: 4,800,000; 1,218,000,000;
    // 12,000,000 (1,234,800,000 in all): paid × 0.8 = 3,840,000; 974,400,000; 9,600,000 → 987,840,000; unused 12,160,000.
    const r = await run(commit('1.00'));
    expect(deltas(r, 'byTeam')).toEqual({ 'acme/sales': 0n, 'acme/support': 3_840_000n + 9_600_000n - 16_800_000n, 'acme/eng': 974_400_000n - 1_218_000_000n });
    expect(r.unusedCommitmentNano).toBe(12_160_000n);
    expect(r.changes[0]?.periods).toEqual([{ provider: 'anthropic', label: '2026-10', commitmentNano: 1_000_000_000n, usedNano: 987_840_000n, unusedNano: 12_160_000n }]);
    expect(r.scenarioNano - (BASE_OCT - 1_234_800_000n)).toBe(1_000_000_000n);
    consistent(r);
  });

  it('bills usage beyond the commitment at the price without the commit discount', async () => {
    // $0.50 covers $0.625: paid through Oct 10 = 500,000,000 + (1,222,800,000 − 625,000,000) = 1,097,800,000; haiku at full price.
    const r = await run(commit('0.50'));
    expect(r.unusedCommitmentNano).toBe(0n);
    expect(deltas(r, 'byAgent')).toMatchObject({ 'acme/eng/ci/fixer': 1_097_800_000n - 3_840_000n - 1_218_000_000n, 'acme/support/helpdesk/triage-bot': 3_840_000n - 4_800_000n });
    expect(r.scenarioNano - (BASE_OCT - 1_234_800_000n)).toBe(1_109_800_000n);
    consistent(r);
  });

  it('prorates the commitment to the part of the month in the window', async () => {
    // Oct 1–16 is 15/31 of October: commitment 483,870,967.74… → 483,870,968. Usage 1,222,800,000 goes past it:
    // paid = C + U − C/0.8 = 1,222,800,000 − 0.25 × 483,870,967.74… = 1,101,832,258.06… → 1,101,832,258.
    const r = await run(commit('1.00'), { to: Date.UTC(2026, 9, 16) });
    expect(r.changes[0]?.periods).toEqual([{ provider: 'anthropic', label: '2026-10 (part)', commitmentNano: 483_870_968n, usedNano: 483_870_968n, unusedNano: 0n }]);
    expect(r.byModel.filter((l) => l.name.startsWith('anthropic/')).reduce((s, l) => s + l.scenarioNano, 0n)).toBe(1_101_832_258n);
    consistent(r);
  });

  it('with a scope, shows the scope\'s lines and leaves the unused commitment to the org', async () => {
    const r = await run(commit('1.00'), { scope: 'acme/support' });
    expect(r.scope).toBe('acme/support');
    expect(r.byTeam.map((l) => l.name)).toEqual(['acme/support']);
    expect(r.deltaNano).toBe(3_840_000n + 9_600_000n - 16_800_000n);
    expect(r.scenarioNano).toBe(13_440_000n);
    consistent(r);
  });
});

describe('what stays as recorded', () => {
  it('a call no change touches keeps its recorded cost, even one recorded at an old price', async () => {
    const chain = await chainFor('globex/ops/infra/bot');
    await store.ledger.record([makeEvent(chain, { id: 'e-old', provider: 'openai', servedModel: MINI, requestedModel: MINI, startedAt: Date.UTC(2026, 11, 3), effectiveCostNano: 123n, listCostNano: 123n })]);
    const anthropic2x = 'name: x2\nchanges:\n  - multiply: { provider: anthropic, factor: 2 }\n';
    const r = await reprice(store, scenario(anthropic2x), { from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1), pricing });
    expect(r).toMatchObject({ calls: 1, baseNano: 123n, scenarioNano: 123n, deltaNano: 0n, changedCalls: 0 });
  });

  it('a repriced call recorded at another price moves by the scenario\'s difference, and is counted', async () => {
    const chain = await chainFor('globex/ops/infra/bot');
    // Today's price: 1,000 in + 200 out of sonnet = 4,800,000 effective; recorded at 5,000,000. × 2 adds 4,800,000.
    await store.ledger.record([makeEvent(chain, { id: 'e-stale', provider: 'anthropic', servedModel: SONNET, startedAt: Date.UTC(2027, 0, 3), usage: usage({ inputTokens: 1000, outputTokens: 200 }), effectiveCostNano: 5_000_000n })]);
    const r = await reprice(store, scenario('name: x2\nchanges:\n  - multiply: { provider: anthropic, factor: 2 }\n'), { from: Date.UTC(2027, 0, 1), to: Date.UTC(2027, 1, 1), pricing });
    expect(r).toMatchObject({ baseNano: 5_000_000n, scenarioNano: 9_800_000n, recordedDiffers: 1 });
  });

  it('refuses an unknown scope', async () => {
    await expect(run('name: x\nchanges:\n  - multiply: { provider: anthropic, factor: 2 }\n', { scope: 'acme/nope' })).rejects.toThrow(/scope "acme\/nope" does not exist/);
  });
});

describe('scenario files', () => {
  const bad = (yaml: string) => () => parseScenario(yaml, 'bad.yaml');

  it('say what is wrong, on one line', () => {
    expect(bad('name: x\nchanges:\n  - discount: { provider: anthropic }\n')).toThrow(/changes\.0: a change has exactly one key, one of multiply, prices, escalator, commit; got "discount"/);
    expect(bad('name: x\nchanges:\n  - multiply: { provider: anthropic, factor: 0 }\n')).toThrow(/factor 0 must be greater than 0/);
    expect(bad('name: x\nchanges:\n  - multiply: { provider: anthropic, factor: 2, from: 2026-13-01 }\n')).toThrow(/not an ISO date/);
    expect(bad('name: x\nchanges:\n  - multiply: { provider: anthropic, factr: 2 }\n')).toThrow(/unknown field "factr" in multiply/);
    expect(bad('name: x\nchanges:\n  - commit: { provider: anthropic, monthly_usd: 10, annual_usd: 100, discount_pct: 10 }\n')).toThrow(/exactly one of monthly_usd or annual_usd/);
    expect(bad('name: x\nchanges:\n  - commit: { provider: anthropic, monthly_usd: 10, discount_pct: 100 }\n')).toThrow(/discount_pct 100 must be at least 0 and below 100/);
    expect(bad('name: x\nchanges:\n  - escalator: { provider: openai, tiers: [{ above_mtok_per_month: 5, factor: 2 }, { above_mtok_per_month: 1, factor: 3 }] }\n')).toThrow(/increasing order/);
    expect(bad('name: x\nchanges:\n  - commit: { provider: openai, monthly_usd: 10, discount_pct: 5 }\n  - commit: { provider: openai, annual_usd: 100, discount_pct: 10 }\n')).toThrow(/changes\.1 and changes\.0 are two commits for openai; keep one/);
    expect(bad('changes: []\n')).toThrow(/name is required.*a scenario needs at least one change/);
    expect(bad('name: [unclosed\n')).toThrow(/bad\.yaml at line \d+: not valid YAML/);
    for (const yaml of ['name: x\nchanges:\n  - multiply: { provider: anthropic, factor: 0 }\n', 'changes: []\n']) expect(bad(yaml)).toThrow(/^[^\n]+$/);
  });
});
