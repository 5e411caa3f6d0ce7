/**
 * Backtest: for each k, train on months 1..k, forecast month k+1 with the number of units that
 * month really had (the user count is an input people give; the backtest checks the rest), and
 * compare with what was spent. The same for the naive baseline, "pilot average × users × 1.2",
 * where the pilot average is spend per active unit-month over months 1..k. Coverage is how often
 * the actual month was at or below our P90 and P99; error is (forecast − actual) / actual.
 */
import { TollgateError } from '../../domain/errors.ts';
import type { Band } from './forecast.ts';
import { columnQuantiles, NAIVE_MARGIN } from './forecast.ts';
import { buildModel, simParams } from './forecast-model.ts';
import { AGGREGATE_MIN_UNITS, simulate } from './monte-carlo.ts';
import type { MonthSpan, UnitSeries } from './unit-series.ts';
import { monthTotals, sliceMonths } from './unit-series.ts';

export interface BacktestWindow {
  /** Months trained on (1..k). */
  trainedOn: MonthSpan[];
  month: MonthSpan;
  users: number;
  actual: number;
  forecast: Band;
  naive: number;
}

export interface BacktestSummary {
  windows: number;
  /** Share of windows with actual ≤ P90 (and ≤ P99), 0..1. */
  coverageP90: number;
  coverageP99: number;
  /** Windows where the naive baseline was below the actual month. */
  naiveBelowActual: number;
  /** Median of |forecast − actual| / actual, for our P50 and for the naive baseline. */
  medianErrorP50: number;
  medianErrorNaive: number;
  /** Mean of (forecast − actual) / actual: the bias (negative: under-forecast). */
  meanBiasP50: number;
  meanBiasNaive: number;
}

export interface BacktestOptions {
  /** Fewest months to train on (default 1). */
  minTrain?: number;
  trials: number;
  seed: number;
  bootstrap?: number;
}

export function backtest(series: UnitSeries, opts: BacktestOptions): { windows: BacktestWindow[]; summary: BacktestSummary } {
  const M = series.months.length;
  const minTrain = opts.minTrain ?? 1;
  if (!Number.isInteger(minTrain) || minTrain < 1) throw new TollgateError('invalid_request', `--min-train is a whole number of months from 1, got ${minTrain}`);
  if (M < minTrain + 1) {
    throw new TollgateError('invalid_request', `a backtest needs at least ${minTrain + 1} months of history (${minTrain} to train on and one to check); the data has ${M}`);
  }
  const { active, totalUsd } = monthTotals(series);
  const windows: BacktestWindow[] = [];
  for (let k = minTrain; k < M; k++) {
    const train = sliceMonths(series, 0, k);
    const model = buildModel(train, { ...(opts.bootstrap === undefined ? {} : { bootstrap: opts.bootstrap }), seed: opts.seed + k });
    const users = active[k]!;
    const known = users >= model.knownUnits.length;
    const sets = simParams(model, { aggregate: users >= AGGREGATE_MIN_UNITS });
    const sim = simulate(sets, { users: [users], known, jumps: true, trials: opts.trials, seed: opts.seed + k });
    const trained = monthTotals(train);
    const unitMonths = trained.active.reduce((s, n) => s + n, 0);
    const pilotAverage = trained.totalUsd.reduce((s, v) => s + v, 0) / unitMonths;
    windows.push({ trainedOn: train.months, month: series.months[k]!, users, actual: totalUsd[k]!, forecast: columnQuantiles(sim, 1, 0, 1), naive: pilotAverage * users * NAIVE_MARGIN });
  }
  return { windows, summary: summarize(windows) };
}

function summarize(w: readonly BacktestWindow[]): BacktestSummary {
  const n = w.length;
  const err = (f: number, a: number) => (a > 0 ? (f - a) / a : 0);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const p50 = w.map((x) => err(x.forecast.p50, x.actual));
  const naive = w.map((x) => err(x.naive, x.actual));
  return {
    windows: n,
    coverageP90: w.filter((x) => x.actual <= x.forecast.p90).length / n,
    coverageP99: w.filter((x) => x.actual <= x.forecast.p99).length / n,
    naiveBelowActual: w.filter((x) => x.naive < x.actual).length,
    medianErrorP50: median(p50.map(Math.abs)),
    medianErrorNaive: median(naive.map(Math.abs)),
    meanBiasP50: mean(p50),
    meanBiasNaive: mean(naive),
  };
}
