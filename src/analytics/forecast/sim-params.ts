/**
 * One parameter set of the Monte Carlo, precomputed as tables so the inner loop is a few array reads:
 *
 * - `g`: spend at latent score w, G(w) = Q(Φ(w)) of the fitted distribution, on [−8.5, 8.5] in
 *   steps of 1/128 (linear interpolation; relative error ~1e-5 on a log-normal).
 * - Units are split at level c = Φ⁻¹(0.95): the top 5 % of levels ("heavy") are always simulated
 *   one by one; the rest ("body") may be aggregated. For a body unit at level u, its month's spend
 *   has mean m(u) and variance v(u) (integrals over the month noise e, tabulated on u in steps of
 *   1/32). `fresh` holds the moments of a new body unit (u < c): mean and variance of m(u) and
 *   mean of v(u); `light` the same for a light one (u < 0), the kind that jumps up.
 * - New units' levels follow the newcomer law N(μₙ, σₙ²) (forecast-model.ts: like past newcomers
 *   in their first month, or N(0, 1) when the data shows too few); `freshHeavy` is their chance
 *   of a heavy level and `freshLight` the share of light levels among the rest.
 * - Aggregating the body needs its month noise to have a third moment (Berry–Esseen): with a
 *   Pareto tail α the noise of a unit at a fixed level has tail index α / (1 − ρ), so
 *   `aggregate` is false when that is ≤ 3 and everyone is simulated one by one.
 * - Known units (seen in the last training month) carry their level posterior. Those certainly in
 *   the body (mean + 3.1 sd < c) are folded into sums of E[m(u)], Var[m(u)] and E[v(u)]
 *   (`knownAgg`); the others are drawn one by one each trial (`knownMean`, `knownSd`).
 */
import type { SpendDistribution } from './distribution-fit.ts';
import { atScore } from './distribution-fit.ts';
import { normCdf, normPdf, normQuantile, normSf } from './normal.ts';

export const HEAVY_LEVEL_SHARE = 0.05;
export const HEAVY_LEVEL = normQuantile(1 - HEAVY_LEVEL_SHARE);
const G_MIN = -8.5;
const G_STEP = 1 / 128;
const G_SIZE = Math.round((2 * -G_MIN) / G_STEP) + 1;
const U_MIN = -8;
const U_STEP = 1 / 32;
const E_STEP = 1 / 16;
const E_MAX = 8;
/** Quadrature of a known unit's level posterior: ±4 sd in steps of ¼ sd. */
const POST_NODES = Array.from({ length: 33 }, (_, i) => -4 + i * 0.25);
const POST_WEIGHTS = (() => {
  const w = POST_NODES.map(normPdf);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
})();

/** A level law on the latent scale: N(mean, sd²). Known units' posteriors and the newcomer law. */
export interface KnownLevel {
  mean: number;
  sd: number;
}

/** Mean and variance of m(u), and mean of v(u), over a range of levels. */
export interface LevelMoments {
  mean: number;
  variance: number;
  noise: number;
}

export interface SimParams {
  rho: number;
  /** Monthly probabilities of a light level jumping heavy, and a heavy one falling light. */
  jumpUp: number;
  jumpDown: number;
  /** √ρ and √(1 − ρ): level and noise loadings. */
  a: number;
  b: number;
  g: Float64Array;
  /** Whether body units are aggregated (else every unit is simulated one by one). */
  aggregate: boolean;
  /** m(u) and v(u) on u = U_MIN + i·U_STEP up to HEAVY_LEVEL. */
  m: Float64Array;
  v: Float64Array;
  newcomer: KnownLevel;
  fresh: LevelMoments;
  freshHeavy: number;
  freshLight: number;
  light: LevelMoments;
  knownMean: Float64Array;
  knownSd: Float64Array;
  /** Known units folded into the body: how many (and how many of them light), Σ E[m], Σ Var[m], Σ E[v]. */
  knownAgg: { count: number; light: number; sumMean: number; sumVar: number; sumNoise: number };
}

/**
 * `alpha`: the fitted Pareto tail index (Infinity for a plain log-normal); `aggregate`: whether the
 * population is large enough for the body to be aggregated (the tail may still forbid it).
 */
