/**
 * Spend per unit (user, agent or workload) per calendar month (UTC), the shape the fit, the
 * persistence estimate, the Monte Carlo and the backtest all read. Built from per-unit per-day sums
 * (the ledger's or a pilot CSV's). A month the data covers only partly is used when at least
 * `MIN_COVERED_DAYS` of it are covered, scaled up to the whole month (a run rate); shorter edges
 * are dropped. Amounts here are USD floats: inputs to estimates, never ledger money.
 */
import { TollgateError } from '../../domain/errors.ts';

export const DAY_MS = 86_400_000;
/** A month covered by fewer days than this is left out of training. */
export const MIN_COVERED_DAYS = 10;

export interface MonthSpan {
  /** `YYYY-MM`. */
  label: string;
  /** UTC midnight of the 1st, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  days: number;
  /** Days of the month the data covers. */
  coveredDays: number;
}

export interface UnitSeries {
  /** Unit ids, in first-seen order. */
  units: string[];
  /** Training months, ascending; consecutive. */
  months: MonthSpan[];
  /** Spend of unit i in month m at `spend[i * months.length + m]`, USD scaled to the whole month; 0: not active. */
  spend: Float64Array;
}

/** One unit's spend on one UTC day (days since the epoch). */
export interface UnitDay {
  unit: string;
  day: number;
  usd: number;
}

/** The UTC month starting at or containing `ms`. */
export function monthOf(ms: number): MonthSpan {
  const d = new Date(ms);
  const from = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const label = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  return { label, from, to, days: Math.round((to - from) / DAY_MS), coveredDays: Math.round((to - from) / DAY_MS) };
}

/** The `count` months after `m`. */
export function monthsAfter(m: MonthSpan, count: number): MonthSpan[] {
  const out: MonthSpan[] = [];
  let next = m.to;
  for (let i = 0; i < count; i++) {
    const span = monthOf(next);
    out.push(span);
    next = span.to;
  }
  return out;
}

/**
 * Months of `[fromDay, toDay)` (days since the epoch) with per-unit sums, run-rate scaled; months
 * covered by fewer than MIN_COVERED_DAYS days are dropped. Throws when no month is left.
 */
export function monthlySeries(rows: readonly UnitDay[], window: { fromDay: number; toDay: number }): UnitSeries {
  const months: MonthSpan[] = [];
  for (let m = monthOf(window.fromDay * DAY_MS); m.from < window.toDay * DAY_MS; m = monthOf(m.to)) {
    const covered = Math.min(m.to, window.toDay * DAY_MS) - Math.max(m.from, window.fromDay * DAY_MS);
    const coveredDays = Math.round(covered / DAY_MS);
    if (coveredDays >= MIN_COVERED_DAYS) months.push({ ...m, coveredDays });
  }
  if (months.length === 0) {
    throw new TollgateError(
      'invalid_request',
      `not enough history to forecast: the data covers ${Math.max(0, window.toDay - window.fromDay)} day(s) and a month needs at least ${MIN_COVERED_DAYS} (seed more with \`tollgate demo --days 90\`, or pass --pilot <file.csv>)`,
    );
  }
  const index = new Map<string, number>();
  const units: string[] = [];
  for (const r of rows) {
    if (!index.has(r.unit)) {
      index.set(r.unit, units.length);
      units.push(r.unit);
    }
  }
  const M = months.length;
  const spend = new Float64Array(units.length * M);
  for (const r of rows) {
    const at = r.day * DAY_MS;
    const m = months.findIndex((s) => at >= s.from && at < s.to);
    if (m < 0 || r.day < window.fromDay || r.day >= window.toDay) continue;
    spend[index.get(r.unit)! * M + m]! += r.usd;
  }
  for (let m = 0; m < M; m++) {
    const scale = months[m]!.days / months[m]!.coveredDays;
    if (scale !== 1) for (let i = 0; i < units.length; i++) spend[i * M + m]! *= scale;
  }
  return dropInactive({ units, months, spend });
}

/** The series restricted to months [from, to) (indices), without units that spent nothing in them. */
export function sliceMonths(s: UnitSeries, from: number, to: number): UnitSeries {
  const M = s.months.length;
  const W = to - from;
  const spend = new Float64Array(s.units.length * W);
  for (let i = 0; i < s.units.length; i++) for (let m = 0; m < W; m++) spend[i * W + m] = s.spend[i * M + from + m]!;
  return dropInactive({ units: s.units, months: s.months.slice(from, to), spend });
}

function dropInactive(s: UnitSeries): UnitSeries {
  const M = s.months.length;
  const keep: number[] = [];
  for (let i = 0; i < s.units.length; i++) {
    for (let m = 0; m < M; m++) {
      if (s.spend[i * M + m]! > 0) {
        keep.push(i);
        break;
      }
    }
  }
  if (keep.length === s.units.length) return s;
  const spend = new Float64Array(keep.length * M);
  keep.forEach((i, k) => spend.set(s.spend.subarray(i * M, (i + 1) * M), k * M));
  return { units: keep.map((i) => s.units[i]!), months: s.months, spend };
}

/** Units active (spend > 0) in month m, and the spend of each month. */
export function monthTotals(s: UnitSeries): { active: number[]; totalUsd: number[] } {
  const M = s.months.length;
  const active = new Array<number>(M).fill(0);
  const totalUsd = new Array<number>(M).fill(0);
  for (let i = 0; i < s.units.length; i++) {
    for (let m = 0; m < M; m++) {
      const v = s.spend[i * M + m]!;
      if (v > 0) {
        active[m]!++;
        totalUsd[m]! += v;
      }
    }
  }
  return { active, totalUsd };
}
