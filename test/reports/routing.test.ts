/**
 * The routing report on constructed mixes, on SQLite and on PostgreSQL: savings equal the formula
 * f + (1 − f)/r to the nano-USD when calls are alike; with heavier frontier calls, a price change
 * mid-period and an escalation, the request-share prediction misses and the cost-share identity holds
 * exactly; unpriced frontiers claim no saving; the scope filter; and the CLI's one-screen view.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingJson, routingReport } from '../../src/analytics/routing.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import type { Usage } from '../../src/domain/usage.ts';
import { usage } from '../../src/domain/usage.ts';
import type { LedgerEvent, RouteStamp, Store } from '../../src/ledger/contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import type { Pricer } from '../../src/pricing/index.ts';
import { createPricer, pricingConfigSchema } from '../../src/pricing/index.ts';
import { cliRunner } from '../support/cli.ts';
import { makeEvent } from '../support/events.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

/** A lab whose small model is exactly 10× cheaper than its big one, and whose big one doubles in price on Oct 20. */
const pricer: Pricer = createPricer(
  pricingConfigSchema.parse({
    custom_models: [
      { provider: 'lab', model: 'big', prices: { input_mtok: 10, output_mtok: 40 } },
      { provider: 'lab', model: 'big', from: '2026-10-20', prices: { input_mtok: 20, output_mtok: 80 } },
      { provider: 'lab', model: 'small', prices: { input_mtok: 1, output_mtok: 4 } },
    ],
  }),
);

const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const UNIT = usage({ inputTokens: 1000, outputTokens: 250 });

async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

let seq = 0;
/** One routed attempt on `model` (lab/small below the frontier, lab/big on it), priced by the same pricer. */
function routed(chain: ScopeChain, alias: string, model: 'small' | 'big', at: number, u: Usage = UNIT, extra: Partial<RouteStamp> & { status?: number } = {}): LedgerEvent {
  const q = pricer.price('lab', model, u, at);
  const { status, ...stamp } = extra;
  return makeEvent(chain, {
    id: `req_${String(++seq).padStart(6, '0')}`,
    startedAt: at,
    provider: 'lab',
    requestedModel: alias,
    servedModel: model,
    route: 'openai.chat',
    status: status ?? 200,
    usage: u,
    listCostNano: q.listNano,
    effectiveCostNano: q.effectiveNano,
    routing: { alias, tier: model === 'big' ? 'frontier' : 'budget', reason: 'test', escalatedFrom: null, frontier: model === 'big' ? null : 'lab/big', ...stamp },
  });
}

