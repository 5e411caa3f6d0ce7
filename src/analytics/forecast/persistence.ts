/**
 * A unit's month is its level times month noise: S(i,t) = L(i)·ε(i,t), log ε ~ N(−σ²/2, σ²), so
 * the noise is relative (a heavy customer's month wobbles by the same percentage as a light one's)
 * and has mean 1. Levels persist, except for jumps.
 *
 * - σ is read from month-to-month steps of log spend, N(0, 2σ²) without a change of level: the root
 *   mean square step ÷ √2. Level changes are kept in it on purpose (slow drifts the jumps below do not
 *   describe), which errs wide. ρ = 1 − σ² / Var(log S) is the share of the spread that is "who
 *   the unit is" (reported).
 * - A unit's level is the mean of its months (unbiased: the noise has mean 1). The level
 *   distribution is fitted to those (forecast-model.ts); a known unit's level for the forecast is
 *   read from its last RECENT_MONTHS months only (with jumps, older months say less), with
 *   log-scale spread σ/√n around that mean.
 * - Jumps. A light unit's level (below the levels' median) may jump into the heavy range (the top
 *   5 % of levels: a light user turning into a heavy agentic one) with probability p↑ a month, and a
 *   heavy unit's may fall back below the median with p↓. They are read from consecutive months: a
 *   light month (below the unit-months' median) followed by a heavy one (above their P95) happens
 *   at rate r↑ = (1 − p↑)·r₀↑ + p↑·h↑, where r₀↑ is what levels and noise do without jumps and h↑ how
 *   often a level just drawn heavy shows a heavy month (both by simulating the fitted model, 20,000
 *   draws); so p↑ = (r↑ − r₀↑) / (h↑ − r₀↑), clamped to [0, 1]; likewise p↓ from heavy months
 *   followed by light ones. When p↑ exceeds what p↓ balances (½·p↑ = 5 %·p↓), the heavy share grows
 *   month by month: the adoption drift linear extrapolation misses.
 *
 * With too little history the defaults are used and flagged: fewer than MIN_STEPS month-to-month
 * steps leaves σ assumed (a fifth of the spread between unit-months, at most DEFAULT_SIGMA); fewer
 * than MIN_PAIRS light (heavy) months followed by another leaves p↑ assumed (p↓ set to balance p↑:
 * no drift).
 */
import type { SpendDistribution } from './distribution-fit.ts';
import { quantileSorted } from './distribution-fit.ts';
import { Rng } from './random.ts';
import type { UnitSeries } from './unit-series.ts';

export const DEFAULT_SIGMA = 0.5;
/** Without two months to read σ from: the share of the spread taken for levels. */
const ASSUMED_RHO = 0.8;
export const DEFAULT_JUMP_UP = 0.01;
const MIN_STEPS = 10;
const MIN_PAIRS = 20;
const RATE_DRAWS = 20_000;
/** p↓ at which heavy levels leave as fast as light ones arrive (light levels are 10 × as many). */
export const BALANCE = 0.5 / 0.05;
/** Months a known unit's level is read from. */
export const RECENT_MONTHS = 2;

/** A level on the log scale: log L ~ N(mean, sd²). */
export interface LogLevel {
  mean: number;
  sd: number;
}

export interface MonthNoise {
  /** Log-sd of month noise. */
  sigma: number;
  /** 1 − σ² / Var(log S), 0..1. */
  rho: number;
  assumed: boolean;
}

export interface Jumps {
  /** Monthly probability that a light level jumps into the heavy range. */
  up: number;
  /** Monthly probability that a heavy level falls below the median. */
  down: number;
  upAssumed: boolean;
  downAssumed: boolean;
  /** Light months followed by a positive month, and how many of those next months were heavy. */
  lightPairs: number;
  lightToHeavy: number;
  heavyPairs: number;
  heavyToLight: number;
  /** What levels and noise do without jumps: light → heavy and heavy → light rates. */
  noiseUp: number;
  noiseDown: number;
}

/** σ and ρ from the units listed (indices into the series; repeats allowed: bootstrap). */
export function monthNoise(series: UnitSeries, units: ArrayLike<number>): MonthNoise {
  const M = series.months.length;
  let steps = 0;
  let stepSq = 0;
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  for (let j = 0; j < units.length; j++) {
    const base = units[j]! * M;
    for (let m = 0; m < M; m++) {
      const v = series.spend[base + m]!;
      if (!(v > 0)) continue;
      const l = Math.log(v);
      sum += l;
      sumSq += l * l;
      count++;
      const next = m + 1 < M ? series.spend[base + m + 1]! : 0;
      if (next > 0) {
        steps++;
        stepSq += (Math.log(next) - l) ** 2;
      }
    }
  }
  const total = count > 1 ? (sumSq - (sum * sum) / count) / (count - 1) : 0;
  const rhoOf = (sigma: number) => (total > 0 ? Math.min(1, Math.max(0, 1 - (sigma * sigma) / total)) : 0);
  if (steps < MIN_STEPS) {
    // Assumed: a fifth of the spread between unit-months is month noise, at most DEFAULT_SIGMA.
    const sigma = total > 0 ? Math.min(DEFAULT_SIGMA, Math.sqrt((1 - ASSUMED_RHO) * total)) : DEFAULT_SIGMA;
    return { sigma, rho: rhoOf(sigma), assumed: true };
  }
  // A month-to-month step of log spend is the difference of two noises, N(0, 2σ²), plus any change of
  // level: the root mean square step ÷ √2 keeps those changes in (a robust median would drop them, and
  // then the jump rates, read coarsely, are all that carries level changes: backtests cover less).
  const sigma = Math.max(1e-3, Math.sqrt(stepSq / steps / 2));
  return { sigma, rho: rhoOf(sigma), assumed: false };
}

