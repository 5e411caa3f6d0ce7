/**
 * Spend at the end of this month, P50 and P90, from nothing but the ledger's own daily figures: the
 * month-to-date run-rate carried to the month's end, and a band from how much daily spend varied
 * over the last 28 days. Simple on purpose, and it says how it was made; the full heavy-tailed
 * forecast is `tollgate forecast`.
 */
import { formatUsd } from '../domain/money.ts';

const DAY_MS = 86_400_000;
/** The standard normal's 90th percentile. */
const Z90 = 1.2816;

export interface MonthForecastInput {
  /** Start of the month, epoch ms. */
  monthFrom: number;
  /** End of the month (exclusive), epoch ms. */
  monthTo: number;
  now: number;
  monthToDateNano: bigint;
  /** Spend of each of the last whole UTC days before today (28 of them), zeros included. */
  recentDaysNano: readonly bigint[];
}

export interface MonthForecast {
  p50Nano: bigint;
  p90Nano: bigint;
  /** How the figures were made, for people. */
  method: string;
}

export function monthForecast(i: MonthForecastInput): MonthForecast {
  const elapsedDays = Math.max(0, (Math.min(i.now, i.monthTo) - i.monthFrom) / DAY_MS);
  const leftDays = Math.max(0, (i.monthTo - Math.max(i.now, i.monthFrom)) / DAY_MS);
  const recent = i.recentDaysNano.map(Number);
  const recentMean = recent.length > 0 ? recent.reduce((s, v) => s + v, 0) / recent.length : 0;
  // Under a day into the month, its run-rate is mostly noise (a quiet night, a batch job): use the recent days' mean.
  const fromMonth = elapsedDays >= 1;
  const rate = fromMonth ? Number(i.monthToDateNano) / elapsedDays : recentMean;
  const sd = recent.length >= 2 ? Math.sqrt(recent.reduce((s, v) => s + (v - recentMean) ** 2, 0) / (recent.length - 1)) : 0;
  const rest = rate * leftDays;
  // Days taken as independent: the spread of their sum grows with the square root of their number.
  const band = Z90 * sd * Math.sqrt(leftDays);
  const p50Nano = i.monthToDateNano + BigInt(Math.round(rest));
  const p90Nano = p50Nano + BigInt(Math.round(band));
  const days = (d: number) => `${d.toFixed(1)} day${d.toFixed(1) === '1.0' ? '' : 's'}`;
  const method =
    leftDays === 0
      ? `The month is over: both figures are what it spent (${formatUsd(i.monthToDateNano)}).`
      : `P50: month-to-date ${formatUsd(i.monthToDateNano)} plus ${fromMonth ? `the month-to-date run-rate (${formatUsd(BigInt(Math.round(rate)))}/day over ${days(elapsedDays)})` : `the mean daily spend of the last ${recent.length} days (${formatUsd(BigInt(Math.round(rate)))}/day; under a day of this month is too little to go by)`} for the ${days(leftDays)} left. ` +
        `P90: P50 plus ${Z90} standard deviations of daily spend over the last ${recent.length} days (${formatUsd(BigInt(Math.round(sd)))}/day) times the square root of the days left, taking days as independent.`;
  return { p50Nano, p90Nano, method };
}
