/**
 * Unit economics, drift and the board summary on a small seeded ledger whose every figure is
 * computed by hand below, on SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boardSummary } from '../../src/analytics/board.ts';
import { boardJson, boardMarkdown } from '../../src/analytics/board-report.ts';
import { checkDrift } from '../../src/analytics/drift.ts';
import type { UnitEconomicsReport } from '../../src/analytics/unit-economics.ts';
import { percentile, unitEconomics } from '../../src/analytics/unit-economics.ts';
import { unitEconomicsJson } from '../../src/analytics/unit-json.ts';
import { ratioDecimal, ratioPercent } from '../../src/analytics/unit-ratio.ts';
import { TollgateError } from '../../src/domain/errors.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { LedgerEvent, Store } from '../../src/ledger/contract.ts';
import type { OutcomeInput } from '../../src/ledger/outcomes-contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { makeEvent } from '../support/events.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const USD = 1_000_000_000n;
const CENT = 10_000_000n;
const DAY = 86_400_000;
const OCT = { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) };
const OCT_12 = Date.UTC(2026, 9, 12, 12); // a Monday
const SEP_10 = Date.UTC(2026, 8, 10, 12);
/** Drift weeks: Monday 2026-09-07 (reference) and Monday 2026-09-14. */
const W1 = Date.UTC(2026, 8, 7);
const W2 = Date.UTC(2026, 8, 14);

