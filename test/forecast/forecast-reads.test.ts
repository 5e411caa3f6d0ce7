/**
 * The forecast's ledger reads on SQLite and PostgreSQL: per customer (from the events, untagged calls
 * apart), per agent and project (from the daily rollups) and per model, day by day, inside the window
 * and the scope only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnitDayRow } from '../../src/analytics/forecast/forecast-source.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { makeEvent } from '../support/events.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 2, 1) / DAY; // 2026-03-01

async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

function suite(name: string, open: () => Promise<Store>, dispose: () => Promise<void>) {
  describe(`forecast reads: ${name}`, () => {
    let store: Store;
    let bot: ScopeChain;
    let fixer: ScopeChain;
    beforeAll(async () => {
      store = await open();
      bot = await chainFor(store, 'acme/support/helpdesk/bot');
      fixer = await chainFor(store, 'acme/eng/ci/fixer');
      const other = await chainFor(store, 'other/x/y/z');
      const ev = (chain: ScopeChain, day: number, nano: bigint, customer: string | null, model = 'claude-sonnet-4-5', provider = 'anthropic') =>
        makeEvent(chain, {
          startedAt: (D0 + day) * DAY + 3_600_000 * 13,
          provider,
          servedModel: model,
          requestedModel: model,
          usage: usage({ inputTokens: 1000, cacheReadTokens: 500, outputTokens: 100 }),
          effectiveCostNano: nano,
          listCostNano: nano,
          tags: customer ? { customer } : {},
        });
      await store.ledger.record([
        ev(bot, 0, 1_000n, 'alice'),
        ev(bot, 0, 2_000n, 'alice'),
        ev(bot, 0, 4_000n, 'bob', 'gpt-4.1-mini', 'openai'),
        ev(fixer, 1, 8_000n, 'alice'),
        ev(fixer, 1, 16_000n, null),
        ev(bot, 5, 32_000n, 'bob'),
        ev(other, 1, 64_000n, 'alice'),
        ev(bot, 40, 128_000n, 'alice'),
      ]);
    });
    afterAll(async () => {
      await store.close();
      await dispose();
    });

    const sorted = (rows: UnitDayRow[]) => rows.map((r) => ({ ...r })).sort((a, b) => a.day - b.day || String(a.unit).localeCompare(String(b.unit)));

    it('sums per customer and day from the events, untagged calls as null, within the scope and window', async () => {
      const acme = (await store.directory.getScope('acme'))!;
      const rows = await store.forecast.unitDays('customer', { fromDay: D0, toDay: D0 + 30, within: { tier: 'org', id: acme.id } });
      expect(sorted(rows)).toEqual([
        { unit: 'alice', day: D0, spendNano: 3_000n },
        { unit: 'bob', day: D0, spendNano: 4_000n },
        { unit: null, day: D0 + 1, spendNano: 16_000n },
        { unit: 'alice', day: D0 + 1, spendNano: 8_000n },
        { unit: 'bob', day: D0 + 5, spendNano: 32_000n },
      ].sort((a, b) => a.day - b.day || String(a.unit).localeCompare(String(b.unit))));
    });

    it('sums per agent and per project and day from the rollups', async () => {
      const acme = (await store.directory.getScope('acme'))!;
      const w = { fromDay: D0, toDay: D0 + 30, within: { tier: 'org' as const, id: acme.id } };
      expect(sorted(await store.forecast.unitDays('agent', w))).toEqual(
        sorted([
          { unit: bot.agentId, day: D0, spendNano: 7_000n },
          { unit: fixer.agentId, day: D0 + 1, spendNano: 24_000n },
          { unit: bot.agentId, day: D0 + 5, spendNano: 32_000n },
        ]),
      );
      const team = (await store.directory.getScope('acme/support'))!;
      expect(await store.forecast.unitDays('project', { ...w, within: { tier: 'team', id: team.id } })).toHaveLength(2);
    });

    it('sums spend and tokens per model, and finds the first day with spend', async () => {
      const acme = (await store.directory.getScope('acme'))!;
      const reads = store.forecast;
      const models = await reads.modelSpend({ fromDay: D0, toDay: D0 + 30, within: { tier: 'org', id: acme.id } });
      expect(models.sort((a, b) => a.model.localeCompare(b.model))).toEqual([
        { provider: 'anthropic', model: 'claude-sonnet-4-5', spendNano: 59_000n, tokens: 8_000n },
        { provider: 'openai', model: 'gpt-4.1-mini', spendNano: 4_000n, tokens: 1_600n },
      ]);
      expect(await reads.firstDay({ tier: 'org', id: acme.id })).toBe(D0);
      const ci = (await store.directory.getScope('acme/eng/ci'))!;
      expect(await reads.firstDay({ tier: 'project', id: ci.id })).toBe(D0 + 1);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-forecast-reads-'));
suite('sqlite', () => openSqliteStore(join(dir, 'ledger.db')), () => Promise.resolve(rmSync(dir, { recursive: true, force: true })));

const schema = testSchemaName();
if (await postgresAvailable()) suite('postgres', () => openPostgresStore(PG_URL, { schema }), () => dropSchema(schema));
else describe.skip('forecast reads: postgres (PostgreSQL unreachable)', () => it('skipped', () => undefined));
