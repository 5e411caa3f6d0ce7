/**
 * `tollgate report showback` as a user drives it: in-process through `run()`, on a small SQLite
 * ledger whose figures are easy to check by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScopeChain } from '../../src/domain/scope.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { makeEvent } from '../support/events.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-showback-cli-'));
const dbFile = join(root, 'ledger.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const USD = 1_000_000_000n;
const MID_OCT = Date.UTC(2026, 9, 15, 12);
const MID_SEP = Date.UTC(2026, 8, 15, 12);

async function chainFor(store: Store, path: string): Promise<ScopeChain> {
  const { nodes } = await store.directory.ensureScope(path, { create: true, actor: 'test' });
  const [o, t, p, a] = nodes;
  return { orgId: o!.id, orgName: o!.slug, teamId: t!.id, teamName: t!.slug, projectId: p!.id, projectName: p!.slug, agentId: a!.id, agentName: a!.slug };
}

/**
 * October: support $6.00 (helpdesk/triage-bot: sonnet $5.00, haiku $1.00), eng $2.00 (ci/fixer, opus).
 * September: support $4.00. Support has a $10 month budget and 3 resolved tickets in October.
 */
beforeAll(async () => {
  const store = await openSqliteStore(dbFile);
  try {
    const triage = await chainFor(store, 'acme/support/helpdesk/triage-bot');
    const fixer = await chainFor(store, 'acme/eng/ci/fixer');
    const ev = (chain: ScopeChain, model: string, usd: bigint, startedAt: number) =>
      makeEvent(chain, { startedAt, servedModel: model, requestedModel: model, effectiveCostNano: usd, listCostNano: usd });
    await store.ledger.record([
      ev(triage, 'claude-sonnet-4-5', 5n * USD, MID_OCT),
      ev(triage, 'claude-haiku-4-5', 1n * USD, MID_OCT),
      ev(fixer, 'claude-opus-4-5', 2n * USD, MID_OCT),
      ev(triage, 'claude-sonnet-4-5', 4n * USD, MID_SEP),
    ]);
    await store.controls.setBudget({ scopePath: 'acme/support', amountNano: 10n * USD, period: 'month', action: 'showback', thresholds: [100], timeZone: 'UTC', degradeTo: null }, 'test');
    await store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'resolved_ticket', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6n * USD, targetNano: null }, 'test');
    await store.outcomes.record([{ chain: triage, keyId: null, type: 'resolved_ticket', count: 3, occurredAt: MID_OCT, traceId: null, valueNano: null, idempotencyKey: 'o1' }]);
  } finally {
    await store.close();
  }
});

const { cli, ok } = cliRunner(() => dbFile);

