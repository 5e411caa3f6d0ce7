/**
 * The reference the fast Monte Carlo is checked against: the same model simulated the slow, obvious
 * way. Every unit is simulated every month, normals by Box–Muller, levels of the heavy range by
 * rejection, spend by the fitted distribution's exact quantile (no tables, no aggregation, no
 * binomial or geometric shortcuts).
 */
import type { SpendDistribution } from '../../src/analytics/forecast/distribution-fit.ts';
import { atScore } from '../../src/analytics/forecast/distribution-fit.ts';
import { HEAVY_LEVEL } from '../../src/analytics/forecast/sim-params.ts';
import type { KnownLevel } from '../../src/analytics/forecast/sim-params.ts';
import { Rng } from '../../src/analytics/forecast/random.ts';

export interface ExactModel {
  dist: SpendDistribution;
  rho: number;
  jumpUp: number;
  jumpDown: number;
  known: readonly KnownLevel[];
  newcomer: KnownLevel;
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
  const a = Math.sqrt(model.rho);
  const b = Math.sqrt(1 - model.rho);
  for (let t = 0; t < plan.trials; t++) {
    const levels: number[] = plan.known ? model.known.map((k) => k.mean + k.sd * normal()) : [];
    for (let m = 0; m < H; m++) {
      const target = Math.round(plan.users[m]!);
      while (levels.length < target) levels.push(model.newcomer.mean + model.newcomer.sd * normal());
      while (levels.length > target) levels.splice(Math.floor(rng.uniform() * levels.length), 1);
      let total = 0;
      for (let i = 0; i < levels.length; i++) {
        const u = levels[i]!;
        if (plan.jumps && u < 0 && rng.uniform() < model.jumpUp) levels[i] = heavy();
        else if (plan.jumps && u >= HEAVY_LEVEL && rng.uniform() < model.jumpDown) levels[i] = -Math.abs(normal());
        total += atScore(model.dist, a * levels[i]! + b * normal());
      }
      out[t * H + m] = total;
    }
  }
  return out;
}
