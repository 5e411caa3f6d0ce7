/**
 * Fits the spend of one unit (a user, an agent, a workload) in one period (day or month) with a
 * model that respects the tail, and picks between two by fit quality:
 *
 * - `lognormal`: log-normal, maximum likelihood (mean and deviation of log spend).
 * - `lognormal+pareto`: a log-normal body (median and interquartile range of log spend, so the tail
 *   does not drag it) spliced at a threshold u onto a Pareto tail, the top k values, with the
 *   tail index α by maximum likelihood (Hill). u is chosen by maximum likelihood of the whole
 *   spliced density over k from max(5, 2 % of n) to 30 % of n. The tail is truncated at
 *   `CAP_FACTOR` × the largest value seen: spend is bounded in practice (rate limits, budgets), and
 *   with α ≤ 1 an untruncated Pareto has no mean.
 *
 * The spliced model has two parameters more (α and u), so it is chosen when its log-likelihood
 * beats the log-normal's by more than 2 (Akaike: the gain is `aicGain` > 0). Both are fitted on
 * positive values only; zero spend is "not active", counted apart by the callers.
 */
import { TollgateError } from '../../domain/errors.ts';
import { normCdf, normPdf, normQuantile, normSf, normUpperQuantile } from './normal.ts';

export type FitModel = 'lognormal' | 'lognormal+pareto';

/** The largest value the Pareto tail may produce, as a multiple of the largest value seen. */
export const CAP_FACTOR = 20;
/** Fewest positive values for which a tail is fitted at all. */
export const MIN_TAIL_FIT = 20;
const SIGMA_FLOOR = 0.05;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** A fitted spend distribution: values in USD (floats: these are estimates, never ledger money). */
export interface SpendDistribution {
  readonly model: FitModel;
  /** Value at probability p. */
  quantile(p: number): number;
  /** Value at upper-tail probability s (that is, p = 1 − s), precise for tiny s. */
  upper(s: number): number;
  cdf(x: number): number;
}

export interface LogNormalParams {
  mu: number;
  sigma: number;
}

export interface ParetoTailParams {
  /** u: values above it follow the Pareto tail. */
  threshold: number;
  alpha: number;
  /** Values above u. */
  tailCount: number;
  /** Share of values above u: the tail's probability. */
  tailShare: number;
  /** Truncation point of the tail (CAP_FACTOR × the largest value seen). */
  cap: number;
  body: LogNormalParams;
}

/** The figures people ask for, of a sample or of a fitted distribution. */
export interface SpendSummary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  /** Share of all spend that the top 5 % of units carry, 0..1. */
  top5Share: number;
}

export interface SpendFit {
  /** Positive values fitted. */
  n: number;
  model: FitModel;
  lognormal: LogNormalParams & { logLik: number };
  /** Null when there were too few values for a tail fit. */
  pareto: (ParetoTailParams & { logLik: number }) | null;
  /** Spliced minus log-normal log-likelihood, minus 2 for the extra parameters (AIC / 2); > 0 chose the tail. */
  aicGain: number | null;
  dist: SpendDistribution;
}

/**
 * Fits positive spend values (USD). Throws `invalid_request` when there are none. The model with
 * the better AIC is chosen; with `draw` (uniform 0..1, for a bootstrap set), the spliced model is
 * chosen with its Akaike weight 1 / (1 + e^(−aicGain)) instead, so sets mix the two models as
 * much as the evidence leaves open (draw = ½ is the best-AIC choice).
 */
export function fitSpend(values: ArrayLike<number>, opts: { tail?: boolean; draw?: number } = {}): SpendFit {
  const xs = Float64Array.from({ length: values.length }, (_, i) => values[i]!).filter((v) => v > 0 && Number.isFinite(v)).sort();
  const n = xs.length;
  if (n === 0) throw new TollgateError('invalid_request', 'no spend to fit: the data has no unit with spend above $0 in the period');
  const logs = xs.map(Math.log);
  const mu = mean(logs);
  const sigma = Math.max(SIGMA_FLOOR, Math.sqrt(logs.reduce((s, l) => s + (l - mu) ** 2, 0) / n));
  const lnLogLik = logs.reduce((s, l) => s - l - Math.log(sigma) - LOG_SQRT_2PI - (l - mu) ** 2 / (2 * sigma * sigma), 0);
  const lognormal = { mu, sigma, logLik: lnLogLik };
  const pareto = opts.tail === false || n < MIN_TAIL_FIT ? null : fitTail(xs, logs);
  const aicGain = pareto ? pareto.logLik - lnLogLik - 2 : null;
  if (pareto && (opts.draw ?? 0.5) < 1 / (1 + Math.exp(-aicGain!))) return { n, model: 'lognormal+pareto', lognormal, pareto, aicGain, dist: splicedDistribution(pareto) };
  return { n, model: 'lognormal', lognormal, pareto, aicGain, dist: logNormalDistribution(lognormal) };
}

