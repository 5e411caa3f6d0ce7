/**
 * The time series of the explore view: a scope's spend per hour, day or week (weeks run from Monday
 * 00:00 UTC and are folded from the daily rollups), optionally per group, at most ten groups with
 * the rest folded into `_other`; the total per bucket; the scope's budgets as lines per bucket; and
 * the anomalies of the window as markers. Every bucket of the window is present, zeros included.
 */
import { parsePeriod, periodWindow } from '../domain/budget-period.ts';
import { TollgateError } from '../domain/errors.ts';
import { divRound, nanoToDecimalString } from '../domain/money.ts';
import { TIERS } from '../domain/scope.ts';
import type { AnomalyAlert } from '../ledger/anomalies-contract.ts';
import type { BudgetPolicy, GroupBy, SeriesRow, Store } from '../ledger/contract.ts';
import type { SpendFilters } from './spend-table.ts';
import { weekStart, WEEK_MS } from './unit-period.ts';
import type { View } from './view-scope.ts';
import { checkGroup, underOf } from './view-scope.ts';

export type SeriesBucket = 'hour' | 'day' | 'week';
export const BUCKET_MS: Record<SeriesBucket, number> = { hour: 3_600_000, day: 86_400_000, week: WEEK_MS };
/** Named groups a series shows; the rest are summed into `_other`. */
export const MAX_GROUPS = 10;
export const OTHER_KEY = '_other';
/** Points per series: 62 days of hours, 4 years of days. */
export const MAX_BUCKETS = 1_500;

export type SeriesStore = Pick<Store, 'directory' | 'ledger' | 'controls' | 'anomalies'>;

export interface SpendSeriesOptions {
  view: View;
  from: number;
  to: number;
  bucket: SeriesBucket;
  /** Null: the total only. */
  groupBy: GroupBy | null;
  filters: SpendFilters;
  now: number;
}

export interface SeriesPoint {
  at: number;
  spendNano: bigint;
  calls: number;
}

export interface SeriesLine {
  key: string;
  label: string;
  path: string | null;
  points: SeriesPoint[];
}

export interface SeriesBudget {
  policy: BudgetPolicy;
  /** The limit spread evenly over the budget's period, per bucket; null when a bucket is longer than the period. */
  perBucketNano: bigint | null;
}

export interface SpendSeries {
  bucket: SeriesBucket;
  /** The window, rounded out to whole buckets. */
  from: number;
  to: number;
  series: SeriesLine[];
  total: SeriesPoint[];
  budgets: SeriesBudget[];
  anomalies: AnomalyAlert[];
}

