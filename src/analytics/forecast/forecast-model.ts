/**
 * Everything the Monte Carlo needs, estimated from a unit series: the spend fit, persistence and
 * jump rates, and the level of each unit active in the last training month. Fit uncertainty is
 * carried by a bootstrap: set 0 is the estimate from all units, sets 1..B−1 refit on units resampled
 * with replacement (each keeping its whole history), each choosing log-normal or Pareto tail by
 * its Akaike weight (model uncertainty, not only parameter uncertainty), and trial t of the
 * simulation uses set t mod B. So a forecast from 40 pilot users is as wide as 40 users warrant.
 *
 * New units (adoption) take the newcomer law: levels like those of the units that joined during the
 * training window, read from their first month's score z (z = √ρ·u + √(1−ρ)·e, so
 * u ~ N(mean(z)/√ρ, (var(z) − (1 − ρ))/ρ)). When fewer than MIN_NEWCOMERS units joined (or
 * persistence is too weak to read a level), newcomers are like everyone: N(0, 1).
 */
import type { SpendFit, SpendSummary } from './distribution-fit.ts';
import { fitSpend, summarizeDistribution, summarizeSample } from './distribution-fit.ts';
import type { Persistence } from './persistence.ts';
import { estimatePersistence, levelPosterior, normalScores } from './persistence.ts';
import { Rng } from './random.ts';
import type { KnownLevel, SimParams } from './sim-params.ts';
import { buildSimParams } from './sim-params.ts';
import type { UnitSeries } from './unit-series.ts';

export const DEFAULT_BOOTSTRAP = 40;
export const MIN_NEWCOMERS = 20;

interface FitSet {
  fit: SpendFit;
  persistence: Persistence;
  known: KnownLevel[];
  newcomer: KnownLevel & { count: number };
}

export interface ForecastModel {
  series: UnitSeries;
  /** The estimate from all units (bootstrap set 0). */
  fit: SpendFit;
  persistence: Persistence;
  empirical: ReturnType<typeof summarizeSample>;
  fitted: SpendSummary;
  /** Units active in the last training month: carried into the forecast with their levels. */
  knownUnits: string[];
  sets: FitSet[];
}

export function buildModel(series: UnitSeries, opts: { bootstrap?: number; seed?: number } = {}): ForecastModel {
  const M = series.months.length;
  const U = series.units.length;
  const z = normalScores(series);
  const knownIdx: number[] = [];
  for (let i = 0; i < U; i++) if (series.spend[i * M + M - 1]! > 0) knownIdx.push(i);
  // Each unit's first positive month, when after the first training month: a newcomer's first score.
  const firstScore = new Float64Array(U).fill(NaN);
  for (let i = 0; i < U; i++) {
    const first = series.spend.subarray(i * M, (i + 1) * M).findIndex((v) => v > 0);
    if (first > 0) firstScore[i] = z[i * M + first]!;
  }
  const setFor = (units: ArrayLike<number>, draw?: number): FitSet => {
    const values: number[] = [];
    for (let j = 0; j < units.length; j++) {
      const base = units[j]! * M;
      for (let m = 0; m < M; m++) if (series.spend[base + m]! > 0) values.push(series.spend[base + m]!);
    }
    const fit = fitSpend(values, draw === undefined ? {} : { draw });
    const persistence = estimatePersistence(series, z, units);
    const known = knownIdx.map((i) => levelPosterior(z, i * M, M, persistence.rho)!);
    return { fit, persistence, known, newcomer: newcomerLaw(firstScore, units, persistence.rho) };
  };
  const all = Int32Array.from({ length: U }, (_, i) => i);
  const sets = [setFor(all)];
  const rng = new Rng(opts.seed ?? 1);
  const B = Math.max(1, opts.bootstrap ?? DEFAULT_BOOTSTRAP);
  for (let b = 1; b < B; b++) sets.push(setFor(Int32Array.from({ length: U }, () => Math.floor(rng.uniform() * U)), rng.uniform()));
  const point = sets[0]!;
  const positive = series.spend.filter((v) => v > 0);
  return {
    series,
    fit: point.fit,
    persistence: point.persistence,
    empirical: summarizeSample(positive),
    fitted: summarizeDistribution(point.fit.dist),
    knownUnits: knownIdx.map((i) => series.units[i]!),
    sets,
  };
}

function newcomerLaw(firstScore: Float64Array, units: ArrayLike<number>, rho: number): KnownLevel & { count: number } {
  let n = 0;
  let s = 0;
  let ss = 0;
  for (let j = 0; j < units.length; j++) {
    const v = firstScore[units[j]!]!;
    if (Number.isNaN(v)) continue;
    n++;
    s += v;
    ss += v * v;
  }
  if (n < MIN_NEWCOMERS || rho < 0.05) return { mean: 0, sd: 1, count: n };
  const mean = s / n;
  const variance = (ss - n * mean * mean) / (n - 1);
  return { mean: mean / Math.sqrt(rho), sd: Math.min(2, Math.max(0.1, Math.sqrt(Math.max(0, variance - (1 - rho)) / rho))), count: n };
}

/** Simulation tables for every set; `aggregate` only where the population is large enough (see monte-carlo.ts). */
export function simParams(model: ForecastModel, opts: { aggregate: boolean }): SimParams[] {
  return model.sets.map((s) =>
    buildSimParams(s.fit.dist, {
      alpha: s.fit.model === 'lognormal+pareto' ? s.fit.pareto!.alpha : Infinity,
      rho: s.persistence.rho,
      jumpUp: s.persistence.jumpUp,
      jumpDown: s.persistence.jumpDown,
      known: s.known,
      newcomer: s.newcomer,
      aggregate: opts.aggregate,
    }),
  );
}
