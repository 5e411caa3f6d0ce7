/**
 * Everything the Monte Carlo needs, estimated from a unit series: month noise, the level law,
 * jump rates, the level of each unit active in the last training month, and the newcomer law.
 * Fit uncertainty is carried by a bootstrap: set 0 is the estimate from all units, sets 1..B−1
 * refit on units resampled with replacement (each keeping its whole history), each choosing
 * log-normal or Pareto tail for the levels by its Akaike weight (model uncertainty, not only
 * parameter uncertainty), and trial t of the simulation uses set t mod B. So a forecast from 40
 * pilot users is as wide as 40 users warrant. (The jump rates' reference, what levels and noise do
 * without jumps, is simulated once, from set 0, and shared: it moves little between sets.)
 *
 * Two fits are kept apart: `fit` is of unit-months (what a unit spends in a month: the figures
 * people are shown and tests check), `levels` of units' levels (what the simulation draws new units
 * from; month noise is added on top).
 *
 * New units (adoption) take the newcomer law: levels like those of the units that joined during the
 * training window, read from their first month (on the level law's latent scale, a normal fitted
 * to their scores). When fewer than MIN_NEWCOMERS units joined, newcomers are like everyone: N(0, 1).
 */
import type { SpendFit, SpendSummary } from './distribution-fit.ts';
import { fitSpend, summarizeDistribution, summarizeSample } from './distribution-fit.ts';
import { normQuantile } from './normal.ts';
import type { Jumps, LogLevel, MonthNoise, TransitionRates } from './persistence.ts';
import { estimateJumps, monthNoise, recentLevel, transitionRates, unitLevels } from './persistence.ts';
import { Rng } from './random.ts';
import type { LatentLaw, SimParams } from './sim-params.ts';
import { buildSimParams } from './sim-params.ts';
import type { UnitSeries } from './unit-series.ts';

export const DEFAULT_BOOTSTRAP = 40;
export const MIN_NEWCOMERS = 20;

export interface FitSet {
  levels: SpendFit;
  noise: MonthNoise;
  jumps: Jumps;
  known: LogLevel[];
  newcomer: LatentLaw & { count: number };
}

export interface ForecastModel {
  series: UnitSeries;
  /** Unit-months: the fit people are shown (from all units). */
  fit: SpendFit;
  empirical: ReturnType<typeof summarizeSample>;
  fitted: SpendSummary;
  /** Units active in the last training month: carried into the forecast with their levels. */
  knownUnits: string[];
  /** Set 0 is the estimate from all units. */
  sets: FitSet[];
}

export function buildModel(series: UnitSeries, opts: { bootstrap?: number; seed?: number } = {}): ForecastModel {
  const M = series.months.length;
  const U = series.units.length;
  const knownIdx: number[] = [];
  for (let i = 0; i < U; i++) if (series.spend[i * M + M - 1]! > 0) knownIdx.push(i);
  // Each unit's first positive month, when after the first training month: a newcomer's first month.
  const firstSpend = new Float64Array(U);
  for (let i = 0; i < U; i++) {
    const first = series.spend.subarray(i * M, (i + 1) * M).findIndex((v) => v > 0);
    if (first > 0) firstSpend[i] = series.spend[i * M + first]!;
  }
  let rates: TransitionRates | null = null;
  const setFor = (units: ArrayLike<number>, draw?: number): FitSet => {
    const noise = monthNoise(series, units);
    const levels = fitSpend(unitLevels(series, units, noise.sigma), draw === undefined ? {} : { draw });
    rates ??= transitionRates(levels.dist, noise.sigma);
    const jumps = estimateJumps(series, units, rates);
    const known = knownIdx.map((i) => recentLevel(series, i, noise.sigma)!);
    return { levels, noise, jumps, known, newcomer: newcomerLaw(firstSpend, units, levels, noise.sigma) };
  };
  const all = Int32Array.from({ length: U }, (_, i) => i);
  const sets = [setFor(all)];
  const rng = new Rng(opts.seed ?? 1);
  const B = Math.max(1, opts.bootstrap ?? DEFAULT_BOOTSTRAP);
  for (let b = 1; b < B; b++) sets.push(setFor(Int32Array.from({ length: U }, () => Math.floor(rng.uniform() * U)), rng.uniform()));
  const positive = series.spend.filter((v) => v > 0);
  const fit = fitSpend(positive);
  return { series, fit, empirical: summarizeSample(positive), fitted: summarizeDistribution(fit.dist), knownUnits: knownIdx.map((i) => series.units[i]!), sets };
}

function newcomerLaw(firstSpend: Float64Array, units: ArrayLike<number>, levels: SpendFit, sigma: number): LatentLaw & { count: number } {
  const scores: number[] = [];
  for (let j = 0; j < units.length; j++) {
    const v = firstSpend[units[j]!]!;
    if (v > 0) scores.push(normQuantile(Math.min(1 - 1e-12, Math.max(1e-12, levels.dist.cdf(v * Math.exp((sigma * sigma) / 2))))));
  }
  const n = scores.length;
  if (n < MIN_NEWCOMERS) return { mean: 0, sd: 1, count: n };
  const mean = scores.reduce((s, x) => s + x, 0) / n;
  const variance = scores.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.min(2, Math.max(0.1, Math.sqrt(variance))), count: n };
}

/** Simulation tables for every set; `aggregate` only where the population is large enough (see monte-carlo.ts). */
export function simParams(model: ForecastModel, opts: { aggregate: boolean }): SimParams[] {
  return model.sets.map((s) =>
    buildSimParams(s.levels.dist, { sigma: s.noise.sigma, jumpUp: s.jumps.up, jumpDown: s.jumps.down, known: s.known, newcomer: s.newcomer, aggregate: opts.aggregate }),
  );
}