export async function spendSeries(store: SeriesStore, o: SpendSeriesOptions): Promise<SpendSeries> {
  if (o.groupBy !== null) checkGroup(o.view, o.groupBy);
  const ms = BUCKET_MS[o.bucket];
  const from = o.bucket === 'week' ? weekStart(o.from) : Math.floor(o.from / ms) * ms;
  const to = o.bucket === 'week' ? weekStart(o.to - 1) + WEEK_MS : Math.ceil(o.to / ms) * ms;
  const buckets = (to - from) / ms;
  if (buckets > MAX_BUCKETS) {
    throw new TollgateError('invalid_request', `that is ${buckets.toLocaleString('en')} ${o.bucket} buckets; a series has at most ${MAX_BUCKETS.toLocaleString('en')}: choose a larger bucket or a shorter period`, { details: { param: 'bucket' } });
  }
  const within = o.view.within;
  const isTier = o.groupBy !== null && (TIERS as readonly string[]).includes(o.groupBy);
  const [rows, nodes, policies, anomalies] = await Promise.all([
    // Weeks are folded from days: daily rollups hold whole UTC days, and a week is seven of them.
    store.ledger.series({ from, to, bucket: o.bucket === 'week' ? 'day' : o.bucket, groupBy: o.groupBy ?? 'org', ...(within ? { within } : {}), ...o.filters }),
    isTier ? store.directory.listScopes({ ...underOf(o.view), includeArchived: true }) : Promise.resolve([]),
    store.controls.listBudgets(underOf(o.view)),
    store.anomalies.list({ from, to, ...underOf(o.view), limit: 200 }),
  ]);
  const bucketOf = (at: number) => (o.bucket === 'week' ? weekStart(at) : at);
  const starts = Array.from({ length: buckets }, (_, i) => from + i * ms);

  const totals = new Map<string, bigint>();
  for (const r of rows) totals.set(r.key, (totals.get(r.key) ?? 0n) + r.effectiveCostNano);
  const ranked = [...totals].sort(([ka, a], [kb, b]) => (a > b ? -1 : a < b ? 1 : ka < kb ? -1 : ka > kb ? 1 : 0)).map(([k]) => k);
  const named = new Set(ranked.length > MAX_GROUPS ? ranked.slice(0, MAX_GROUPS) : ranked);
  const lineOf = (key: string) => (named.has(key) ? key : OTHER_KEY);

  const perLine = new Map<string, Map<number, SeriesPoint>>();
  const total = new Map<number, SeriesPoint>(starts.map((at) => [at, { at, spendNano: 0n, calls: 0 }]));
  for (const r of rows) add(total, bucketOf(r.at), r);
  if (o.groupBy !== null) {
    for (const key of [...named, ...(ranked.length > named.size ? [OTHER_KEY] : [])]) perLine.set(key, new Map(starts.map((at) => [at, { at, spendNano: 0n, calls: 0 }])));
    for (const r of rows) add(perLine.get(lineOf(r.key))!, bucketOf(r.at), r);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ownBudgets = policies.filter((p) => (o.view.node ? p.scopeId === o.view.node.id : p.tier === 'org'));
  return {
    bucket: o.bucket,
    from,
    to,
    series: [...perLine].map(([key, points]) => ({
      key,
      label: key === OTHER_KEY ? 'other' : isTier ? (byId.get(key)?.name ?? key) : key,
      path: key === OTHER_KEY ? null : (byId.get(key)?.path ?? null),
      points: [...points.values()],
    })),
    total: [...total.values()],
    budgets: ownBudgets.map((policy) => ({ policy, perBucketNano: perBucket(policy, ms, o.now) })),
    anomalies,
  };
}

function add(points: Map<number, SeriesPoint>, at: number, r: SeriesRow): void {
  const p = points.get(at);
  // Rows come from inside [from, to): a bucket outside it would mean the window was computed wrong.
  if (!p) throw new TollgateError('internal', `series row at ${new Date(at).toISOString()} falls outside the requested buckets`);
  p.spendNano += r.effectiveCostNano;
  p.calls += r.calls;
}

/** The budget's limit per bucket: limit × bucket ÷ the length of its current period. */
function perBucket(policy: BudgetPolicy, bucketMs: number, now: number): bigint | null {
  const period = parsePeriod(policy.period);
  const length = period.kind === 'rolling' ? period.sliceMs * period.slices : (() => {
    const w = periodWindow(period, policy.timeZone, now);
    return w.end - w.start;
  })();
  if (bucketMs > length) return null;
  return divRound(policy.amountNano * BigInt(bucketMs), BigInt(length));
}

function pointJson(p: SeriesPoint) {
  return { at: p.at, spendUsd: nanoToDecimalString(p.spendNano), calls: p.calls };
}

/** The `GET /api/spend/series` JSON. */
export function spendSeriesJson(s: SpendSeries) {
  return {
    bucket: s.bucket,
    from: s.from,
    to: s.to,
    series: s.series.map((l) => ({ key: l.key, label: l.label, path: l.path, points: l.points.map(pointJson) })),
    total: s.total.map(pointJson),
    budgets: s.budgets.map((b) => ({
      scope: b.policy.scopePath,
      period: b.policy.period,
      action: b.policy.action,
      limitUsd: nanoToDecimalString(b.policy.amountNano),
      perBucketUsd: b.perBucketNano === null ? null : nanoToDecimalString(b.perBucketNano),
    })),
    anomalies: s.anomalies.map((a) => ({ id: a.id, at: a.since, openedAt: a.openedAt, signal: a.signal, scope: a.path, status: a.state, summary: a.summary })),
  };
}
