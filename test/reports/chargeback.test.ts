/**
 * Chargeback statements, adjustments, team flags and escalation advice on a small seeded ledger
 * whose figures are computed by hand, on SQLite and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargebackStatement, statementCsvRows } from '../../src/analytics/chargeback.ts';
import { escalationAdvice } from '../../src/analytics/escalation.ts';
import { TollgateError } from '../../src/domain/errors.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Usage } from '../../src/domain/usage.ts';
import type { BudgetInput, LedgerEvent, Store } from '../../src/ledger/contract.ts';
import type { KyselyChargeback } from '../../src/ledger/kysely-chargeback.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { makeEvent } from '../support/events.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, AGENT, startHarness } from '../support/gateway.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const USD = 1_000_000_000n;
const SONNET = 'claude-sonnet-4-5-20250929';
const pricer = createPricer();
const at = (month: number, day: number, hour = 0, minute = 0) => Date.UTC(2026, month - 1, day, hour, minute);

interface Backend {
  name: string;
  open: () => Promise<Store>;
  dispose: () => Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-chargeback-'));
const backends: Backend[] = [{ name: 'sqlite', open: () => openSqliteStore(join(dir, 'chargeback.db')), dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) }];
if (await postgresAvailable()) {
  const schema = testSchemaName();
  backends.push({ name: 'postgres', open: () => openPostgresStore(PG_URL, { schema }), dispose: () => dropSchema(schema) });
}

for (const backend of backends) {
  describe(`chargeback: ${backend.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await backend.open();
    });
    afterAll(async () => {
      await store?.close();
      await backend.dispose();
    });

    async function agent(path: string): Promise<ScopeChain> {
      const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
      const [o, t, p, a] = nodes;
      return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
    }
    async function call(chain: ScopeChain, startedAt: number, u: Partial<Usage>, list: bigint, effective: bigint, over: Partial<LedgerEvent> = {}): Promise<void> {
      await store.ledger.record([
        makeEvent(chain, { startedAt, provider: 'anthropic', requestedModel: SONNET, servedModel: SONNET, usage: usage(u), listCostNano: list, effectiveCostNano: effective, ...over }),
      ]);
    }
    async function budget(over: Partial<BudgetInput> & { scopePath: string }): Promise<void> {
      await store.controls.setBudget({ amountNano: USD, period: 'month', action: 'chargeback', thresholds: [80, 100], timeZone: 'UTC', degradeTo: null, ...over }, 'test');
    }
    /** Back-dates a budget, as if it had been set on `createdAt`. */
    async function budgetCreated(scopePath: string, createdAt: number): Promise<void> {
      const b = (await store.controls.listBudgets({ under: scopePath })).find((x) => x.scopePath === scopePath)!;
      await (store.chargeback as KyselyChargeback).db.updateTable('budgets').set({ created_at: createdAt }).where('id', '=', b.id).execute();
    }
    const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

    describe('statement', () => {
      beforeAll(async () => {
        const triage = await agent('acme/support/helpdesk/triage-bot');
        const summariser = await agent('acme/support/helpdesk/summariser');
        const billing = await agent('acme/support/billing/bot');
        await agent('acme/eng/ci/review-bot');
        await budget({ scopePath: 'acme/support' });
        await budget({ scopePath: 'acme/eng', action: 'showback' });

        // Sonnet: $3/M input, $0.30/M cache read, $3.75/M cache write (5 min), $15/M output; 20% off.
        // 3 Oct, triage-bot, two calls: one daily rollup row of 1000 input, 2000 cache read, 300 output.
        await call(triage, at(10, 3, 10), { inputTokens: 1000, outputTokens: 200 }, 6_000_000n, 4_800_000n);
        await call(triage, at(10, 3, 11), { cacheReadTokens: 2000, outputTokens: 100 }, 2_100_000n, 1_680_000n);
        // 10 Oct, summariser: a cost that does not divide evenly (the remainder goes to the largest fraction, ties to input).
        await call(summariser, at(10, 10, 9), { inputTokens: 7, outputTokens: 3 }, 100n, 77n);
        // 12 Oct, billing bot on a model with no price: $0, flagged.
        await call(billing, at(10, 12, 8), { inputTokens: 500, outputTokens: 50 }, 0n, 0n, { provider: 'openai', requestedModel: 'mystery-model', servedModel: 'mystery-model', priceSource: 'unpriced' });
        // 31 Oct 23:30, the month's last half hour: 10 cache write (5 min) and 10 output.
        await call(triage, at(10, 31, 23, 30), { cacheWrite5mTokens: 10, outputTokens: 10 }, 187_500n, 150_000n);
        // Outside October: the last hour of September and the first of November.
        await call(triage, at(9, 30, 23, 59), { inputTokens: 1 }, 9n * USD, 9n * USD);
        await call(triage, at(11, 1, 0), { inputTokens: 1 }, 9n * USD, 9n * USD);

        await store.chargeback.addAdjustment({ teamPath: 'acme/support', period: '2026-10', amountNano: -1_000_000n, kind: 'credit', reason: 'retry storm during the provider outage of 14 Oct' }, 'alice');
        await store.chargeback.addAdjustment({ teamPath: 'acme/support', period: '2026-10', amountNano: 500_000n, kind: 'correction', reason: 'on-prem GPU hours not metered by the gateway' }, 'bob');
        await store.chargeback.addAdjustment({ teamPath: 'acme/support', period: '2026-09', amountNano: -7n * USD, kind: 'credit', reason: 'September only' }, 'alice');
      });

      it('debits per project and agent, with line items that sum exactly to the total and to the ledger', async () => {
        const s = await chargebackStatement(store, pricer, { team: 'acme/support', month: '2026-10' });
        // 6 480 000 (3 Oct) + 77 (10 Oct) + 0 (unpriced) + 150 000 (31 Oct).
        expect(s.debitsNano).toBe(6_630_077n);
        expect(s.listNano).toBe(8_287_600n);
        expect(sum(s.lines.map((l) => l.debitNano))).toBe(s.debitsNano);
        const team = (await store.directory.getScope('acme/support'))!;
        const ledger = await store.ledger.totals({ from: at(10, 1), to: at(11, 1), within: { tier: 'team', id: team.id } });
        expect(ledger.effectiveCostNano).toBe(s.debitsNano);
        expect(ledger.listCostNano).toBe(s.listNano);
        expect([s.calls, s.unpricedCalls, s.from, s.to, s.timeZone]).toEqual([5n, 1n, at(10, 1), at(11, 1), 'UTC']);

        expect(
          s.lines.map((l) => [l.grain, new Date(l.at).toISOString().slice(0, 10), l.agentPath.split('/').slice(2).join('/'), l.model, l.tokenType, l.quantity, l.listNano, l.debitNano]),
        ).toEqual([
          // Weights 1000 × 3, 2000 × 0.3, 300 × 15 (per million): 3000 : 600 : 4500 of 8100.
          ['day', '2026-10-03', 'helpdesk/triage-bot', SONNET, 'input', 1000n, 3_000_000n, 2_400_000n],
          ['day', '2026-10-03', 'helpdesk/triage-bot', SONNET, 'cache_read', 2000n, 600_000n, 480_000n],
          ['day', '2026-10-03', 'helpdesk/triage-bot', SONNET, 'output', 300n, 4_500_000n, 3_600_000n],
          // 77 × 21/66 = 24.5 and 77 × 45/66 = 52.5: the tie goes to input. 100 × 21/66 = 31.8: the largest fraction.
          ['day', '2026-10-10', 'helpdesk/summariser', SONNET, 'input', 7n, 32n, 25n],
          ['day', '2026-10-10', 'helpdesk/summariser', SONNET, 'output', 3n, 68n, 52n],
          ['day', '2026-10-12', 'billing/bot', 'mystery-model', 'input', 500n, 0n, 0n],
          ['day', '2026-10-12', 'billing/bot', 'mystery-model', 'output', 50n, 0n, 0n],
          // 10 × 3.75 : 10 × 15 = 37.5 : 150 of 187.5.
          ['day', '2026-10-31', 'helpdesk/triage-bot', SONNET, 'cache_write_5m', 10n, 37_500n, 30_000n],
          ['day', '2026-10-31', 'helpdesk/triage-bot', SONNET, 'output', 10n, 150_000n, 120_000n],
        ]);
        // Each line names its ledger rows: rollup key (day, agent id, provider, model).
        const triageId = (await store.directory.getScope('acme/support/helpdesk/triage-bot'))!.id;
        expect(s.lines[0]).toMatchObject({ at: at(10, 3), agentId: triageId, provider: 'anthropic', model: SONNET });

        expect(s.projects.map((p) => [p.path, p.debitNano, p.agents.map((a) => [a.path, a.calls, a.debitNano])])).toEqual([
          ['acme/support/helpdesk', 6_630_077n, [['acme/support/helpdesk/triage-bot', 3n, 6_630_000n], ['acme/support/helpdesk/summariser', 1n, 77n]]],
          ['acme/support/billing', 0n, [['acme/support/billing/bot', 1n, 0n]]],
        ]);
        expect(s.projects[0]!.agents[0]!.items.map((i) => [i.tokenType, i.quantity, i.debitNano, i.lines])).toEqual([
          ['input', 1000n, 2_400_000n, 1],
          ['cache_read', 2000n, 480_000n, 1],
          ['cache_write_5m', 10n, 30_000n, 1],
          ['output', 310n, 3_720_000n, 2],
        ]);
      });

      it('adds the adjustments and balances: closing = opening − debits + credits', async () => {
        const s = await chargebackStatement(store, pricer, { team: 'acme/support', month: '2026-10' });
        expect(s.adjustments.map((a) => [a.kind, a.amountNano, a.actor])).toEqual([
          ['credit', -1_000_000n, 'alice'],
          ['correction', 500_000n, 'bob'],
        ]);
        expect(s.openingNano).toBe(USD);
        expect(s.creditsNano).toBe(500_000n);
        // $1 − $0.006630077 + $0.0005
        expect(s.closingNano).toBe(993_869_923n);

        const csv = statementCsvRows(s);
        expect(csv.map((r) => r[0])).toEqual(['opening', ...s.lines.map(() => 'debit'), 'adjustment', 'adjustment', 'closing']);
        const nano = (usd: string | null) => BigInt(usd!.replace('.', ''));
        const amount = (kind: string) => sum(csv.filter((r) => r[0] === kind).map((r) => nano(r[11]!)));
        expect(amount('opening') - amount('debit') - amount('adjustment')).toBe(amount('closing'));
      });

      it('reads a month in the budget\'s time zone: whole UTC days from the daily rollups, the edges from the hourly ones', async () => {
        const bot = await agent('acme/sales/outbound/bot');
        await budget({ scopePath: 'acme/sales', timeZone: 'America/New_York', amountNano: 2n * USD });
        // October in New York (EDT): 1 Oct 04:00Z to 1 Nov 04:00Z.
        await call(bot, at(10, 1, 3), { outputTokens: 1 }, 1000n, 1000n); // still September there
        await call(bot, at(10, 1, 5), { outputTokens: 1 }, 20n, 20n);
        await call(bot, at(10, 15, 12), { outputTokens: 1 }, 300n, 300n);
        await call(bot, at(11, 1, 3), { outputTokens: 1 }, 4000n, 4000n);
        await call(bot, at(11, 1, 5), { outputTokens: 1 }, 50_000n, 50_000n); // November there
        const s = await chargebackStatement(store, pricer, { team: 'acme/sales', month: '2026-10' });
        expect([s.from, s.to]).toEqual([at(10, 1, 4), at(11, 1, 4)]);
        expect(s.lines.map((l) => [l.grain, l.at, l.debitNano])).toEqual([
          ['hour', at(10, 1, 5), 20n],
          ['day', at(10, 15), 300n],
          ['hour', at(11, 1, 3), 4000n],
        ]);
        expect(s.debitsNano).toBe(4320n);
        const team = (await store.directory.getScope('acme/sales'))!;
        expect((await store.ledger.totals({ from: s.from, to: s.to, within: { tier: 'team', id: team.id } })).effectiveCostNano).toBe(4320n);
        expect(s.closingNano).toBe(2n * USD - 4320n);
      });

      it('refuses what is not a chargeback team or not a month, clearly', async () => {
        const fails = async (team: string, month: string) => chargebackStatement(store, pricer, { team, month }).catch((e: unknown) => e as TollgateError);
        expect(await fails('acme/eng', '2026-10')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('acme/eng is not in chargeback mode (its budget is showback per month)') as unknown });
        expect(await fails('acme/nobody', '2026-10')).toMatchObject({ code: 'not_found' });
        expect(await fails('acme/support/helpdesk', '2026-10')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('is a project') as unknown });
        expect(await fails('acme/support', '2026-13')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('YYYY-MM') as unknown });
        await budget({ scopePath: 'acme/eng', period: 'quarter' });
        expect(await fails('acme/eng', '2026-10')).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('statements are monthly') as unknown });
      });

      it('pages rollup rows by key without losing or repeating one', async () => {
        const all = await store.chargeback.rollups({ grain: 'day', from: at(9, 1), to: at(12, 1) });
        expect(all.nextCursor).toBeNull();
        const paged = [];
        let cursor: string | undefined;
        do {
          const page = await store.chargeback.rollups({ grain: 'day', from: at(9, 1), to: at(12, 1), limit: 2, ...(cursor ? { cursor } : {}) });
          paged.push(...page.rows);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(paged).toEqual(all.rows);
        expect(all.rows.length).toBeGreaterThan(4);
        await expect(store.chargeback.rollups({ grain: 'hour', from: 0, to: 1, cursor: 'nope' })).rejects.toMatchObject({ code: 'invalid_request' });
      });
    });

    describe('adjustments and flags', () => {
      beforeAll(async () => {
        await agent('adj/team/p/a');
      });
      const lastAudit = async () => (await store.directory.audit({ limit: 1 }))[0]?.id ?? 0;

      it('records adjustments with their actor and reason, audited', async () => {
        const a = await store.chargeback.addAdjustment({ teamPath: 'adj/team', period: ' 2026-10 ', amountNano: -12_500_000_000n, kind: 'credit', reason: '  duplicate billing of batch job  ' }, 'carol');
        expect(a).toMatchObject({ teamPath: 'adj/team', period: '2026-10', amountNano: -12_500_000_000n, kind: 'credit', reason: 'duplicate billing of batch job', actor: 'carol' });
        expect(a.id).toMatch(/^adj_[0-9a-f]{24}$/);
        expect(await store.chargeback.listAdjustments({ teamPath: 'adj/team', period: '2026-10' })).toEqual([a]);
        const [entry] = await store.directory.audit({ target: 'adj/team', limit: 1 });
        expect(entry).toMatchObject({ action: 'chargeback.adjust', actor: 'carol', before: null, after: { id: a.id, period: '2026-10', kind: 'credit', amountUsd: '-$12.500000000', reason: 'duplicate billing of batch job' } });
      });

      it('refuses a bad adjustment and records nothing', async () => {
        const before = { list: await store.chargeback.listAdjustments({ teamPath: 'adj/team' }), audit: await lastAudit() };
        const input = { teamPath: 'adj/team', period: '2026-10', amountNano: -1n, kind: 'credit' as const, reason: 'why' };
        const cases: [Parameters<Store['chargeback']['addAdjustment']>[0], string, string][] = [
          [{ ...input, reason: '   ' }, 'invalid_request', 'say why'],
          [{ ...input, amountNano: 0n }, 'invalid_request', '$0'],
          [{ ...input, amountNano: 5n }, 'invalid_request', 'negative amount'],
          [{ ...input, kind: 'refund' as 'credit' }, 'invalid_request', 'credit or correction'],
          [{ ...input, period: '2026-1' }, 'invalid_request', 'YYYY-MM'],
          [{ ...input, teamPath: 'adj/team/p' }, 'invalid_request', 'give a team'],
          [{ ...input, teamPath: 'adj/ghost' }, 'not_found', 'does not exist'],
          [{ ...input, amountNano: -(2n ** 63n) }, 'invalid_request', 'at most'],
        ];
        for (const [bad, code, text] of cases) {
          const err = await store.chargeback.addAdjustment(bad, 'mallory').catch((e: unknown) => e);
          expect(err).toBeInstanceOf(TollgateError);
          expect(err).toMatchObject({ code, message: expect.stringContaining(text) as unknown });
        }
        expect({ list: await store.chargeback.listAdjustments({ teamPath: 'adj/team' }), audit: await lastAudit() }).toEqual(before);
      });

      it('sets team flags one at a time, audited; both false until set', async () => {
        expect(await store.chargeback.getTeamFlags('adj/team')).toMatchObject({ billsCustomers: false, complianceHardLimits: false, updatedAt: null });
        const first = await store.chargeback.setTeamFlags('adj/team', { billsCustomers: true }, 'dave');
        expect(first.before).toMatchObject({ billsCustomers: false, complianceHardLimits: false, updatedAt: null });
        expect(first.flags).toMatchObject({ teamPath: 'adj/team', billsCustomers: true, complianceHardLimits: false });
        const second = await store.chargeback.setTeamFlags('adj/team', { complianceHardLimits: true }, 'erin');
        expect(second.flags).toMatchObject({ billsCustomers: true, complianceHardLimits: true });
        expect(await store.chargeback.getTeamFlags('adj/team')).toEqual(second.flags);
        expect((await store.chargeback.listTeamFlags({ under: 'adj' })).map((f) => f.teamPath)).toEqual(['adj/team']);
        const audit = await store.directory.audit({ target: 'adj/team', limit: 2 });
        expect(audit.map((a) => [a.action, a.actor, a.before, a.after])).toEqual([
          ['team.flags', 'erin', { billsCustomers: true, complianceHardLimits: false }, { billsCustomers: true, complianceHardLimits: true }],
          ['team.flags', 'dave', null, { billsCustomers: true, complianceHardLimits: false }],
        ]);
        const before = await lastAudit();
        await expect(store.chargeback.setTeamFlags('adj/team', {}, 'x')).rejects.toMatchObject({ code: 'invalid_request' });
        await expect(store.chargeback.setTeamFlags('adj', { billsCustomers: true }, 'x')).rejects.toMatchObject({ code: 'invalid_request' });
        expect(await lastAudit()).toBe(before);
      });
    });

    describe('escalation advice', () => {
      // Advice on 10 December 2026 looks back on September, October and November.
      const NOW = at(12, 10);
      beforeAll(async () => {
        const over = await agent('esc/over/p/a');
        const once = await agent('esc/once/p/a');
        const fresh = await agent('esc/new/p/a');
        await agent('esc/billing/p/a');
        await agent('esc/regulated/p/a');
        await agent('esc/charged/p/a');
        for (const team of ['esc/over', 'esc/once', 'esc/new', 'esc/regulated']) {
          await budget({ scopePath: team, action: 'showback' });
          await budgetCreated(team, at(1, 1));
        }
        await budgetCreated('esc/new', at(11, 15));
        await budget({ scopePath: 'esc/charged' });
        // Over in September and November (by one nano-USD), under in October; December does not count yet.
        await call(over, at(9, 20), {}, 0n, 2n * USD);
        await call(over, at(10, 20), {}, 0n, USD / 2n);
        await call(over, at(11, 2), {}, 0n, USD / 2n);
        await call(over, at(11, 29, 23), {}, 0n, USD / 2n + 1n);
        await call(over, at(12, 2), {}, 0n, 5n * USD);
        // Exactly on budget in September is not over; over once in October.
        await call(once, at(9, 5), {}, 0n, USD);
        await call(once, at(10, 5), {}, 0n, 3n * USD);
        // Over every month, but shown its budget only from 15 November.
        for (const m of [9, 10, 11]) await call(fresh, at(m, 20), {}, 0n, 5n * USD);
        await store.chargeback.setTeamFlags('esc/billing', { billsCustomers: true }, 'test');
        await store.chargeback.setTeamFlags('esc/regulated', { complianceHardLimits: true }, 'test');
        await store.chargeback.setTeamFlags('esc/charged', { billsCustomers: true, complianceHardLimits: true }, 'test');
      });

      it('recommends chargeback on repeated overspend: over budget in 2 of the last 3 months', async () => {
        const advice = await escalationAdvice(store, { under: 'esc', now: NOW });
        expect(advice.map((a) => a.team.path)).toEqual(['esc/billing', 'esc/charged', 'esc/new', 'esc/once', 'esc/over', 'esc/regulated']);
        const over = advice.find((a) => a.team.path === 'esc/over')!;
        expect(over.triggers.repeatedOverspend.periods.map((p) => [p.label, p.spentNano, p.shown, p.over])).toEqual([
          ['2026-09', 2n * USD, true, true],
          ['2026-10', USD / 2n, true, false],
          ['2026-11', USD + 1n, true, true],
        ]);
        expect(over).toMatchObject({ mode: 'showback', recommend: true, triggers: { repeatedOverspend: { fired: true, overCount: 2 }, billsCustomers: { fired: false }, complianceHardLimits: { fired: false } } });
        expect(over.advice).toBe(
          'Recommend moving esc/over from showback to chargeback: over its $1.00 monthly showback budget in 2 of the last 3 months (2026-09: $2.00, 2026-11: $1.00). ' +
            'Not applied automatically; to apply: tollgate budgets set --scope esc/over --period month --action chargeback --amount 1',
        );
      });

      it('does not recommend on one overspend, on spend equal to budget, or on months before the team was shown its budget', async () => {
        const advice = await escalationAdvice(store, { under: 'esc', now: NOW });
        const once = advice.find((a) => a.team.path === 'esc/once')!;
        expect(once.triggers.repeatedOverspend.periods.map((p) => [p.spentNano, p.over])).toEqual([[USD, false], [3n * USD, true], [0n, false]]);
        expect(once).toMatchObject({ recommend: false, triggers: { repeatedOverspend: { fired: false, overCount: 1 } } });
        expect(once.advice).toContain('Stay on showback: over budget in 1 of the last 3 months (2 needed)');
        const fresh = advice.find((a) => a.team.path === 'esc/new')!;
        expect(fresh.triggers.repeatedOverspend.periods.map((p) => [p.shown, p.over])).toEqual([[false, false], [false, false], [true, true]]);
        expect(fresh.recommend).toBe(false);
        expect(fresh.advice).toContain('(shown in 1 of them)');
      });

      it('recommends chargeback for a team that bills its customers, or that compliance holds to hard limits', async () => {
        const advice = await escalationAdvice(store, { under: 'esc', now: NOW });
        const billing = advice.find((a) => a.team.path === 'esc/billing')!;
        expect(billing).toMatchObject({ mode: 'none', budget: null, recommend: true, triggers: { repeatedOverspend: { fired: false, periods: [] }, billsCustomers: { fired: true } } });
        expect(billing.advice).toContain('Recommend moving esc/billing from no budget to chargeback: it bills its own customers for this spend');
        const regulated = advice.find((a) => a.team.path === 'esc/regulated')!;
        expect(regulated).toMatchObject({ mode: 'showback', recommend: true, triggers: { complianceHardLimits: { fired: true } } });
        expect(regulated.advice).toContain('compliance requires hard limits on its spend');
      });

      it('never recommends (or applies) anything for a team already in chargeback', async () => {
        const before = await store.controls.listBudgets({ under: 'esc' });
        const advice = await escalationAdvice(store, { under: 'esc', now: NOW });
        const charged = advice.find((a) => a.team.path === 'esc/charged')!;
        expect(charged).toMatchObject({ mode: 'chargeback', recommend: false, triggers: { billsCustomers: { fired: true }, complianceHardLimits: { fired: true } } });
        expect(charged.advice).toBe('esc/charged is already in chargeback: its spend is debited and held to its budget.');
        // Advice changes nothing.
        expect(await store.controls.listBudgets({ under: 'esc' })).toEqual(before);
      });
    });
  });
}

