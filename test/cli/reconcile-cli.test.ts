/**
 * `tollgate import usage` and `tollgate reconcile` as a user drives them: provider-shaped report
 * files imported into one SQLite file, then the one-screen reconciliation and its JSON.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../support/cli.ts';
import { recordGatewayOpenAi } from '../fixtures/provider-reports/gateway-ledger.ts';

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