describe('tollgate report showback', () => {
  it('prints a table per team, then where each team\'s money went', async () => {
    expect(await ok('report', 'showback', '--month', '2026-10')).toBe(
      [
        'Showback for acme, 2026-10 (per team; effective cost after discounts, UTC month)',
        'Total $8.00, +$4.00 (+100.0%) vs 2026-09; 3 outcomes at $2.67 each',
        '',
        'rank  team     spend  2026-09  change  change %   share           budget   used  outcomes  $/outcome',
        '────  ───────  ─────  ───────  ──────  ────────  ──────  ───────────────  ─────  ────────  ─────────',
        ' 1/2  support  $6.00    $4.00  +$2.00    +50.0%   75.0%  $10.00 showback  60.0%         3      $2.00',
        ' 2/2  eng      $2.00    $0.00  +$2.00       new   25.0%                —      —         —          —',
        '      total    $8.00    $4.00  +$4.00   +100.0%  100.0%                                 3',
        '',
        "Where each team's money went (top 3, share of the team)",
        'team     by        top',
        '───────  ────────  ────────────────────────────────────────────────────────────────',
        'support  projects  helpdesk $6.00 (100.0%)',
        '         agents    helpdesk/triage-bot $6.00 (100.0%)',
        '         models    claude-sonnet-4-5 $5.00 (83.3%) · claude-haiku-4-5 $1.00 (16.7%)',
        'eng      projects  ci $2.00 (100.0%)',
        '         agents    ci/fixer $2.00 (100.0%)',
        '         models    claude-opus-4-5 $2.00 (100.0%)',
        '',
      ].join('\n'),
    );
  });

  it('shows the projects of a team with --scope org/team', async () => {
    const out = await ok('report', 'showback', '--month', '2026-10', '--scope', 'acme/support');
    expect(out).toContain('Showback for acme/support, 2026-10 (per project;');
    expect(out).toContain('Total $6.00, +$2.00 (+50.0%) vs 2026-09; month budget $10.00 (showback), 60.0% used; 3 outcomes at $2.00 each\n');
    expect(out).toContain(' 1/1  helpdesk  $6.00    $4.00  +$2.00    +50.0%  100.0%       —     —         3      $2.00\n');
    expect(out).toContain('helpdesk  agents  triage-bot $6.00 (100.0%)');
  });

  it('prints JSON with exact money (--json or --format json)', async () => {
    const j = JSON.parse(await ok('report', 'showback', '--month', '2026-10', '--json')) as {
      month: string;
      total: { spend_usd: string; spend_nano: string; change_pct: number; outcomes: { count: string; cost_per_outcome_usd: string } };
      lines: { rank: number; team: string; spend_usd: string; share_pct: number; change_pct: number | null; budget: { used_pct: number } | null; top_models: { name: string; spend_usd: string }[] }[];
    };
    expect(j.month).toBe('2026-10');
    expect(j.total).toMatchObject({ spend_usd: '8.000000000', spend_nano: '8000000000', change_pct: 100, outcomes: { count: '3', cost_per_outcome_usd: '2.666666667' } });
    expect(j.lines.map((l) => [l.rank, l.team, l.spend_usd, l.share_pct, l.change_pct, l.budget?.used_pct ?? null])).toEqual([
      [1, 'acme/support', '6.000000000', 75, 50, 60],
      [2, 'acme/eng', '2.000000000', 25, null, null],
    ]);
    expect(j.lines[0]!.top_models).toEqual([
      { name: 'claude-sonnet-4-5', spend_usd: '5.000000000', spend_nano: '5000000000', share_pct: 83.33 },
      { name: 'claude-haiku-4-5', spend_usd: '1.000000000', spend_nano: '1000000000', share_pct: 16.67 },
    ]);
    expect(await ok('report', 'showback', '--month', '2026-10', '--format', 'json')).toBe(await ok('report', 'showback', '--month', '2026-10', '--json'));
  });

  it('prints CSV, one row per team', async () => {
    const out = await ok('report', 'showback', '--month', '2026-10', '--format', 'csv');
    expect(out.split('\r\n')).toEqual([
      'month,level,rank,scope,name,spend_usd,previous_usd,change_usd,change_pct,share_pct,budget_usd,budget_action,budget_used_pct,outcomes,cost_per_outcome_usd,calls,list_usd,top_projects,top_agents,top_models',
      '2026-10,team,1,acme/support,support,6.000000000,4.000000000,2.000000000,50,75,10.000000000,showback,60,3,2.000000000,2,6.000000000,helpdesk=6.000000000,helpdesk/triage-bot=6.000000000,claude-sonnet-4-5=5.000000000; claude-haiku-4-5=1.000000000',
      '2026-10,team,2,acme/eng,eng,2.000000000,0.000000000,2.000000000,,25,,,,,,1,2.000000000,ci=2.000000000,ci/fixer=2.000000000,claude-opus-4-5=2.000000000',
      '',
    ]);
  });

  it('says so when a month has no data, in every format', async () => {
    expect(await ok('report', 'showback', '--month', '2025-03')).toBe(
      'Showback for acme, 2025-03 (per team; effective cost after discounts, UTC month)\nTotal $0.00, $0.00 (—) vs 2025-02\n\nNo spend recorded under acme in 2025-03 or 2025-02.\n',
    );
    const j = JSON.parse(await ok('report', 'showback', '--month', '2025-03', '--json')) as { total: { spend_usd: string }; lines: { spend_usd: string }[] };
    expect(j.total.spend_usd).toBe('0.000000000');
    expect(j.lines.map((l) => l.spend_usd)).toEqual(['0.000000000', '0.000000000']);
    expect((await ok('report', 'showback', '--month', '2025-03', '--format', 'csv')).split('\r\n')).toHaveLength(4);
  });

  it('refuses a bad --month, an unknown scope and an unknown format', async () => {
    for (const month of ['2026-13', '2026-1', 'october', '10-2026']) {
      const r = await cli('report', 'showback', '--month', month);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toBe(`error: cannot read month "${month}": use YYYY-MM, e.g. 2026-10\n`);
    }
    const json = await cli('report', 'showback', '--month', 'nope', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({ error: { code: 'invalid_request', message: 'cannot read month "nope": use YYYY-MM, e.g. 2026-10' } });
    const scope = await cli('report', 'showback', '--month', '2026-10', '--scope', 'acme/nope');
    expect(scope.code).toBe(1);
    expect(scope.err).toContain('scope "acme/nope" does not exist');
    const deep = await cli('report', 'showback', '--month', '2026-10', '--scope', 'acme/support/helpdesk');
    expect(deep.code).toBe(1);
    expect(deep.err).toContain('pass --scope acme/support');
    expect((await cli('report', 'showback', '--format', 'xml')).code).toBe(2);
  });
});