describe('chargeback admin API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.store.controls.setBudget({ scopePath: 'acme/support', amountNano: 10n * USD, period: 'month', action: 'chargeback', thresholds: [100], timeZone: 'UTC', degradeTo: null }, 'test');
    const [o, t, p, a] = (await h.store.directory.ensureScope(AGENT, { create: false, actor: 'test' })).nodes;
    const chain = { orgId: o!.id, orgName: 'acme', teamId: t!.id, teamName: 'support', projectId: p!.id, projectName: 'helpdesk', agentId: a!.id, agentName: 'triage-bot' };
    await h.store.ledger.record([makeEvent(chain, { startedAt: at(10, 5, 12), requestedModel: SONNET, servedModel: SONNET, usage: usage({ inputTokens: 1_000_000 }), listCostNano: 3n * USD, effectiveCostNano: 3n * USD })]);
  });
  afterAll(async () => {
    await h?.close();
  });
  const api = async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`${h.url}${path}`, {
      method,
      headers: { ...(auth ? { authorization: `Bearer ${ADMIN_KEY}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'x-tollgate-actor': 'alice' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('records adjustments and flags with the caller as actor, and serves the statement and the advice', async () => {
    const adj = await api('POST', '/api/chargeback/adjustments', { team: 'acme/support', month: '2026-10', amount_usd: '-0.5', kind: 'credit', reason: 'bad deploy' });
    expect(adj).toMatchObject({ status: 200, body: { adjustment: { team: 'acme/support', month: '2026-10', kind: 'credit', amount_usd: '-0.500000000', amount_nano: '-500000000', reason: 'bad deploy', actor: 'api:alice' } } });
    const flags = await api('PUT', '/api/teams/flags', { team: 'acme/support', bills_customers: true });
    expect(flags).toMatchObject({ status: 200, body: { flags: { team: 'acme/support', bills_customers: true, compliance_hard_limits: false }, before: { bills_customers: false } } });
    expect((await h.store.directory.audit({ target: 'acme/support', limit: 2 })).map((e) => [e.action, e.actor])).toEqual([
      ['team.flags', 'api:alice'],
      ['chargeback.adjust', 'api:alice'],
    ]);

    const s = await api('GET', '/api/reports/chargeback?team=acme/support&month=2026-10');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ team: 'acme/support', opening_balance_usd: '10.000000000', debits_usd: '3.000000000', credits_usd: '0.500000000', closing_balance_usd: '7.500000000' });
    expect((s.body['lines'] as unknown[]).length).toBe(1);
    expect((await api('GET', '/api/reports/chargeback?team=acme/support&month=2026-10&lines=false')).body['lines']).toBeUndefined();
    expect((await api('GET', '/api/chargeback/adjustments?team=acme/support')).body['data']).toHaveLength(1);
    expect((await api('GET', '/api/teams/flags')).body['data']).toEqual([expect.objectContaining({ team: 'acme/support', bills_customers: true })]);
    const advice = await api('GET', '/api/reports/escalation?scope=acme');
    expect(advice.body['data']).toEqual([expect.objectContaining({ team: 'acme/support', mode: 'chargeback', recommend_chargeback: false })]);
  });

  it('answers bad input with the admin error shape and records nothing', async () => {
    const before = (await h.store.directory.audit({ limit: 1 }))[0]?.id;
    expect(await api('POST', '/api/chargeback/adjustments', { team: 'acme/support', month: '2026-10', amount_usd: '0.5', kind: 'credit', reason: 'x' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: expect.stringContaining('negative amount') as unknown } },
    });
    expect((await api('POST', '/api/chargeback/adjustments', { team: 'acme/support', month: '2026-10', amount_usd: 'abc', kind: 'credit', reason: 'x' })).status).toBe(400);
    expect((await api('POST', '/api/chargeback/adjustments', { team: 'acme/support', month: '2026-10', amount_usd: '-1', kind: 'refund', reason: 'x' })).status).toBe(400);
    expect((await api('POST', '/api/chargeback/adjustments', { team: 'acme/support', month: '2026-10', amount_usd: '-1', kind: 'credit' })).status).toBe(400);
    expect((await api('PUT', '/api/teams/flags', { team: 'acme/support', bills_customers: 'yes' })).status).toBe(400);
    expect((await api('PUT', '/api/teams/flags', { team: 'acme/nope', bills_customers: true })).status).toBe(404);
    expect((await api('GET', '/api/reports/chargeback?team=acme/support')).status).toBe(400);
    expect((await api('GET', '/api/reports/chargeback?team=acme/support&month=2026-10', undefined, false)).status).toBe(401);
    expect((await h.store.directory.audit({ limit: 1 }))[0]?.id).toBe(before);
  });
});
