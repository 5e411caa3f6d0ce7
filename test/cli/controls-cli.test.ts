/**
 * Budgets, rate limits and kill switches as a user drives them from the CLI: in-process through
 * `run()`, on a fresh SQLite file per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeEvent } from '../support/events.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-controls-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BOT = 'acme/support/helpdesk/triage-bot';
let dbFile: string;
let n = 0;
beforeEach(async () => {
  dbFile = join(root, `t${n++}.db`);
  await cli('scopes', 'create', BOT);
  await cli('scopes', 'create', 'acme/support-eu/helpdesk/bot');
});

const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);

interface BudgetJson {
  id: string;
  scope: string;
  tier: string;
  period: string;
  action: string;
  amount_usd: string;
  spent_usd: string;
  reserved_usd: string | null;
  remaining_usd: string;
  forecast_usd: string;
  status: string;
  thresholds: number[];
  time_zone: string;
  degrade_to: string | null;
  period_from: string;
  resets_at: string;
}

describe('tollgate budgets set', () => {
  it('defaults the action to the tier and says what it set', async () => {
    const agent = await ok('budgets', 'set', '--scope', BOT, '--amount', '25', '--period', 'day');
    expect(agent).toMatch(new RegExp(`^Set hard budget of ${BOT}: \\$25\\.00 per day \\(UTC\\), alerts at 50/80/100%\\.\\n`));
    expect(agent).toMatch(/Spent so far this period: \$0\.0000; \$25\.0000 left; resets \d{4}-\d\d-\d\dT00:00Z\.\n$/);
    expect(await ok('budgets', 'set', '--scope', 'acme/support/helpdesk', '--amount', '300', '--period', 'month')).toContain('Set soft budget of acme/support/helpdesk: $300.00 per month (UTC)');
    expect(await ok('budgets', 'set', '--scope', 'acme/support', '--amount', '2000', '--period', 'month')).toContain('Set showback budget of acme/support: $2,000.00 per month');
    expect(await ok('budgets', 'set', '--scope', 'acme', '--amount', '250000', '--period', 'year', '--thresholds', '50,75,90,100')).toContain(
      'Set plan budget of acme: $250,000.00 per year (UTC), alerts at 50/75/90/100%.',
    );
    expect(await ok('budgets', 'set', '--scope', 'acme/support-eu', '--amount', '10', '--period', 'month', '--action', 'chargeback')).toContain('Set chargeback budget');
  });

  it('replaces a budget and shows what it was', async () => {
    await ok('budgets', 'set', '--scope', BOT, '--amount', '25', '--period', 'day');
    const out = await ok('budgets', 'set', '--scope', BOT, '--amount', '$1,250.50', '--period', 'DAY', '--action', 'soft', '--degrade-to', 'fast', '--time-zone', 'europe/paris', '--thresholds', '90,80');
    expect(out).toContain(`Updated soft budget of ${BOT}: $1,250.50 per day (Europe/Paris), alerts at 80/90%, then degrade to fast.\n`);
    expect(out).toContain('Was: $25.00 per day (hard).\n');
    const [b] = await json<BudgetJson[]>('budgets', 'list');
    expect(b).toMatchObject({ scope: BOT, period: 'day', action: 'soft', amount_usd: '1250.500000000', thresholds: [80, 90], time_zone: 'Europe/Paris', degrade_to: 'fast' });
    expect((await json<BudgetJson[]>('budgets', 'list')).length).toBe(1);
  });

  it('prints JSON with exact money and whether it replaced one', async () => {
    const first = await json<{ budget: BudgetJson; replaced: boolean }>('budgets', 'set', '--scope', 'acme/support', '--amount', '1250.123456789', '--period', 'rolling:7d');
    expect(first.replaced).toBe(false);
    expect(first.budget).toMatchObject({
      scope: 'acme/support',
      tier: 'team',
      period: 'rolling:7d',
      action: 'showback',
      amount_usd: '1250.123456789',
      spent_usd: '0.000000000',
      reserved_usd: null,
      remaining_usd: '1250.123456789',
      status: 'ok',
      thresholds: [50, 80, 100],
      time_zone: 'UTC',
      degrade_to: null,
    });
    expect(first.budget.id).toMatch(/^bud_/);
    const second = await json<{ budget: BudgetJson; replaced: boolean }>('budgets', 'set', '--scope', 'acme/support', '--amount', '5', '--period', 'rolling:7d');
    expect(second.replaced).toBe(true);
    expect(second.budget.id).toBe(first.budget.id);
    // Rolling windows are not aligned in a zone, so the text leaves it out.
    expect(await ok('budgets', 'set', '--scope', 'acme/support', '--amount', '5', '--period', 'rolling:24h')).toContain('$5.00 per rolling:24h, alerts');
  });

  it('refuses bad input with one clear line, exit code 1, and records nothing', async () => {
    const v0 = await withStore((s) => s.directory.version());
    const base = ['budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', '5'];
    expect(await refused('budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', 'abc')).toBe(
      'error: budget amount "abc" is not a USD amount (e.g. 500 or 1250.50): not a decimal number: "abc"\n',
    );
    expect(await refused('budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', '1,50')).toContain('commas must separate thousands');
    expect(await refused('budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', '0')).toBe('error: a budget amount must be above $0\n');
    expect(await refused('budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', '-3')).toContain('above $0');
    expect(await refused('budgets', 'set', '--scope', BOT, '--period', 'day', '--amount', '10000000')).toContain('a hard budget can be at most $9,007,199.25 per period');
    expect(await refused('budgets', 'set', '--scope', BOT, '--amount', '5', '--period', 'fortnight')).toMatch(/^error: unknown budget period "fortnight": use day, week, month, quarter, year/);
    expect(await refused(...base, '--time-zone', 'Mars/Base')).toBe('error: unknown time zone "Mars/Base": use an IANA name such as UTC, Europe/Paris or America/New_York\n');
    expect(await refused(...base, '--action', 'bogus')).toContain('unknown budget action "bogus"');
    expect(await refused(...base, '--thresholds', '50,abc')).toContain('alert thresholds are whole percentages separated by commas');
    expect(await refused(...base, '--thresholds', '0,50')).toContain('from 1 to 1000, got 0');
    expect(await refused(...base, '--degrade-to', 'fast')).toContain('only soft budgets degrade to a cheaper model (this one is hard)');
    expect(await refused('budgets', 'set', '--scope', 'acme/nope', '--amount', '5', '--period', 'day')).toBe('error: scope "acme/nope" does not exist\n');
    expect(await refused('budgets', 'set', '--scope', 'Acme', '--amount', '5', '--period', 'day')).toContain('invalid scope segment "Acme"');
    // Missing required options are usage errors (exit code 2).
    expect((await cli('budgets', 'set', '--scope', BOT, '--period', 'day')).code).toBe(2);

    const err = await cli('budgets', 'set', '--scope', BOT, '--period', 'fortnight', '--amount', '5', '--json');
    expect(err.code).toBe(1);
    expect(JSON.parse(err.out)).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('unknown budget period "fortnight"') as unknown } });

    expect(await json<unknown[]>('budgets', 'list')).toEqual([]);
    await withStore(async (s) => {
      expect(await s.directory.version()).toBe(v0);
      expect((await s.directory.audit({ limit: 1000 })).filter((a) => !a.action.startsWith('scope.'))).toEqual([]);
    });
  });
});

describe('tollgate budgets list', () => {
  it('shows each budget with spent from the ledger, and explains the reserved column without Redis', async () => {
    await ok('budgets', 'set', '--scope', BOT, '--amount', '25', '--period', 'day');
    await ok('budgets', 'set', '--scope', 'acme/support', '--amount', '2000', '--period', 'month');
    await ok('budgets', 'set', '--scope', 'acme/support-eu', '--amount', '10', '--period', 'week');
    await withStore(async (s) => {
      const nodes = (await s.directory.ensureScope(BOT, { create: false, actor: 'test' })).nodes;
      const [org, team, project, agent] = nodes.map((x) => x.id);
      const chain = { orgId: org!, orgName: 'acme', teamId: team!, teamName: 'support', projectId: project!, projectName: 'helpdesk', agentId: agent!, agentName: 'triage-bot' };
      await s.ledger.record([makeEvent(chain, { startedAt: Date.now() - 1000, listCostNano: 20_000_000_000n, effectiveCostNano: 20_000_000_000n })]);
    });

    const table = await ok('budgets', 'list');
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^scope\s+period\s+action\s+budget\s+spent\s+reserved\s+left\s+forecast\s+status\s+resets$/);
    expect(lines[1]).toMatch(/^─+ +─+/);
    // Path order: "-" sorts before "/", as in `scopes list`.
    expect(lines[2]).toMatch(/^acme\/support\s+month\s+showback\s+\$2,000\.00\s+\$20\.0000\s+—\s+\$1,980\.0000\s+\$[\d,.]+\s+(ok|warning)\s+\d{4}-\d\d-01T00:00Z$/);
    expect(lines[3]).toMatch(/^acme\/support-eu\s+week\s+showback\s+\$10\.00\s+\$0\.0000\s+—\s+\$10\.0000\s+\$0\.00\s+ok\s/);
    expect(lines[4]).toMatch(/^acme\/support\/helpdesk\/triage-bot\s+day\s+hard\s+\$25\.00\s+\$20\.0000\s+—\s+\$5\.0000\s+\$[\d,.]+\s+warning\s/);
    expect(table).toContain('reserved: shown by the gateway (GET /api/budgets) when counters are in-process; set TOLLGATE_REDIS to see them here.\n');

    const all = await json<BudgetJson[]>('budgets', 'list');
    expect(all.map((b) => [b.scope, b.spent_usd, b.reserved_usd, b.remaining_usd])).toEqual([
      ['acme/support', '20.000000000', null, '1980.000000000'],
      ['acme/support-eu', '0.000000000', null, '10.000000000'],
      [BOT, '20.000000000', null, '5.000000000'],
    ]);
    // A subtree only: acme/support-eu shares a prefix but is not under acme/support.
    expect((await json<BudgetJson[]>('budgets', 'list', '--scope', 'acme/support')).map((b) => b.scope)).toEqual(['acme/support', BOT]);
    expect((await json<BudgetJson[]>('budgets', 'list', '--scope', 'acme/support-eu')).map((b) => b.scope)).toEqual(['acme/support-eu']);
  });

  it('says how to set one when there is none', async () => {
    expect(await ok('budgets', 'list')).toBe('No budgets. Set one with: tollgate budgets set --scope acme/support --amount 500 --period month\n');
    expect(await ok('budgets', 'list', '--scope', 'acme/support')).toContain('No budgets under acme/support.');
    expect(await json<unknown[]>('budgets', 'list')).toEqual([]);
  });
});

describe('tollgate budgets delete and alerts', () => {
  it('deletes a budget once, then says there is none', async () => {
    await ok('budgets', 'set', '--scope', BOT, '--amount', '25', '--period', 'day');
    expect(await ok('budgets', 'delete', '--scope', BOT, '--period', 'day')).toBe(`Deleted the day budget of ${BOT} ($25.00, hard).\n`);
    expect(await json<unknown[]>('budgets', 'list')).toEqual([]);
    expect(await refused('budgets', 'delete', '--scope', BOT, '--period', 'day')).toBe(`error: scope "${BOT}" has no day budget (list budgets to see what is set)\n`);
    expect(await refused('budgets', 'delete', '--scope', BOT, '--period', 'fortnight')).toContain('unknown budget period');
    const audit = await json<{ action: string }[]>('audit', '--target', BOT);
    expect(audit.map((a) => a.action).slice(0, 2)).toEqual(['budget.delete', 'budget.create']);
  });

  it('lists thresholds crossed, newest first', async () => {
    expect(await ok('budgets', 'alerts')).toBe('No budget alerts yet.\n');
    const { budget } = await json<{ budget: BudgetJson }>('budgets', 'set', '--scope', BOT, '--amount', '25', '--period', 'day');
    await withStore(async (s) => {
      const day = Date.UTC(2026, 9, 15);
      await s.controls.recordAlert({ budgetId: budget.id, periodStart: day, threshold: 50, at: day + 3_600_000, spentNano: 12_500_000_000n, limitNano: 25_000_000_000n });
      await s.controls.recordAlert({ budgetId: budget.id, periodStart: day, threshold: 80, at: day + 7_200_000, spentNano: 20_123_456_789n, limitNano: 25_000_000_000n });
    });
    const lines = (await ok('budgets', 'alerts')).split('\n');
    expect(lines[0]).toMatch(/^at\s+scope\s+threshold\s+spent\s+budget$/);
    expect(lines[2]).toMatch(new RegExp(`^2026-10-15T02:00Z\\s+${BOT}\\s+80%\\s+\\$20\\.1235\\s+\\$25\\.00$`));
    expect(lines[3]).toMatch(new RegExp(`^2026-10-15T01:00Z\\s+${BOT}\\s+50%\\s+\\$12\\.5000\\s+\\$25\\.00$`));
    const alerts = await json<{ scopePath: string; threshold: number; spentNano: string; limitNano: string }[]>('budgets', 'alerts');
    expect(alerts.map((a) => [a.threshold, a.spentNano, a.limitNano, a.scopePath])).toEqual([
      [80, '20123456789', '25000000000', BOT],
      [50, '12500000000', '25000000000', BOT],
    ]);
  });
});

describe('tollgate kill and revive', () => {
  it('kills a scope, refuses to kill it twice, revives it once', async () => {
    const killed = await ok('kill', '--scope', BOT, '--reason', 'INC-42: retry loop');
    expect(killed).toMatch(new RegExp(`^Killed ${BOT} at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\dZ: INC-42: retry loop\\n`));
    expect(killed).toContain(`Undo with: tollgate revive --scope ${BOT}\n`);

    const twice = await refused('kill', '--scope', BOT, '--reason', 'again');
    expect(twice).toMatch(new RegExp(`^error: scope "${BOT}" is already killed \\(by cli:tester at \\d{4}-.+Z: INC-42: retry loop\\)\\n$`));

    const limits = await json<{ limits: unknown[]; kills: { scopePath: string; actor: string; reason: string }[] }>('limits', 'list');
    expect(limits.kills.map((k) => [k.scopePath, k.actor, k.reason])).toEqual([[BOT, 'cli:tester', 'INC-42: retry loop']]);

    expect(await ok('revive', '--scope', BOT)).toMatch(new RegExp(`^Revived ${BOT} \\(killed by cli:tester at \\d{4}-.+Z: INC-42: retry loop\\)\\.\\n$`));
    expect(await refused('revive', '--scope', BOT)).toBe(`error: scope "${BOT}" is not killed\n`);
    const audit = await json<{ action: string; actor: string }[]>('audit', '--target', BOT);
    expect(audit.slice(0, 2).map((a) => [a.action, a.actor])).toEqual([
      ['scope.revive', 'cli:tester'],
      ['scope.kill', 'cli:tester'],
    ]);
  });

  it('prints JSON, and refuses an empty reason or an unknown scope', async () => {
    const k = await json<{ scopePath: string; reason: string; actor: string; at: number }>('kill', '--scope', 'acme/support', '--reason', 'budget review');
    expect(k).toMatchObject({ scopePath: 'acme/support', reason: 'budget review', actor: 'cli:tester' });
    const r = await json<{ revived: { scopePath: string } }>('revive', '--scope', 'acme/support');
    expect(r.revived.scopePath).toBe('acme/support');

    expect(await refused('kill', '--scope', BOT, '--reason', '  ')).toContain('say why the scope is killed (--reason)');
    expect(await refused('kill', '--scope', 'acme/nope', '--reason', 'x')).toBe('error: scope "acme/nope" does not exist\n');
    expect((await cli('kill', '--scope', BOT)).code).toBe(2);
    expect((await json<{ kills: unknown[] }>('limits', 'list')).kills).toEqual([]);
  });
});

describe('tollgate limits', () => {
  it('sets rpm and tpm, keeps the one not given, removes one with "none", and both removes the limits', async () => {
    expect(await ok('limits', 'set', '--scope', BOT, '--rpm', '120')).toBe(`Rate limits of ${BOT}: 120 requests/min, no tokens/min.\n`);
    expect(await ok('limits', 'set', '--scope', BOT, '--tpm', '50000')).toBe(`Rate limits of ${BOT}: 120 requests/min, 50000 tokens/min.\n`);
    expect(await ok('limits', 'set', '--scope', BOT, '--rpm', '60')).toBe(`Rate limits of ${BOT}: 60 requests/min, 50000 tokens/min.\n`);
    expect(await ok('limits', 'set', '--scope', BOT, '--rpm', 'none')).toBe(`Rate limits of ${BOT}: no requests/min, 50000 tokens/min.\n`);
    expect(await ok('limits', 'set', '--scope', BOT, '--rpm', '10', '--tpm', 'none')).toBe(`Rate limits of ${BOT}: 10 requests/min, no tokens/min.\n`);
    expect(await ok('limits', 'set', '--scope', BOT, '--rpm', 'none')).toBe(`Removed the rate limits of ${BOT}.\n`);
    expect((await json<{ limits: unknown[] }>('limits', 'list')).limits).toEqual([]);
    const audit = await json<{ action: string }[]>('audit', '--target', BOT);
    expect(audit.slice(0, 6).map((a) => a.action)).toEqual(['limits.delete', 'limits.set', 'limits.set', 'limits.set', 'limits.set', 'limits.set']);
  });

  it('keeps the other limit however the scope path is written', async () => {
    await ok('limits', 'set', '--scope', BOT, '--rpm', '30');
    expect(await ok('limits', 'set', '--scope', `/${BOT}/`, '--tpm', '900')).toBe(`Rate limits of ${BOT}: 30 requests/min, 900 tokens/min.\n`);
  });

  it('lists limits and kill switches in force', async () => {
    expect(await ok('limits', 'list')).toBe('No rate limits.\nNo kill switches.\n');
    await ok('limits', 'set', '--scope', BOT, '--rpm', '120', '--tpm', '50000');
    await ok('limits', 'set', '--scope', 'acme/support-eu', '--tpm', '1000');
    await ok('kill', '--scope', 'acme/support-eu/helpdesk/bot', '--reason', 'leaked key');
    const lines = (await ok('limits', 'list')).split('\n');
    expect(lines[0]).toMatch(/^scope\s+rpm\s+tpm$/);
    expect(lines[2]).toMatch(/^acme\/support-eu\s+—\s+1000$/);
    expect(lines[3]).toMatch(new RegExp(`^${BOT}\\s+120\\s+50000$`));
    expect(lines[5]).toMatch(/^killed scope\s+by\s+at\s+reason$/);
    expect(lines[7]).toMatch(/^acme\/support-eu\/helpdesk\/bot\s+cli:tester\s+\d{4}-\S+Z\s+leaked key$/);
    const j = await json<{ limits: { scopePath: string; rpm: number | null; tpm: number | null }[]; kills: unknown[] }>('limits', 'list');
    expect(j.limits.map((l) => [l.scopePath, l.rpm, l.tpm])).toEqual([
      ['acme/support-eu', null, 1000],
      [BOT, 120, 50000],
    ]);
    expect(j.kills.length).toBe(1);
  });

  it('refuses bad numbers, no limit at all, and unknown scopes, changing nothing', async () => {
    await ok('limits', 'set', '--scope', BOT, '--rpm', '120');
    const v0 = await withStore((s) => s.directory.version());
    for (const bad of ['0', '-5', '1.5', 'abc', '']) {
      const r = await cli('limits', 'set', '--scope', BOT, '--rpm', bad);
      expect(r.code).toBe(2);
      expect(r.err).toContain('expected a whole number above 0 (or "none")');
    }
    expect(await refused('limits', 'set', '--scope', BOT)).toBe('error: give --rpm, --tpm or both (a number, or "none" to remove that limit)\n');
    expect(await refused('limits', 'set', '--scope', 'acme/nope', '--rpm', '5')).toBe('error: scope "acme/nope" does not exist\n');
    await withStore(async (s) => {
      expect(await s.directory.version()).toBe(v0);
      expect((await s.controls.listRateLimits()).map((l) => [l.scopePath, l.rpm, l.tpm])).toEqual([[BOT, 120, null]]);
    });
  });
});