async function chainOf(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

function calls(chain: ScopeChain, n: number, over: Partial<LedgerEvent> & { tokens?: number; costNano: bigint }): LedgerEvent[] {
  const tokens = over.tokens ?? 1000;
  return Array.from({ length: n }, (_, i) =>
    makeEvent(chain, { startedAt: (over.startedAt ?? OCT_12) + i, servedModel: over.servedModel ?? 'm-cheap', usage: usage({ inputTokens: tokens - tokens / 10, outputTokens: tokens / 10 }), effectiveCostNano: over.costNano, listCostNano: over.costNano, traceId: over.traceId ?? null }),
  );
}

let keys = 0;
function outcome(chain: ScopeChain, count: number, over: Partial<OutcomeInput> = {}): OutcomeInput {
  return { type: 'resolved_ticket', count, occurredAt: OCT_12, traceId: null, valueNano: null, idempotencyKey: `o-${keys++}`, chain, keyId: null, ...over };
}

function runUnitEconomicsSuite(name: string, open: () => Promise<Store>, dispose: () => Promise<void>): void {
  describe(`unit economics: ${name}`, () => {
    let store: Store;
    let triage: ScopeChain;
    let summariser: ScopeChain;

    beforeAll(async () => {
      store = await open();
      triage = await chainOf(store, 'acme/support/helpdesk/triage-bot');
      summariser = await chainOf(store, 'acme/support/helpdesk/summariser');
      const fixer = await chainOf(store, 'acme/eng/ci/fixer');
      const analyst = await chainOf(store, 'acme/research/deep/analyst');
      await store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'resolved_ticket', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6n * USD, targetNano: 150n * CENT }, 'test');
      await store.outcomes.setType({ projectPath: 'acme/eng/ci', type: 'fixed_test', displayName: 'Fixed test', unit: 'test', baselineNano: 30n * USD, targetNano: 8n * USD }, 'test');

      // October. Helpdesk: triage 10 calls × $0.40, summariser 5 × $0.40 = $6.00, in five traces:
      //   t1: 1 triage call ($0.40), 1 ticket → $0.40     t2: same → $0.40
      //   t3: 2 triage ($0.80), 1 ticket → $0.80          t4: 2 triage + 1 summariser ($1.20), 2 tickets → $0.60
      //   t5: 4 triage + 4 summariser ($3.20), 1 ticket → $3.20 (the runaway)
      const t = (chain: ScopeChain, n: number, traceId: string) => calls(chain, n, { costNano: 40n * CENT, traceId });
      await store.ledger.record([
        ...t(triage, 1, 't1'), ...t(triage, 1, 't2'), ...t(triage, 2, 't3'), ...t(triage, 2, 't4'), ...t(summariser, 1, 't4'), ...t(triage, 4, 't5'), ...t(summariser, 4, 't5'),
        // CI: 3 × $11 = $33; research (no outcome type): $7.
        ...calls(fixer, 3, { costNano: 11n * USD }),
        ...calls(analyst, 1, { costNano: 7n * USD }),
        // September (the previous quarter): helpdesk $10, CI $3, research $7.
        ...calls(triage, 1, { costNano: 10n * USD, startedAt: SEP_10 }),
        ...calls(fixer, 1, { costNano: 3n * USD, startedAt: SEP_10 }),
        ...calls(analyst, 1, { costNano: 7n * USD, startedAt: SEP_10 }),
      ]);
      // 8 tickets: triage 1+1+1+1 traced and 1 whose trace matched no call; summariser 2 traced (t4) and 1 untraced.
      await store.outcomes.record([
        outcome(triage, 1, { traceId: 't1' }), outcome(triage, 1, { traceId: 't2' }), outcome(triage, 1, { traceId: 't3' }), outcome(triage, 1, { traceId: 't5' }),
        outcome(triage, 1, { traceId: 'no-such-trace' }),
        outcome(summariser, 2, { traceId: 't4' }), outcome(summariser, 1),
        outcome(fixer, 2, { type: 'fixed_test' }),
        // September: 4 tickets.
        outcome(triage, 4, { occurredAt: SEP_10 }),
      ]);
    });
    afterAll(async () => {
      await store?.close();
      await dispose();
    });

    const october = (scope: string, over: object = {}) => unitEconomics(store, { scope, ...OCT, label: '2026-10', ...over });

    it('$/outcome, baseline, savings and ROI per workload, by hand', async () => {
      const r = await october('acme');
      expect(r.costNano).toBe(46n * USD);
      const [ci, helpdesk] = r.workloads;
      // Helpdesk: $6.00 for 8 tickets = $0.75; humans: 8 × $6 = $48; savings $42; ROI 42 / 6 = 7.
      expect(helpdesk).toMatchObject({
        projectPath: 'acme/support/helpdesk',
        costNano: 6n * USD,
        outcomes: 8n,
        costPerOutcomeNano: 75n * CENT,
        baselineValueNano: 48n * USD,
        savingsNano: 42n * USD,
        targetStatus: 'ok',
      });
      expect(ratioDecimal(helpdesk!.roi!, 4)).toBe('7.0000');
      expect(ratioPercent(helpdesk!.roi!)).toBe('+700%');
      // CI: $33 for 2 tests = $16.50, over its $8 target; humans $60; savings $27; ROI 27 / 33 = 0.8182.
      expect(ci).toMatchObject({ projectPath: 'acme/eng/ci', costNano: 33n * USD, outcomes: 2n, costPerOutcomeNano: 1650n * CENT, savingsNano: 27n * USD, targetStatus: 'over' });
      expect(ratioDecimal(ci!.roi!, 4)).toBe('0.8182');
      // Totals: measured $39 (research's $7 is outside), humans $108, savings $69, ROI 69 / 39 = 1.7692.
      expect(r.totals).toMatchObject({ measuredCostNano: 39n * USD, roiCostNano: 39n * USD, baselineValueNano: 108n * USD, savingsNano: 69n * USD });
      expect(ratioDecimal(r.totals.roi!, 4)).toBe('1.7692');
      expect(r.unmeasured).toEqual([{ projectPath: 'acme/research/deep', costNano: 7n * USD }]);
    });

    it('rounds $/outcome once, half away from zero, and narrows to the scope', async () => {
      // The summariser: $2.00 for its 3 tickets = 0.666666666.7 → $0.666666667; savings 18 − 2 = 16, ROI 8.
      const r = await october('acme/support/helpdesk/summariser');
      expect(r.workloads).toHaveLength(1);
      expect(r.workloads[0]).toMatchObject({ costNano: 2n * USD, outcomes: 3n, costPerOutcomeNano: 666_666_667n, savingsNano: 16n * USD });
      expect(ratioDecimal(r.workloads[0]!.roi!, 4)).toBe('8.0000');
      // A team: only its workloads, nothing unmeasured.
      const team = await october('acme/support');
      expect(team.workloads.map((w) => w.type)).toEqual(['resolved_ticket']);
      expect(team.unmeasured).toEqual([]);
      // No outcome type: cost but no workloads.
      const research = await october('acme/research');
      expect(research).toMatchObject({ costNano: 7n * USD, workloads: [], totals: { roi: null } });
    });

    it('per trace: nearest-rank p50/p90/p99 of cost per outcome, the worst trace, unmatched traces apart', async () => {
      const [, helpdesk] = (await october('acme')).workloads;
      // Samples: 0.40, 0.40, 0.60, 0.80, 3.20 → p50 is the 3rd, p90 and p99 the 5th.
      expect(helpdesk!.perTrace).toEqual({
        traces: 5,
        unmatchedTraces: 1,
        p50Nano: 60n * CENT,
        p90Nano: 320n * CENT,
        p99Nano: 320n * CENT,
        worst: { traceId: 't5', costNano: 320n * CENT, outcomes: 1n, calls: 8n, costPerOutcomeNano: 320n * CENT },
      });
      expect(percentile([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n], 50)).toBe(5n);
      expect(percentile([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n], 90)).toBe(9n);
      expect(percentile([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n], 99)).toBe(10n);
      expect(percentile(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)), 99)).toBe(99n);
      expect(percentile([], 50)).toBeNull();
    });

    it('weekly trend: whole ISO weeks overlapping the period, none after now', async () => {
      const r = await october('acme/support/helpdesk');
      const weeks = r.workloads[0]!.weeks;
      expect(weeks.map((w) => new Date(w.weekStart).toISOString().slice(0, 10))).toEqual(['2026-09-28', '2026-10-05', '2026-10-12', '2026-10-19', '2026-10-26']);
      expect(weeks[2]).toMatchObject({ costNano: 6n * USD, outcomes: 8n, calls: 15n, tokens: 15_000n, costPerOutcomeNano: 75n * CENT });
      const cut = await october('acme/support/helpdesk', { now: Date.UTC(2026, 9, 14) });
      expect(cut.workloads[0]!.weeks.map((w) => new Date(w.weekStart).toISOString().slice(0, 10))).toEqual(['2026-09-28', '2026-10-05', '2026-10-12']);
    });

    it('refuses an unknown scope, an empty period and a bad drift setting', async () => {
      await expect(october('acme/nope')).rejects.toMatchObject({ code: 'not_found' });
      await expect(unitEconomics(store, { scope: 'acme', from: OCT.to, to: OCT.from })).rejects.toBeInstanceOf(TollgateError);
      await expect(october('acme', { driftWeeks: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('JSON: money as exact decimal strings and nano-USD, ratios with 4 places', async () => {
      const j = unitEconomicsJson(await october('acme')) as { workloads: Record<string, unknown>[]; totals: Record<string, unknown>; cost_usd: string };
      expect(j.cost_usd).toBe('46.000000000');
      expect(j.workloads[1]).toMatchObject({ project: 'acme/support/helpdesk', cost_usd: '6.000000000', cost_nano: '6000000000', outcomes: '8', cost_per_outcome_usd: '0.750000000', roi: '7.0000', target_status: 'ok' });
      expect((j.workloads[1]!['per_trace'] as Record<string, unknown>)['p50_usd']).toBe('0.600000000');
      expect(j.totals).toMatchObject({ savings_usd: '69.000000000', roi: '1.7692' });
      expect(() => JSON.stringify(j)).not.toThrow();
    });

    describe('drift', () => {
      // Each project of org beta: week 1 is 10 calls of m-cheap, 1,000 tokens and $0.01 each, 5 outcomes ($0.02 each).
      // Week 2 doubles $/outcome ($0.04) by one cause at a time; "steady" and "edge" rise 10% and exactly 20%.
      const reports = new Map<string, UnitEconomicsReport>();
      beforeAll(async () => {
        const week2: Record<string, (c: ScopeChain) => LedgerEvent[]> = {
          tokens: (c) => calls(c, 10, { tokens: 2000, costNano: 2n * CENT, startedAt: W2 + DAY }),
          calls: (c) => calls(c, 20, { costNano: CENT, startedAt: W2 + DAY }),
          mix: (c) => [...calls(c, 5, { costNano: CENT, startedAt: W2 + DAY }), ...calls(c, 5, { costNano: 3n * CENT, servedModel: 'm-dear', startedAt: W2 + DAY + 10 })],
          price: (c) => calls(c, 10, { costNano: 2n * CENT, startedAt: W2 + DAY }),
          steady: (c) => calls(c, 11, { costNano: CENT, startedAt: W2 + DAY }),
          edge: (c) => calls(c, 12, { costNano: CENT, startedAt: W2 + DAY }),
        };
        for (const [project, second] of Object.entries(week2)) {
          const c = await chainOf(store, `beta/ops/${project}/bot`);
          await store.outcomes.setType({ projectPath: `beta/ops/${project}`, type: 'done', displayName: 'Done', unit: 'task', baselineNano: USD, targetNano: null }, 'test');
          await store.ledger.record([...calls(c, 10, { costNano: CENT, startedAt: W1 + DAY }), ...second(c)]);
          await store.outcomes.record([outcome(c, 5, { type: 'done', occurredAt: W1 + DAY }), outcome(c, 5, { type: 'done', occurredAt: W2 + DAY })]);
          reports.set(project, await unitEconomics(store, { scope: `beta/ops/${project}`, from: W2, to: W2 + 7 * DAY, driftWeeks: 1, driftBandCentiPct: 2000 }));
        }
      });

      const drift = (project: string) => {
        const w = reports.get(project)!.workloads[0]!;
        expect(w.weeks).toHaveLength(1);
        expect(w.weeks[0]!.costPerOutcomeNano).not.toBeNull();
        return w.drift!;
      };
      const factors = (project: string) => Object.fromEntries(Object.entries(drift(project).factors).map(([k, v]) => [k, ratioDecimal(v, 2)]));

      it('more tokens per call', () => {
        const d = drift('tokens');
        expect(d).toMatchObject({ flagged: true, cause: 'tokens_per_call', week: W2, referenceWeek: W1 });
        expect(ratioPercent(d.change)).toBe('+100%');
        expect(factors('tokens')).toEqual({ calls_per_outcome: '1.00', tokens_per_call: '2.00', model_mix: '1.00', price_change: '1.00' });
        expect(d.evidence).toBe('tokens per call 1,000 → 2,000, +100%');
      });

      it('more calls per outcome', () => {
        const d = drift('calls');
        expect(d).toMatchObject({ flagged: true, cause: 'calls_per_outcome' });
        expect(factors('calls')).toEqual({ calls_per_outcome: '2.00', tokens_per_call: '1.00', model_mix: '1.00', price_change: '1.00' });
        expect(d.evidence).toBe('calls per outcome 2.0 → 4.0, +100%');
      });

      it('a model-mix shift toward a pricier model', () => {
        const d = drift('mix');
        expect(d).toMatchObject({ flagged: true, cause: 'model_mix' });
        // Half the tokens now go to m-dear at $30/MTok: at week 1's prices the mix costs 2× per token.
        expect(factors('mix')).toEqual({ calls_per_outcome: '1.00', tokens_per_call: '1.00', model_mix: '2.00', price_change: '1.00' });
        expect(d.evidence).toBe('m-dear went from 0% to 50% of tokens at $30.00 per 1M tokens against an average of $10.00; cost per token from the mix +100%');
      });

      it('a price change', () => {
        const d = drift('price');
        expect(d).toMatchObject({ flagged: true, cause: 'price_change' });
        expect(factors('price')).toEqual({ calls_per_outcome: '1.00', tokens_per_call: '1.00', model_mix: '1.00', price_change: '2.00' });
        expect(d.evidence).toBe('the same models cost +100% per token: m-cheap $10.00 → $20.00 per 1M tokens; a new price, or fewer cached tokens');
      });

      it('a rise within the band is not flagged (the band is exclusive)', () => {
        expect(drift('steady')).toMatchObject({ flagged: false, cause: 'calls_per_outcome' });
        expect(ratioPercent(drift('steady').change)).toBe('+10%');
        expect(drift('edge')).toMatchObject({ flagged: false });
        expect(ratioPercent(drift('edge').change)).toBe('+20%');
      });

      it('repricing a mix whose models were both used before (pure check)', () => {
        const week = (weekStart: number, models: [string, bigint, bigint][], outcomes: bigint) => ({
          weekStart,
          costNano: models.reduce((s, m) => s + m[2], 0n),
          calls: models.reduce((s, m) => s + m[1] / 1000n, 0n),
          tokens: models.reduce((s, m) => s + m[1], 0n),
          outcomes,
          models: models.map(([model, tokens, costNano]) => ({ model, calls: tokens / 1000n, tokens, costNano })),
        });
        // Week 1: 9,000 cheap tokens ($0.09) + 1,000 dear ($0.03) = $0.12. Week 2: 5,000 + 5,000 = $0.05 + $0.15 = $0.20.
        const d = checkDrift(week(W1, [['cheap', 9000n, 9n * CENT], ['dear', 1000n, 3n * CENT]], 5n), week(W2, [['cheap', 5000n, 5n * CENT], ['dear', 5000n, 15n * CENT]], 5n), { bandCentiPct: 2000 })!;
        expect(d.cause).toBe('model_mix');
        expect(ratioDecimal(d.factors.model_mix, 4)).toBe('1.6667');
        expect(ratioDecimal(d.factors.price_change, 4)).toBe('1.0000');
        // Nothing to compare without outcomes in either week.
        expect(checkDrift(week(W1, [['cheap', 1000n, CENT]], 0n), week(W2, [['cheap', 1000n, CENT]], 1n), { bandCentiPct: 2000 })).toBeNull();
      });
    });

    describe('board summary', () => {
      const NOW = Date.UTC(2026, 10, 1); // 2026-11-01: Q4 to date
      beforeAll(async () => {
        await store.controls.setBudget({ scopePath: 'acme', amountNano: 400n * USD, period: 'year', action: 'plan', thresholds: [50, 100], timeZone: 'UTC', degradeTo: null }, 'test');
      });

      it('asks which organisation when there are several', async () => {
        await expect(boardSummary(store, { quarter: '2026-Q4', now: NOW })).rejects.toThrow(/2 organisations \(acme, beta\): say which with --org/);
        await expect(boardSummary(store, { quarter: '2026-Q4', org: 'acme/support', now: NOW })).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(boardSummary(store, { quarter: '2026-Q5', org: 'acme', now: NOW })).rejects.toMatchObject({ code: 'invalid_request' });
      });

      it('spend against plan, by team, $/outcome against baseline, ROI and movers, by hand', async () => {
        const b = await boardSummary(store, { quarter: '2026-Q4', org: 'acme', now: NOW });
        // Q4 to date: $46 (support 6, eng 33, research 7); Q3: $20 (10, 3, 7).
        expect(b.spendNano).toBe(46n * USD);
        expect(b.previousNano).toBe(20n * USD);
        expect(ratioPercent(b.change!)).toBe('+130%');
        expect(b.teams.map((t) => [t.path, t.spendNano, t.previousNano, ratioPercent(t.share!, 0, false), t.change && ratioPercent(t.change)])).toEqual([
          ['acme/eng', 33n * USD, 3n * USD, '72%', '+1,000%'],
          ['acme/research', 7n * USD, 7n * USD, '15%', '0%'],
          ['acme/support', 6n * USD, 10n * USD, '13%', '-40%'],
        ]);
        // Plan: $400 a year; spent in 2026 through Q4: $66 (17%). Run rate: the 28 days to Nov 1 hold October's $46,
        // so the year ends at 66 + 46 × 61 / 28 = $166.214285714 (integer division).
        expect(b.plan).toMatchObject({ amountNano: 400n * USD, spentNano: 66n * USD, quarterShareNano: 100n * USD, forecastNano: 166_214_285_714n });
        expect(ratioPercent(b.plan!.used, 0, false)).toBe('17%');
        // Movers: CI +$30, helpdesk −$4; research did not move.
        expect(b.movers.map((m) => [m.path, m.spendNano - m.previousNano])).toEqual([
          ['acme/eng/ci', 30n * USD],
          ['acme/support/helpdesk', -4n * USD],
        ]);
        expect(b.unit.workloads.map((w) => [w.type, w.costPerOutcomeNano])).toEqual([
          ['fixed_test', 1650n * CENT],
          ['resolved_ticket', 75n * CENT],
        ]);
        // Q3 helpdesk: $10 for 4 tickets = $2.50; CI had no outcomes.
        expect([...b.previousCostPerOutcome.values()]).toEqual([null, 250n * CENT]);

        const md = boardMarkdown(b);
        expect(md).toContain('# acme: AI spend, 2026-Q4');
        expect(md).toContain('Quarter to date, 2026-10-01 to 2026-11-01 (UTC)');
        expect(md).toContain('- **Spend this quarter: $46.00** (2026-Q3: $20.00, +130%)');
        expect(md).toContain('- **Annual plan 2026: $400.00**; spent $66.00 from 1 January to date (17% of plan).');
        expect(md).toContain("the year ends at **$166.21** (42% of plan)");
        expect(md).toContain('| acme/eng | $33.00 | 72% | $3.00 | +1,000% |');
        expect(md).toContain('| **Total** | **$46.00** | 100% | $20.00 | +130% |');
        expect(md).toContain('| Resolved ticket (acme/support/helpdesk) | 8 tickets | $6.00 | $0.7500 | $2.5000 | $6.00 | $42.00 | +700% |');
        expect(md).toContain('| Fixed test (acme/eng/ci) | 2 tests | $33.00 | $16.5000 | — | $30.00 | $27.00 | +82% |');
        expect(md).toContain('**Measured workloads: $39.00 spent for $108.00 of human work at baseline cost: savings $69.00, ROI +177%.** Spend with no outcome measure: $7.00 (acme/research/deep).');
        expect(md).toContain('1. **acme/eng/ci**: $33.00, up $30.00 from $3.00 (+1,000%)');
        expect(md).toContain('2. **acme/support/helpdesk**: $6.00, down $4.00 from $10.00 (-40%)');
        // One page.
        expect(md.split('\n').length).toBeLessThan(60);

        const j = boardJson(b) as Record<string, unknown>;
        expect(j).toMatchObject({ org: 'acme', spend_usd: '46.000000000', previous_spend_usd: '20.000000000', change: '1.3000', plan: { amount_usd: '400.000000000', used: '0.1650' } });
        expect(() => JSON.stringify(j)).not.toThrow();
      });

      it('says when no plan is set', async () => {
        const b = await boardSummary(store, { quarter: '2026-Q3', org: 'beta', now: NOW });
        expect(b.plan).toBeNull();
        expect(b.asOf).toBeNull();
        expect(boardMarkdown(b)).toContain('No annual plan is set (`tollgate budgets set --scope beta --amount 250000 --period year --action plan`)');
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-unit-'));
runUnitEconomicsSuite('sqlite', () => openSqliteStore(join(dir, 'unit.db')), () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));

const schema = testSchemaName();
if (await postgresAvailable()) {
  runUnitEconomicsSuite('postgres', () => openPostgresStore(PG_URL, { schema }), () => dropSchema(schema));
} else {
  describe.skip('unit economics: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}