function fitTail(xs: Float64Array, logs: Float64Array): ParetoTailParams & { logLik: number } {
  const n = xs.length;
  // Robust body: the median and interquartile range of log spend.
  const bodyMu = quantileSorted(logs, 0.5);
  const bodySigma = Math.max(SIGMA_FLOOR, (quantileSorted(logs, 0.75) - quantileSorted(logs, 0.25)) / 1.349);
  const cap = CAP_FACTOR * xs[n - 1]!;
  // Prefix sums of log x and (log x)², for the body's and the tail's likelihood in O(1) per threshold.
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    s1[i + 1] = s1[i]! + logs[i]!;
    s2[i + 1] = s2[i]! + logs[i]! * logs[i]!;
  }
  let best: (ParetoTailParams & { logLik: number }) | null = null;
  const kMin = Math.max(5, Math.ceil(0.02 * n));
  const kMax = Math.floor(0.3 * n);
  for (let k = kMin; k <= kMax; k++) {
    const m = n - k; // body size; u is the largest body value
    const logU = logs[m - 1]!;
    const tailLogSum = s1[n]! - s1[m]!;
    const excess = tailLogSum - k * logU;
    if (!(excess > 0)) continue;
    const alpha = k / excess;
    const q = k / n;
    const c = Math.exp(alpha * (logU - Math.log(cap)));
    const tail = k * (Math.log(q) + Math.log(alpha) + alpha * logU - Math.log1p(-c)) - (alpha + 1) * tailLogSum;
    const sq = s2[m]! - 2 * bodyMu * s1[m]! + m * bodyMu * bodyMu;
    const bodyCdfAtU = normCdf((logU - bodyMu) / bodySigma);
    const body = m * (Math.log(1 - q) - Math.log(bodySigma) - LOG_SQRT_2PI - Math.log(bodyCdfAtU)) - s1[m]! - sq / (2 * bodySigma * bodySigma);
    const logLik = tail + body;
    if (!best || logLik > best.logLik) {
      best = { threshold: Math.exp(logU), alpha, tailCount: k, tailShare: q, cap, body: { mu: bodyMu, sigma: bodySigma }, logLik };
    }
  }
  return best ?? { threshold: xs[n - 1]!, alpha: Infinity, tailCount: 0, tailShare: 0, cap, body: { mu: bodyMu, sigma: bodySigma }, logLik: -Infinity };
}

export function logNormalDistribution(p: LogNormalParams): SpendDistribution {
  return {
    model: 'lognormal',
    quantile: (q) => Math.exp(p.mu + p.sigma * normQuantile(q)),
    upper: (s) => Math.exp(p.mu + p.sigma * normUpperQuantile(s)),
    cdf: (x) => (x <= 0 ? 0 : normCdf((Math.log(x) - p.mu) / p.sigma)),
  };
}

export function splicedDistribution(t: ParetoTailParams): SpendDistribution {
  const { threshold: u, alpha, tailShare: q, body } = t;
  const bodyAtU = normCdf((Math.log(u) - body.mu) / body.sigma);
  const c = Math.pow(u / t.cap, alpha);
  const bodyQuantile = (p: number) => Math.exp(body.mu + body.sigma * normQuantile((p * bodyAtU) / (1 - q)));
  const tailUpper = (s: number) => u * Math.pow(c + (s / q) * (1 - c), -1 / alpha);
  return {
    model: 'lognormal+pareto',
    quantile: (p) => (p <= 1 - q ? bodyQuantile(p) : tailUpper(1 - p)),
    upper: (s) => (s < q ? tailUpper(s) : bodyQuantile(1 - s)),
    cdf: (x) => {
      if (x <= 0) return 0;
      if (x <= u) return ((1 - q) * normCdf((Math.log(x) - body.mu) / body.sigma)) / bodyAtU;
      if (x >= t.cap) return 1;
      return 1 - q + (q * (1 - Math.pow(u / x, alpha))) / (1 - c);
    },
  };
}

/**
 * Value at latent normal score w: Q(Φ(w)), through the upper tail for w > 0 so that the far tail
 * keeps its precision. This is how the simulation maps a user's latent level to spend.
 */
export function atScore(d: SpendDistribution, w: number): number {
  return w <= 0 ? d.quantile(normCdf(w)) : d.upper(normSf(w));
}

/** P50/P90/P99, mean and top-5 % share of a fitted distribution (numerical integration on the latent scale). */
export function summarizeDistribution(d: SpendDistribution): SpendSummary {
  // E[X] = ∫ Q(Φ(w)) φ(w) dw, Simpson's rule on [−9, 9]; the top 5 % is w ≥ Φ⁻¹(0.95).
  const h = 0.005;
  const steps = 3600;
  const cut = normUpperQuantile(0.05);
  let total = 0;
  let top = 0;
  for (let i = 0; i <= steps; i++) {
    const w = -9 + i * h;
    const weight = (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * normPdf(w) * atScore(d, w);
    total += weight;
    if (w >= cut) top += weight;
  }
  return { p50: d.quantile(0.5), p90: d.quantile(0.9), p99: d.quantile(0.99), mean: (total * h) / 3, top5Share: total > 0 ? top / total : 0 };
}

/** The same figures straight from the values (linear-interpolation quantiles). */
export function summarizeSample(values: ArrayLike<number>): SpendSummary & { n: number; max: number; total: number } {
  const xs = Float64Array.from({ length: values.length }, (_, i) => values[i]!).sort();
  const n = xs.length;
  if (n === 0) return { n: 0, p50: 0, p90: 0, p99: 0, mean: 0, top5Share: 0, max: 0, total: 0 };
  let total = 0;
  for (const x of xs) total += x;
  const topCount = Math.ceil(0.05 * n);
  let top = 0;
  for (let i = n - topCount; i < n; i++) top += xs[i]!;
  return { n, p50: quantileSorted(xs, 0.5), p90: quantileSorted(xs, 0.9), p99: quantileSorted(xs, 0.99), mean: total / n, top5Share: total > 0 ? top / total : 0, max: xs[n - 1]!, total };
}

/** Quantile of ascending values by linear interpolation between order statistics (R's type 7). */
export function quantileSorted(xs: ArrayLike<number>, p: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return xs[lo]! + (h - lo) * (xs[hi]! - xs[lo]!);
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}
