/**
 * Outcome types, outcome imports and the unit-economics and board reports as a user drives them
 * from the CLI: in-process through `run()`, on one SQLite file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { makeEvent } from '../support/events.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-outcomes-cli-'));
const dbFile = join(root, 'cli.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BOT = 'acme/support/helpdesk/triage-bot';
const USD = 1_000_000_000n;

const { cli, ok, withStore } = cliRunner(() => dbFile);

function file(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

let chain: ScopeChain;
beforeAll(async () => {
  await ok('scopes', 'create', BOT);
  await ok('scopes', 'create', 'acme/eng/ci/fixer');
  const [o, t, p, a] = await withStore(async (s) => (await s.directory.ensureScope(BOT, { create: false, actor: 't' })).nodes);
  chain = { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
});

describe('outcomes types', () => {
  it('sets, replaces and lists types', async () => {
    const set = await ok('outcomes', 'types', 'set', '--project', 'acme/support/helpdesk', '--type', 'resolved_ticket', '--name', 'Resolved ticket', '--unit', 'ticket', '--baseline', '6.00', '--target', '1.50');
    expect(set).toContain('Set outcome type resolved_ticket of acme/support/helpdesk: "Resolved ticket", counted per ticket, human baseline $6.00 per ticket, target $1.50 per ticket.');
    const again = JSON.parse(await ok('outcomes', 'types', 'set', '--project', 'acme/support/helpdesk', '--type', 'resolved_ticket', '--name', 'Resolved ticket', '--unit', 'ticket', '--baseline', '$6', '--json')) as Record<string, unknown>;
    expect(again).toMatchObject({ replaced: true, type: { baseline_usd: '6.000000000', target_usd: null } });
    await ok('outcomes', 'types', 'set', '--project', 'acme/support/helpdesk', '--type', 'resolved_ticket', '--name', 'Resolved ticket', '--unit', 'ticket', '--baseline', '6.00', '--target', '1.50');
    await ok('outcomes', 'types', 'set', '--project', 'acme/eng/ci', '--type', 'fixed_test', '--name', 'Fixed test', '--unit', 'test', '--baseline', '30');
    const list = await ok('outcomes', 'types', 'list');
    expect(list.split('\n')[0]).toMatch(/^project\s+type\s+name\s+unit\s+human baseline\s+target \$\/outcome\s+updated$/);
    expect(list).toMatch(/acme\/support\/helpdesk\s+resolved_ticket\s+Resolved ticket\s+ticket\s+\$6\.00\s+\$1\.50/);
    expect(list).toMatch(/acme\/eng\/ci\s+fixed_test\s+Fixed test\s+test\s+\$30\.00\s+—/);
    const json = JSON.parse(await ok('outcomes', 'types', 'list', '--scope', 'acme/eng', '--json')) as { type: string }[];
    expect(json.map((t) => t.type)).toEqual(['fixed_test']);
    const audit = await ok('audit', '--target', 'acme/support/helpdesk', '--json');
    expect(audit).toContain('outcome_type.update');
  });

  it('refuses bad input (exit 1) and usage errors (exit 2)', async () => {
    const team = await cli('outcomes', 'types', 'set', '--project', 'acme/support', '--type', 'x', '--name', 'X', '--unit', 'u', '--baseline', '1');
    expect(team.code).toBe(1);
    expect(team.err).toMatch(/^error: outcome types belong to a project \(org\/team\/project\); "acme\/support" is a team\n$/);
    const money = await cli('outcomes', 'types', 'set', '--project', 'acme/support/helpdesk', '--type', 'x', '--name', 'X', '--unit', 'u', '--baseline', '1,5');
    expect(money.code).toBe(1);
    expect(money.err).toMatch(/--baseline "1,5": .*commas must separate thousands/);
    const usage = await cli('outcomes', 'types', 'set', '--project', 'acme/support/helpdesk', '--type', 'x');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/required option/);
    expect(usage.out).toBe('');
  });
});

describe('import outcomes', () => {
  it('refuses a file with a bad row, naming its line, and imports nothing', async () => {
    const csv = file(
      'bad.csv',
      'type,count,occurred_at,trace_id,value_usd,idempotency_key\r\n' +
        'resolved_ticket,1,2026-10-05T10:00:00Z,t-1,,ticket-1\r\n' +
        'resolved_ticket,two,2026-10-05T11:00:00Z,,,ticket-2\r\n' +
        '"resolved_ticket",1,"2026-10-05","a ""quoted""\nmulti-line trace",,ticket-3\r\n' +
        'merged_pr,1,2026-10-05,,,ticket-4\r\n',
    );
    const r = await cli('import', 'outcomes', csv, '--scope', BOT);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'line 3: count must be a whole number, got "two"\n' +
        'line 6: type "merged_pr" is not configured for project acme/support/helpdesk (tollgate outcomes types set --project acme/support/helpdesk --type merged_pr …)\n' +
        'error: 2 bad rows in bad.csv: nothing was imported (fix them and run the import again; rows already imported are skipped by their keys)\n',
    );
    expect(await withStore(async (s) => s.outcomes.counts({ from: 0, to: Date.now() }))).toEqual([]);
  });

  it('imports CSV and JSONL; duplicates (in the file and from before) are ignored and counted', async () => {
    const csv = file(
      'good.csv',
      '\uFEFFtype,count,occurred_at,trace_id,value_usd,idempotency_key\n' +
        'resolved_ticket,1,2026-10-05T10:00:00Z,t-1,,ticket-1\n' +
        'resolved_ticket,2,2026-10-06T10:00:00Z,t-2,"1,250.00",ticket-2\n' +
        'resolved_ticket,1,2026-10-06T10:00:00Z,,,ticket-1\n' +
        '\n',
    );
    expect(await ok('import', 'outcomes', csv, '--scope', BOT)).toBe('Imported 2 outcomes from good.csv (3 rows). 1 duplicate ignored (key already recorded): ticket-1.\n');
    const jsonl = file(
      'more.jsonl',
      '{"type":"resolved_ticket","count":1,"occurred_at":"2026-10-07T10:00:00Z","trace_id":"t-3","idempotency_key":"ticket-3"}\n' +
        '\n' +
        '{"type":"resolved_ticket","count":5,"occurred_at":1791367200000,"idempotency_key":"ticket-2"}\n' +
        '{"type":"fixed_test","occurred_at":"2026-10-07","idempotency_key":"fix-1","scope":"acme/eng/ci/fixer"}\n',
    );
    const res = JSON.parse(await ok('import', 'outcomes', jsonl, '--scope', BOT, '--json')) as Record<string, unknown>;
    expect(res).toMatchObject({ rows: 3, inserted: 2, duplicates: ['ticket-2'] });
    const counts = await withStore(async (s) => s.outcomes.counts({ from: 0, to: Date.now(), within: { tier: 'org', id: chain.orgId } }));
    expect(counts.map((c) => [c.type, c.outcomes, c.valueNano]).sort()).toEqual([
      ['fixed_test', 1n, 0n],
      ['resolved_ticket', 4n, 1250n * USD],
    ]);
  });

  it('says what is wrong with the file itself', async () => {
    const bad = await cli('import', 'outcomes', file('x.txt', 'hello'), '--scope', BOT);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.err).toMatch(/cannot tell the format of x\.txt/);
    const header = await cli('import', 'outcomes', file('h.csv', 'type,when,idempotency_key\n'), '--scope', BOT);
    expect(header.err).toMatch(/line 1: unknown column "when"/);
    const json = await cli('import', 'outcomes', file('j.jsonl', '{"type":\n'), '--scope', BOT);
    expect(json.err).toMatch(/^line 1: not valid JSON/);
    const noScope = await cli('import', 'outcomes', file('n.jsonl', '{"type":"resolved_ticket","occurred_at":"2026-10-07","idempotency_key":"n-1"}\n'));
    expect(noScope.err).toMatch(/^line 1: no agent: give --scope/);
    const missing = await cli('import', 'outcomes', join(root, 'nope.csv'), '--scope', BOT);
    expect(missing.err).toMatch(/cannot read .*nope\.csv: ENOENT/);
  });
});

describe('reports', () => {
  beforeAll(async () => {
    // October: helpdesk $2.00 in 4 calls, two of them on trace t-1 ($0.50 each), one on t-2; CI $9 with one fixed test.
    await withStore(async (s) => {
      const [o, t, p, a] = (await s.directory.ensureScope('acme/eng/ci/fixer', { create: false, actor: 't' })).nodes;
      const fixer = { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
      const at = Date.UTC(2026, 9, 5, 9);
      await s.ledger.record([
        makeEvent(chain, { startedAt: at, traceId: 't-1', effectiveCostNano: 500_000_000n }),
        makeEvent(chain, { startedAt: at + 1, traceId: 't-1', effectiveCostNano: 500_000_000n }),
        makeEvent(chain, { startedAt: at + 2, traceId: 't-2', effectiveCostNano: 600_000_000n }),
        makeEvent(chain, { startedAt: at + 3, effectiveCostNano: 400_000_000n }),
        makeEvent(fixer, { startedAt: at, effectiveCostNano: 9n * USD }),
      ]);
    });
  });

  it('unit economics as a table', async () => {
    const out = await ok('report', 'unit-economics', '--scope', 'acme', '--month', '2026-10');
    expect(out).toContain('Unit economics of acme, 2026-10 (UTC)');
    expect(out).toContain('Spend in scope: $11.00');
    // Helpdesk: $2.00 / 4 tickets = $0.50; 4 × $6 = $24; savings $22; ROI 1,100%. CI: $9 / 1 = $9; savings $21; ROI 233%.
    expect(out).toMatch(/Resolved ticket \(acme\/support\/helpdesk\)\s+4 tickets\s+\$2\.00\s+\$0\.5000\s+\$6\.00\/ticket\s+\$22\.00\s+\+1,100%\s+\$1\.50 ok/);
    expect(out).toMatch(/Fixed test \(acme\/eng\/ci\)\s+1 test\s+\$9\.00\s+\$9\.0000\s+\$30\.00\/test\s+\$21\.00\s+\+233%\s+—/);
    expect(out).toContain('Measured workloads: $11.00 spent, $54.00 of human work at baseline cost: savings $43.00, ROI +391%');
    // Per trace: t-1 cost $1.00 for 1 ticket, t-2 $0.60 for 2 → $0.30; t-3 matched no call.
    expect(out).toMatch(/Resolved ticket \(acme\/support\/helpdesk\)\s+2 \(\+1 unmatched\)\s+\$0\.3000\s+\$1\.0000\s+\$1\.0000\s+t-1: \$1\.0000\/outcome \(2 calls\)/);
    expect(out).toMatch(/2026-10-05\s+\$2\.00\s+4\s+\$0\.5000/);
    expect(out).toContain('No drift in the latest week.');
  });

  it('unit economics as JSON and CSV', async () => {
    const j = JSON.parse(await ok('report', 'unit-economics', '--scope', 'acme/support', '--month', '2026-10', '--format', 'json')) as { workloads: Record<string, unknown>[] };
    expect(j.workloads[0]).toMatchObject({ cost_usd: '2.000000000', outcomes: '4', cost_per_outcome_usd: '0.500000000', savings_usd: '22.000000000', roi: '11.0000' });
    expect(JSON.parse(await ok('report', 'unit-economics', '--scope', 'acme/support', '--month', '2026-10', '--json'))).toEqual(j);
    const csv = await ok('report', 'unit-economics', '--scope', 'acme/support', '--month', '2026-10', '--format', 'csv');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(
      'row,scope,project,outcome_type,period_from,period_to,week,cost_usd,outcomes,cost_per_outcome_usd,baseline_usd,baseline_value_usd,savings_usd,roi,target_usd,target_status,traces,p50_usd,p90_usd,p99_usd,change_vs_reference,drift_flagged,drift_cause,drift_evidence',
    );
    expect(lines[1]).toBe(
      'workload,acme/support,acme/support/helpdesk,resolved_ticket,2026-10-01T00:00:00.000Z,2026-11-01T00:00:00.000Z,,2.000000000,4,0.500000000,6.000000000,24.000000000,22.000000000,11.0000,1.500000000,ok,2,0.300000000,1.000000000,1.000000000,,,,',
    );
    expect(lines.filter((l) => l.startsWith('week,'))).toHaveLength(5);
    expect(lines.at(-2)).toBe('total,acme/support,,,2026-10-01T00:00:00.000Z,2026-11-01T00:00:00.000Z,,2.000000000,,,,24.000000000,22.000000000,11.0000,,,,,,,,,,');
    expect(lines.at(-1)).toBe('');
  });

  it('unit economics: bad options', async () => {
    expect((await cli('report', 'unit-economics', '--scope', 'acme', '--month', '2026-10', '--from', '2026-10-01')).err).toMatch(/either a month or from\/to/);
    expect((await cli('report', 'unit-economics', '--scope', 'acme', '--format', 'xml')).err).toMatch(/--format is table, json or csv/);
    expect((await cli('report', 'unit-economics', '--scope', 'acme', '--drift-band', 'x')).err).toMatch(/drift band "x"/);
    expect((await cli('report', 'unit-economics', '--scope', 'nope')).err).toMatch(/scope "nope" does not exist/);
    expect((await cli('report', 'unit-economics')).code).toBe(2);
  });

  it('board summary as Markdown and JSON', async () => {
    await ok('budgets', 'set', '--scope', 'acme', '--amount', '1000', '--period', 'year', '--action', 'plan');
    const md = await ok('report', 'board', '--quarter', '2026-Q4');
    expect(md).toMatch(/^# acme: AI spend, 2026-Q4\n/);
    expect(md).toContain('- **Spend this quarter: $11.00** (2026-Q3: $0.00, —)');
    expect(md).toContain('- **Annual plan 2026: $1,000.00**');
    expect(md).toContain('| acme/eng | $9.00 | 82% | $0.00 | new |');
    expect(md).toContain('| Resolved ticket (acme/support/helpdesk) | 4 tickets | $2.00 | $0.5000 | — | $6.00 | $22.00 | +1,100% |');
    expect(md).toContain('1. **acme/eng/ci**: $9.00, up $9.00 from $0.00 (new)');
    const j = JSON.parse(await ok('report', 'board', '--quarter', '2026-Q4', '--format', 'json')) as Record<string, unknown>;
    expect(j).toMatchObject({ org: 'acme', spend_usd: '11.000000000', plan: { amount_usd: '1000.000000000' } });
    expect((await cli('report', 'board', '--quarter', '2026-10')).err).toMatch(/cannot read quarter "2026-10": use YYYY-Qn/);
  });
});