export function buildSimParams(
  dist: SpendDistribution,
  opts: { alpha: number; rho: number; jumpUp: number; jumpDown: number; known: readonly KnownLevel[]; newcomer: KnownLevel; aggregate: boolean },
): SimParams {
  const { rho } = opts;
  const a = Math.sqrt(rho);
  const b = Math.sqrt(1 - rho);
  const g = new Float64Array(G_SIZE);
  for (let i = 0; i < G_SIZE; i++) g[i] = atScore(dist, G_MIN + i * G_STEP);
  const aggregate = opts.aggregate && rho < 1 && opts.alpha / (1 - rho) > 3;

  const uSize = Math.floor((HEAVY_LEVEL - U_MIN) / U_STEP) + 2;
  const m = new Float64Array(uSize);
  const v = new Float64Array(uSize);
  const eSteps = Math.round((2 * E_MAX) / E_STEP);
  for (let i = 0; i < uSize; i++) {
    const u = U_MIN + i * U_STEP;
    let s1 = 0;
    let s2 = 0;
    let wsum = 0;
    for (let k = 0; k <= eSteps; k++) {
      const e = -E_MAX + k * E_STEP;
      const w = normPdf(e) * (k === 0 || k === eSteps ? 0.5 : 1);
      const x = lookup(g, a * u + b * e);
      s1 += w * x;
      s2 += w * x * x;
      wsum += w;
    }
    m[i] = s1 / wsum;
    v[i] = Math.max(0, s2 / wsum - (s1 / wsum) ** 2);
  }
  const params: SimParams = {
    rho, jumpUp: opts.jumpUp, jumpDown: opts.jumpDown, a, b, g, aggregate, m, v,
    newcomer: opts.newcomer,
    fresh: moments(m, v, opts.newcomer, HEAVY_LEVEL),
    freshHeavy: normSf((HEAVY_LEVEL - opts.newcomer.mean) / opts.newcomer.sd),
    freshLight: normCdf((0 - opts.newcomer.mean) / opts.newcomer.sd) / normCdf((HEAVY_LEVEL - opts.newcomer.mean) / opts.newcomer.sd),
    light: moments(m, v, { mean: 0, sd: 1 }, 0),
    knownMean: new Float64Array(0),
    knownSd: new Float64Array(0),
    knownAgg: { count: 0, light: 0, sumMean: 0, sumVar: 0, sumNoise: 0 },
  };
  const one: KnownLevel[] = [];
  for (const k of opts.known) {
    if (aggregate && k.mean + 3.1 * k.sd < HEAVY_LEVEL) {
      let e1 = 0;
      let e2 = 0;
      let ev = 0;
      for (let j = 0; j < POST_NODES.length; j++) {
        const u = k.mean + k.sd * POST_NODES[j]!;
        const mu = levelMean(params, u);
        e1 += POST_WEIGHTS[j]! * mu;
        e2 += POST_WEIGHTS[j]! * mu * mu;
        ev += POST_WEIGHTS[j]! * levelNoise(params, u);
      }
      params.knownAgg.count++;
      if (k.mean < 0) params.knownAgg.light++;
      params.knownAgg.sumMean += e1;
      params.knownAgg.sumVar += Math.max(0, e2 - e1 * e1);
      params.knownAgg.sumNoise += ev;
    } else one.push(k);
  }
  params.knownMean = Float64Array.from(one, (k) => k.mean);
  params.knownSd = Float64Array.from(one, (k) => k.sd);
  return params;
}

/** Moments of m(u) and v(u) for u ~ N(law) below `top` (trapezoid on the table's grid). */
function moments(m: Float64Array, v: Float64Array, law: KnownLevel, top: number): LevelMoments {
  let w0 = 0;
  let w1 = 0;
  let w2 = 0;
  let wv = 0;
  for (let i = 0; i < m.length; i++) {
    const u = U_MIN + i * U_STEP;
    if (u > top) break;
    const w = normPdf((u - law.mean) / law.sd) * (i === 0 ? 0.5 : 1);
    w0 += w;
    w1 += w * m[i]!;
    w2 += w * m[i]! * m[i]!;
    wv += w * v[i]!;
  }
  if (!(w0 > 0)) return { mean: 0, variance: 0, noise: 0 };
  const mean = w1 / w0;
  return { mean, variance: Math.max(0, w2 / w0 - mean * mean), noise: wv / w0 };
}

/** Spend at latent score w: G(w), linearly interpolated, clamped to the table. */
export function lookup(g: Float64Array, w: number): number {
  let x = (w - G_MIN) * (1 / G_STEP);
  if (x < 0) x = 0;
  const top = g.length - 1;
  if (x >= top) return g[top]!;
  const i = x | 0;
  const lo = g[i]!;
  return lo + (x - i) * (g[i + 1]! - lo);
}

/** m(u): expected month spend of a unit at level u (body levels only). */
export function levelMean(p: SimParams, u: number): number {
  return interp(p.m, u);
}

/** v(u): variance of a month's spend of a unit at level u (body levels only). */
export function levelNoise(p: SimParams, u: number): number {
  return interp(p.v, u);
}

function interp(t: Float64Array, u: number): number {
  let x = (u - U_MIN) * (1 / U_STEP);
  if (x < 0) x = 0;
  const top = t.length - 1;
  if (x >= top) return t[top]!;
  const i = x | 0;
  return t[i]! + (x - i) * (t[i + 1]! - t[i]!);
}