function runReportSuite(name: string, open: () => Promise<Store>, dispose: () => Promise<void>): void {
  describe(`routing report: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
      await dispose();
    });

    it('15% on the frontier, the rest 10× cheaper, alike calls: saves 76.5% (not 92%), to the nano-USD', async () => {
      const chain = await chainFor(store, 'uniform/t/p/a');
      // Before the price change: big is $0.02 a call, small $0.002.
      const events = Array.from({ length: 100 }, (_, i) => routed(chain, 'auto', i < 15 ? 'big' : 'small', OCT + DAY + i * 60_000));
      await store.ledger.record(events);
      const r = await routingReport(store, pricer, { from: OCT, to: NOV, scope: 'uniform' });
      const t = r.total;
      expect(t).toMatchObject({ requests: 100, frontierRequests: 15, escalatedRequests: 0, wasteNano: 0n, unpricedCounterfactual: 0 });
      expect(t.counterfactualNano).toBe(100n * 20_000_000n);
      expect(t.actualNano).toBe(15n * 20_000_000n + 85n * 2_000_000n);
      expect(t.savingNano).toBe(1_530_000_000n);
      // The formula with f = 15/100 and r = 10, as exact rationals: saving = all-frontier × (1 − f) × (1 − 1/r).
      expect(t.savingNano * 100n * 10n).toBe(t.counterfactualNano * 85n * 9n);
      expect(r.formula).toEqual({ f: 0.15, fCost: 0.15, r: 10, waste: 0, predictedSaving: expect.closeTo(0.765, 12) as number, actualSaving: 0.765 });
      expect(r.aliases.map((a) => a.tiers.map((x) => [x.tier, x.calls, x.answered, x.costNano, x.counterfactualNano]))).toEqual([
        [
          ['budget', 85, 85, 170_000_000n, 1_700_000_000n],
          ['frontier', 15, 15, 300_000_000n, 300_000_000n],
        ],
      ]);
    });

    it('heavier frontier calls, a price change and an escalation: the request share overstates the saving; the cost share is exact', async () => {
      const chain = await chainFor(store, 'mixed/t/p/a');
      const heavy = usage({ inputTokens: 8000, outputTokens: 2000 });
      const events: LedgerEvent[] = [];
      // 8 light budget answers, 4 of them after big doubled in price (their counterfactual doubles too).
      for (let i = 0; i < 8; i++) events.push(routed(chain, 'auto', 'small', (i < 4 ? OCT + 5 * DAY : OCT + 25 * DAY) + i * 1000));
      // 1 heavy frontier answer.
      events.push(routed(chain, 'auto', 'big', OCT + 6 * DAY, heavy));
      // 1 escalated request: a failed light budget attempt (billed) replaced by a light frontier answer.
      const failed = routed(chain, 'auto', 'small', OCT + 7 * DAY, UNIT, { reason: 'test — escalated: failed check' });
      events.push(failed, routed(chain, 'auto', 'big', OCT + 7 * DAY + 1, UNIT, { escalatedFrom: failed.id }));
      await store.ledger.record(events);

      const r = await routingReport(store, pricer, { from: OCT, to: NOV, scope: 'mixed' });
      const t = r.total;
      const small = 2_000_000n;
      const bigBefore = 20_000_000n;
      const bigAfter = 40_000_000n;
      const heavyBig = 8000n * 10_000n + 2000n * 40_000n; // $10 and $40 per MTok, in nano per token
      expect(t).toMatchObject({ requests: 10, frontierRequests: 2, escalatedRequests: 1 });
      expect(t.actualNano).toBe(8n * small + heavyBig + small + bigBefore);
      expect(t.wasteNano).toBe(small);
      expect(t.frontierNano).toBe(heavyBig + bigBefore);
      expect(t.belowNano).toBe(8n * small);
      expect(t.belowCounterfactualNano).toBe(4n * bigBefore + 4n * bigAfter);
      expect(t.counterfactualNano).toBe(t.frontierNano + t.belowCounterfactualNano);
      expect(t.savingNano).toBe(t.counterfactualNano - t.actualNano);
      // The identity behind the formula, in integers: actual = frontier + below + waste, below = (below at frontier prices) / r.
      expect(t.actualNano).toBe(t.frontierNano + t.belowNano + t.wasteNano);
      const m = r.formula;
      expect(m.f).toBe(0.2);
      expect(m.r).toBe(15); // 4 calls at 10× and 4 at 20×
      expect(m.predictedSaving).toBeCloseTo(1 - (0.2 + 0.8 / 15), 9);
      expect(m.fCost! + (1 - m.fCost!) / m.r! + m.waste!).toBeCloseTo(1 - m.actualSaving!, 9);
      expect(m.actualSaving!).toBeLessThan(m.predictedSaving!);
      const [tiers] = r.aliases.map((a) => a.tiers);
      expect(tiers?.map((x) => [x.tier, x.calls, x.answered, x.escalated])).toEqual([
        ['budget', 9, 8, 1],
        ['frontier', 2, 2, 0],
      ]);
    });

    it('a frontier with no price claims no saving: counted at actual cost, and flagged', async () => {
      const chain = await chainFor(store, 'unpriced/t/p/a');
      await store.ledger.record([routed(chain, 'auto', 'small', OCT + 2 * DAY, UNIT, { frontier: 'lab/mystery' })]);
      const r = await routingReport(store, pricer, { from: OCT, to: NOV, scope: 'unpriced' });
      expect(r.total).toMatchObject({ requests: 1, unpricedCounterfactual: 1, savingNano: 0n });
    });

    it('reads only routed calls of the period and scope; a bad scope or period is refused', async () => {
      const chain = await chainFor(store, 'uniform/t/p/a');
      await store.ledger.record([
        makeEvent(chain, { startedAt: OCT + 3 * DAY }),
        routed(chain, 'auto', 'small', NOV + DAY),
        routed(chain, 'auto', 'small', OCT - 1),
      ]);
      const r = await routingReport(store, pricer, { from: OCT, to: NOV, scope: 'uniform/t' });
      expect(r.total.requests).toBe(100);
      expect((await routingReport(store, pricer, { from: OCT, to: NOV })).total.requests).toBe(100 + 10 + 1);
      await expect(routingReport(store, pricer, { from: OCT, to: NOV, scope: 'nowhere' })).rejects.toThrow('scope "nowhere" does not exist');
      await expect(routingReport(store, pricer, { from: NOV, to: OCT })).rejects.toThrow('the report period is empty');
    });

    it('JSON keeps money exact', async () => {
      const j = routingJson(await routingReport(store, pricer, { from: OCT, to: NOV, scope: 'uniform' }));
      expect(j.total).toMatchObject({ requests: 100, actual_usd: '0.470000000', all_frontier_usd: '2.000000000', saving_usd: '1.530000000', saving_nano: '1530000000' });
      expect(j.total.formula).toMatchObject({ f_requests: 0.15, r: 10, actual_saving: 0.765 });
      expect(j.routed_models[0]?.tiers.map((t) => [t.tier, t.share_of_requests, t.escalation_rate])).toEqual([
        ['budget', 0.85, 0],
        ['frontier', 0.15, 0],
      ]);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-routing-'));
runReportSuite(
  'sqlite',
  () => openSqliteStore(join(dir, 'ledger.db')),
  () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
);

const schema = testSchemaName();
if (await postgresAvailable()) {
  runReportSuite(
    'postgres',
    () => openPostgresStore(PG_URL, { schema }),
    () => dropSchema(schema),
  );
} else {
  describe.skip('routing report: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}

describe('tollgate report routing', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-routing-cli-'));
  const { cli, ok, json, refused, withStore } = cliRunner(() => join(root, 'ledger.db'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answers "what did routing save us" in one screen, with the formula and the measured f and r', async () => {
    const now = Date.now();
    await withStore(async (store) => {
      const chain = await chainFor(store, 'acme/support/helpdesk/triage-bot');
      const u = usage({ inputTokens: 2000, outputTokens: 500 });
      const catalog = createPricer();
      const ev = (i: number, model: string, stamp: Partial<RouteStamp>) => {
        const q = catalog.price('openai', model, u, now - DAY + i * 1000);
        return makeEvent(chain, {
          id: `req_cli_${i}`,
          startedAt: now - DAY + i * 1000,
          provider: 'openai',
          requestedModel: 'auto',
          servedModel: model,
          usage: u,
          listCostNano: q.listNano,
          effectiveCostNano: q.effectiveNano,
          routing: { alias: 'auto', tier: model === 'gpt-4.1' ? 'frontier' : 'budget', reason: 'test', escalatedFrom: null, frontier: model === 'gpt-4.1' ? null : 'openai/gpt-4.1', ...stamp },
        });
      };
      await store.ledger.record(Array.from({ length: 20 }, (_, i) => ev(i, i < 3 ? 'gpt-4.1' : 'gpt-4.1-mini', {})));
    });
    const out = await ok('report', 'routing');
    // gpt-4.1-mini is 5× cheaper than gpt-4.1 at list price; 3 of 20 on the frontier: 15% + 85%/5 = 32% → 68% saved.
    expect(out).toContain('Routing saved ');
    expect(out).toContain('(68.0%)');
    expect(out).toContain('20 requests; 15.0% answered by the frontier; 0.0% escalated');
    expect(out).toContain('by share of requests: f = 15.0% → 15.0% + 85.0%/5.00× = 32.0% → 68.0% saving predicted');
    expect(out).toContain('by share of cost:     f = 15.0% → 15.0% + 85.0%/5.00× + 0.0% waste = 32.0% → 68.0% saved (measured)');
    expect(out).toMatch(/budget\s+gpt-4\.1-mini\s+17\s+17\s+85\.0%\s+0\.0%/);
    expect(out.split('\n').length).toBeLessThan(25);
    const j = await json<{ total: { requests: number; formula: { r: number } } }>('report', 'routing', '--days', '7');
    expect(j.total).toMatchObject({ requests: 20, formula: { r: 5 } });
    expect(await ok('report', 'routing', '--month', '2001-01')).toContain('No routed calls in this period');
    expect(await refused('report', 'routing', '--days', '7', '--month', '2026-10')).toContain('give --days or --month, not both');
    const bad = await cli('report', 'routing', '--days', 'zero');
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('expected a whole number of days') as string]);
  });
});
