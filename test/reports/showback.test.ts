/**
 * Showback on a small seeded ledger, on SQLite and on PostgreSQL, against figures computed by hand:
 * team totals, change vs last month, shares, ranks (ties share one), month budgets and their use,
 * top projects/agents/models, $/outcome, the project view within a team, UTC month edges, and the
 * admin route. Both backends must produce the very same report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShowbackReport } from '../../src/analytics/showback.ts';
import { parseMonthLabel, showback, showbackCsv, showbackJson } from '../../src/analytics/showback.ts';
import { toCsv } from '../../src/cli/output.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { buildGateway } from '../../src/gateway/server.ts';
import type { BudgetAction, Store } from '../../src/ledger/contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import pg from 'pg';
import { chainOf, makeEvent } from '../support/events.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const USD = 1_000_000_000n;
const cents = (c: number) => (BigInt(c) * USD) / 100n;
const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
const MID_OCT = Date.UTC(2026, 9, 15, 12);
const MID_SEP = Date.UTC(2026, 8, 10, 9);

const SONNET = 'claude-sonnet-4-5';
const HAIKU = 'claude-haiku-4-5';
const OPUS = 'claude-opus-4-5';
const MINI = 'gpt-4.1-mini';
const GPT41 = 'gpt-4.1';

async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

/**
 * October 2026 (effective cost; list is always 1.25×):
 *   support  $6.00  helpdesk/triage-bot sonnet 2.00 + sonnet 1.00 (at Oct 1 00:00:00.000) + haiku 0.50; helpdesk/summariser mini 1.50; billing/refund-bot gpt-4.1 1.00
 *   eng      $4.00  ci/test-fixer opus 2.50; review/review-bot sonnet 1.50
 *   sales    $4.00  leads/qualifier mini 4.00 (at Oct 31 23:59:59.999)
 *   legal    $0     (a team with no calls)
 *   total   $14.00
 * September: support $4.00 (triage-bot, at Sep 30 23:59:59.999), eng $5.00 (review-bot), total $9.00.
 * Not counted: sales $100 on Nov 1 00:00, globex (another org) $50 in October.
 */
async function seed(store: Store): Promise<void> {
  const triage = await chainFor(store, 'acme/support/helpdesk/triage-bot');
  const summariser = await chainFor(store, 'acme/support/helpdesk/summariser');
  const refund = await chainFor(store, 'acme/support/billing/refund-bot');
  const fixer = await chainFor(store, 'acme/eng/ci/test-fixer');
  const reviewer = await chainFor(store, 'acme/eng/review/review-bot');
  const qualifier = await chainFor(store, 'acme/sales/leads/qualifier');
  const globex = await chainFor(store, 'globex/ops/infra/bot');
  await store.directory.ensureScope('acme/legal', { create: true, actor: 'test' });
  const ev = (chain: ScopeChain, model: string, c: number, startedAt: number) =>
    makeEvent(chain, { startedAt, servedModel: model, requestedModel: model, provider: model.startsWith('gpt') ? 'openai' : 'anthropic', effectiveCostNano: cents(c), listCostNano: (cents(c) * 5n) / 4n });
  await store.ledger.record([
    ev(triage, SONNET, 200, MID_OCT),
    ev(triage, SONNET, 100, OCT),
    ev(triage, HAIKU, 50, MID_OCT + 3_600_000),
    ev(summariser, MINI, 150, MID_OCT),
    ev(refund, GPT41, 100, MID_OCT),
    ev(fixer, OPUS, 250, MID_OCT),
    ev(reviewer, SONNET, 150, MID_OCT),
    ev(qualifier, MINI, 400, NOV - 1),
    ev(qualifier, MINI, 10_000, NOV),
    ev(globex, MINI, 5_000, MID_OCT),
    ev(triage, SONNET, 400, OCT - 1),
    ev(reviewer, SONNET, 500, MID_SEP),
  ]);

  const budget = (scopePath: string, usd: number, period: string, action: BudgetAction) =>
    store.controls.setBudget({ scopePath, amountNano: BigInt(usd) * USD, period, action, thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null }, 'test');
  await budget('acme/support', 10, 'month', 'showback');
  await budget('acme/eng', 3, 'month', 'chargeback');
  await budget('acme/sales', 1, 'day', 'hard');
  await budget('acme', 1000, 'year', 'plan');
  await budget('acme/support/helpdesk', 4, 'month', 'soft');

  // Outcomes: support 4 tickets (helpdesk) + 2 refunds (billing) in October; eng 3 merged PRs; the rest fall outside October.
  const type = (projectPath: string, t: string, unit: string) =>
    store.outcomes.setType({ projectPath, type: t, displayName: t, unit, baselineNano: 6n * USD, targetNano: null }, 'test');
  await type('acme/support/helpdesk', 'resolved_ticket', 'ticket');
  await type('acme/support/billing', 'refund', 'refund');
  await type('acme/eng/ci', 'merged_pr', 'PR');
  await type('globex/ops/infra', 'resolved_ticket', 'ticket');
  let n = 0;
  const outcome = (chain: ScopeChain, t: string, count: number, occurredAt: number) => ({ chain, keyId: null, type: t, count, occurredAt, traceId: null, valueNano: null, idempotencyKey: `k${++n}` });
  await store.outcomes.record([
    outcome(triage, 'resolved_ticket', 3, MID_OCT),
    outcome(summariser, 'resolved_ticket', 1, OCT),
    outcome(refund, 'refund', 2, MID_OCT),
    outcome(triage, 'resolved_ticket', 10, OCT - 1),
    outcome(triage, 'resolved_ticket', 7, NOV),
    outcome(fixer, 'merged_pr', 3, MID_OCT),
    outcome(globex, 'resolved_ticket', 9, MID_OCT),
  ]);
}

