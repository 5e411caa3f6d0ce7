/**
 * The dashboard's first page for a scope: this month's spend against last month, its plan and its
 * tightest budget, a forecast to the month's end (P50/P90, see month-forecast.ts), open anomalies,
 * the week's top movers one level down, the monthly trend of $/outcome per workload, and the
 * month's daily spend. Read from the rollups; money stays integer nano-USD until JSON.
 */
import type { Counters } from '../counters/contract.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import { TIERS } from '../domain/scope.ts';
import type { AnomalyAlert } from '../ledger/anomalies-contract.ts';
import type { GroupBy, Store } from '../ledger/contract.ts';
import type { BudgetStatus } from './budget-status.ts';
import { budgetStatus } from './budget-status.ts';
import { budgetUseJson, tightest } from './budget-use.ts';
import type { MonthForecast } from './month-forecast.ts';
import { monthForecast } from './month-forecast.ts';
import { percentOf } from './percent.ts';
import type { MonthRange } from './showback.ts';
import { monthContaining, previousMonthOf } from './showback.ts';
import { unitEconomics } from './unit-economics.ts';
import type { View } from './view-scope.ts';
import { childGroup, underOf } from './view-scope.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Whole days the forecast's band is measured over. */
export const RECENT_DAYS = 28;
/** Movers shown, and months in the unit trend (this one included). */
export const TOP_MOVERS = 5;
export const TREND_MONTHS = 6;

export type OverviewStore = Pick<Store, 'directory' | 'ledger' | 'controls' | 'outcomes' | 'anomalies'>;

export interface OverviewOptions {
  view: View;
  now: number;
  /** For the budgets' reservations; null leaves them out. */
  counters: Counters | null;
}

export interface Mover {
  key: string;
  label: string;
  path: string | null;
  tier: GroupBy;
  thisWeekNano: bigint;
  lastWeekNano: bigint;
}

export interface UnitTrend {
  workload: string;
  outcome: string;
  displayName: string;
  unit: string;
  points: { month: string; costPerOutcomeNano: bigint | null; outcomes: bigint }[];
}

export interface Overview {
  view: View;
  month: MonthRange;
  asOf: number;
  monthToDateNano: bigint;
  lastMonthNano: bigint;
  plan: BudgetStatus | null;
  budget: BudgetStatus | null;
  forecast: MonthForecast;
  openAnomalies: AnomalyAlert[];
  topMovers: Mover[];
  unitTrend: UnitTrend[];
  /** This month's UTC days up to today, zeros included. */
  daily: { at: number; spendNano: bigint }[];
}

export async function overview(store: OverviewStore, o: OverviewOptions): Promise<Overview> {
  const { view, now } = o;
  const within = view.within ? { within: view.within } : {};
  const month = monthContaining(now);
  const lastMonth = previousMonthOf(month);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const [thisMonthDays, recentDays, lastMonthRows, budgets, openAnomalies, topMovers, unitTrend] = await Promise.all([
    store.ledger.series({ from: month.from, to: today + DAY_MS, bucket: 'day', groupBy: 'org', ...within }),
    store.ledger.series({ from: today - RECENT_DAYS * DAY_MS, to: today, bucket: 'day', groupBy: 'org', ...within }),
    store.ledger.spend({ from: lastMonth.from, to: lastMonth.to, groupBy: 'org', ...within }),
    ownBudgets(store, o),
    store.anomalies.list({ open: true, ...underOf(view), limit: 50 }),
    movers(store, o),
    trend(store, o, month),
  ]);
  const dayTotals = (rows: readonly { at: number; effectiveCostNano: bigint }[], from: number, to: number) => {
    const out = new Map<number, bigint>();
    for (let at = from; at < to; at += DAY_MS) out.set(at, 0n);
    for (const r of rows) if (out.has(r.at)) out.set(r.at, out.get(r.at)! + r.effectiveCostNano);
    return out;
  };
  const daily = [...dayTotals(thisMonthDays, month.from, today + DAY_MS)].map(([at, spendNano]) => ({ at, spendNano }));
  const monthToDateNano = daily.reduce((s, d) => s + d.spendNano, 0n);
  const recent = [...dayTotals(recentDays, today - RECENT_DAYS * DAY_MS, today).values()];
  return {
    view,
    month,
    asOf: now,
    monthToDateNano,
    lastMonthNano: lastMonthRows.reduce((s, r) => s + r.effectiveCostNano, 0n),
    plan: tightest(budgets.filter((b) => b.policy.action === 'plan')),
    budget: tightest(budgets.filter((b) => b.policy.action !== 'plan')),
    forecast: monthForecast({ monthFrom: month.from, monthTo: month.to, now, monthToDateNano, recentDaysNano: recent }),
    openAnomalies,
    topMovers,
    unitTrend,
    daily,
  };
}

