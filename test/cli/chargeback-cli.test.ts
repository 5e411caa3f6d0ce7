/**
 * Chargeback statements, adjustments, team flags, escalation advice and the FOCUS export as a user
 * drives them from the CLI: in-process through `run()`, on a fresh SQLite file per test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/domain/money.ts';
import { usage } from '../../src/domain/usage.ts';
import { makeEvent } from '../support/events.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-chargeback-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BOT = 'acme/support/helpdesk/triage-bot';
const SONNET = 'claude-sonnet-4-5-20250929';
let dbFile: string;
let n = 0;

const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);

beforeEach(async () => {
  dbFile = join(root, `t${n++}.db`);
  await ok('scopes', 'create', BOT);
  await ok('scopes', 'create', 'acme/eng/ci/review-bot');
  await ok('budgets', 'set', '--scope', 'acme/support', '--amount', '100', '--period', 'month', '--action', 'chargeback');
  await ok('budgets', 'set', '--scope', 'acme/eng', '--amount', '50', '--period', 'month');
  await withStore(async (s) => {
    const [o, t, p, a] = (await s.directory.ensureScope(BOT, { create: false, actor: 'test' })).nodes.map((x) => x.id);
    const chain = { orgId: o!, orgName: 'acme', teamId: t!, teamName: 'support', projectId: p!, projectName: 'helpdesk', agentId: a!, agentName: 'triage-bot' };
    const call = (startedAt: number, inputTokens: number, outputTokens: number, cost: string) =>
      makeEvent(chain, { startedAt, requestedModel: SONNET, servedModel: SONNET, usage: usage({ inputTokens, outputTokens }), listCostNano: usdToNano(cost), effectiveCostNano: usdToNano(cost) });
    // $3/M input, $15/M output: 1M input + 100k output = $4.50; 2M input = $6.00.
    await s.ledger.record([call(Date.UTC(2026, 9, 2, 9), 1_000_000, 100_000, '4.50'), call(Date.UTC(2026, 9, 20, 15), 2_000_000, 0, '6.00'), call(Date.UTC(2026, 10, 1, 1), 1, 0, '99')]);
  });
});

interface StatementJson {
  opening_balance_usd: string;
  debits_usd: string;
  credits_usd: string;
  closing_balance_usd: string;
  projects: { project: string; debit_usd: string; agents: { agent: string; items: { token_type: string; quantity: string; debit_usd: string }[] }[] }[];
  adjustments: { kind: string; amount_usd: string; reason: string; actor: string }[];
  lines: { rollup: string; bucket: string; agent_id: string; token_type: string; debit_nano: string }[];
}

describe('tollgate report chargeback', () => {
  it('prints the statement a finance lead reads: balances, debits per project and agent, line items', async () => {
    const out = await ok('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10');
    expect(out).toContain('Chargeback statement: acme/support, October 2026 (2026-10-01T00:00Z to 2026-11-01T00:00Z, UTC)\n');
    expect(out).toContain('Opening balance: $100.00');
    expect(out).toMatch(/helpdesk\s+\$10\.5000\s+100\.00%/);
    expect(out).toMatch(/triage-bot\s+2\s+\$10\.5000/);
    expect(out).toMatch(/helpdesk\/triage-bot\s+claude-sonnet-4-5-20250929\s+input tokens \(uncached\)\s+3,000,000\s+\$9\.0000\s+\$9\.0000/);
    expect(out).toMatch(/helpdesk\/triage-bot\s+claude-sonnet-4-5-20250929\s+output tokens\s+100,000\s+\$1\.5000\s+\$1\.5000/);
    expect(out).toMatch(/Opening balance\s+\$100\.0000\nDebits\s+-\$10\.5000\nClosing balance\s+\$89\.5000\n/);
  });

  it('applies adjustments: a credit with its reason and actor, audited', async () => {
    const rec = await ok('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', '-12.50', '--kind', 'credit', '--reason', 'outage retries');
    expect(rec).toMatch(/^Recorded a credit of -\$12\.50 on acme\/support's 2026-10 statement \(adj_[0-9a-f]{24}\): outage retries\n/);
    await ok('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount=0.25', '--kind', 'correction', '--reason', 'GPU hours');
    const s = await json<StatementJson>('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10');
    expect(s).toMatchObject({ opening_balance_usd: '100.000000000', debits_usd: '10.500000000', credits_usd: '12.250000000', closing_balance_usd: '101.750000000' });
    expect(s.adjustments.map((a) => [a.kind, a.amount_usd, a.reason, a.actor])).toEqual([
      ['credit', '-12.500000000', 'outage retries', 'cli:tester'],
      ['correction', '0.250000000', 'GPU hours', 'cli:tester'],
    ]);
    const table = await ok('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10');
    expect(table).toMatch(/Credits and corrections\s+\+\$12\.2500\nClosing balance\s+\$101\.7500\n/);
    expect(await ok('chargeback', 'adjustments', '--team', 'acme/support')).toMatch(/2026-10\s+\d{4}-\d\d-\d\d\s+credit\s+-\$12\.50\s+outage retries\s+cli:tester/);
    await withStore(async (st) => expect((await st.directory.audit({ target: 'acme/support', limit: 2 })).map((a) => a.action)).toEqual(['chargeback.adjust', 'chargeback.adjust']));
  });

  it('lines in JSON and CSV trace to rollup rows and add up exactly', async () => {
    const s = await json<StatementJson>('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10');
    const agentId = await withStore(async (st) => (await st.directory.getScope(BOT))!.id);
    expect(s.lines.map((l) => [l.rollup, l.bucket, l.agent_id, l.token_type, l.debit_nano])).toEqual([
      ['rollup_daily', '2026-10-02T00:00:00.000Z', agentId, 'input', '3000000000'],
      ['rollup_daily', '2026-10-02T00:00:00.000Z', agentId, 'output', '1500000000'],
      ['rollup_daily', '2026-10-20T00:00:00.000Z', agentId, 'input', '6000000000'],
    ]);
    const csv = await ok('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10', '--format', 'csv');
    const rows = csv.trimEnd().split('\r\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['entry', 'rollup', 'bucket', 'project', 'agent', 'agent_id', 'provider', 'model', 'token_type', 'quantity', 'list_usd', 'amount_usd', 'reason']);
    expect(rows.slice(1).map((r) => [r[0], r[11]])).toEqual([
      ['opening', '100.000000000'],
      ['debit', '3.000000000'],
      ['debit', '1.500000000'],
      ['debit', '6.000000000'],
      ['closing', '89.500000000'],
    ]);
  });

  it('refuses with one clear line what it cannot do, and records nothing', async () => {
    expect(await refused('report', 'chargeback', '--team', 'acme/eng', '--month', '2026-10')).toContain('acme/eng is not in chargeback mode (its budget is showback per month)');
    expect(await refused('report', 'chargeback', '--team', 'acme/support', '--month', 'October')).toContain('write it as YYYY-MM');
    expect(await refused('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', '12.50', '--kind', 'credit', '--reason', 'x')).toContain('give it as a negative amount (-12.50)');
    expect(await refused('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', 'lots', '--kind', 'credit', '--reason', 'x')).toContain('cannot read amount "lots"');
    expect(await refused('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', '-1', '--kind', 'credit', '--reason', ' ')).toContain('say why');
    expect(await refused('chargeback', 'adjust', '--team', 'acme', '--month', '2026-10', '--amount', '-1', '--kind', 'credit', '--reason', 'x')).toContain('"acme" is an org; give a team');
    // Usage errors: a missing option, a kind or format outside the choices.
    expect((await cli('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', '-1', '--kind', 'credit')).code).toBe(2);
    expect((await cli('chargeback', 'adjust', '--team', 'acme/support', '--month', '2026-10', '--amount', '-1', '--kind', 'refund', '--reason', 'x')).code).toBe(2);
    expect((await cli('report', 'chargeback', '--team', 'acme/support', '--month', '2026-10', '--format', 'pdf')).code).toBe(2);
    expect(await ok('chargeback', 'adjustments', '--team', 'acme/support')).toBe('No adjustments for acme/support.\n');
  });
});

describe('tollgate teams flag and report escalation', () => {
  it('sets and shows flags, and the advice follows them (never applying anything)', async () => {
    expect(await ok('teams', 'flag', '--team', 'acme/eng')).toBe('acme/eng: does not bill its own customers; compliance does not require hard limits (never set).\n');
    expect(await ok('teams', 'flag', '--team', 'acme/eng', '--bills-customers', 'yes')).toBe(
      'acme/eng: bills its own customers; compliance does not require hard limits.\nSee what it means for the team with: tollgate report escalation --scope acme/eng\n',
    );
    const set = await json<{ flags: { bills_customers: boolean; compliance_hard_limits: boolean }; before: { bills_customers: boolean } }>('teams', 'flag', '--team', 'acme/eng', '--compliance-hard-limits', 'yes');
    expect(set).toMatchObject({ flags: { bills_customers: true, compliance_hard_limits: true }, before: { bills_customers: true } });
    expect(await ok('teams', 'flags')).toMatch(/acme\/eng\s+yes\s+yes\s+\d{4}-/);

    const advice = await json<{ team: string; mode: string; recommend_chargeback: boolean; advice: string }[]>('report', 'escalation');
    expect(advice.map((a) => [a.team, a.mode, a.recommend_chargeback])).toEqual([
      ['acme/eng', 'showback', true],
      ['acme/support', 'chargeback', false],
    ]);
    expect(advice[0]!.advice).toContain('it bills its own customers for this spend; compliance requires hard limits on its spend');
    const table = await ok('report', 'escalation');
    expect(table).toMatch(/^team\s+mode\s+budget\s+last 3 periods\s+over\s+bills customers\s+hard limits\s+advice\n/);
    expect(table).toMatch(/acme\/eng\s+showback\s+\$50\.00\/month\s+.*\s+yes\s+yes\s+move to chargeback/);
    expect(table).toMatch(/acme\/support\s+chargeback\s+\$100\.00\/month\s+—\s+—\s+no\s+no\s+already chargeback/);
    expect(table).toContain('Advice only: no budget was changed.');
    const csv = await ok('report', 'escalation', '--format', 'csv');
    expect(csv.split('\r\n')[0]).toBe('team,mode,budget_usd,budget_period,periods,over_count,bills_customers,compliance_hard_limits,recommend_chargeback,advice');
    expect((await json<{ action: string }[]>('budgets', 'list')).map((b) => b.action)).toEqual(['showback', 'chargeback']);

    expect((await cli('teams', 'flag', '--team', 'acme/eng', '--bills-customers', 'maybe')).code).toBe(2);
    expect(await refused('teams', 'flag', '--team', 'acme/eng/ci', '--bills-customers', 'no')).toContain('is a project; give a team');
  });
});

describe('tollgate export focus', () => {
  it('writes the FOCUS CSV to a file or to standard output', async () => {
    const file = join(root, `focus-${n}.csv`);
    expect(await ok('export', 'focus', '--from', '2026-10-01', '--to', '2026-11-01', '--out', file)).toMatch(/^Wrote 3 FOCUS rows \([\d,]+ bytes\) to .*\.csv\.\n$/);
    const text = readFileSync(file, 'utf8');
    expect(existsSync(`${file}.partial`)).toBe(false);
    const [header, ...rows] = text.trimEnd().split('\r\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['BilledCost', 'BillingAccountId', 'BillingAccountName']);
    expect(rows.map((r) => r.split(',')[0])).toEqual(['3.000000000', '1.500000000', '6.000000000']);
    expect(await ok('export', 'focus', '--from', '2026-10-01', '--to', '2026-11-01')).toBe(text);
  });

  it('refuses partial days and missing bounds', async () => {
    expect(await refused('export', 'focus', '--from', '2026-10-01T12:00:00Z', '--to', '2026-11-01')).toContain('the FOCUS export covers whole UTC days');
    expect(await refused('export', 'focus', '--from', 'yesterday', '--to', '2026-11-01')).toContain('cannot read --from "yesterday"');
    expect((await cli('export', 'focus', '--from', '2026-10-01')).code).toBe(2);
    const file = join(root, 'never.csv');
    expect(await refused('export', 'focus', '--from', '2026-11-01', '--to', '2026-10-01', '--out', file)).toContain('must be after');
    expect(existsSync(file) || existsSync(`${file}.partial`)).toBe(false);
  });
});
