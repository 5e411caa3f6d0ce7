/**
 * The reference the fast Monte Carlo is checked against: the same model simulated the slow, obvious
 * way. Every unit is simulated every month, normals by Box–Muller, heavy and light levels by
 * rejection, levels by the fitted distribution's exact quantile (no tables, no aggregation, no
 * binomial or geometric shortcuts).
 */
import type { SpendDistribution } from '../../src/analytics/forecast/distribution-fit.ts';
import { atScore } from '../../src/analytics/forecast/distribution-fit.ts';
import type { LogLevel } from '../../src/analytics/forecast/persistence.ts';
import { HEAVY_LEVEL } from '../../src/analytics/forecast/sim-params.ts';
import type { LatentLaw } from '../../src/analytics/forecast/sim-params.ts';
import { Rng } from '../../src/analytics/forecast/random.ts';

export interface ExactModel {
  levels: SpendDistribution;
  sigma: number;
  jumpUp: number;
  jumpDown: number;
  known: readonly LogLevel[];
  newcomer: LatentLaw;
}

export function simulateExact(model: ExactModel, plan: { users: readonly number[]; known: boolean; jumps: boolean; trials: number; seed: number }): Float64Array {
  const H = plan.users.length;
  const out = new Float64Array(plan.trials * H);
  const rng = new Rng(plan.seed);
  const normal = () => Math.sqrt(-2 * Math.log(rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
  const heavy = () => {
    for (;;) {
      const u = normal();
      if (u >= HEAVY_LEVEL) return u;
    }
  };
  const lightMax = Math.log(atScore(model.levels, 0));
  const heavyMin = Math.log(atScore(model.levels, HEAVY_LEVEL));
  const level = (u: number) => Math.log(atScore(model.levels, u));
  for (let t = 0; t < plan.trials; t++) {
    const levels: number[] = plan.known ? model.known.map((k) => k.mean + k.sd * normal()) : [];
    for (let m = 0; m < H; m++) {
      const target = Math.round(plan.users[m]!);
      while (levels.length < target) levels.push(level(model.newcomer.mean + model.newcomer.sd * normal()));
      while (levels.length > target) levels.splice(Math.floor(rng.uniform() * levels.length), 1);
      let total = 0;
      for (let i = 0; i < levels.length; i++) {
        const l = levels[i]!;
        if (plan.jumps && l < lightMax && rng.uniform() < model.jumpUp) levels[i] = level(heavy());
        else if (plan.jumps && l >= heavyMin && rng.uniform() < model.jumpDown) levels[i] = level(-Math.abs(normal()));
        total += Math.exp(levels[i]! - (model.sigma * model.sigma) / 2 + model.sigma * normal());
      }
      out[t * H + m] = total;
    }
  }
  return out;
}