/** Budgets set on the scope itself (on every org when the view is everything), where they stand now. */
async function ownBudgets(store: OverviewStore, o: OverviewOptions): Promise<BudgetStatus[]> {
  const node = o.view.node;
  const policies = (await store.controls.listBudgets(underOf(o.view))).filter((p) => (node ? p.scopeId === node.id : p.tier === 'org'));
  return policies.length === 0 ? [] : budgetStatus(policies, { ledger: store.ledger, counters: o.counters, now: o.now });
}

/** One level down, the groups whose spend rose most in the last 7 days over the 7 before, in dollars. */
async function movers(store: OverviewStore, o: OverviewOptions): Promise<Mover[]> {
  const groupBy = childGroup(o.view.node?.tier ?? null);
  const within = o.view.within ? { within: o.view.within } : {};
  const week = 7 * DAY_MS;
  // Whole hours (what the rollups hold), so the two weeks meet without sharing an hour.
  const end = Math.ceil(o.now / HOUR_MS) * HOUR_MS;
  const [thisWeek, lastWeek, nodes] = await Promise.all([
    store.ledger.spend({ from: end - week, to: end, groupBy, ...within }),
    store.ledger.spend({ from: end - 2 * week, to: end - week, groupBy, ...within }),
    (TIERS as readonly string[]).includes(groupBy) ? store.directory.listScopes({ ...underOf(o.view), includeArchived: true }) : Promise.resolve([]),
  ]);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const last = new Map(lastWeek.map((r) => [r.key, r.effectiveCostNano]));
  return thisWeek
    .map((r) => ({ key: r.key, label: byId.get(r.key)?.name ?? r.key, path: byId.get(r.key)?.path ?? null, tier: groupBy, thisWeekNano: r.effectiveCostNano, lastWeekNano: last.get(r.key) ?? 0n }))
    .filter((m) => m.thisWeekNano > m.lastWeekNano)
    .sort((a, b) => {
      const d = b.thisWeekNano - b.lastWeekNano - (a.thisWeekNano - a.lastWeekNano);
      return d > 0n ? 1 : d < 0n ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    })
    .slice(0, TOP_MOVERS);
}

/** $/outcome per workload (a project's outcome type) for each of the last months, this one included. */
async function trend(store: OverviewStore, o: OverviewOptions, current: MonthRange): Promise<UnitTrend[]> {
  const months: MonthRange[] = [current];
  while (months.length < TREND_MONTHS) months.unshift(previousMonthOf(months[0]!));
  const roots = o.view.node ? [o.view.node.path] : (await store.directory.listScopes()).filter((n) => n.tier === 'org').map((n) => n.path);
  const out = new Map<string, UnitTrend>();
  for (const scope of roots) {
    // Months one after another: each is a handful of reads, and the dashboard must not starve the gateway's pool.
    for (const m of months) {
      const r = await unitEconomics(store, { scope, from: m.from, to: m.to, trend: false, traces: false });
      for (const w of r.workloads) {
        const k = `${w.projectPath}\u0000${w.type}`;
        let t = out.get(k);
        if (!t) out.set(k, (t = { workload: w.projectPath, outcome: w.type, displayName: w.displayName, unit: w.unit, points: [] }));
        t.points.push({ month: m.label, costPerOutcomeNano: w.costPerOutcomeNano, outcomes: w.outcomes });
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : a.outcome < b.outcome ? -1 : 1));
}

/** The `GET /api/overview` JSON. */
export function overviewJson(v: Overview) {
  const usd = nanoToDecimalString;
  return {
    scope: v.view.node?.path ?? null,
    month: v.month.label,
    asOf: v.asOf,
    monthToDateUsd: usd(v.monthToDateNano),
    monthToDateNano: v.monthToDateNano.toString(),
    lastMonthUsd: usd(v.lastMonthNano),
    plan: v.plan ? budgetUseJson(v.plan) : null,
    budget: v.budget ? budgetUseJson(v.budget) : null,
    forecastMonthEnd: { p50Usd: usd(v.forecast.p50Nano), p90Usd: usd(v.forecast.p90Nano), method: v.forecast.method },
    openAnomalies: v.openAnomalies.map((a) => ({ id: a.id, scope: a.path, signal: a.signal, summary: a.summary, openedAt: a.openedAt, usdPerHour: usd(a.atRiskNanoPerHour) })),
    topMovers: v.topMovers.map((m) => ({
      key: m.key,
      label: m.label,
      path: m.path,
      tier: m.tier,
      thisWeekUsd: usd(m.thisWeekNano),
      lastWeekUsd: usd(m.lastWeekNano),
      changeUsd: usd(m.thisWeekNano - m.lastWeekNano),
      changePct: percentOf(m.thisWeekNano - m.lastWeekNano, m.lastWeekNano),
    })),
    unitTrend: v.unitTrend.map((t) => ({
      workload: t.workload,
      outcome: t.outcome,
      displayName: t.displayName,
      unit: t.unit,
      points: t.points.map((p) => ({ month: p.month, costPerOutcomeUsd: p.costPerOutcomeNano === null ? null : usd(p.costPerOutcomeNano), outcomes: Number(p.outcomes) })),
    })),
    daily: v.daily.map((d) => ({ at: d.at, spendUsd: usd(d.spendNano) })),
  };
}
