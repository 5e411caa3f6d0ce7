/**
 * Seeded synthetic ledgers of known distribution: units with persistent levels drawn from a known
 * law, month noise around them, and jumps (a light unit, below the law's median, drawn afresh from
 * its top 5 %; a heavy one, in the top 5 %, from below the median), joining month by month.
 */
import { normQuantile } from '../../src/analytics/forecast/normal.ts';
import { Rng } from '../../src/analytics/forecast/random.ts';
import type { MonthSpan, UnitSeries } from '../../src/analytics/forecast/unit-series.ts';
import { monthOf, monthsAfter } from '../../src/analytics/forecast/unit-series.ts';

/** A level law by its quantile function (USD per month). */
export type Quantile = (p: number) => number;

export const logNormal = (median: number, sigma: number): Quantile => (p) => median * Math.exp(sigma * normQuantile(p));

/** Log-normal body below its `(1 − tail)` quantile, Pareto(α) above it. */
export function paretoTailed(median: number, sigma: number, tail: number, alpha: number): Quantile {
  const u = median * Math.exp(sigma * normQuantile(1 - tail));
  return (p) => (p <= 1 - tail ? median * Math.exp(sigma * normQuantile(p)) : u * Math.pow((1 - p) / tail, -1 / alpha));
}

export interface SyntheticOptions {
  /** Active units in each month (units join in order and stay). */
  users: readonly number[];
  level: Quantile;
  /** Log-sd of month noise (mean-one log-normal). */
  noise: number;
  /** Monthly probabilities that a light unit turns heavy, and a heavy one light. */
  jumpUp: number;
  jumpDown: number;
  /** New units start light (below the law's median) and turn heavy only by jumping. */
  startLight?: boolean;
  seed: number;
  start?: string;
}

export function syntheticSeries(o: SyntheticOptions): UnitSeries {
  const rng = new Rng(o.seed);
  const first = monthOf(Date.parse(`${o.start ?? '2025-01'}-01T00:00:00Z`));
  const months: MonthSpan[] = [first, ...monthsAfter(first, o.users.length - 1)];
  const M = months.length;
  const U = Math.max(...o.users);
  const spend = new Float64Array(U * M);
  // Each unit's level as its probability in the law.
  const rank = new Float64Array(U);
  for (let i = 0; i < U; i++) rank[i] = (o.startLight ? 0.5 : 1) * rng.uniform();
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < o.users[m]!; i++) {
      if (m > 0 && i < o.users[m - 1]!) {
        if (rank[i]! < 0.5 && rng.uniform() < o.jumpUp) rank[i] = 0.95 + 0.05 * rng.uniform();
        else if (rank[i]! > 0.95 && rng.uniform() < o.jumpDown) rank[i] = 0.5 * rng.uniform();
      }
      spend[i * M + m] = o.level(rank[i]!) * Math.exp(o.noise * rng.normal() - (o.noise * o.noise) / 2);
    }
  }
  return { units: Array.from({ length: U }, (_, i) => `user-${i + 1}`), months, spend };
}
