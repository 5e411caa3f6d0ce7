/**
 * The forecast: P50/P90/P99 of each month's spend, and what each input contributes to it.
 *
 * Three simulations share their random numbers (trial t is seeded by t in each), so their
 * differences are the inputs' effects rather than noise:
 *   A  today: the units active in the last training month, no adoption, no jumps;
 *   B  adoption: the user schedule (`users`, `growth`), new units drawn from the newcomer law;
 *   C  tail: B plus jumps (light units turning heavy, and back).
 * Mix and price are multipliers on spend (model-mix.ts), so their effect on any quantile is exact.
 * At quantile q of month m: today = A, adoption = B − A, mix = (mix − 1)·B,
 * price = mix·(price_m − 1)·B, tail = mix·price_m·(C − B); they add up to the forecast.
 * The order matters where inputs interact (it is the order listed).
 */
import type { ForecastModel } from './forecast-model.ts';
import { simParams } from './forecast-model.ts';
import { AGGREGATE_MIN_UNITS, simulate } from './monte-carlo.ts';
import { userSchedule } from './scenario.ts';
import type { MonthSpan } from './unit-series.ts';
import { monthsAfter, monthTotals } from './unit-series.ts';

/** What linear extrapolation from a pilot adds on top: "pilot average × users × 1.2". */
export const NAIVE_MARGIN = 1.2;
export const QUANTILES = ['p50', 'p90', 'p99'] as const;
export type QuantileKey = (typeof QUANTILES)[number];
const LEVEL: Record<QuantileKey, number> = { p50: 0.5, p90: 0.9, p99: 0.99 };

export interface Band {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export interface Contributions {
  today: number;
  adoption: number;
  mix: number;
  price: number;
  tail: number;
}

export interface MonthForecast {
  month: MonthSpan;
  users: number;
  /** USD. */
  spend: Band;
  contributions: Record<QuantileKey, Contributions>;
  /** Pilot average × users × 1.2. */
  naive: number;
}

export interface ForecastInputs {
  horizon: number;
  /** Active units in the first forecast month; null: today's count grown by one month. */
  users: number | null;
  /** Monthly rate. */
  growth: number;
  /** Spend multipliers: the mix change, and the price changes per forecast month. */
  mix: number;
  price: readonly number[];
  trials: number;
  seed: number;
}

export interface ForecastResult {
  months: MonthForecast[];
  /** The horizon's total, per trial summed over months. */
  horizonTotal: Band;
  /** Units active in the last training month. */
  todayUnits: number;
  /** False when fewer users than today's were asked for: then every unit is drawn fresh. */
  knownCarried: boolean;
  /** Average spend per active unit-month over the training window (the naive baseline's "pilot average"). */
  pilotAverage: number;
  /** Whether the body was aggregated (large populations) or every unit simulated. */
  aggregated: boolean;
  /** The full simulation's spend per trial in the first month, after mix and price: what tier advice splits. */
  firstMonth: Float64Array;
  /** Unit-months simulated (all three runs) and the time they took. */
  unitMonths: number;
  elapsedMs: number;
}

/** The forecast months: the `horizon` months after the last training month. */
export function forecastMonths(model: ForecastModel, horizon: number): MonthSpan[] {
  return monthsAfter(model.series.months.at(-1)!, horizon);
}

export function runForecast(model: ForecastModel, inputs: ForecastInputs): ForecastResult {
  const started = performance.now();
  const months = forecastMonths(model, inputs.horizon);
  const H = months.length;
  const today = model.knownUnits.length;
  const users = userSchedule(inputs.users ?? today * (1 + inputs.growth), inputs.growth, H);
  const knownCarried = users[0]! >= today;
  const flat = new Array<number>(H).fill(today);
  const paramsToday = simParams(model, { aggregate: today >= AGGREGATE_MIN_UNITS });
  const paramsGrown = simParams(model, { aggregate: Math.min(...users) >= AGGREGATE_MIN_UNITS });
  const base = { trials: inputs.trials, seed: inputs.seed };
  const A = simulate(paramsToday, { ...base, users: flat, known: true, jumps: false });
  const B = simulate(paramsGrown, { ...base, users, known: knownCarried, jumps: false });
  const C = simulate(paramsGrown, { ...base, users, known: knownCarried, jumps: true });

  const { active, totalUsd } = monthTotals(model.series);
  const unitMonths = active.reduce((s, n) => s + n, 0);
  const pilotAverage = unitMonths > 0 ? totalUsd.reduce((s, v) => s + v, 0) / unitMonths : 0;
  const factor = (m: number) => inputs.mix * (inputs.price[m] ?? 1);

  const out: MonthForecast[] = months.map((month, m) => {
    const qa = columnQuantiles(A, H, m, 1);
    const qb = columnQuantiles(B, H, m, 1);
    const qc = columnQuantiles(C, H, m, factor(m));
    const price = inputs.price[m] ?? 1;
    const contributions = Object.fromEntries(
      QUANTILES.map((k) => [
        k,
        { today: qa[k], adoption: qb[k] - qa[k], mix: (inputs.mix - 1) * qb[k], price: inputs.mix * (price - 1) * qb[k], tail: qc[k] - inputs.mix * price * qb[k] },
      ]),
    ) as Record<QuantileKey, Contributions>;
    return { month, users: users[m]!, spend: qc, contributions, naive: pilotAverage * users[m]! * NAIVE_MARGIN };
  });

  const totals = new Float64Array(inputs.trials);
  const firstMonth = new Float64Array(inputs.trials);
  for (let t = 0; t < inputs.trials; t++) {
    let s = 0;
    for (let m = 0; m < H; m++) s += C[t * H + m]! * factor(m);
    totals[t] = s;
    firstMonth[t] = C[t * H]! * factor(0);
  }
  const simulated = (today * H + 2 * users.reduce((s, n) => s + n, 0)) * inputs.trials;
  return {
    months: out,
    horizonTotal: bandOf(totals),
    todayUnits: today,
    knownCarried,
    pilotAverage,
    aggregated: paramsGrown[0]!.aggregate,
    firstMonth,
    unitMonths: simulated,
    elapsedMs: performance.now() - started,
  };
}

/** P50/P90/P99 and mean of column m of a trials × H matrix, times `scale`. */
export function columnQuantiles(x: Float64Array, H: number, m: number, scale: number): Band {
  const trials = x.length / H;
  const col = new Float64Array(trials);
  for (let t = 0; t < trials; t++) col[t] = x[t * H + m]! * scale;
  return bandOf(col);
}

/** Sorts `values` in place; P50/P90/P99 (nearest rank) and mean. */
export function bandOf(values: Float64Array): Band {
  values.sort();
  const at = (q: number) => values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
  let s = 0;
  for (const v of values) s += v;
  return { p50: at(LEVEL.p50), p90: at(LEVEL.p90), p99: at(LEVEL.p99), mean: s / values.length };
}
