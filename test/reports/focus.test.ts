/**
 * FOCUS 1.2 export on a seeded ledger, on SQLite and PostgreSQL: every mandatory column present
 * with a valid value on every row, BilledCost adding up to the ledger's effective cost to the
 * nano-USD, well-formed CSV; and the admin API's streaming route.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOCUS_COLUMNS, FOCUS_MANDATORY, focusCsv } from '../../src/analytics/focus.ts';
import type { FocusQuery } from '../../src/analytics/focus.ts';
import { usdToNano } from '../../src/domain/money.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Usage } from '../../src/domain/usage.ts';
import type { LedgerEvent, Store } from '../../src/ledger/contract.ts';
import { openPostgresStore } from '../../src/ledger/postgres/postgres-store.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { makeEvent } from '../support/events.ts';
import type { Harness } from '../support/gateway.ts';
import { ADMIN_KEY, startHarness } from '../support/gateway.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';

const SONNET = 'claude-sonnet-4-5-20250929';
const at = (month: number, day: number, hour = 0) => Date.UTC(2026, month - 1, day, hour);
const pricer = createPricer();

/** RFC 4180: quoted cells may hold commas, doubled quotes and line breaks. Throws on anything malformed. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  if (!text.endsWith('\r\n')) throw new Error('CSV must end with CRLF');
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new Error('unterminated quoted cell');
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const m = /[,\r"]/.exec(text.slice(i));
      const end = m ? i + m.index : text.length;
      if (text[end] === '"') throw new Error(`stray quote at ${end}`);
      cell = text.slice(i, end);
      i = end;
    }
    row.push(cell);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else throw new Error(`unexpected character at ${i}`);
  }
  return rows;
}

async function exportText(store: Store, q: FocusQuery): Promise<string> {
  let out = '';
  for await (const chunk of focusCsv(store, pricer, q)) out += chunk;
  return out;
}

function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  expect(header).toEqual([...FOCUS_COLUMNS]);
  for (const r of rows) expect(r).toHaveLength(FOCUS_COLUMNS.length);
  return rows.map((r) => Object.fromEntries(FOCUS_COLUMNS.map((c, i) => [c, r[i]!])));
}

const DECIMAL = /^-?\d+\.\d{9}$/;
const PLAIN = /^-?\d+(\.\d+)?$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const nano = (usd: string) => usdToNano(usd);

interface Backend {
  name: string;
  open: () => Promise<Store>;
  dispose: () => Promise<void>;
}
const dir = mkdtempSync(join(tmpdir(), 'tollgate-focus-'));
const backends: Backend[] = [{ name: 'sqlite', open: () => openSqliteStore(join(dir, 'focus.db')), dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) }];
if (await postgresAvailable()) {
  const schema = testSchemaName();
  backends.push({ name: 'postgres', open: () => openPostgresStore(PG_URL, { schema }), dispose: () => dropSchema(schema) });
}

async function seed(store: Store): Promise<void> {
  const chain = async (path: string): Promise<ScopeChain> => {
    const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
    const [o, t, p, a] = nodes;
    return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
  };
  const triage = await chain('acme/support/helpdesk/triage-bot');
  const review = await chain('acme/eng/ci/review-bot');
  const call = (c: ScopeChain, startedAt: number, provider: string, model: string, u: Partial<Usage>, list: bigint, effective: bigint, over: Partial<LedgerEvent> = {}): LedgerEvent =>
    makeEvent(c, { startedAt, provider, requestedModel: model, servedModel: model, usage: usage(u), listCostNano: list, effectiveCostNano: effective, ...over });
  await store.ledger.record([
    call(triage, at(10, 3, 10), 'anthropic', SONNET, { inputTokens: 1000, cacheReadTokens: 2000, cacheWrite5mTokens: 30, outputTokens: 300 }, 8_212_501n, 6_570_001n),
    call(triage, at(10, 3, 23), 'anthropic', SONNET, { inputTokens: 7, outputTokens: 3 }, 100n, 77n),
    call(triage, at(10, 31, 23), 'anthropic', SONNET, { cacheWrite1hTokens: 12_345, outputTokens: 1 }, 1_000_000_007n, 999_999_999n),
    call(review, at(10, 15, 8), 'openai', 'gpt-4o-mini', { inputTokens: 1_234_567, outputTokens: 89_012, reasoningTokens: 12 }, 238_592_250n, 238_592_250n),
    // No price: shown at $0 with its tokens, flagged in x_UnpricedCalls.
    call(review, at(10, 15, 9), 'openai', 'mystery-model', { inputTokens: 500, outputTokens: 50 }, 0n, 0n, { priceSource: 'unpriced' }),
    // A model name a CSV writer must quote.
    call(review, at(10, 20, 9), 'openai', 'weird,"model"\nv2', { inputTokens: 10 }, 3n, 3n, { priceSource: 'custom' }),
    // Outside October.
    call(triage, at(9, 30, 23), 'anthropic', SONNET, { inputTokens: 1 }, 5_000_000_000n, 5_000_000_000n),
    call(review, at(11, 1, 0), 'openai', 'gpt-4o-mini', { inputTokens: 1 }, 7_000_000_000n, 7_000_000_000n),
  ]);
}

for (const backend of backends) {
  describe(`FOCUS export: ${backend.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await backend.open();
      await seed(store);
    });
    afterAll(async () => {
      await store?.close();
      await backend.dispose();
    });

    it('gives every row every mandatory column, with a valid value', async () => {
      const rows = records(await exportText(store, { from: at(10, 1), to: at(11, 1) }));
      expect(rows.length).toBeGreaterThan(8);
      for (const r of rows) {
        for (const c of FOCUS_MANDATORY) expect(r[c], `${c} on ${r['SkuId']}`).not.toBe('');
        for (const c of ['BilledCost', 'EffectiveCost', 'ListCost', 'ContractedCost', 'ListUnitPrice', 'ContractedUnitPrice'] as const) expect(r[c]).toMatch(DECIMAL);
        for (const c of ['PricingQuantity', 'ConsumedQuantity', 'x_CallCount'] as const) expect(r[c]).toMatch(PLAIN);
        for (const c of ['BillingPeriodStart', 'BillingPeriodEnd', 'ChargePeriodStart', 'ChargePeriodEnd'] as const) expect(r[c]).toMatch(ISO);
        expect(r).toMatchObject({
          BillingCurrency: 'USD',
          BillingPeriodStart: '2026-10-01T00:00:00Z',
          BillingPeriodEnd: '2026-11-01T00:00:00Z',
          ChargeCategory: 'Usage',
          ChargeClass: '',
          ChargeFrequency: 'Usage-Based',
          ServiceCategory: 'AI and Machine Learning',
          ServiceSubcategory: 'Generative AI',
          PricingCategory: 'Standard',
          BillingAccountName: 'acme',
          x_RollupTable: 'rollup_daily',
        });
        expect(['1M Tokens', '1M Requests']).toContain(r['PricingUnit']);
        expect(r['ConsumedUnit']).toBe(r['PricingUnit']!.slice(3));
        expect(Date.parse(r['ChargePeriodEnd']!) - Date.parse(r['ChargePeriodStart']!)).toBe(86_400_000);
        // Invoiced as effective cost; negotiated prices are the contracted ones.
        expect(r['BilledCost']).toBe(r['EffectiveCost']);
        expect(r['ContractedCost']).toBe(r['EffectiveCost']);
        expect(Number(r['PricingQuantity']) * 1e6).toBeCloseTo(Number(r['ConsumedQuantity']), 3);
        const tags = JSON.parse(r['Tags']!) as Record<string, string>;
        expect(tags['scope']).toBe(r['ResourceName']);
        expect(`${tags['org']}/${tags['team']}`).toBe(r['SubAccountName']);
        expect(r['SkuId']).toBe(`${r['x_Provider']}/${r['x_Model']}/${r['x_TokenType']}`);
      }
      expect(new Set(rows.map((r) => r['SubAccountName']))).toEqual(new Set(['acme/support', 'acme/eng']));
    });

    it('adds up to the ledger for the period to the nano-USD, effective and list', async () => {
      const rows = records(await exportText(store, { from: at(10, 1), to: at(11, 1) }));
      const billed = rows.reduce((s, r) => s + nano(r['BilledCost']!), 0n);
      const list = rows.reduce((s, r) => s + nano(r['ListCost']!), 0n);
      const ledger = await store.ledger.totals({ from: at(10, 1), to: at(11, 1) });
      expect(billed).toBe(ledger.effectiveCostNano);
      expect(billed).toBe(6_570_001n + 77n + 999_999_999n + 238_592_250n + 3n);
      expect(list).toBe(ledger.listCostNano);
      // Sep 30 to Nov 2 takes in the two rows outside October, each in its own billing period.
      const wide = records(await exportText(store, { from: at(9, 30), to: at(11, 2) }));
      expect(wide.reduce((s, r) => s + nano(r['BilledCost']!), 0n)).toBe((await store.ledger.totals({ from: at(9, 30), to: at(11, 2) })).effectiveCostNano);
      expect(new Set(wide.map((r) => r['BillingPeriodStart']))).toEqual(new Set(['2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z']));
    });

    it('splits each day × agent × model row across its token types with catalog unit prices', async () => {
      const rows = records(await exportText(store, { from: at(10, 3), to: at(10, 4) }));
      // One daily rollup row (two calls): 1007 input, 2000 cache read, 30 cache write, 303 output; $3/$0.30/$3.75/$15 per M.
      expect(rows.map((r) => [r['x_TokenType'], r['ConsumedQuantity'], r['PricingQuantity'], r['ListUnitPrice'], r['x_CallCount']])).toEqual([
        ['input', '1007', '0.001007', '3.000000000', '2'],
        ['cache_read', '2000', '0.002', '0.300000000', '2'],
        ['cache_write_5m', '30', '0.00003', '3.750000000', '2'],
        ['output', '303', '0.000303', '15.000000000', '2'],
      ]);
      expect(rows.reduce((s, r) => s + nano(r['BilledCost']!), 0n)).toBe(6_570_078n);
      expect(rows[0]).toMatchObject({ ProviderName: 'Anthropic', PublisherName: 'Anthropic', InvoiceIssuerName: 'Anthropic', ServiceName: 'Anthropic API', ChargeDescription: `${SONNET} input tokens (uncached) for acme/support/helpdesk/triage-bot` });
      const oct15 = records(await exportText(store, { from: at(10, 15), to: at(10, 16) }));
      const mystery = oct15.filter((r) => r['x_Model'] === 'mystery-model');
      expect(mystery.map((r) => [r['x_TokenType'], r['ConsumedQuantity'], r['BilledCost'], r['x_UnpricedCalls']])).toEqual([
        ['input', '500', '0.000000000', '1'],
        ['output', '50', '0.000000000', '1'],
      ]);
      expect(oct15.find((r) => r['x_Model'] === 'gpt-4o-mini' && r['x_TokenType'] === 'output')?.['x_ReasoningTokens']).toBe('12');
    });

    it('streams pages: a page of one rollup row gives the same file', async () => {
      const q = { from: at(9, 1), to: at(12, 1) };
      expect(await exportText(store, { ...q, pageSize: 1 })).toBe(await exportText(store, q));
    });

    it('restricts to a scope, and says why it refuses partial days or an empty range', async () => {
      const eng = records(await exportText(store, { from: at(10, 1), to: at(11, 1), scope: 'acme/eng' }));
      expect(new Set(eng.map((r) => r['SubAccountName']))).toEqual(new Set(['acme/eng']));
      await expect(exportText(store, { from: at(10, 1, 5), to: at(11, 1) })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('whole UTC days') as unknown });
      await expect(exportText(store, { from: at(11, 1), to: at(10, 1) })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('must be after') as unknown });
      await expect(exportText(store, { from: at(10, 1), to: at(11, 1), scope: 'acme/ghost' })).rejects.toMatchObject({ code: 'not_found' });
      // Nothing in range: the header alone.
      expect(await exportText(store, { from: at(1, 1), to: at(1, 2) })).toBe(FOCUS_COLUMNS.join(',') + '\r\n');
    });
  });
}

describe('GET /api/export/focus', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await seed(h.store);
  });
  afterAll(async () => {
    await h?.close();
  });
  const get = (path: string, auth = true) => fetch(`${h.url}${path}`, { headers: auth ? { authorization: `Bearer ${ADMIN_KEY}` } : {} });

  it('streams the CSV to an admin, summing to the ledger', async () => {
    const res = await get('/api/export/focus?from=2026-10-01&to=2026-11-01');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="focus-2026-10-01-2026-11-01.csv"');
    const rows = records(await res.text());
    const ledger = await h.store.ledger.totals({ from: at(10, 1), to: at(11, 1) });
    expect(rows.reduce((s, r) => s + nano(r['BilledCost']!), 0n)).toBe(ledger.effectiveCostNano);
  });

  it('answers a bad request with a JSON error before any CSV', async () => {
    const bad = await get('/api/export/focus?from=2026-10-01T05:00:00Z&to=2026-11-01');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('whole UTC days') as unknown } });
    expect((await get('/api/export/focus?from=2026-10-01')).status).toBe(400);
    expect((await get('/api/export/focus?from=2026-10-01&to=2026-11-01&scope=nope')).status).toBe(404);
    expect((await get('/api/export/focus?from=2026-10-01&to=2026-11-01', false)).status).toBe(401);
  });
});
