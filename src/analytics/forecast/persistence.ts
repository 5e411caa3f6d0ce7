/**
 * How much of a unit's month is "who it is", and how often that changes, on a latent normal scale.
 *
 * Each positive unit-month becomes a normal score z = Φ⁻¹((rank − ½) / n) among all positive
 * unit-months (so z is standard normal whatever the spend distribution). The model is one factor:
 * z(i,t) = √ρ·u(i) + √(1−ρ)·e(i,t), a persistent level u and month noise e, both N(0, 1); spend is
 * the fitted distribution's quantile at Φ(z), so the simulated marginal is exactly the fitted one.
 * Light is below the median (z < 0), heavy the top 5 % (z > 1.645).
 *
 * - ρ (persistence) is the intraclass correlation: 1 − the pooled within-unit variance of z.
 * - Jumps. A light unit's level may jump into the heavy range (a light user turning into a heavy
 *   agentic one) with probability p↑ a month, and a heavy unit's may fall back to the light range
 *   with p↓. They are read from consecutive months: r↑, the share of light months followed by a
 *   heavy one, is (1 − p↑)·r₀↑ + p↑·h↑, where r₀↑(ρ) is what month noise alone does and h↑ the
 *   chance a freshly heavy level shows a heavy month; so p↑ = (r↑ − r₀↑) / (h↑ − r₀↑), clamped to
 *   [0, 1]; likewise p↓ from heavy months followed by light ones. (A light month is taken for a
 *   light level: close when ρ is high.) When p↑ exceeds what p↓ balances (0.5·p↑ = 0.05·p↓), the
 *   heavy share grows month by month: the adoption drift that linear extrapolation misses.
 *
 * With too little history the defaults are used and flagged: fewer than MIN_REPEAT units seen in
 * two months leaves ρ assumed; fewer than MIN_PAIRS light (or heavy) months followed by another
 * leaves p↑ assumed (or p↓ set to balance p↑, i.e. no drift).
 */
import { normCdf, normPdf, normQuantile, normSf } from './normal.ts';
import type { UnitSeries } from './unit-series.ts';

export const DEFAULT_RHO = 0.8;
export const DEFAULT_JUMP_UP = 0.01;
const MIN_REPEAT = 5;
const MIN_PAIRS = 20;
export const HEAVY_Z = normQuantile(0.95);
const MAX_RHO = 0.999;
/** p↓ at which heavy units leave as fast as light ones arrive (light is 10 × as many as heavy). */
export const BALANCE = 0.5 / 0.05;
/** Months of a unit's history its level is read from: with jumps, older months say less. */
export const POSTERIOR_MONTHS = 2;

export interface Persistence {
  rho: number;
  /** Monthly probability that a light unit's level jumps into the heavy range. */
  jumpUp: number;
  /** Monthly probability that a heavy unit's level falls back into the light range. */
  jumpDown: number;
  rhoAssumed: boolean;
  jumpUpAssumed: boolean;
  jumpDownAssumed: boolean;
  /** Light months followed by a positive month, and how many of those next months were heavy. */
  lightPairs: number;
  lightToHeavy: number;
  heavyPairs: number;
  heavyToLight: number;
  /** What month noise alone would give at this ρ: light → heavy and heavy → light rates. */
  noiseUp: number;
  noiseDown: number;
}

/** Normal scores of the positive unit-months, aligned with `series.spend` (NaN where spend is 0). */
export function normalScores(series: UnitSeries): Float64Array {
  const n = series.spend.length;
  const idx: number[] = [];
  for (let k = 0; k < n; k++) if (series.spend[k]! > 0) idx.push(k);
  idx.sort((a, b) => series.spend[a]! - series.spend[b]!);
  const z = new Float64Array(n).fill(NaN);
  const N = idx.length;
  for (let r = 0; r < N; ) {
    // Ties share their mid-rank.
    let e = r;
    while (e + 1 < N && series.spend[idx[e + 1]!] === series.spend[idx[r]!]) e++;
    const score = normQuantile(((r + e) / 2 + 0.5) / N);
    for (let k = r; k <= e; k++) z[idx[k]!] = score;
    r = e + 1;
  }
  return z;
}

