/**
 * The fast Monte Carlo against a brute-force simulation of every unit-month on the same model, in
 * both regimes (body aggregated, everyone one by one), with known units, newcomers, adoption and
 * jumps; and the random numbers it stands on.
 */
import { describe, expect, it } from 'vitest';
import { splicedDistribution } from '../../src/analytics/forecast/distribution-fit.ts';
import { columnQuantiles } from '../../src/analytics/forecast/forecast.ts';
import { simulate } from '../../src/analytics/forecast/monte-carlo.ts';
import { normCdf, normQuantile } from '../../src/analytics/forecast/normal.ts';
import { Rng, streamSeed } from '../../src/analytics/forecast/random.ts';
import { buildSimParams } from '../../src/analytics/forecast/sim-params.ts';
import { simulateExact } from './exact-simulation.ts';

const levels = splicedDistribution({ threshold: 36, alpha: 1.3, tailCount: 0, tailShare: 0.1, cap: 7200, body: { mu: Math.log(10), sigma: 1 } });
const known = Array.from({ length: 200 }, (_, i) => ({ mean: Math.log(10) + 2 * normQuantile((i + 0.5) / 200), sd: 0.25 }));
const model = { levels, sigma: 0.5, jumpUp: 0.03, jumpDown: 0.05, known, newcomer: { mean: -0.3, sd: 0.9 } };
const TRIALS = 3000;

function agree(users: number[], aggregate: boolean) {
  const params = buildSimParams(levels, { ...model, aggregate });
  expect(params.aggregate).toBe(aggregate);
  const fast = simulate([params], { users, known: true, jumps: true, trials: TRIALS, seed: 1 });
  const exact = simulateExact(model, { users, known: true, jumps: true, trials: TRIALS, seed: 2 });
  for (let m = 0; m < users.length; m++) {
    const f = columnQuantiles(fast, users.length, m, 1);
    const e = columnQuantiles(exact, users.length, m, 1);
    expect(Math.abs(f.p50 / e.p50 - 1)).toBeLessThan(0.03);
    expect(Math.abs(f.p90 / e.p90 - 1)).toBeLessThan(0.04);
    expect(Math.abs(f.p99 / e.p99 - 1)).toBeLessThan(0.08);
    expect(Math.abs(f.mean / e.mean - 1)).toBeLessThan(0.03);
  }
}

describe('simulate', () => {
  it('agrees with brute force with the body aggregated (1,200 → 1,600 units, jumps, newcomers)', () => {
    agree([1200, 1400, 1600], true);
  });

  it('agrees with brute force simulating every unit (200 known → 300 units)', () => {
    agree([200, 250, 300], false);
  });

  it('replays exactly for the same seed and differs for another', () => {
    const params = [buildSimParams(levels, { ...model, aggregate: true })];
    const plan = { users: [1500, 1500], known: true, jumps: true, trials: 50, seed: 7 };
    expect(simulate(params, plan)).toEqual(simulate(params, plan));
    expect(simulate(params, { ...plan, seed: 8 })).not.toEqual(simulate(params, plan));
  });

  it('adoption and jumps move spend the way they should', () => {
    const params = [buildSimParams(levels, { ...model, jumpUp: 0.2, jumpDown: 0, aggregate: false })];
    const base = { known: true, trials: 400, seed: 3 };
    const flat = simulate(params, { ...base, users: [200, 200, 200], jumps: false });
    const drifting = simulate(params, { ...base, users: [200, 200, 200], jumps: true });
    const mean = (x: Float64Array, m: number) => columnQuantiles(x, 3, m, 1).mean;
    // Four times the (fresh) units spend about four times as much.
    const fresh = { ...base, known: false, jumps: false, trials: 2000 };
    const ratio = mean(simulate(params, { ...fresh, users: [200, 400, 800] }), 2) / mean(simulate(params, { ...fresh, users: [200, 200, 200] }), 2);
    expect(ratio).toBeGreaterThan(3.5);
    expect(ratio).toBeLessThan(4.5);
    // Light units turning heavy at 20 %/month with none falling back: spend climbs month by month.
    expect(mean(drifting, 1)).toBeGreaterThan(mean(flat, 1) * 1.5);
    expect(mean(drifting, 2)).toBeGreaterThan(mean(drifting, 1));
  });
});

describe('Rng', () => {
  it('draws standard normals: mean, variance and tail mass', () => {
    const rng = new Rng(11);
    const n = 400_000;
    let s = 0;
    let ss = 0;
    let beyond = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      ss += z * z;
      if (z > 3) beyond++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(ss / n - 1)).toBeLessThan(0.01);
    expect(beyond / n).toBeCloseTo(1 - normCdf(3), 3);
  });

  it('draws binomials with the right mean and variance, exact and approximate', () => {
    const rng = new Rng(12);
    for (const [n, p] of [[50, 0.1], [10_000, 0.05], [200, 0.9]] as const) {
      const draws = Array.from({ length: 20_000 }, () => rng.binomial(n, p));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
      expect(Math.abs(mean / (n * p) - 1)).toBeLessThan(0.02);
      expect(Math.abs(variance / (n * p * (1 - p)) - 1)).toBeLessThan(0.06);
      expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...draws)).toBeLessThanOrEqual(n);
    }
  });

  it('seeds neighbouring trials apart', () => {
    expect(new Set(Array.from({ length: 1000 }, (_, i) => streamSeed(1, i))).size).toBe(1000);
    expect(new Rng(streamSeed(1, 0)).u32()).not.toBe(new Rng(streamSeed(1, 1)).u32());
  });
});