/** Each listed unit's level: the mean of its positive months. */
export function unitLevels(series: UnitSeries, units: ArrayLike<number>, sigma: number): number[] {
  const M = series.months.length;
  const out: number[] = [];
  for (let j = 0; j < units.length; j++) {
    const level = logLevel(series, units[j]!, 0, M, sigma);
    if (level) out.push(Math.exp(level.mean + (level.sd * level.sd) / 2));
  }
  return out;
}

/** A known unit's level from its last RECENT_MONTHS months (null when it spent nothing in them). */
export function recentLevel(series: UnitSeries, unit: number, sigma: number): LogLevel | null {
  const M = series.months.length;
  return logLevel(series, unit, Math.max(0, M - RECENT_MONTHS), M, sigma);
}

function logLevel(series: UnitSeries, unit: number, from: number, to: number, sigma: number): LogLevel | null {
  const M = series.months.length;
  let s = 0;
  let n = 0;
  for (let m = from; m < to; m++) {
    const v = series.spend[unit * M + m]!;
    if (v > 0) {
      s += v;
      n++;
    }
  }
  if (n === 0) return null;
  // The mean month is an unbiased estimate of L (the noise has mean 1); the spread around it is
  // σ/√n on the log scale, centred so that E[L] stays that mean.
  const sd = sigma / Math.sqrt(n);
  return { mean: Math.log(s / n) - (sd * sd) / 2, sd };
}

export interface TransitionRates {
  noiseUp: number;
  noiseDown: number;
  freshUp: number;
  freshDown: number;
}

/** Jump rates from consecutive months of the listed units, against the rates levels and noise give without jumps. */
export function estimateJumps(series: UnitSeries, units: ArrayLike<number>, rates: TransitionRates): Jumps {
  const M = series.months.length;
  const values = new Float64Array(units.length * M);
  let n = 0;
  for (let j = 0; j < units.length; j++) {
    for (let m = 0; m < M; m++) {
      const v = series.spend[units[j]! * M + m]!;
      if (v > 0) values[n++] = v;
    }
  }
  values.subarray(0, n).sort();
  const median = quantileSorted(values.subarray(0, n), 0.5);
  const heavy = quantileSorted(values.subarray(0, n), 0.95);
  let lightPairs = 0;
  let lightToHeavy = 0;
  let heavyPairs = 0;
  let heavyToLight = 0;
  for (let j = 0; j < units.length; j++) {
    const base = units[j]! * M;
    for (let m = 0; m + 1 < M; m++) {
      const v = series.spend[base + m]!;
      const next = series.spend[base + m + 1]!;
      if (!(v > 0) || !(next > 0)) continue;
      if (v < median) {
        lightPairs++;
        if (next > heavy) lightToHeavy++;
      } else if (v > heavy) {
        heavyPairs++;
        if (next < median) heavyToLight++;
      }
    }
  }
  const upAssumed = lightPairs < MIN_PAIRS;
  const up = upAssumed ? DEFAULT_JUMP_UP : solve(lightToHeavy / lightPairs, rates.noiseUp, rates.freshUp);
  const downAssumed = upAssumed || heavyPairs < MIN_PAIRS;
  const down = downAssumed ? Math.min(1, BALANCE * up) : solve(heavyToLight / heavyPairs, rates.noiseDown, rates.freshDown);
  return { up, down, upAssumed, downAssumed, lightPairs, lightToHeavy, heavyPairs, heavyToLight, noiseUp: rates.noiseUp, noiseDown: rates.noiseDown };
}

/** p with observed = (1 − p)·noise + p·fresh, clamped to [0, 1]. */
function solve(observed: number, noise: number, fresh: number): number {
  return fresh > noise ? Math.min(1, Math.max(0, (observed - noise) / (fresh - noise))) : 0;
}

/**
 * Without jumps: r₀↑ = P(next month heavy | this month light), r₀↓ = P(next light | this heavy);
 * and h↑ = P(heavy month | level just drawn heavy), h↓ = P(light month | level just drawn light).
 * By simulation of levels and two months of noise (seeded: the same figures every time).
 */
export function transitionRates(levels: SpendDistribution, sigma: number): TransitionRates {
  const rng = new Rng(0x5eed);
  const n = RATE_DRAWS;
  const noise = () => Math.exp(sigma * rng.normal() - (sigma * sigma) / 2);
  const L = Float64Array.from({ length: n }, () => levels.quantile(rng.uniform()));
  const a = L.map((l) => l * noise());
  const b = L.map((l) => l * noise());
  const pooled = Float64Array.from([...a, ...b]).sort();
  const median = quantileSorted(pooled, 0.5);
  const heavy = quantileSorted(pooled, 0.95);
  let light = 0;
  let up = 0;
  let hv = 0;
  let down = 0;
  let freshUp = 0;
  let freshDown = 0;
  for (let i = 0; i < n; i++) {
    if (a[i]! < median) {
      light++;
      if (b[i]! > heavy) up++;
    } else if (a[i]! > heavy) {
      hv++;
      if (b[i]! < median) down++;
    }
    if (levels.upper(0.05 * rng.uniform()) * noise() > heavy) freshUp++;
    if (levels.quantile(0.5 * rng.uniform()) * noise() < median) freshDown++;
  }
  return { noiseUp: light ? up / light : 0, noiseDown: hv ? down / hv : 0, freshUp: freshUp / n, freshDown: freshDown / n };
}