/** Estimates ρ and the jump rates from the units listed (indices into the series, repeats allowed: bootstrap). */
export function estimatePersistence(series: UnitSeries, z: Float64Array, units: ArrayLike<number>): Persistence {
  const M = series.months.length;
  let within = 0;
  let df = 0;
  let repeat = 0;
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  let lightPairs = 0;
  let lightToHeavy = 0;
  let heavyPairs = 0;
  let heavyToLight = 0;
  for (let j = 0; j < units.length; j++) {
    const base = units[j]! * M;
    let s = 0;
    let ss = 0;
    let k = 0;
    for (let m = 0; m < M; m++) {
      const v = z[base + m]!;
      if (Number.isNaN(v)) continue;
      s += v;
      ss += v * v;
      k++;
      const next = m + 1 < M ? z[base + m + 1]! : NaN;
      if (Number.isNaN(next)) continue;
      if (v < 0) {
        lightPairs++;
        if (next > HEAVY_Z) lightToHeavy++;
      } else if (v > HEAVY_Z) {
        heavyPairs++;
        if (next < 0) heavyToLight++;
      }
    }
    sum += s;
    sumSq += ss;
    count += k;
    if (k >= 2) {
      within += ss - (s * s) / k;
      df += k - 1;
      repeat++;
    }
  }
  const total = count > 1 ? (sumSq - (sum * sum) / count) / (count - 1) : 1;
  const rhoAssumed = repeat < MIN_REPEAT || df === 0 || total <= 0;
  const rho = rhoAssumed ? DEFAULT_RHO : Math.min(MAX_RHO, Math.max(0, 1 - within / df / total));
  const { noiseUp, noiseDown, freshUp, freshDown } = transitionRates(rho);
  const jumpUpAssumed = rhoAssumed || lightPairs < MIN_PAIRS;
  const jumpUp = jumpUpAssumed ? DEFAULT_JUMP_UP : solve(lightToHeavy / lightPairs, noiseUp, freshUp);
  const jumpDownAssumed = jumpUpAssumed || heavyPairs < MIN_PAIRS;
  const jumpDown = jumpDownAssumed ? Math.min(1, BALANCE * jumpUp) : solve(heavyToLight / heavyPairs, noiseDown, freshDown);
  return { rho, jumpUp, jumpDown, rhoAssumed, jumpUpAssumed, jumpDownAssumed, lightPairs, lightToHeavy, heavyPairs, heavyToLight, noiseUp, noiseDown };
}

/** p with observed = (1 − p)·noise + p·fresh, clamped to [0, 1]. */
function solve(observed: number, noise: number, fresh: number): number {
  return fresh > noise ? Math.min(1, Math.max(0, (observed - noise) / (fresh - noise))) : 0;
}

/**
 * For scores with correlation ρ: r₀↑ = P(z′ > 1.645 | z < 0) and r₀↓ = P(z′ < 0 | z > 1.645) (month
 * noise alone), and the chance that a level just drawn heavy shows a heavy month (h↑), or one drawn
 * light a light month (h↓). Simpson's rule on the latent scale.
 */
export function transitionRates(rho: number): { noiseUp: number; noiseDown: number; freshUp: number; freshDown: number } {
  const a = Math.sqrt(rho);
  const b = Math.sqrt(1 - rho);
  const r = Math.sqrt(1 - rho * rho);
  const c = HEAVY_Z;
  const noiseUp = rho >= MAX_RHO ? 0 : (2 * simpson(-9, 0, (x) => normPdf(x) * normSf((c - rho * x) / r)));
  const noiseDown = rho >= MAX_RHO ? 0 : simpson(c, 9, (x) => normPdf(x) * normCdf((0 - rho * x) / r)) / normSf(c);
  const freshUp = b === 0 ? 1 : simpson(c, 9, (u) => normPdf(u) * normSf((c - a * u) / b)) / normSf(c);
  const freshDown = b === 0 ? 1 : 2 * simpson(-9, 0, (u) => normPdf(u) * normCdf((0 - a * u) / b));
  return { noiseUp, noiseDown, freshUp, freshDown };
}

function simpson(lo: number, hi: number, f: (x: number) => number): number {
  const steps = 900;
  const h = (hi - lo) / steps;
  let acc = 0;
  for (let i = 0; i <= steps; i++) acc += (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * f(lo + i * h);
  return (acc * h) / 3;
}

/** A unit's level given its recent scores: u ~ N(mean, sd²) (normal prior, one-factor likelihood). */
export function levelPosterior(z: Float64Array, base: number, months: number, rho: number): { mean: number; sd: number } | null {
  let s = 0;
  let n = 0;
  for (let m = Math.max(0, months - POSTERIOR_MONTHS); m < months; m++) {
    const v = z[base + m]!;
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  if (n === 0) return null;
  const a = Math.sqrt(rho);
  const b2 = 1 - rho;
  const den = b2 + n * rho;
  return { mean: (a * s) / den, sd: Math.sqrt(b2 / den) };
}
