/**
 * Reconciliation of the ledger with provider reports written in the documented shapes of the
 * OpenAI organization Usage/Costs APIs and the Anthropic Admin usage/cost reports: an exact match,
 * a bypassed key and project, a price drift, token mismatches, pagination, idempotent re-import,
 * and cents-as-decimal-strings converted exactly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReconcileOptions } from '../../src/analytics/reconcile.ts';
import { baseModel, reconcile } from '../../src/analytics/reconcile.ts';
import { TollgateError } from '../../src/domain/errors.ts';
import { parseAnthropicReport } from '../../src/ingest/provider-reports/anthropic.ts';
import { parseOpenAiReport } from '../../src/ingest/provider-reports/openai.ts';
import { centsToNano, usdNumberToNano } from '../../src/ingest/provider-reports/report-pages.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { NOV3, NOV4, recordGatewayAnthropic, recordGatewayOpenAi } from '../fixtures/provider-reports/gateway-ledger.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/provider-reports');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const USD = 1_000_000_000n;
const WINDOW = { from: NOV3, to: Date.UTC(2026, 10, 6) };

const root = mkdtempSync(join(tmpdir(), 'tollgate-reconcile-'));
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
async function freshStore(): Promise<Store> {
  const s = await openSqliteStore(join(root, `r${n++}.db`));
  stores.push(s);
  return s;
}

const opts: ReconcileOptions = {
  gateway: { openai: { apiKeyIds: ['key_gateway'], projectIds: ['proj_gateway'] }, anthropic: { apiKeyIds: ['apikey_gateway'], projectIds: ['wrkspc_gateway'] } },
  toleranceBp: 100,
  pricer: createPricer(),
};

async function importFixture(store: Store, provider: 'openai' | 'anthropic', name: string) {
  const report = provider === 'openai' ? parseOpenAiReport(fixture(name), name) : parseAnthropicReport(fixture(name), name);
  return { report, result: await store.providerUsage.import(report, Date.UTC(2026, 10, 10)) };
}

describe('reconciliation', () => {
  it('an exact match: usage and cost agree with the ledger, no findings, full coverage', async () => {
    const store = await freshStore();
    await recordGatewayOpenAi(store);
    await importFixture(store, 'openai', 'openai-usage-exact.json');
    await importFixture(store, 'openai', 'openai-costs-exact.json');
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ day: NOV3, provider: 'openai', model: 'gpt-4o', ledgerModels: ['gpt-4o-2024-08-06'], verdict: 'matched', billedCostNano: 5_750_000_000n, seenCostNano: 5_750_000_000n, seenCalls: 4n });
    expect(r.lines[0]!.billedTokens).toEqual({ input: 1_000_000n, cacheRead: 200_000n, cacheWrite5m: 0n, cacheWrite1h: 0n, output: 300_000n });
    expect(r.lines[0]!.billedTokens).toEqual(r.lines[0]!.seenTokens);
    expect(r.findings).toEqual([]);
    expect(r.bypasses).toEqual([]);
    expect(r.totals).toMatchObject({ billedNano: 5_750_000_000n, seenOnBilledDaysNano: 5_750_000_000n, bypassNano: 0n, coverageBp: 10_000, unreportedDays: [] });
  });

  it('a bypassed key and a bypassed project: each a finding with the key or project it came from, the gateway line still matched', async () => {
    const store = await freshStore();
    await recordGatewayOpenAi(store);
    await importFixture(store, 'openai', 'openai-usage-bypass.json');
    await importFixture(store, 'openai', 'openai-costs-bypass.json');
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    // The cost report bills proj_gateway $6.20: the gateway's $5.75 plus the laptop key's 100k in / 20k out ($0.25 + $0.20 at list).
    const gw = r.lines.find((l) => l.model === 'gpt-4o')!;
    expect(gw).toMatchObject({ verdict: 'matched', billedCostNano: 5_750_000_000n, seenCostNano: 5_750_000_000n });
    expect(r.bypasses).toEqual([
      { day: NOV3, provider: 'openai', model: 'gpt-4o', via: 'api_key', id: 'key_laptop', tokens: { input: 100_000n, cacheRead: 0n, cacheWrite5m: 0n, cacheWrite1h: 0n, output: 20_000n }, requests: 12n, costNano: 450_000_000n, costEstimated: true },
      { day: NOV3, provider: 'openai', model: 'gpt-4o-mini', via: 'project', id: 'proj_research', tokens: { input: 500_000n, cacheRead: 0n, cacheWrite5m: 0n, cacheWrite1h: 0n, output: 50_000n }, requests: 30n, costNano: 105_000_000n, costEstimated: false },
    ]);
    expect(r.findings.map((f) => f.key)).toEqual(['reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_laptop', 'reconcile:bypass:openai/gpt-4o-mini:2026-11-03:project:proj_research']);
    const laptop = r.findings[0]!;
    expect(laptop.title).toBe("openai/gpt-4o on 2026-11-03: ~$0.45 billed via api key key_laptop, which is not the gateway's");
    expect(laptop.summary).toContain('the gateway never saw these calls');
    expect(laptop.evidence).toMatchObject({ kind: 'bypass', via: 'api_key', id: 'key_laptop', cost_estimated: true, tokens: 120_000, requests: 12 });
    // gpt-4o-mini had no gateway traffic and no gateway billing: no line to compare, not a mismatch.
    expect(r.lines.map((l) => l.model)).toEqual(['gpt-4o']);
    expect(r.totals).toMatchObject({ billedNano: 6_305_000_000n, seenOnBilledDaysNano: 5_750_000_000n, bypassNano: 555_000_000n, coverageBp: 9119 });
  });

  it('with no gateway identity configured, nothing is a bypass and the extra spend shows as a token mismatch', async () => {
    const store = await freshStore();
    await recordGatewayOpenAi(store);
    await importFixture(store, 'openai', 'openai-usage-bypass.json');
    const r = await reconcile(store.providerUsage, WINDOW, { ...opts, gateway: {} });
    expect(r.bypasses).toEqual([]);
    expect(r.lines.map((l) => [l.model, l.verdict])).toEqual([
      ['gpt-4o', 'token_mismatch'],
      ['gpt-4o-mini', 'token_mismatch'],
    ]);
  });

  it('a price drift: tokens agree, the provider billed 10% more on one day; ranked by dollars', async () => {
    const store = await freshStore();
    await recordGatewayAnthropic(store);
    await importFixture(store, 'anthropic', 'anthropic-usage-2-pages.json');
    await importFixture(store, 'anthropic', 'anthropic-cost-2-pages.json');
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.lines.map((l) => [l.day, l.model, l.verdict])).toEqual([
      [NOV3, 'claude-sonnet-4', 'matched'],
      [NOV4, 'claude-sonnet-4', 'price_drift'],
    ]);
    expect(r.lines[1]).toMatchObject({ billedCostNano: 11_880_000_000n, seenCostNano: 10_800_000_000n, impactNano: 1_080_000_000n });
    expect(r.findings).toHaveLength(1);
    const f = r.findings[0]!;
    expect(f.key).toBe('reconcile:price_drift:anthropic/claude-sonnet-4:2026-11-04');
    expect(f.title).toBe('anthropic/claude-sonnet-4 on 2026-11-04: billed $11.8800, the ledger priced it at $10.8000 (+9.1%)');
    expect(f.summary).toContain('Tokens agree within 1.0%');
    expect(f.evidence).toMatchObject({ kind: 'price_drift', billed_input_tokens: 3_400_000, seen_input_tokens: 3_400_000, cost_diff_pct: 9.09 });
    // Within the tolerance it is no finding: 10% tolerated.
    const lenient = await reconcile(store.providerUsage, WINDOW, { ...opts, toleranceBp: 1000 });
    expect(lenient.findings).toEqual([]);
  });

  it('a token mismatch: the provider billed calls the gateway did not record', async () => {
    const store = await freshStore();
    await recordGatewayOpenAi(store, 3);
    await importFixture(store, 'openai', 'openai-usage-exact.json');
    await importFixture(store, 'openai', 'openai-costs-exact.json');
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.lines[0]).toMatchObject({ verdict: 'token_mismatch', impactNano: 1_437_500_000n });
    expect(r.findings[0]!.title).toBe('openai/gpt-4o on 2026-11-03: billed 1,500,000 tokens, the ledger recorded 1,125,000');
  });

  it('pagination: an array of pages, JSON Lines of pages and pages imported one by one give the same rows', () => {
    const array = parseAnthropicReport(fixture('anthropic-usage-2-pages.json'), 'a.json');
    const jsonl = parseAnthropicReport(fixture('anthropic-usage-2-pages.jsonl'), 'a.jsonl');
    expect(array.pages).toBe(2);
    expect(array.days.usage).toEqual([NOV3, NOV4]);
    expect(array.rows).toHaveLength(2);
    expect(array.nextPage).toBeNull();
    expect(jsonl.rows).toEqual(array.rows);
    const first = parseAnthropicReport(fixture('anthropic-usage-page-1.json'), 'p1.json');
    expect(first.pages).toBe(1);
    expect(first.nextPage).toBe('page_MjAyNi0xMS0wNA');
    expect(first.rows).toEqual(array.rows.filter((r) => r.day === NOV3));
    expect(array.rows[0]).toMatchObject({ provider: 'anthropic', source: 'usage', model: 'claude-sonnet-4-20250514', apiKeyId: 'apikey_gateway', projectId: 'wrkspc_gateway', inputTokens: 2_000_000n, cacheReadTokens: 1_000_000n, cacheWrite5mTokens: 400_000n, cacheWrite1hTokens: 0n, outputTokens: 200_000n });
  });

  it('pagination across files: page 1 then page 2 imported separately reconcile like the whole report', async () => {
    const store = await freshStore();
    await recordGatewayAnthropic(store);
    await importFixture(store, 'anthropic', 'anthropic-usage-page-1.json');
    const page2 = JSON.stringify((JSON.parse(fixture('anthropic-usage-2-pages.json')) as unknown[])[1]);
    await store.providerUsage.import(parseAnthropicReport(page2, 'p2.json'), Date.UTC(2026, 10, 10));
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.lines.map((l) => [l.day, l.verdict])).toEqual([
      [NOV3, 'matched'],
      [NOV4, 'matched'],
    ]);
  });

  it('re-importing the same file replaces, never double counts', async () => {
    const store = await freshStore();
    await recordGatewayAnthropic(store);
    const first = await importFixture(store, 'anthropic', 'anthropic-cost-2-pages.json');
    const again = await importFixture(store, 'anthropic', 'anthropic-cost-2-pages.json');
    expect(first.result).toMatchObject({ rows: 8, replaced: 0 });
    expect(again.result).toMatchObject({ rows: 8, replaced: 8 });
    expect(await store.providerUsage.rows(WINDOW)).toHaveLength(8);
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.totals.billedNano).toBe(22_680_000_000n);
  });

  it('cents as decimal strings convert to nano-USD exactly', async () => {
    expect(centsToNano('123.45')).toBe(1_234_500_000n);
    expect(centsToNano('123.4567891')).toBe(1_234_567_891n);
    expect(centsToNano('0.0000001')).toBe(1n);
    // Half a nano-USD rounds away from zero; below half rounds to nothing.
    expect(centsToNano('0.00000005')).toBe(1n);
    expect(centsToNano('0.00000004999')).toBe(0n);
    expect(centsToNano('99999999999999999.99')).toBe(999_999_999_999_999_999_900_000n);
    expect(centsToNano('12,50')).toBeNull();
    expect(usdNumberToNano(0.06)).toBe(60_000_000n);
    expect(usdNumberToNano(0.1 + 0.2)).toBe(300_000_000n);
    expect(usdNumberToNano(1.5e-7)).toBe(150n);
    const store = await freshStore();
    await importFixture(store, 'anthropic', 'anthropic-cost-cents.json');
    const rows = await store.providerUsage.rows(WINDOW);
    expect(rows.map((r) => r.costNano).reduce((a, b) => a! + b!, 0n)).toBe(1_234_567_893n);
  });

  it('names the page and field of malformed input', () => {
    const pages = JSON.parse(fixture('anthropic-usage-2-pages.json')) as { data: { results: Record<string, unknown>[] }[] }[];
    pages[1]!.data[0]!.results[0]!['output_tokens'] = '200000';
    expect(() => parseAnthropicReport(JSON.stringify(pages), 'bad.json')).toThrow(TollgateError);
    expect(() => parseAnthropicReport(JSON.stringify(pages), 'bad.json')).toThrow(/^bad\.json page 2, data\[0\]\.results\[0\]\.output_tokens: .*expected number/);
    const openai = JSON.parse(fixture('openai-usage-exact.json')) as { data: { results: Record<string, unknown>[] }[] };
    openai.data[0]!.results[0]!['input_tokens'] = -1;
    expect(() => parseOpenAiReport(JSON.stringify(openai), 'o.json')).toThrow(/^o\.json page 1, data\[0\]\.results\[0\]\.input_tokens: /);
    const hourly = JSON.parse(fixture('openai-usage-exact.json')) as { data: { end_time: number }[] };
    hourly.data[0]!.end_time = 1793667600;
    expect(() => parseOpenAiReport(JSON.stringify(hourly), 'h.json')).toThrow('request the report with bucket_width=1d');
    const cost = JSON.parse(fixture('anthropic-cost-cents.json')) as { data: { results: Record<string, unknown>[] }[] };
    cost.data[0]!.results[1]!['amount'] = '12,50';
    expect(() => parseAnthropicReport(JSON.stringify(cost), 'c.json')).toThrow('c.json page 1, data[0].results[1].amount: "12,50" is not a decimal number of cents');
    expect(() => parseOpenAiReport('{"object":"page"', 'x.json')).toThrow('x.json line 1 is not JSON');
    expect(() => parseAnthropicReport('{"data":[], "has_more":"no"}', 'y.json')).toThrow(/^y\.json page 1, has_more: /);
  });

  it('matches dated snapshots by their base name', () => {
    expect(baseModel('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(baseModel('claude-sonnet-4-20250514')).toBe('claude-sonnet-4');
    expect(baseModel('gpt-4o-mini')).toBe('gpt-4o-mini');
  });

  it('costs without a model are compared over all models of the day', async () => {
    const store = await freshStore();
    await recordGatewayOpenAi(store);
    const page = { object: 'page', data: [{ object: 'bucket', start_time: NOV3 / 1000, end_time: NOV4 / 1000, results: [{ object: 'organization.costs.result', amount: { value: 5.75, currency: 'usd' }, line_item: null, project_id: null }] }], has_more: false, next_page: null };
    await store.providerUsage.import(parseOpenAiReport(JSON.stringify(page), 'c.json'), 0);
    const r = await reconcile(store.providerUsage, WINDOW, opts);
    expect(r.lines).toEqual([expect.objectContaining({ model: '*', verdict: 'matched', billedCostNano: 5n * USD + 750_000_000n, billedTokens: null })]);
  });
});
