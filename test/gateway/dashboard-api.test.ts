/**
 * The dashboard's read API over real HTTP (port 0), on SQLite and on PostgreSQL: scopes, the spend
 * table and its series, the calls behind a figure, the overview and the rollout status. Every figure
 * is checked against the events it was made from, in exact nano-USD; a viewer of one team sees only
 * that team and is refused (403) another team's scope on every route.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { divRound, nanoToDecimalString } from '../../src/domain/money.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import { generateKeySecret, newKeyId } from '../../src/domain/virtual-key.ts';
import type { Gateway } from '../../src/gateway/server.ts';
import { buildGateway } from '../../src/gateway/server.ts';
import type { LedgerEvent, Store } from '../../src/ledger/contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { makeEvent } from '../support/events.ts';
import { makeFinding } from '../support/findings.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const ADMIN = 'tga-dashboard-api-admin';
const H = 3_600_000;
const DAY = 24 * H;
const USD = 1_000_000_000n;
const OCT = Date.UTC(2026, 9, 1);
const NOV = Date.UTC(2026, 10, 1);
/** Wednesday 18 November 2026, 15:30 UTC: the gateway's clock. */
const NOW = Date.UTC(2026, 10, 18, 15, 30);
const HOUR_END = Math.ceil(NOW / H) * H;

interface Reply<T> {
  status: number;
  body: T;
}

interface ErrorJson {
  error: { code: string; message: string };
}

interface SpendJson {
  scope: string | null;
  from: number;
  to: number;
  groupBy: string;
  totalUsd: string;
  totalNano: string;
  previousTotalUsd: string;
  rows: {
    key: string;
    label: string;
    path: string | null;
    tier: string | null;
    spendUsd: string;
    spendNano: string;
    listUsd: string;
    previousSpendUsd: string;
    changePct: number | null;
    sharePct: number;
    calls: number;
    errors: number;
    inputTokens: string;
    outputTokens: string;
    cacheReadTokens: string;
    tokensPerRequest: number | null;
    budget: null | { scope: string; period: string; limitUsd: string; spentUsd: string; usedPct: number; action: string };
    outcomes: number | null;
    costPerOutcomeUsd: string | null;
  }[];
}

interface Point {
  at: number;
  spendUsd: string;
  calls: number;
}

interface SeriesJson {
  bucket: string;
  from: number;
  to: number;
  series: { key: string; label: string; points: Point[] }[];
  total: Point[];
  budgets: { scope: string; period: string; limitUsd: string; perBucketUsd: string | null }[];
  anomalies: { id: string; at: number; signal: string; scope: string; status: string; summary: string }[];
}

interface CallsJson {
  rows: { id: string; startedAt: number; scope: string; provider: string; servedModel: string; status: number; customer: string | null; traceId: string | null; spendUsd: string; spendNano: string; inputTokens: number; routeTier: string | null }[];
  nextCursor: string | null;
  totals: { calls: number; spendUsd: string; spendNano: string };
}

interface OverviewJson {
  scope: string | null;
  month: string;
  asOf: number;
  monthToDateUsd: string;
  lastMonthUsd: string;
  plan: null | { scope: string; period: string; limitUsd: string; usedPct: number };
  budget: null | { scope: string; period: string; limitUsd: string; usedPct: number; spentUsd: string };
  forecastMonthEnd: { p50Usd: string; p90Usd: string; method: string };
  openAnomalies: { id: string; scope: string; signal: string; summary: string; openedAt: number; usdPerHour: string }[];
  topMovers: { path: string | null; tier: string; thisWeekUsd: string; lastWeekUsd: string; changeUsd: string; changePct: number | null }[];
  unitTrend: { workload: string; outcome: string; points: { month: string; costPerOutcomeUsd: string | null; outcomes: number }[] }[];
  daily: { at: number; spendUsd: string }[];
}

interface RolloutJson {
  attributedSharePct: number | null;
  providerBilledUsd: string | null;
  gatewayUsd: string;
  tiers: Record<'org' | 'team' | 'project' | 'agent', { count: number; withBudget: number }>;
  teams: { path: string; mode: string; chargebackAdvised: boolean }[];
  anomalyDetection: boolean;
  alertSinks: number;
  outcomesRecorded: boolean;
  steps: { done: boolean; title: string; detail: string; command: string }[];
}

const usd = (n: bigint) => nanoToDecimalString(n);
const nanoOf = (decimal: string) => {
  const [whole, frac = ''] = decimal.split('.');
  return BigInt(whole!) * USD + BigInt(frac.padEnd(9, '0'));
};
const pct = (n: bigint, d: bigint) => Number(divRound(n * 10_000n, d)) / 100;

