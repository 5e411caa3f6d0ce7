/**
 * `tollgate forecast`, `forecast fit` and `forecast backtest` as a user drives them, in-process, on a
 * small SQLite ledger: 60 customers with heavy-tailed spend over three months, two teams, three agents.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/analytics/forecast/random.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { cliRunner } from '../support/cli.ts';
import { seedForecastHistory } from './forecast-history.ts';
import { paretoTailed } from './synthetic.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-forecast-cli-'));
const dbFile = join(root, 'ledger.db');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const AS_OF = '2026-04-01';

beforeAll(async () => {
  const store = await openSqliteStore(dbFile);
  try {
    const level = paretoTailed(20, 1, 0.1, 1.4);
    await seedForecastHistory(store, { rng: new Rng(42), customers: 60, callsPerMonth: 5, level: (rng) => level(rng.uniform()), monthLogShift: -0.045, budgetUsd: 500n });
  } finally {
    await store.close();
  }
});

const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);
const base = ['forecast', '--as-of', AS_OF, '--trials', '1000'];

interface ForecastJson {
  scope: string;
  unit: string;
  fit: { model: string; unit_months: number; units: number; fitted: { p50_usd: string; p99_usd: string; top5_share: number }; months: { month: string }[] };
  inputs: { units_today: number; units: number[]; mix: { frontier_token_share: number; mix_factor: number; price_factors: number[] } };
  months: {
    month: string;
    units: number;
    p50_usd: string;
    p90_usd: string;
    p99_usd: string;
    naive_usd: string;
    contributions: Record<'p50' | 'p90' | 'p99', { today_usd: string; adoption_usd: string; mix_usd: string; price_usd: string; tail_usd: string }>;
  }[];
  horizon_total: { p50_usd: string; p90_usd: string; p99_usd: string };
  budget_advice: { month: string; applied: boolean; budgets: { scope: string; tier: string; action: string; amount_usd: string; thresholds: number[]; p90_usd: string; p99_usd: string }[] };
}

const n = (s: string) => Number(s);

describe('tollgate forecast', () => {
  it('forecasts the next three months per customer, with quantiles in order and the inputs\' contributions adding up', async () => {
    const r = await json<ForecastJson>(...base);
    expect(r.scope).toBe('acme');
    expect(r.unit).toBe('customer');
    expect(r.fit.units).toBe(60);
    expect(r.fit.months.map((m) => m.month)).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(r.months.map((m) => m.month)).toEqual(['2026-04', '2026-05', '2026-06']);
    for (const m of r.months) {
      expect(m.units).toBe(60);
      expect(n(m.p50_usd)).toBeLessThan(n(m.p90_usd));
      expect(n(m.p90_usd)).toBeLessThan(n(m.p99_usd));
      const c = m.contributions.p90;
      expect(n(c.today_usd) + n(c.adoption_usd) + n(c.mix_usd) + n(c.price_usd) + n(c.tail_usd)).toBeCloseTo(n(m.p90_usd), 4);
      expect(m.p50_usd).toMatch(/^\d+\.\d{9}$/);
    }
    expect(r.budget_advice.budgets.map((b) => `${b.scope} ${b.tier} ${b.action}`)).toEqual(['acme org plan', 'acme/eng team chargeback', 'acme/support team showback']);
    const eng = r.budget_advice.budgets[1]!;
    // A chargeback budget refuses calls: it is the ceiling, at P99, with an alert at the P90 level.
    expect(n(eng.amount_usd)).toBeGreaterThanOrEqual(n(eng.p99_usd));
    expect(eng.thresholds.at(-1)).toBe(100);
    const org = r.budget_advice.budgets[0]!;
    expect(n(org.amount_usd)).toBeGreaterThanOrEqual(n(org.p90_usd));
    expect(n(org.amount_usd)).toBeLessThan(n(org.p90_usd) + 1);
    expect(org.thresholds).toEqual([50, 80, 100, Math.ceil((100 * n(org.p99_usd)) / n(org.p90_usd))]);
  });

  it('answers in one screen, money in dollars, with the budget commands to run', async () => {
    const out = await ok(...base);
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(out).toMatch(/^Spend forecast for acme, 2026-04 … 2026-06/);
    expect(out).toMatch(/month {2,}customers {2,}P50 {2,}P90 {2,}P99 {2,}naive/);
    expect(out).toMatch(/Fit: (log-normal|log-normal body with a Pareto tail)/);
    expect(out).not.toMatch(/\d{10,}/); // no raw nano-USD
    expect(out).toContain('tollgate budgets set --scope acme --amount ');
  });

  it('prints budget commands that run as printed', async () => {
    const out = await ok(...base);
    const line = out.split('\n').find((l) => l.includes('budgets set --scope acme/support '))!.trim();
    const args = line.replace(/^tollgate /, '').split(/\s+/);
    expect(await ok(...args)).toMatch(/^Set showback budget of acme\/support/);
  });

  it('applies the advice through the budgets API, audited', async () => {
    const r = await json<ForecastJson>(...base, '--apply', '--tiers', 'org,team,agent');
    expect(r.budget_advice.applied).toBe(true);
    const set = await withStore((s) => s.controls.listBudgets({ under: 'acme' }));
    for (const b of r.budget_advice.budgets) {
      const policy = set.find((p) => p.scopePath === b.scope && p.period === 'month')!;
      expect(policy.amountNano).toBe(BigInt(Math.round(n(b.amount_usd) * 1e9)));
      expect(policy.action).toBe(b.action);
    }
    expect(r.budget_advice.budgets.filter((b) => b.tier === 'agent').every((b) => b.action === 'hard')).toBe(true);
    const audit = await withStore((s) => s.directory.audit({ limit: 20 }));
    expect(audit.filter((a) => a.actor === 'cli:tester' && a.action.startsWith('budget.')).length).toBeGreaterThanOrEqual(r.budget_advice.budgets.length);
  });

  it('takes adoption, model mix and price changes as named inputs, each contributing', async () => {
    const r = await json<ForecastJson>(...base, '--users', '120', '--growth', '10%/month', '--frontier-share', '0.1', '--price-change', 'anthropic:x2@2026-05-01');
    expect(r.inputs.units).toEqual([120, 132, 145]);
    expect(r.inputs.mix.frontier_token_share).toBeGreaterThan(0.1);
    expect(r.inputs.mix.mix_factor).toBeLessThan(1);
    expect(r.inputs.mix.price_factors[0]).toBe(1);
    expect(r.inputs.mix.price_factors[1]).toBeGreaterThan(1.3);
    const [apr, may] = r.months;
    expect(n(apr!.contributions.p50.adoption_usd)).toBeGreaterThan(0);
    expect(n(apr!.contributions.p50.mix_usd)).toBeLessThan(0);
    expect(n(apr!.contributions.p50.price_usd)).toBe(0);
    expect(n(may!.contributions.p50.price_usd)).toBeGreaterThan(0);
  });

  it('forecasts per agent or per project when asked', async () => {
    expect((await json<ForecastJson>(...base, '--by', 'agent')).fit.units).toBe(3);
    expect((await json<ForecastJson>(...base, '--by', 'project')).fit.units).toBe(2);
  });

  it('refuses bad input with a clear message', async () => {
    expect(await refused(...base, '--horizon', '0m')).toMatch(/horizon/);
    expect(await refused(...base, '--growth', 'fast')).toMatch(/growth/);
    expect(await refused(...base, '--price-change', 'google:x2')).toMatch(/matches no spend/);
    expect(await refused(...base, '--tiers', 'org,galaxy')).toMatch(/--tiers/);
    expect(await refused(...base, '--trials', '5')).toMatch(/--trials/);
    expect(await refused(...base, '--scope', 'nowhere')).toMatch(/does not exist/);
    expect(await refused('forecast', '--as-of', '2025-01-01')).toMatch(/no spend recorded under acme before 2025-01-01/);
    expect(await refused(...base, '--as-of', '2026-13-01')).toMatch(/--as-of/);
    const bad = await cli(...base, '--by', 'planet');
    expect(bad.code).toBe(2);
  });
});

describe('tollgate forecast fit', () => {
  it('fits spend per customer, agent and project, per month and per day', async () => {
    const r = await json<{ scope: string; fits: { unit: string; grain: string; values: number; model: string; heaviest: { unit: string; share: number }[] }[] }>('forecast', 'fit', '--as-of', AS_OF);
    expect(r.fits.map((f) => `${f.unit}/${f.grain}`)).toEqual(['customer/month', 'customer/day', 'agent/month', 'agent/day', 'project/month', 'project/day']);
    expect(r.fits[0]!.values).toBe(180);
    expect(r.fits[0]!.heaviest).toHaveLength(3);
    expect(r.fits[2]!.heaviest.map((h) => h.unit).sort()).toEqual(['eng/ci/test-fixer', 'support/helpdesk/summariser', 'support/helpdesk/triage-bot']);
    const out = await ok('forecast', 'fit', '--as-of', AS_OF, '--by', 'customer', '--grain', 'month');
    expect(out).toMatch(/customer {2,}month {2,}180/);
    expect(out).toMatch(/Heaviest customers: customer-\d+ \d+%/);
  });
});

describe('tollgate forecast backtest', () => {
  it('trains on months 1..k, checks k+1, and reports coverage next to the naive baseline', async () => {
    const r = await json<{ summary: { windows: number; coverage_p90: number }; windows: { month: string; trained_on: string[]; within_p90: boolean }[] }>('forecast', 'backtest', '--as-of', AS_OF, '--trials', '500');
    expect(r.windows.map((w) => [w.month, w.trained_on])).toEqual([
      ['2026-02', ['2026-01']],
      ['2026-03', ['2026-01', '2026-02']],
    ]);
    expect(r.summary.windows).toBe(2);
    const out = await ok('forecast', 'backtest', '--as-of', AS_OF, '--trials', '500');
    expect(out).toMatch(/Coverage: actual ≤ P90 in \d of 2 windows/);
    expect(out).toMatch(/Naive "pilot average × customers × 1.2" was below the actual month in \d of 2/);
    expect(await refused('forecast', 'backtest', '--as-of', AS_OF, '--min-train', '3')).toMatch(/at least 4 months/);
  });
});

describe('tollgate forecast --pilot', () => {
  it('forecasts a pilot CSV, without the ledger\'s mix or scopes', async () => {
    const file = join(root, 'pilot.csv');
    const rng = new Rng(3);
    const rows = ['user,month,spend_usd'];
    for (let u = 1; u <= 40; u++) for (const m of ['2026-01', '2026-02']) rows.push(`u${u},${m},${(10 * Math.exp(1.2 * rng.normal())).toFixed(2)}`);
    writeFileSync(file, rows.join('\n') + '\n');
    const r = await json<ForecastJson>('forecast', '--pilot', file, '--users', '5000', '--trials', '1000');
    expect(r.scope).toBeNull();
    expect(r.unit).toBe('user');
    expect(r.months[0]!.units).toBe(5000);
    expect(r.budget_advice).toBeNull();
    expect(await ok('forecast', '--pilot', file, '--users', '5000', '--trials', '1000')).toMatch(/^Spend forecast for the pilot, 2026-03/);
    expect(await refused('forecast', '--pilot', file, '--apply')).toMatch(/pilot CSV has no model mix/);
    expect(await refused('forecast', '--pilot', join(root, 'missing.csv'))).toMatch(/cannot read/);
  });
});
