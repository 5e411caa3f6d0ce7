/**
 * The fit on seeded samples of known distribution: fitted P50/P90/P99 land within tolerance of the
 * true ones, the model chosen is the one the data came from, and the tail figures hold.
 */
import { describe, expect, it } from 'vitest';
import { fitSpend, quantileSorted, summarizeDistribution, summarizeSample } from '../../src/analytics/forecast/distribution-fit.ts';
import { Rng } from '../../src/analytics/forecast/random.ts';
import { logNormal, paretoTailed } from './synthetic.ts';
import type { Quantile } from './synthetic.ts';

const sample = (q: Quantile, n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => q(rng.uniform()));
};

/** |fitted / true − 1| for P50, P90, P99. */
function errors(q: Quantile, values: number[]) {
  const s = summarizeDistribution(fitSpend(values).dist);
  return { p50: Math.abs(s.p50 / q(0.5) - 1), p90: Math.abs(s.p90 / q(0.9) - 1), p99: Math.abs(s.p99 / q(0.99) - 1) };
}

describe('fitSpend', () => {
  it('recovers a log-normal: P50/P90/P99 within 5/10/15 % over 10 seeds, and picks log-normal in most', () => {
    const law = logNormal(20, 1.2);
    let lognormal = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const values = sample(law, 5000, seed);
      const e = errors(law, values);
      expect(e.p50).toBeLessThan(0.05);
      expect(e.p90).toBeLessThan(0.1);
      expect(e.p99).toBeLessThan(0.15);
      if (fitSpend(values).model === 'lognormal') lognormal++;
    }
    expect(lognormal).toBeGreaterThanOrEqual(7);
  });

  it('recovers a log-normal body with a Pareto tail (α 1.3 above the P90): picks the tail, α within 0.25, P50/P90/P99 within 5/10/25 %', () => {
    const law = paretoTailed(10, 1, 0.1, 1.3);
    for (let seed = 1; seed <= 10; seed++) {
      const values = sample(law, 5000, seed);
      const fit = fitSpend(values);
      expect(fit.model).toBe('lognormal+pareto');
      expect(fit.aicGain!).toBeGreaterThan(10);
      expect(Math.abs(fit.pareto!.alpha - 1.3)).toBeLessThan(0.25);
      const e = errors(law, values);
      expect(e.p50).toBeLessThan(0.05);
      expect(e.p90).toBeLessThan(0.1);
      expect(e.p99).toBeLessThan(0.25);
    }
  });

  it('gives the top-5% share of a heavy tail close to the sample\'s, and far above a log-normal\'s', () => {
    const heavy = sample(paretoTailed(10, 1, 0.2, 1.1), 20_000, 3);
    const fitted = summarizeDistribution(fitSpend(heavy).dist);
    const empirical = summarizeSample(heavy);
    expect(empirical.top5Share).toBeGreaterThan(0.5);
    expect(Math.abs(fitted.top5Share - empirical.top5Share)).toBeLessThan(0.12);
    const light = summarizeDistribution(fitSpend(sample(logNormal(10, 0.5), 20_000, 3)).dist);
    expect(light.top5Share).toBeLessThan(0.2);
  });

  it('fits a log-normal only, and says so, when there are too few values for a tail', () => {
    const fit = fitSpend([3, 5, 8, 13, 21, 34, 55, 89, 144, 233]);
    expect(fit.model).toBe('lognormal');
    expect(fit.pareto).toBeNull();
    expect(fit.aicGain).toBeNull();
  });

  it('ignores zeros and refuses an input with no positive spend', () => {
    expect(fitSpend([0, 0, 5, 10]).n).toBe(2);
    expect(() => fitSpend([0, 0])).toThrow(/no spend to fit/);
  });

  it('with a bootstrap draw picks the tail by its Akaike weight: always at 0, only when the evidence is overwhelming near 1', () => {
    const ln = sample(logNormal(20, 1.2), 400, 5);
    const weight = 1 / (1 + Math.exp(-fitSpend(ln).aicGain!));
    expect(weight).toBeLessThan(0.99);
    expect(fitSpend(ln, { draw: 0 }).model).toBe('lognormal+pareto');
    expect(fitSpend(ln, { draw: 0.99 }).model).toBe('lognormal');
    expect(fitSpend(sample(paretoTailed(10, 1, 0.1, 1.3), 5000, 5), { draw: 0.99 }).model).toBe('lognormal+pareto');
  });

  it('quantile and cdf of the fitted model agree', () => {
    const d = fitSpend(sample(paretoTailed(10, 1, 0.1, 1.3), 3000, 9)).dist;
    for (const p of [0.1, 0.5, 0.9, 0.95, 0.99, 0.999]) expect(d.cdf(d.quantile(p))).toBeCloseTo(p, 6);
    expect(d.upper(1e-9)).toBeGreaterThan(d.quantile(0.999));
  });

  it('quantileSorted interpolates like R type 7', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
  });
});
