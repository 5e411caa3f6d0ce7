/**
 * One parameter set of the Monte Carlo, precomputed so the inner loop is a few array reads and an
 * exp:
 *
 * - Levels live on a latent normal scale u (u ~ N(0, 1) is a level drawn from the fitted level
 *   law): `gl` is log L at u, log Q(Φ(u)), on [−8.5, 8.5] in steps of 1/128 (linear interpolation;
 *   error ~1e-5 on a log-normal). Units carry their log level ℓ; a month spends
 *   exp(ℓ − σ²/2 + σ·e), e ~ N(0, 1).
 * - Light levels are below the median (ℓ < `lightMax` = gl(0)); heavy ones the top 5 %
 *   (ℓ ≥ `heavyMin` = gl(Φ⁻¹(0.95))); the top 0.5 % (ℓ ≥ `topMin`) are always simulated one by
 *   one. With aggregation the others are sums: a unit at level L spends L a month on average, with
 *   variance L²(e^σ² − 1). `fresh` holds the moments (mean and variance of L, mean of that month
 *   variance) of a new unit below the heavy range, `light` those of a light one (the kind that
 *   jumps up).
 * - New units' levels follow the newcomer law N(μₙ, σₙ²) on the latent scale (forecast-model.ts:
 *   like the units that joined during training, or N(0, 1)); `freshHeavy` is their chance of a
 *   heavy level and `freshLight` the share of light levels among the rest.
 * - Known units (active in the last training month) carry their level posterior N(m, s²) on the
 *   log scale. With aggregation, those certainly in the body (m + 3.1·s < heavyMin) are folded into
 *   sums (`knownAgg`); the others are drawn one by one each trial (`knownMean`, `knownSd`).
 */
import type { SpendDistribution } from './distribution-fit.ts';
import { atScore } from './distribution-fit.ts';
import { normCdf, normPdf, normQuantile, normSf } from './normal.ts';
import type { LogLevel } from './persistence.ts';

export const HEAVY_LEVEL_SHARE = 0.05;
export const HEAVY_LEVEL = normQuantile(1 - HEAVY_LEVEL_SHARE);
/** Levels above this share's quantile are always simulated one by one. */
export const TOP_LEVEL_SHARE = 0.005;
const G_MIN = -8.5;
const G_STEP = 1 / 128;
const G_SIZE = Math.round((2 * -G_MIN) / G_STEP) + 1;

/** Mean and variance of a unit's level L, and mean of its month variance, over a range of levels. */
export interface LevelMoments {
  mean: number;
  variance: number;
  noise: number;
}

/** A level law on the latent scale: u ~ N(mean, sd²). */
export interface LatentLaw {
  mean: number;
  sd: number;
}

export interface SimParams {
  /** Log-sd of month noise, σ²/2, and e^σ² − 1 (a unit's month variance over its level squared). */
  sigma: number;
  halfVar: number;
  spread: number;
  /** Monthly probabilities of a light level jumping heavy, and a heavy one falling light. */
  jumpUp: number;
  jumpDown: number;
  /** log L at latent u. */
  gl: Float64Array;
  lightMax: number;
  heavyMin: number;
  topMin: number;
  /** Whether body units are aggregated (else every unit is simulated one by one). */
  aggregate: boolean;
  newcomer: LatentLaw;
  fresh: LevelMoments;
  freshHeavy: number;
  freshLight: number;
  light: LevelMoments;
  knownMean: Float64Array;
  knownSd: Float64Array;
  /** Known units folded into the body: how many (and how many light), Σ E[L], Σ Var[L], Σ E[month variance]. */
  knownAgg: { count: number; light: number; sumMean: number; sumVar: number; sumNoise: number };
}

export function buildSimParams(
  levels: SpendDistribution,
  opts: { sigma: number; jumpUp: number; jumpDown: number; known: readonly LogLevel[]; newcomer: LatentLaw; aggregate: boolean },
): SimParams {
  const gl = new Float64Array(G_SIZE);
  for (let i = 0; i < G_SIZE; i++) gl[i] = Math.log(atScore(levels, G_MIN + i * G_STEP));
  const { sigma, newcomer, aggregate } = opts;
  const spread = Math.expm1(sigma * sigma);
  const heavyMin = lookup(gl, HEAVY_LEVEL);
  const params: SimParams = {
    sigma,
    halfVar: (sigma * sigma) / 2,
    spread,
    jumpUp: opts.jumpUp,
    jumpDown: opts.jumpDown,
    gl,
    lightMax: lookup(gl, 0),
    heavyMin,
    topMin: lookup(gl, normQuantile(1 - TOP_LEVEL_SHARE)),
    aggregate,
    newcomer,
    fresh: moments(gl, spread, newcomer, HEAVY_LEVEL),
    freshHeavy: normSf((HEAVY_LEVEL - newcomer.mean) / newcomer.sd),
    freshLight: normCdf(-newcomer.mean / newcomer.sd) / normCdf((HEAVY_LEVEL - newcomer.mean) / newcomer.sd),
    light: moments(gl, spread, { mean: 0, sd: 1 }, 0),
    knownMean: new Float64Array(0),
    knownSd: new Float64Array(0),
    knownAgg: { count: 0, light: 0, sumMean: 0, sumVar: 0, sumNoise: 0 },
  };
  const one: LogLevel[] = [];
  for (const k of opts.known) {
    if (aggregate && k.mean + 3.1 * k.sd < heavyMin) {
      const m1 = Math.exp(k.mean + (k.sd * k.sd) / 2);
      const m2 = Math.exp(2 * k.mean + 2 * k.sd * k.sd);
      params.knownAgg.count++;
      if (k.mean < params.lightMax) params.knownAgg.light++;
      params.knownAgg.sumMean += m1;
      params.knownAgg.sumVar += Math.max(0, m2 - m1 * m1);
      params.knownAgg.sumNoise += m2 * spread;
    } else one.push(k);
  }
  params.knownMean = Float64Array.from(one, (k) => k.mean);
  params.knownSd = Float64Array.from(one, (k) => k.sd);
  return params;
}

/** log L at latent u: linear interpolation in the table, clamped to its ends. */
export function lookup(g: Float64Array, u: number): number {
  let x = (u - G_MIN) * (1 / G_STEP);
  if (x < 0) x = 0;
  const top = g.length - 1;
  if (x >= top) return g[top]!;
  const i = x | 0;
  const lo = g[i]!;
  return lo + (x - i) * (g[i + 1]! - lo);
}

/** Moments of L = e^gl(u) for u ~ N(law) below `top` (trapezoid on the table's grid). */
function moments(gl: Float64Array, spread: number, law: LatentLaw, top: number): LevelMoments {
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  for (let i = 0; i < gl.length; i++) {
    const u = G_MIN + i * G_STEP;
    if (u > top) break;
    const w = normPdf((u - law.mean) / law.sd) * (i === 0 ? 0.5 : 1);
    const L = Math.exp(gl[i]!);
    w0 += w;
    w1 += w * L;
    w2 += w * L * L;
  }
  if (!(w0 > 0)) return { mean: 0, variance: 0, noise: 0 };
  const mean = w1 / w0;
  return { mean, variance: Math.max(0, w2 / w0 - mean * mean), noise: (w2 / w0) * spread };
}
