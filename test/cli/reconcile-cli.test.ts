/**
 * `tollgate import usage` and `tollgate reconcile` as a user drives them: provider-shaped report
 * files imported into one SQLite file, then the one-screen reconciliation and its JSON. The consoles'
 * CSV exports of the same figures reconcile exactly like the API pages.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../support/cli.ts';
import { recordGatewayAnthropic, recordGatewayOpenAi } from '../fixtures/provider-reports/gateway-ledger.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-reconcile-cli-'));
const dbFile = join(root, 'cli.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FIXTURES = join(import.meta.dirname, '../fixtures/provider-reports');
const fx = (name: string) => join(FIXTURES, name);
const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);

const config = join(root, 'tollgate.yaml');
writeFileSync(
  config,
  ['reconcile:', '  openai:', '    gateway_api_key_ids: [key_gateway]', '    gateway_project_ids: [proj_gateway]', '  anthropic:', '    gateway_workspace_ids: [wrkspc_gateway]', '  tolerance_pct: 1', ''].join('\n'),
);

beforeAll(async () => {
  await withStore((s) => recordGatewayOpenAi(s));
});

describe('tollgate import usage', () => {
  it('imports usage and cost reports and says what it read', async () => {
    expect(await ok('import', 'usage', '--provider', 'openai', fx('openai-usage-bypass.json'))).toBe('Imported 3 openai rows from openai-usage-bypass.json (1 page, 2026-11-03 → 2026-11-03).\n');
    const res = await json<Record<string, unknown>>('import', 'usage', '--provider', 'openai', fx('openai-costs-bypass.json'));
    expect(res).toMatchObject({ provider: 'openai', pages: 1, rows: 4, replaced: 0, usage_days: [], cost_days: ['2026-11-03'], cost_usd: '6.305000000', next_page: null });
  });

  it('re-importing replaces the same days instead of adding to them', async () => {
    expect(await ok('import', 'usage', '--provider', 'openai', fx('openai-costs-bypass.json'))).toBe('Imported 4 openai rows from openai-costs-bypass.json (1 page, 2026-11-03 → 2026-11-03, $6.31 billed). Replaced 4 rows of earlier imports of the same days.\n');
  });

  it('says when the file stops before the last page', async () => {
    const out = await ok('import', 'usage', '--provider', 'anthropic', fx('anthropic-usage-page-1.json'));
    expect(out).toContain('The last page says more follow (next_page page_MjAyNi0xMS0wNA): fetch and import them too.');
  });

  it('refuses bad input with one clear line', async () => {
    expect(await refused('import', 'usage', '--provider', 'azure', fx('openai-usage-exact.json'))).toBe('error: --provider "azure" must be openai or anthropic\n');
    expect(await refused('import', 'usage', '--provider', 'openai', join(root, 'missing.json'))).toBe(`error: cannot read ${join(root, 'missing.json')}: ENOENT\n`);
    // An Anthropic report read as OpenAI's: the page names what it expected.
    expect(await refused('import', 'usage', '--provider', 'openai', fx('anthropic-cost-cents.json'))).toMatch(/^error: anthropic-cost-cents\.json page 1, object: .*expected an OpenAI organization usage or costs page/);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, readFileSync(fx('anthropic-cost-cents.json'), 'utf8').replace('"123.4567891"', '"12,50"'));
    expect(await refused('import', 'usage', '--provider', 'anthropic', bad)).toBe('error: bad.json page 1, data[0].results[0].amount: "12,50" is not a decimal number of cents\n');
  });
});

describe('tollgate reconcile', () => {
  it('prints billed vs seen, coverage and the findings ranked by dollars', async () => {
    const out = await ok('--config', config, 'reconcile', '--from', '2026-11-03', '--to', '2026-11-05', '--provider', 'openai');
    expect(out).toContain('Reconciliation 2026-11-03 → 2026-11-05, tolerance 1.0%');
    expect(out).toContain('billed by the providers  $6.31');
    expect(out).toContain('seen by the gateway      $5.75 on the billed days');
    expect(out).toContain('coverage                 91.2%');
    expect(out).toContain('bypass                   $0.56 via 2 key/project/workspace-days (partly estimated at catalog prices)');
    expect(out).toContain('lines                    1 matched');
    const findings = out.slice(out.indexOf('Findings (2), largest first:'));
    expect(findings.indexOf('key_laptop')).toBeGreaterThan(0);
    expect(findings.indexOf('key_laptop')).toBeLessThan(findings.indexOf('proj_research'));
    expect(findings).toContain("$0.45  bypass  openai/gpt-4o on 2026-11-03: ~$0.45 billed via api key key_laptop, which is not the gateway's");
  });

  it('--json has the totals, every finding with its evidence, the lines and the bypasses', async () => {
    const r = await json<{ totals: Record<string, unknown>; findings: { key: string; evidence: Record<string, unknown> }[]; lines: unknown[]; bypasses: unknown[]; bypass_undetectable: string[] }>(
      '--config', config, 'reconcile', '--from', '2026-11-03', '--to', '2026-11-05', '--provider', 'openai',
    );
    expect(r.totals).toMatchObject({ billed_usd: '6.305000000', billed_nano: '6305000000', seen_on_billed_days_usd: '5.750000000', bypass_usd: '0.555000000', coverage_pct: 91.19 });
    expect(r.findings.map((f) => f.key)).toEqual(['reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_laptop', 'reconcile:bypass:openai/gpt-4o-mini:2026-11-03:project:proj_research']);
    expect(r.findings[1]!.evidence).toMatchObject({ via: 'project', id: 'proj_research', billed_usd: '$0.1050', cost_estimated: false });
    expect(r.lines).toHaveLength(1);
    expect(r.bypasses).toHaveLength(2);
    expect(r.bypass_undetectable).toEqual([]);
  });

  it('without the gateway identity configured, says bypass cannot be detected', async () => {
    const out = await ok('reconcile', '--from', '2026-11-03', '--to', '2026-11-05', '--provider', 'openai');
    expect(out).toContain("Note: reconcile.openai names no gateway keys or projects, so bypass cannot be told apart from the gateway's own traffic.");
    expect(out).toContain('token mismatch');
  });

  it('with no report in the window, says how to import one', async () => {
    expect(await ok('reconcile', '--from', '2026-10-01', '--to', '2026-10-02')).toBe('No provider reports imported for 2026-10-01 → 2026-10-02. Import them with: tollgate import usage --provider openai|anthropic <file>\n');
  });

  it('refuses a bad tolerance or provider', async () => {
    expect(await refused('reconcile', '--from', '2026-11-03', '--to', '2026-11-05', '--tolerance', 'lots')).toBe('error: tolerance "lots" must be a percentage from 0 to 100 with at most 2 decimals, e.g. 1\n');
    expect(await refused('reconcile', '--provider', 'gemini')).toBe('error: --provider "gemini" must be openai or anthropic\n');
  });

  it('is quiet in help when asked', async () => {
    const r = await cli('reconcile', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('bypass');
  });
});

describe('the consoles\' CSV exports, mirrored with the API pages', () => {
  // Two databases with the same ledger: one fed the CSV exports, one the API pages of the same figures.
  const csvDb = join(root, 'csv.db');
  const jsonDb = join(root, 'json.db');
  const csv = cliRunner(() => csvDb);
  const api = cliRunner(() => jsonDb);
  const csvConfig = join(root, 'tollgate-csv.yaml');
  writeFileSync(
    csvConfig,
    // The Console's exports name workspaces (Default) where the Admin API gives ids: both are listed.
    ['reconcile:', '  openai:', '    gateway_api_key_ids: [key_gateway]', '    gateway_project_ids: [proj_gateway]', '  anthropic:', '    gateway_api_key_ids: [apikey_gateway]', '    gateway_workspace_ids: [wrkspc_gateway, Default]', '  tolerance_pct: 1', ''].join('\n'),
  );

  beforeAll(async () => {
    for (const r of [csv, api]) {
      await r.withStore(async (s) => {
        await recordGatewayOpenAi(s);
        await recordGatewayAnthropic(s);
      });
    }
  });

  const reconcileBoth = async (provider: string) => {
    const args = ['--config', csvConfig, 'reconcile', '--from', '2026-11-03', '--to', '2026-11-05', '--provider', provider];
    return { fromCsv: await csv.json<ReconcileJson>(...args), fromApi: await api.json<ReconcileJson>(...args) };
  };
  type ReconcileJson = { totals: Record<string, unknown>; findings: { key: string; evidence: Record<string, unknown> }[]; lines: { day: string; model: string; verdict: string }[]; bypasses: unknown[] };

  it('imports the OpenAI Activity and Cost exports and says it read CSV', async () => {
    expect(await csv.ok('import', 'usage', '--provider', 'openai', fx('openai-usage-exact.csv'))).toBe('Imported 1 openai row from openai-usage-exact.csv (CSV export, 1 line, 2026-11-03 → 2026-11-03).\n');
    const costs = await csv.json<Record<string, unknown>>('import', 'usage', '--provider', 'openai', fx('openai-costs-exact.csv'));
    expect(costs).toMatchObject({ format: 'csv', csv_rows: 2, rows: 2, cost_days: ['2026-11-03'], usage_days: [], cost_usd: '5.750000000', next_page: null });
  });

  it('an exact match: the CSV exports reconcile exactly like the API pages, no findings', async () => {
    await api.ok('import', 'usage', '--provider', 'openai', fx('openai-usage-exact.json'));
    await api.ok('import', 'usage', '--provider', 'openai', fx('openai-costs-exact.json'));
    const { fromCsv, fromApi } = await reconcileBoth('openai');
    expect(fromCsv).toEqual(fromApi);
    expect(fromCsv.totals).toMatchObject({ billed_usd: '5.750000000', seen_on_billed_days_usd: '5.750000000', bypass_usd: '0.000000000', coverage_pct: 100 });
    expect(fromCsv.lines).toEqual([expect.objectContaining({ day: '2026-11-03', model: 'gpt-4o', verdict: 'matched' })]);
    expect(fromCsv.findings).toEqual([]);
  });

  it('a bypassed key and a bypassed project: the same findings from the CSV exports as from the API pages', async () => {
    for (const [runner, ext] of [[csv, 'csv'], [api, 'json']] as const) {
      await runner.ok('import', 'usage', '--provider', 'openai', fx(`openai-usage-bypass.${ext}`));
      await runner.ok('import', 'usage', '--provider', 'openai', fx(`openai-costs-bypass.${ext}`));
    }
    const { fromCsv, fromApi } = await reconcileBoth('openai');
    expect(fromCsv).toEqual(fromApi);
    expect(fromCsv.findings.map((f) => f.key)).toEqual(['reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_laptop', 'reconcile:bypass:openai/gpt-4o-mini:2026-11-03:project:proj_research']);
    expect(fromCsv.totals).toMatchObject({ billed_usd: '6.305000000', bypass_usd: '0.555000000', coverage_pct: 91.19 });
    expect(fromCsv.lines).toEqual([expect.objectContaining({ model: 'gpt-4o', verdict: 'matched' })]);
  });

  it('a price drift: the Anthropic Console exports (BOM, CRLF, display names, USD) show it like the Admin API reports', async () => {
    expect(await csv.ok('import', 'usage', '--provider', 'anthropic', fx('anthropic-usage-2-days.csv'))).toBe('Imported 2 anthropic rows from anthropic-usage-2-days.csv (CSV export, 2 lines, 2026-11-03 → 2026-11-04).\n');
    expect(await csv.ok('import', 'usage', '--provider', 'anthropic', fx('anthropic-cost-2-days.csv'))).toBe('Imported 8 anthropic rows from anthropic-cost-2-days.csv (CSV export, 8 lines, 2026-11-03 → 2026-11-04, $22.68 billed).\n');
    await api.ok('import', 'usage', '--provider', 'anthropic', fx('anthropic-usage-2-pages.json'));
    await api.ok('import', 'usage', '--provider', 'anthropic', fx('anthropic-cost-2-pages.json'));
    const { fromCsv, fromApi } = await reconcileBoth('anthropic');
    expect(fromCsv).toEqual(fromApi);
    expect(fromCsv.lines.map((l) => [l.day, l.model, l.verdict])).toEqual([
      ['2026-11-03', 'claude-sonnet-4', 'matched'],
      ['2026-11-04', 'claude-sonnet-4', 'price_drift'],
    ]);
    expect(fromCsv.findings.map((f) => f.key)).toEqual(['reconcile:price_drift:anthropic/claude-sonnet-4:2026-11-04']);
    expect(fromCsv.findings[0]!.evidence).toMatchObject({ kind: 'price_drift', cost_diff_pct: 9.09 });
  });

  it('reads a CSV by its content when the name does not say (a download saved as .txt)', async () => {
    const saved = join(root, 'costs-download.txt');
    writeFileSync(saved, readFileSync(fx('openai-costs-exact.csv')));
    expect(await csv.json<Record<string, unknown>>('import', 'usage', '--provider', 'openai', saved)).toMatchObject({ format: 'csv', rows: 2, cost_usd: '5.750000000' });
  });

  it('refuses a malformed export with one line naming the file, line and column', async () => {
    const file = (name: string, body: string) => {
      const p = join(root, name);
      writeFileSync(p, body);
      return p;
    };
    expect(await csv.refused('import', 'usage', '--provider', 'openai', file('a.csv', 'start_time,model,num_model_requests\n1793664000,gpt-4o,3\n'))).toBe(
      'error: a.csv is neither an OpenAI Activity export (input_tokens, output_tokens) nor a Cost export (amount_value); the header has start_time, model, num_model_requests\n',
    );
    expect(await csv.refused('import', 'usage', '--provider', 'openai', file('b.csv', 'date,input_tokens\n2026-11-03,5\n'))).toBe(
      'error: b.csv: no output tokens column (looked for output_tokens); the header has date, input_tokens\n',
    );
    expect(await csv.refused('import', 'usage', '--provider', 'anthropic', file('c.csv', 'usage_date_utc,usage_input_tokens_no_cache,usage_output_tokens\n2026-11-03,12,-4\n'))).toBe(
      'error: c.csv line 2, usage_output_tokens: "-4" is not a count of tokens or requests (a whole number)\n',
    );
    expect(await csv.refused('import', 'usage', '--provider', 'anthropic', file('d.csv', 'usage_date_utc,model,cost_usd\n2026-11-03,"Claude Sonnet 4,1.50\n'))).toBe(
      'error: d.csv line 2: a quoted cell is never closed (a \'"\' is missing)\n',
    );
    expect(await csv.refused('import', 'usage', '--provider', 'openai', file('e.csv', 'start_time_iso,end_time_iso,amount_value\n2026-11-03T05:00:00Z,2026-11-03T06:00:00Z,1.00\n'))).toBe(
      'error: e.csv line 2: 2026-11-03T05:00:00.000Z–2026-11-03T06:00:00.000Z is not one whole UTC day; export the report by day (daily buckets, UTC)\n',
    );
    expect(await csv.refused('import', 'usage', '--provider', 'anthropic', file('f.csv', 'usage_date_utc,cost_usd,currency\n2026-11-03,12.00,EUR\n'))).toBe('error: f.csv line 2: amount in EUR; only USD is reconciled\n');
  });
});