const results = new Map<string, { org: unknown; team: unknown; csv: string }>();

interface Backend {
  name: string;
  open: () => Promise<Store>;
  dispose: () => Promise<void>;
  /** Runs one statement on a connection of its own (to hide the events table). */
  exec: (statement: string) => Promise<void>;
}

const backends: Backend[] = [];
const dir = mkdtempSync(join(tmpdir(), 'tollgate-showback-'));
const file = join(dir, 'showback.db');
backends.push({
  name: 'sqlite',
  open: () => openSqliteStore(file),
  dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  exec: (statement) => {
    const db = new BetterSqlite3(file);
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
    return Promise.resolve();
  },
});
const schema = testSchemaName();
const hasPg = await postgresAvailable();
const PgClient = pg.Client;
if (hasPg) {
  backends.push({
    name: 'postgres',
    open: () => openPostgresStore(PG_URL, { schema }),
    dispose: () => dropSchema(schema),
    exec: async (statement) => {
      const c = new PgClient({ connectionString: PG_URL, options: `-c search_path=${schema}` });
      await c.connect();
      try {
        await c.query(statement);
      } finally {
        await c.end();
      }
    },
  });
}
else describe.skip('showback: postgres (PostgreSQL unreachable)', () => it('skipped', () => undefined));

for (const b of backends) {
  describe(`showback: ${b.name}`, () => {
    let store: Store;
    let org: ShowbackReport;
    let team: ShowbackReport;
    beforeAll(async () => {
      store = await b.open();
      await seed(store);
      org = await showback(store, { month: '2026-10', scope: 'acme' });
      team = await showback(store, { month: '2026-10', scope: 'acme/support' });
    });
    afterAll(async () => {
      await store?.close();
      await b.dispose();
    });

    it('totals the org from its teams, against last month', () => {
      expect(org.level).toBe('team');
      expect(org.scope.path).toBe('acme');
      expect(org.month).toEqual({ label: '2026-10', from: OCT, to: NOV });
      expect(org.previousMonth.label).toBe('2026-09');
      expect(org.totalNano).toBe(cents(1400));
      expect(org.totalListNano).toBe(cents(1750));
      expect(org.previousTotalNano).toBe(cents(900));
      expect(org.changeNano).toBe(cents(500));
      expect(org.changeBp).toBe(5556); // 5 / 9
      expect(org.calls).toBe(8);
      expect(org.scopeBudget).toBeNull(); // the org has a year plan, not a month budget
      expect(org.outcomes).toEqual({ count: 9n, costPerOutcomeNano: divRoundHalfUp(cents(1400), 9n), byType: [{ type: 'resolved_ticket', count: 4n }, { type: 'merged_pr', count: 3n }, { type: 'refund', count: 2n }] });
    });

    it('ranks the teams, equal spend sharing a rank, with change, share and budget use', () => {
      const rows = org.lines.map((l) => [l.rank, l.path, l.spendNano, l.previousNano, l.changeNano, l.changeBp, l.shareBp, l.calls]);
      expect(rows).toEqual([
        [1, 'acme/support', cents(600), cents(400), cents(200), 5000, 4286, 5],
        [2, 'acme/eng', cents(400), cents(500), cents(-100), -2000, 2857, 2],
        [2, 'acme/sales', cents(400), 0n, cents(400), null, 2857, 1],
        [4, 'acme/legal', 0n, 0n, 0n, null, 0, 0],
      ]);
      const [support, eng, sales, legal] = org.lines;
      expect(support!.budget).toEqual({ amountNano: cents(1000), action: 'showback', timeZone: 'UTC', usedBp: 6000 });
      expect(eng!.budget).toEqual({ amountNano: cents(300), action: 'chargeback', timeZone: 'UTC', usedBp: 13333 });
      expect(sales!.budget).toBeNull(); // only a day budget
      expect(legal!.budget).toBeNull();
      expect(support!.listCostNano).toBe(cents(750));
    });

    it('lists each team\'s top three projects, agents and models with their share of the team', () => {
      const [support, eng, sales, legal] = org.lines;
      const top = (items: { name: string; spendNano: bigint; shareBp: number | null }[] | null) => items?.map((t) => [t.name, t.spendNano, t.shareBp]);
      expect(top(support!.top.projects)).toEqual([['helpdesk', cents(500), 8333], ['billing', cents(100), 1667]]);
      expect(top(support!.top.agents)).toEqual([['helpdesk/triage-bot', cents(350), 5833], ['helpdesk/summariser', cents(150), 2500], ['billing/refund-bot', cents(100), 1667]]);
      expect(top(support!.top.models)).toEqual([[SONNET, cents(300), 5000], [MINI, cents(150), 2500], [GPT41, cents(100), 1667]]); // haiku ($0.50) is fourth
      expect(top(eng!.top.projects)).toEqual([['ci', cents(250), 6250], ['review', cents(150), 3750]]);
      expect(top(eng!.top.models)).toEqual([[OPUS, cents(250), 6250], [SONNET, cents(150), 3750]]);
      expect(top(sales!.top.agents)).toEqual([['leads/qualifier', cents(400), 10000]]);
      expect(legal!.top).toEqual({ projects: [], agents: [], models: [] });
    });

    it('gives $/outcome where the team recorded outcomes in the month', () => {
      const [support, eng, sales] = org.lines;
      expect(support!.outcomes).toEqual({ count: 6n, costPerOutcomeNano: USD, byType: [{ type: 'resolved_ticket', count: 4n }, { type: 'refund', count: 2n }] });
      expect(eng!.outcomes?.count).toBe(3n);
      expect(eng!.outcomes?.costPerOutcomeNano).toBe(1_333_333_333n); // $4.00 / 3, to the nano-dollar
      expect(sales!.outcomes).toBeNull();
    });

    it('shows the projects within a team, ranked among siblings', () => {
      expect(team.level).toBe('project');
      expect(team.totalNano).toBe(cents(600));
      expect(team.previousTotalNano).toBe(cents(400));
      expect(team.scopeBudget).toEqual({ amountNano: cents(1000), action: 'showback', timeZone: 'UTC', usedBp: 6000 });
      const rows = team.lines.map((l) => [l.rank, l.path, l.spendNano, l.previousNano, l.changeBp, l.shareBp]);
      expect(rows).toEqual([
        [1, 'acme/support/helpdesk', cents(500), cents(400), 2500, 8333],
        [2, 'acme/support/billing', cents(100), 0n, null, 1667],
      ]);
      const [helpdesk, billing] = team.lines;
      expect(helpdesk!.budget).toEqual({ amountNano: cents(400), action: 'soft', timeZone: 'UTC', usedBp: 12500 });
      expect(helpdesk!.top.projects).toBeNull();
      expect(helpdesk!.top.agents.map((t) => [t.name, t.spendNano, t.shareBp])).toEqual([['triage-bot', cents(350), 7000], ['summariser', cents(150), 3000]]);
      expect(helpdesk!.top.models.map((t) => t.name)).toEqual([SONNET, MINI, HAIKU]);
      expect(helpdesk!.outcomes).toMatchObject({ count: 4n, costPerOutcomeNano: 1_250_000_000n });
      expect(billing!.outcomes).toMatchObject({ count: 2n, costPerOutcomeNano: 500_000_000n });
    });

    it('counts a month by its UTC edges: the last millisecond of September is September\'s', async () => {
      const sep = await showback(store, { month: '2026-09', scope: 'acme' });
      expect(sep.lines.map((l) => [l.path, l.spendNano])).toEqual([['acme/eng', cents(500)], ['acme/support', cents(400)], ['acme/legal', 0n], ['acme/sales', 0n]]);
      expect(sep.lines.map((l) => l.rank)).toEqual([1, 2, 3, 3]);
      const nov = await showback(store, { month: '2026-11', scope: 'acme' });
      expect(nov.totalNano).toBe(cents(10_000));
      expect(nov.previousTotalNano).toBe(cents(1400));
      expect(nov.lines[0]).toMatchObject({ path: 'acme/sales', spendNano: cents(10_000), previousNano: cents(400), changeBp: 240_000 });
    });

    it('reports a month with no data as zeros, not an error', async () => {
      const r = await showback(store, { month: '2025-01', scope: 'acme' });
      expect(r.totalNano).toBe(0n);
      expect(r.changeBp).toBeNull();
      expect(r.lines.map((l) => [l.path, l.rank, l.shareBp, l.outcomes])).toEqual([['acme/eng', 1, null, null], ['acme/legal', 1, null, null], ['acme/sales', 1, null, null], ['acme/support', 1, null, null]]);
    });

    it('refuses bad input with clear errors', async () => {
      await expect(showback(store, { month: '2026-13', scope: 'acme' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('YYYY-MM') as unknown });
      await expect(showback(store, { month: 'oct', scope: 'acme' })).rejects.toMatchObject({ code: 'invalid_request' });
      await expect(showback(store, { month: '2026-10', scope: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
      await expect(showback(store, { month: '2026-10', scope: 'acme/support/helpdesk' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('--scope acme/support') as unknown });
      await expect(showback(store, { month: '2026-10', scope: 'Bad Path' })).rejects.toMatchObject({ code: 'invalid_request' });
      // Two orgs: without --scope it cannot guess.
      await expect(showback(store, { month: '2026-10' })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('acme, globex') as unknown });
    });

    it('counts spend the directory cannot place: an unknown agent in its team\'s total, an unknown team on a line of its own', async () => {
      const support = (await store.directory.getScope('acme/support'))!;
      const acme = (await store.directory.getScope('acme'))!;
      const JUL = Date.UTC(2026, 6, 10);
      await store.ledger.record([
        makeEvent({ ...chainOf('acme/support/ghost/agent'), orgId: acme.id, teamId: support.id }, { startedAt: JUL, effectiveCostNano: cents(300), listCostNano: cents(300) }),
        makeEvent({ ...chainOf('acme/gone/p/a'), orgId: acme.id, teamId: 'team-gone' }, { startedAt: JUL, effectiveCostNano: cents(100), listCostNano: cents(100) }),
      ]);
      const jul = await showback(store, { month: '2026-07', scope: 'acme' });
      expect(jul.totalNano).toBe(cents(400));
      expect(jul.lines.map((l) => [l.rank, l.path, l.spendNano, l.shareBp])).toEqual([
        [1, 'acme/support', cents(300), 7500],
        [2, 'team-gone', cents(100), 2500],
        [3, 'acme/eng', 0n, 0],
        [3, 'acme/legal', 0n, 0],
        [3, 'acme/sales', 0n, 0],
      ]);
      // Top lists name only what the directory knows; the models come straight from the rollups.
      expect(jul.lines[0]!.top.agents).toEqual([]);
      expect(jul.lines[0]!.top.models.map((t) => [t.name, t.spendNano])).toEqual([['claude-sonnet-4-5-20250929', cents(300)]]);
    });

    it('reads the rollups, never the events table', async () => {
      await b.exec('alter table events rename to events_hidden');
      try {
        expect(showbackJson(await showback(store, { month: '2026-10', scope: 'acme' }))).toEqual(showbackJson(org));
        expect(showbackJson(await showback(store, { month: '2026-10', scope: 'acme/support' }))).toEqual(showbackJson(team));
      } finally {
        await b.exec('alter table events_hidden rename to events');
      }
    });

    describe('admin route', () => {
      let gw: Gateway;
      beforeAll(async () => {
        gw = await buildGateway({ store, pricer: createPricer(), upstreams: new Map(), adminKey: 'adm', now: () => MID_OCT });
      });
      afterAll(async () => {
        await gw?.close();
      });
      const get = (url: string, key = 'adm') => gw.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

      it('serves the report as JSON and CSV, defaulting to this month', async () => {
        const json = await get('/api/reports/showback?scope=acme');
        expect(json.statusCode).toBe(200);
        expect(json.json()).toEqual(JSON.parse(JSON.stringify(showbackJson(org))));
        const csv = await get('/api/reports/showback?month=2026-10&scope=acme/support&format=csv');
        expect(csv.statusCode).toBe(200);
        expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
        expect(csv.headers['content-disposition']).toBe('attachment; filename="showback-acme_support-2026-10.csv"');
        const { headers, rows } = showbackCsv(team);
        expect(csv.body).toBe(toCsv(headers, rows));
      });

      it('refuses without the admin key and on bad parameters', async () => {
        expect((await get('/api/reports/showback?scope=acme', 'wrong')).statusCode).toBe(401);
        const bad = await get('/api/reports/showback?scope=acme&month=2026-1');
        expect(bad.statusCode).toBe(400);
        expect(bad.json()).toEqual({ error: { code: 'invalid_request', message: 'cannot read month "2026-1": use YYYY-MM, e.g. 2026-10' } });
        expect((await get('/api/reports/showback?scope=acme&format=xml')).statusCode).toBe(400);
        expect((await get('/api/reports/showback?scope=acme&month=2026-10&month=2026-11')).statusCode).toBe(400);
        expect((await get('/api/reports/showback?scope=acme/nope')).statusCode).toBe(404);
      });
    });

    it('records what the report said, for the cross-backend comparison', () => {
      const { headers, rows } = showbackCsv(org);
      results.set(b.name, { org: showbackJson(org), team: showbackJson(team), csv: toCsv(headers, rows) });
    });
  });
}

describe.runIf(hasPg)('showback: the same figures on SQLite and PostgreSQL', () => {
  it('gives identical JSON and CSV', () => {
    const s = results.get('sqlite');
    const p = results.get('postgres');
    expect(s).toBeDefined();
    expect(p).toEqual(s);
  });
});

function divRoundHalfUp(n: bigint, d: bigint): bigint {
  return (n + d / 2n) / d;
}

it('parses months as whole UTC calendar months', () => {
  expect(parseMonthLabel('2026-12')).toEqual({ label: '2026-12', from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) });
  expect(parseMonthLabel(' 2024-02 ').to - parseMonthLabel('2024-02').from).toBe(29 * 86_400_000);
});