function runDashboardApi(name: string, open: () => Promise<Store>, dispose: () => Promise<void>): void {
  describe(`dashboard read API: ${name}`, () => {
    let store: Store;
    let gateway: Gateway;
    let url: string;
    let supportViewer: string;
    let helpdeskViewer: string;
    const events: LedgerEvent[] = [];
    const chains = new Map<string, ScopeChain>();
    const ids = new Map<string, string>();

    async function get<T>(path: string, key = ADMIN): Promise<Reply<T>> {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as T };
    }

    async function ok<T>(path: string, key = ADMIN): Promise<T> {
      const r = await get<T>(path, key);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    }

    /** Effective cost of the seeded events in [from, to) that pass `keep`. */
    function spent(from: number, to: number, keep: (e: LedgerEvent) => boolean = () => true): bigint {
      return events.filter((e) => e.startedAt >= from && e.startedAt < to && keep(e)).reduce((s, e) => s + e.effectiveCostNano, 0n);
    }
    const under = (path: string) => (e: LedgerEvent) => {
      const p = `${e.chain.orgName}/${e.chain.teamName}/${e.chain.projectName}/${e.chain.agentName}`;
      return p === path || p.startsWith(`${path}/`);
    };

    async function chainFor(path: string): Promise<ScopeChain> {
      const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
      for (const n of nodes) ids.set(n.path, n.id);
      const [o, t, p, a] = nodes;
      const chain = { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
      chains.set(path, chain);
      return chain;
    }

    async function viewerKey(path: string): Promise<string> {
      const s = generateKeySecret('viewer');
      await store.directory.insertKey({ id: newKeyId(), hash: s.hash, display: s.display, kind: 'viewer', scopeId: ids.get(path)!, name: 'viewer', expiresAt: null }, 'test');
      return s.secret;
    }

    beforeAll(async () => {
      store = await open();
      const agents = [
        { path: 'acme/support/helpdesk/triage-bot', provider: 'anthropic', model: 'claude-sonnet-4-5' },
        { path: 'acme/support/helpdesk/summariser', provider: 'openai', model: 'gpt-4.1-mini' },
        { path: 'acme/support/kb/indexer', provider: 'openai', model: 'gpt-4.1' },
        { path: 'acme/eng/ci/review-bot', provider: 'anthropic', model: 'claude-haiku-4-5' },
      ];
      for (const a of agents) await chainFor(a.path);
      // From 1 October to just before the gateway's clock: one call every 47 minutes, round robin,
      // with odd costs, errors, customers and traces. Nothing after NOW.
      for (let i = 0, at = OCT + 123_457; at < NOW; i++, at += 47 * 60_000) {
        const a = agents[i % agents.length]!;
        const list = BigInt(100_000_003 + ((i * 7_919) % 1_000_000));
        events.push(
          makeEvent(chains.get(a.path)!, {
            id: `call-${String(i).padStart(5, '0')}`,
            startedAt: at,
            provider: a.provider,
            requestedModel: a.model,
            servedModel: a.model,
            status: i % 19 === 0 ? 500 : 200,
            errorCode: i % 19 === 0 ? 'upstream_error' : null,
            tags: i % 3 === 0 ? {} : { customer: i % 3 === 1 ? 'cust-a' : 'cust-b' },
            traceId: i % 10 === 0 ? `trace-${i % 4}` : null,
            usage: usage({ inputTokens: 900 + (i % 50), cacheReadTokens: i % 7, outputTokens: 120 + (i % 30) }),
            listCostNano: list,
            effectiveCostNano: list - BigInt((i % 13) * 1_001),
          }),
        );
      }
      // Twelve agents of one project, each with its own spend (agent k: 3 calls of k × $0.010000007).
      for (let k = 1; k <= 12; k++) {
        const path = `acme/eng/swarm/agent-${String(k).padStart(2, '0')}`;
        const chain = await chainFor(path);
        for (let c = 0; c < 3; c++) {
          const cost = BigInt(k) * 10_000_007n;
          events.push(makeEvent(chain, { id: `swarm-${k}-${c}`, startedAt: NOV + 4 * DAY + k * H + c * 60_000, provider: 'openai', servedModel: 'gpt-4.1-nano', listCostNano: cost, effectiveCostNano: cost }));
        }
      }
      await store.ledger.record(events);

      await store.controls.setBudget({ scopePath: 'acme', amountNano: 10_000n * USD, period: 'year', action: 'plan', thresholds: [80, 100], timeZone: 'UTC', degradeTo: null }, 'test');
      await store.controls.setBudget({ scopePath: 'acme/support', amountNano: 50n * USD, period: 'month', action: 'showback', thresholds: [50, 80, 100], timeZone: 'UTC', degradeTo: null }, 'test');
      await store.controls.setBudget({ scopePath: 'acme/support', amountNano: 5n * USD, period: 'day', action: 'showback', thresholds: [100], timeZone: 'UTC', degradeTo: null }, 'test');
      await store.controls.setBudget({ scopePath: 'acme/eng/ci/review-bot', amountNano: 3n * USD, period: 'day', action: 'hard', thresholds: [100], timeZone: 'UTC', degradeTo: null }, 'test');
      await store.chargeback.setTeamFlags('acme/eng', { billsCustomers: true }, 'test');

      await store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'resolved_ticket', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6n * USD, targetNano: null }, 'test');
      const triage = chains.get('acme/support/helpdesk/triage-bot')!;
      const outcome = (n: number, at: number, count: number) => ({ type: 'resolved_ticket', count, occurredAt: at, traceId: null, valueNano: null, idempotencyKey: `o-${n}`, chain: triage, keyId: null });
      await store.outcomes.record([outcome(1, OCT + 3 * DAY, 10), outcome(2, OCT + 20 * DAY, 15), outcome(3, NOV + 2 * DAY, 30), outcome(4, NOV + 15 * DAY, 10)]);

      await store.anomalies.open(makeFinding({ id: triage.agentId, path: 'acme/support/helpdesk/triage-bot' }, { since: NOW - 3 * H, at: NOW - 2 * H }));

      gateway = await buildGateway({ store, pricer: createPricer(), upstreams: new Map(), adminKey: ADMIN, now: () => NOW, dashboardDir: null, groupCommit: { maxDelayMs: 1 } });
      url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
      supportViewer = await viewerKey('acme/support');
      helpdeskViewer = await viewerKey('acme/support/helpdesk');
      await gateway.keys.reload();
    }, 120_000);

    afterAll(async () => {
      await gateway?.close();
      await store?.close();
      await dispose();
    });

    describe('GET /api/scopes', () => {
      it('lists every live scope for the admin, with parents', async () => {
        const { data } = await ok<{ data: { path: string; tier: string; parentPath: string | null; id: string }[] }>('/api/scopes');
        expect(data.map((s) => s.path)).toContain('acme/eng/swarm/agent-12');
        expect(data.find((s) => s.path === 'acme')).toMatchObject({ tier: 'org', parentPath: null, id: ids.get('acme') });
        expect(data.find((s) => s.path === 'acme/support/kb')).toMatchObject({ tier: 'project', parentPath: 'acme/support' });
        const sub = await ok<{ data: { path: string }[] }>('/api/scopes?under=acme/support/helpdesk');
        expect(sub.data.map((s) => s.path)).toEqual(['acme/support/helpdesk', 'acme/support/helpdesk/summariser', 'acme/support/helpdesk/triage-bot']);
        expect((await get<ErrorJson>('/api/scopes?under=acme/nowhere')).status).toBe(404);
      });
    });

    describe('GET /api/spend', () => {
      it('groups an org by team by default, this month to now, with exact sums, shares, budgets and outcomes', async () => {
        const s = await ok<SpendJson>('/api/spend');
        expect(s).toMatchObject({ scope: 'acme', groupBy: 'team', from: NOV, to: HOUR_END });
        const support = spent(NOV, HOUR_END, under('acme/support'));
        const eng = spent(NOV, HOUR_END, under('acme/eng'));
        expect(s.rows.map((r) => [r.path, r.spendUsd])).toEqual([
          ['acme/support', usd(support)],
          ['acme/eng', usd(eng)],
        ]);
        expect(s.totalUsd).toBe(usd(support + eng));
        expect(s.rows.reduce((sum, r) => sum + BigInt(r.spendNano), 0n)).toBe(BigInt(s.totalNano));
        const [sup, en] = s.rows;
        expect(sup).toMatchObject({ key: ids.get('acme/support'), tier: 'team', label: 'support', sharePct: pct(support, support + eng) });
        expect(sup!.sharePct + en!.sharePct).toBeCloseTo(100, 1);
        const supportCalls = events.filter((e) => e.startedAt >= NOV && e.startedAt < HOUR_END && under('acme/support')(e));
        expect(sup!.calls).toBe(supportCalls.length);
        expect(sup!.errors).toBe(supportCalls.filter((e) => e.status >= 400).length);
        expect(sup!.inputTokens).toBe(String(supportCalls.reduce((n, e) => n + e.usage.inputTokens, 0)));
        const tokens = supportCalls.reduce((n, e) => n + e.usage.inputTokens + e.usage.cacheReadTokens + e.usage.outputTokens, 0);
        expect(sup!.tokensPerRequest).toBeCloseTo(tokens / supportCalls.length, 1);
        // The tightest of the team's two budgets: today's $5 against this month's $50.
        const today = Math.floor(NOW / DAY) * DAY;
        const day = spent(today, today + DAY, under('acme/support'));
        const month = spent(NOV, NOW, under('acme/support'));
        const tight = day * 50n > month * 5n ? { period: 'day', limitUsd: usd(5n * USD), spentUsd: usd(day) } : { period: 'month', limitUsd: usd(50n * USD), spentUsd: usd(month) };
        expect(sup!.budget).toMatchObject({ ...tight, action: 'showback' });
        expect(en!.budget).toBeNull();
        // Outcomes of November so far (30 + 10) against the team's spend.
        expect(sup!.outcomes).toBe(40);
        expect(sup!.costPerOutcomeUsd).toBe(usd(divRound(support, 40n)));
        expect(en!.outcomes).toBeNull();
      });

      it('compares each row with the period of equal length just before', async () => {
        const from = Date.UTC(2026, 10, 2);
        const to = Date.UTC(2026, 10, 9);
        const s = await ok<SpendJson>('/api/spend?scope=acme/support&from=2026-11-02&to=2026-11-09T00:00:00Z');
        expect(s).toMatchObject({ groupBy: 'project', from, to });
        const prevFrom = from - 7 * DAY;
        for (const project of ['acme/support/helpdesk', 'acme/support/kb']) {
          const row = s.rows.find((r) => r.path === project)!;
          const now = spent(from, to, under(project));
          const before = spent(prevFrom, from, under(project));
          expect([row.spendUsd, row.previousSpendUsd, row.changePct]).toEqual([usd(now), usd(before), pct(now - before, before)]);
        }
        expect(s.previousTotalUsd).toBe(usd(spent(prevFrom, from, under('acme/support'))));
        // Epoch ms work as well as ISO.
        expect((await ok<SpendJson>(`/api/spend?scope=acme/support&from=${from}&to=${to}`)).rows).toEqual(s.rows);
      });

      it('groups one level down by default, and by model or provider on request', async () => {
        expect((await ok<SpendJson>('/api/spend?scope=acme/support/helpdesk')).groupBy).toBe('agent');
        const agent = await ok<SpendJson>('/api/spend?scope=acme/support/helpdesk/triage-bot');
        expect(agent.groupBy).toBe('model');
        expect(agent.rows.map((r) => [r.key, r.label, r.path, r.tier])).toEqual([['claude-sonnet-4-5', 'claude-sonnet-4-5', null, null]]);
        const byProvider = await ok<SpendJson>('/api/spend?groupBy=provider');
        expect(new Map(byProvider.rows.map((r) => [r.key, r.spendUsd]))).toEqual(
          new Map(['anthropic', 'openai'].map((p) => [p, usd(spent(NOV, HOUR_END, (e) => e.provider === p))])),
        );
        const above = await get<ErrorJson>('/api/spend?scope=acme/support&groupBy=org');
        expect(above.status).toBe(400);
        expect(above.body.error.message).toContain('above the scope acme/support');
        expect((await get<ErrorJson>('/api/spend?groupBy=customer')).status).toBe(400);
        expect((await get<ErrorJson>('/api/spend?from=2026-11-09&to=2026-11-02')).status).toBe(400);
        expect((await get<ErrorJson>('/api/spend?scope=acme/nowhere')).status).toBe(404);
      });

      it('filters by provider and model (rollups) and by customer (events) to the same sums as the events', async () => {
        const openai = await ok<SpendJson>('/api/spend?groupBy=agent&provider=openai');
        expect(new Map(openai.rows.map((r) => [r.path, r.spendUsd]))).toEqual(
          new Map(
            [...chains.keys()]
              .map((p) => [p, spent(NOV, HOUR_END, (e) => e.provider === 'openai' && under(p)(e))] as const)
              .filter(([, v]) => v > 0n)
              .map(([p, v]) => [p, usd(v)]),
          ),
        );
        expect(openai.rows.every((r) => r.outcomes === null)).toBe(true);
        const model = await ok<SpendJson>('/api/spend?scope=acme/support&model=gpt-4.1');
        expect(model.rows.map((r) => [r.path, r.spendUsd])).toEqual([['acme/support/kb', usd(spent(NOV, HOUR_END, (e) => e.servedModel === 'gpt-4.1'))]]);
        const customer = await ok<SpendJson>('/api/spend?scope=acme/support&groupBy=agent&customer=cust-a');
        expect(new Map(customer.rows.map((r) => [r.path, r.spendUsd]))).toEqual(
          new Map(
            ['acme/support/helpdesk/triage-bot', 'acme/support/helpdesk/summariser', 'acme/support/kb/indexer'].map((p) => [p, usd(spent(NOV, HOUR_END, (e) => e.tags['customer'] === 'cust-a' && under(p)(e)))]),
          ),
        );
        expect(customer.previousTotalUsd).toBe(usd(spent(NOV - (HOUR_END - NOV), NOV, (e) => e.tags['customer'] === 'cust-a' && under('acme/support')(e))));
      });
    });

    describe('GET /api/calls', () => {
      /** Every page of a calls query, 50 rows a page. */
      async function allCalls(query: string, key = ADMIN): Promise<{ rows: CallsJson['rows']; totals: CallsJson['totals']; pages: number }> {
        const rows: CallsJson['rows'] = [];
        let cursor: string | null = null;
        let pages = 0;
        let totals: CallsJson['totals'] = { calls: -1, spendUsd: '', spendNano: '' };
        do {
          const page: CallsJson = await ok<CallsJson>(`/api/calls?${query}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, key);
          rows.push(...page.rows);
          // Every page carries the totals of the whole filter: they must not change from page to page.
          if (pages > 0) expect(page.totals).toEqual(totals);
          totals = page.totals;
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null && pages < 100);
        return { rows, totals, pages };
      }

      it('gives the rows behind a spend row, and totals equal to both the rows and the row', async () => {
        const table = await ok<SpendJson>('/api/spend?scope=acme/support');
        for (const row of table.rows) {
          const { rows, totals, pages } = await allCalls(`scope=${row.path!}&from=${table.from}&to=${table.to}`);
          expect(pages).toBeGreaterThan(1);
          expect(totals.spendUsd).toBe(row.spendUsd);
          expect(totals.spendNano).toBe(row.spendNano);
          expect(totals.calls).toBe(row.calls);
          expect(rows.length).toBe(totals.calls);
          expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
          expect(rows.reduce((s, r) => s + BigInt(r.spendNano), 0n)).toBe(BigInt(totals.spendNano));
          expect(rows.reduce((s, r) => s + nanoOf(r.spendUsd), 0n)).toBe(nanoOf(row.spendUsd));
          expect(rows.every((r) => r.scope.startsWith(`${row.path!}/`))).toBe(true);
          for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.startedAt).toBeGreaterThanOrEqual(rows[i]!.startedAt);
        }
      });

      it('filters by provider, model, customer, trace and status, and totals the whole filter, not the page', async () => {
        const page = await ok<CallsJson>('/api/calls?scope=acme&provider=anthropic&status=error&limit=5');
        const want = events.filter((e) => e.startedAt >= NOV && e.startedAt < NOW && e.provider === 'anthropic' && e.status >= 400);
        expect(page.rows.length).toBe(5);
        expect(page.totals).toEqual({ calls: want.length, spendUsd: usd(want.reduce((s, e) => s + e.effectiveCostNano, 0n)), spendNano: String(want.reduce((s, e) => s + e.effectiveCostNano, 0n)), listUsd: usd(want.reduce((s, e) => s + e.listCostNano, 0n)) });
        expect(page.rows.every((r) => r.provider === 'anthropic' && r.status >= 400)).toBe(true);
        expect(page.nextCursor).not.toBeNull();

        const customer = await allCalls('customer=cust-b&model=gpt-4.1-mini&status=ok&from=2026-10-01');
        const wantCustomer = events.filter((e) => e.startedAt >= OCT && e.startedAt < NOW && e.tags['customer'] === 'cust-b' && e.servedModel === 'gpt-4.1-mini' && e.status < 400);
        expect(customer.rows.map((r) => r.id).sort()).toEqual(wantCustomer.map((e) => e.id).sort());
        expect(customer.rows.every((r) => r.customer === 'cust-b')).toBe(true);

        const trace = await allCalls('trace=trace-2&from=2026-10-01');
        expect(trace.rows.map((r) => r.id).sort()).toEqual(events.filter((e) => e.traceId === 'trace-2').map((e) => e.id).sort());
        expect(trace.rows[0]).toMatchObject({ traceId: 'trace-2', routeTier: null });

        expect((await get<ErrorJson>('/api/calls?limit=201')).status).toBe(400);
        expect((await get<ErrorJson>('/api/calls?status=weird')).status).toBe(400);
        expect((await get<ErrorJson>('/api/calls?cursor=nonsense')).status).toBe(400);
      });
    });

    describe('GET /api/spend/series', () => {
      it('gives every day of the period, each equal to its events, and the total only without groupBy', async () => {
        const s = await ok<SeriesJson>('/api/spend/series?scope=acme/support');
        expect(s).toMatchObject({ bucket: 'day', from: NOV, to: Math.floor(NOW / DAY) * DAY + DAY, series: [] });
        expect(s.total.length).toBe(18);
        for (const p of s.total) expect([p.spendUsd, p.calls]).toEqual([usd(spent(p.at, p.at + DAY, under('acme/support'))), events.filter((e) => e.startedAt >= p.at && e.startedAt < p.at + DAY && under('acme/support')(e)).length]);
        // The month budget spread over November's 30 days; the day budget is one bucket's worth.
        expect(s.budgets).toEqual(
          expect.arrayContaining([
            { scope: 'acme/support', period: 'month', action: 'showback', limitUsd: usd(50n * USD), perBucketUsd: usd(divRound(50n * USD, 30n)) },
            { scope: 'acme/support', period: 'day', action: 'showback', limitUsd: usd(5n * USD), perBucketUsd: usd(5n * USD) },
          ]),
        );
        expect(s.anomalies).toEqual([expect.objectContaining({ signal: 'runaway_loop', scope: 'acme/support/helpdesk/triage-bot', status: 'open', at: NOW - 3 * H })]);
        expect((await ok<SeriesJson>('/api/spend/series?scope=acme/eng')).anomalies).toEqual([]);
      });

      it('folds days into weeks from Monday 00:00 UTC', async () => {
        const s = await ok<SeriesJson>('/api/spend/series?bucket=week&from=2026-10-07&to=2026-11-18T15:30:00Z&groupBy=team');
        const monday = Date.UTC(2026, 9, 5);
        expect(s.from).toBe(monday);
        expect(s.total.map((p) => p.at)).toEqual(Array.from({ length: 7 }, (_, i) => monday + i * 7 * DAY));
        for (const p of s.total) {
          expect(new Date(p.at).getUTCDay()).toBe(1);
          expect(p.spendUsd).toBe(usd(spent(p.at, p.at + 7 * DAY)));
        }
        const support = s.series.find((l) => l.label === 'support')!;
        for (const p of support.points) expect(p.spendUsd).toBe(usd(spent(p.at, p.at + 7 * DAY, under('acme/support'))));
        expect(s.budgets.every((b) => b.perBucketUsd !== null || b.period === 'day')).toBe(true);
      });

      it('shows at most ten groups and folds the rest into _other', async () => {
        const s = await ok<SeriesJson>('/api/spend/series?scope=acme/eng/swarm&groupBy=agent&from=2026-11-01&to=2026-11-10');
        expect(s.series.map((l) => l.label)).toEqual([...Array.from({ length: 10 }, (_, i) => `agent-${String(12 - i).padStart(2, '0')}`), 'other']);
        const other = s.series.at(-1)!;
        expect(other.key).toBe('_other');
        // agent-01 and agent-02: 3 calls each of 1× and 2× $0.010000007.
        expect(other.points.reduce((sum, p) => sum + nanoOf(p.spendUsd), 0n)).toBe(9n * 10_000_007n);
        expect(other.points.reduce((sum, p) => sum + p.calls, 0)).toBe(6);
        const perBucket = s.total.map((p, i) => s.series.reduce((sum, l) => sum + nanoOf(l.points[i]!.spendUsd), 0n));
        expect(perBucket).toEqual(s.total.map((p) => nanoOf(p.spendUsd)));
        expect((await get<ErrorJson>('/api/spend/series?bucket=hour&from=2026-01-01&to=2026-11-01')).status).toBe(400);
        expect((await get<ErrorJson>('/api/spend/series?bucket=month')).status).toBe(400);
      });

      it('keeps to the filters', async () => {
        const s = await ok<SeriesJson>('/api/spend/series?bucket=hour&from=2026-11-05T00:00:00Z&to=2026-11-06T00:00:00Z&provider=openai&groupBy=project');
        expect(s.total.length).toBe(24);
        for (const p of s.total) expect(p.spendUsd).toBe(usd(spent(p.at, p.at + H, (e) => e.provider === 'openai')));
        const c = await ok<SeriesJson>('/api/spend/series?from=2026-11-01&to=2026-11-18&customer=cust-a');
        for (const p of c.total) expect(p.spendUsd).toBe(usd(spent(p.at, p.at + DAY, (e) => e.tags['customer'] === 'cust-a')));
      });
    });

    describe('GET /api/overview', () => {
      it('shows the month to date against last month, plan and budget, the forecast, anomalies, movers, unit trend and days', async () => {
        const o = await ok<OverviewJson>('/api/overview');
        const mtd = spent(NOV, NOW);
        expect(o).toMatchObject({ scope: 'acme', month: '2026-11', asOf: NOW, monthToDateUsd: usd(mtd), lastMonthUsd: usd(spent(OCT, NOV)) });
        expect(o.plan).toMatchObject({ scope: 'acme', period: 'year', limitUsd: usd(10_000n * USD), usedPct: pct(spent(Date.UTC(2026, 0, 1), NOW), 10_000n * USD) });
        expect(o.budget).toBeNull();
        expect(o.daily.length).toBe(18);
        expect(o.daily.reduce((s, d) => s + nanoOf(d.spendUsd), 0n)).toBe(mtd);
        expect(o.daily[4]).toEqual({ at: NOV + 4 * DAY, spendUsd: usd(spent(NOV + 4 * DAY, NOV + 5 * DAY)) });
        const p50 = nanoOf(o.forecastMonthEnd.p50Usd);
        const p90 = nanoOf(o.forecastMonthEnd.p90Usd);
        expect(p50).toBeGreaterThan(mtd);
        expect(p90).toBeGreaterThanOrEqual(p50);
        // The run-rate: month to date over the days elapsed, carried over the days left.
        const elapsed = (NOW - NOV) / DAY;
        expect(Number(p50)).toBeCloseTo(Number(mtd) + (Number(mtd) / elapsed) * (30 - elapsed), -3);
        expect(o.forecastMonthEnd.method).toContain('run-rate');
        expect(o.openAnomalies).toEqual([expect.objectContaining({ scope: 'acme/support/helpdesk/triage-bot', signal: 'runaway_loop', openedAt: NOW - 2 * H, usdPerHour: '9.100000000' })]);
        // Movers: teams whose last 7 days beat the 7 before, biggest rise first.
        const weekEnd = HOUR_END;
        const rise = (path: string) => spent(weekEnd - 7 * DAY, weekEnd, under(path)) - spent(weekEnd - 14 * DAY, weekEnd - 7 * DAY, under(path));
        const rising = ['acme/support', 'acme/eng'].filter((p) => rise(p) > 0n).sort((a, b) => (rise(b) > rise(a) ? 1 : -1));
        expect(o.topMovers.map((m) => [m.path, m.changeUsd])).toEqual(rising.map((p) => [p, usd(rise(p))]));
        expect(o.topMovers.every((m) => m.tier === 'team')).toBe(true);
        const trend = o.unitTrend.find((t) => t.workload === 'acme/support/helpdesk')!;
        expect(trend.outcome).toBe('resolved_ticket');
        expect(trend.points.map((p) => p.month)).toEqual(['2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11']);
        expect(trend.points.at(-2)).toEqual({ month: '2026-10', outcomes: 25, costPerOutcomeUsd: usd(divRound(spent(OCT, NOV, under('acme/support/helpdesk')), 25n)) });
        expect(trend.points.at(-1)).toEqual({ month: '2026-11', outcomes: 40, costPerOutcomeUsd: usd(divRound(spent(NOV, NOW, under('acme/support/helpdesk')), 40n)) });
        expect(trend.points[0]).toEqual({ month: '2026-06', outcomes: 0, costPerOutcomeUsd: null });
      });

      it('shows a team its tightest budget and no plan', async () => {
        const o = await ok<OverviewJson>('/api/overview?scope=acme/support');
        expect(o.plan).toBeNull();
        expect(o.budget?.scope).toBe('acme/support');
        expect(o.monthToDateUsd).toBe(usd(spent(NOV, NOW, under('acme/support'))));
        expect((await ok<OverviewJson>('/api/overview?scope=acme/eng')).openAnomalies).toEqual([]);
      });
    });

    describe('GET /api/rollout', () => {
      it('says what share of the provider bill the gateway attributes, once a cost report is imported', async () => {
        const before = await ok<RolloutJson>('/api/rollout');
        expect(before).toMatchObject({ attributedSharePct: null, providerBilledUsd: null, anomalyDetection: false, alertSinks: 0, outcomesRecorded: true });
        expect(before.gatewayUsd).toBe(usd(spent(Math.floor(NOW / DAY) * DAY + DAY - 31 * DAY, NOW)));
        expect(before.steps.find((s) => s.title.includes('cost report'))?.done).toBe(false);

        // The provider billed 25% more for OpenAI on 10 November than the gateway recorded.
        const day = Date.UTC(2026, 10, 10);
        const seen = spent(day, day + DAY, (e) => e.provider === 'openai');
        const billed = (seen * 5n) / 4n;
        await store.providerUsage.import(
          {
            provider: 'openai',
            days: { usage: [], cost: [day] },
            rows: [{ provider: 'openai', source: 'cost', day, model: 'gpt-4.1-mini', apiKeyId: '', projectId: 'proj_gw', detail: 'gpt-4.1-mini, input', inputTokens: 0n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 0n, requests: 0n, costNano: billed }],
          },
          NOW,
        );
        const after = await ok<RolloutJson>('/api/rollout');
        expect(after).toMatchObject({ providerBilledUsd: usd(billed), gatewayUsd: usd(seen), attributedSharePct: pct(seen, billed) });
        expect(after.attributedSharePct).toBeCloseTo(80, 1);
        expect(after.steps.find((s) => s.title.includes('cost report'))?.done).toBe(true);
      });

      it('counts tiers with budgets, team modes, and lists the steps in order', async () => {
        const r = await ok<RolloutJson>('/api/rollout');
        expect(r.tiers).toEqual({ org: { count: 1, withBudget: 1 }, team: { count: 2, withBudget: 1 }, project: { count: 4, withBudget: 0 }, agent: { count: 16, withBudget: 1 } });
        expect(r.teams).toEqual([
          { path: 'acme/eng', mode: 'none', chargebackAdvised: true },
          { path: 'acme/support', mode: 'showback', chargebackAdvised: false },
        ]);
        expect(r.steps.map((s) => [s.title, s.done])).toEqual([
          ['Send model calls through the gateway', true],
          ["Import the provider's cost report", true],
          ["Set the org's plan", true],
          ['Give every team a monthly budget', false],
          ['Put a hard ceiling on every agent', false],
          ['Turn on anomaly detection', false],
          ['Send alerts where people look', false],
          ['Record outcomes', true],
          ['Move teams that bill customers or need hard limits to chargeback', false],
        ]);
        expect(r.steps[3]!.command).toBe('tollgate budgets set --scope acme/eng --period month --action showback --amount <usd>');
      });
    });

    describe('a viewer of one team', () => {
      const routes = ['/api/spend', '/api/spend/series', '/api/calls', '/api/overview', '/api/rollout'];

      it('is refused another team, and the org, on every route', async () => {
        for (const path of [...routes.map((r) => `${r}?scope=acme/eng`), ...routes.map((r) => `${r}?scope=acme`), '/api/scopes?under=acme/eng', '/api/scopes?under=acme', '/api/calls?scope=acme/eng/ci&customer=cust-a']) {
          const r = await get<ErrorJson>(path, supportViewer);
          expect([path, r.status, r.body.error.code]).toEqual([path, 403, 'forbidden']);
        }
        // A viewer of a project is refused its own team.
        expect((await get<ErrorJson>('/api/spend?scope=acme/support', helpdeskViewer)).status).toBe(403);
        expect((await get<ErrorJson>('/api/spend', 'tgv-not-a-key')).status).toBe(401);
        const anonymous = await fetch(`${url}/api/spend`);
        expect(anonymous.status).toBe(401);
      });

      it('sees only its own team by default', async () => {
        const scopes = await ok<{ data: { path: string }[] }>('/api/scopes', supportViewer);
        expect(scopes.data.length).toBeGreaterThan(0);
        expect(scopes.data.every((s) => s.path === 'acme/support' || s.path.startsWith('acme/support/'))).toBe(true);

        const s = await ok<SpendJson>('/api/spend', supportViewer);
        expect(s).toMatchObject({ scope: 'acme/support', groupBy: 'project', totalUsd: usd(spent(NOV, HOUR_END, under('acme/support'))) });
        expect(s.rows.every((r) => r.path!.startsWith('acme/support/'))).toBe(true);
        const byModel = await ok<SpendJson>('/api/spend?groupBy=model', supportViewer);
        expect(byModel.rows.map((r) => r.key).sort()).toEqual(['claude-sonnet-4-5', 'gpt-4.1', 'gpt-4.1-mini']);

        const calls = await ok<CallsJson>('/api/calls?limit=200', supportViewer);
        expect(calls.rows.every((r) => r.scope.startsWith('acme/support/'))).toBe(true);
        expect(calls.totals.spendUsd).toBe(usd(spent(NOV, NOW, under('acme/support'))));

        const series = await ok<SeriesJson>('/api/spend/series?groupBy=agent', supportViewer);
        expect(series.series.map((l) => l.label).sort()).toEqual(['indexer', 'summariser', 'triage-bot']);
        expect(series.budgets.every((b) => b.scope === 'acme/support')).toBe(true);

        const o = await ok<OverviewJson>('/api/overview', supportViewer);
        expect(o.scope).toBe('acme/support');
        expect(o.plan).toBeNull();
        expect(o.topMovers.every((m) => m.path!.startsWith('acme/support/'))).toBe(true);

        const r = await ok<RolloutJson>('/api/rollout', supportViewer);
        expect(r).toMatchObject({ attributedSharePct: null, providerBilledUsd: null, teams: [{ path: 'acme/support', mode: 'showback', chargebackAdvised: false }] });
        expect(r.tiers).toEqual({ org: { count: 0, withBudget: 0 }, team: { count: 1, withBudget: 1 }, project: { count: 2, withBudget: 0 }, agent: { count: 3, withBudget: 0 } });
        expect(r.steps.some((st) => st.title.includes('cost report') || st.title.includes('plan'))).toBe(false);

        // Its own subtree, asked for by name, is fine.
        expect((await get<SpendJson>('/api/spend?scope=acme/support/kb', supportViewer)).status).toBe(200);
      });
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-api-'));
runDashboardApi('sqlite', () => openSqliteStore(join(sqliteDir, 'ledger.db')), () => Promise.resolve(rmSync(sqliteDir, { recursive: true, force: true })));

const schema = testSchemaName();
if (await postgresAvailable()) {
  runDashboardApi('postgres', () => openPostgresStore(PG_URL, { schema }), () => dropSchema(schema));
} else {
  describe.skip('dashboard read API: postgres (PostgreSQL unreachable)', () => {
    it('skipped', () => undefined);
  });
}
