/**
 * The Monte Carlo: for each trial, a population of units with persistent latent levels u, month by
 * month: new units arrive (adoption), some levels jump (a light user turning into a heavy agentic
 * one, or a heavy one falling back), and each unit spends G(√ρ·u + √(1−ρ)·e) with fresh month
 * noise e. The total per trial and month is the output; quantiles over trials are the forecast.
 *
 * Simulating every unit-month (10,000 units × 10,000 trials × 12 months = 1.2e9) is ~8 ns each at
 * best in JavaScript, too slow. What is done instead, and what it costs in accuracy:
 *
 * - Heavy units (level in the top 5 %) are always simulated one by one: they carry the tail.
 * - With `aggregate`, the other 95 % (the body) are one aggregate per trial: the sum of their mean
 *   spend Σm(u) (drawn once per trial as a normal with the body's moments: a sum of ≥ 950 bounded
 *   terms), and each month's noise around it as one normal with variance Σv(u) (a sum of ≥ 950
 *   independent terms with a third moment; Berry–Esseen bounds the CDF error by
 *   0.5·E|X−m|³ / (σ³·√n), a few per cent at the very worst and far less where, as here, the
 *   body's noise is a small part of the total's spread). Counts that change the body (arrivals,
 *   light units jumping heavy) are binomial draws, and a unit leaving the body takes the moments
 *   of its kind (a fresh light unit's). Without `aggregate` (small populations, or tails too heavy
 *   for the body's noise to have a third moment) every unit is simulated one by one, exactly.
 * - Heavy units falling light are found by geometric skips (one draw per jump, not per unit).
 * - Random numbers: sfc32 and a table-based normal (see random.ts); G is a table (sim-params.ts).
 *
 * A test compares this with a brute-force simulation of every unit-month on the same model.
 * Trials are independent and seeded by index, so runs of the same plan and seed are identical.
 */
import { normUpperQuantile } from './normal.ts';
import { Rng, streamSeed } from './random.ts';
import type { SimParams } from './sim-params.ts';
import { HEAVY_LEVEL, HEAVY_LEVEL_SHARE, levelMean, levelNoise, lookup } from './sim-params.ts';

/** Smallest population for which the body is aggregated. */
export const AGGREGATE_MIN_UNITS = 1000;

export interface RunPlan {
  /** Active units in each forecast month. */
  users: ArrayLike<number>;
  /** Start from the known units (their estimated levels) rather than from fresh ones only. */
  known: boolean;
  /** Apply level jumps. */
  jumps: boolean;
  trials: number;
  seed: number;
}

/** Totals (USD) per trial and month: `out[trial * months + month]`. Trial t uses parameter set t mod sets.length. */
export function simulate(sets: readonly SimParams[], plan: RunPlan): Float64Array {
  const H = plan.users.length;
  const out = new Float64Array(plan.trials * H);
  const pop = new Population();
  for (let t = 0; t < plan.trials; t++) {
    pop.reset(sets[t % sets.length]!, new Rng(streamSeed(plan.seed, t)));
    if (plan.known) pop.addKnown();
    for (let m = 0; m < H; m++) {
      const target = Math.round(plan.users[m]!);
      const size = pop.size();
      if (target > size) pop.addFresh(target - size);
      else if (target < size) pop.remove(size - target);
      if (plan.jumps) pop.jump();
      out[t * H + m] = pop.monthSpend();
    }
  }
  return out;
}

class Population {
  #p!: SimParams;
  #rng!: Rng;
  /** Levels of the units simulated one by one. */
  #u = new Float64Array(1024);
  #n = 0;
  #bodyCount = 0;
  /** Of the body, units at a light level (u < 0): the ones that may jump up. */
  #lightCount = 0;
  /** Σ m(u) over the aggregated body: its expected month spend. */
  #bodyMean = 0;
  /** Σ v(u): the variance of its month spend around that. */
  #bodyNoise = 0;

  reset(p: SimParams, rng: Rng): void {
    this.#p = p;
    this.#rng = rng;
    this.#n = 0;
    this.#bodyCount = 0;
    this.#lightCount = 0;
    this.#bodyMean = 0;
    this.#bodyNoise = 0;
  }

  size(): number {
    return this.#n + this.#bodyCount;
  }

  addKnown(): void {
    const p = this.#p;
    for (let i = 0; i < p.knownMean.length; i++) this.#place(p.knownMean[i]! + p.knownSd[i]! * this.#rng.normal());
    const agg = p.knownAgg;
    if (agg.count > 0) {
      this.#bodyCount += agg.count;
      this.#lightCount += agg.light;
      this.#bodyMean += Math.max(0, agg.sumMean + Math.sqrt(agg.sumVar) * this.#rng.normal());
      this.#bodyNoise += agg.sumNoise;
    }
  }

  addFresh(count: number): void {
    const p = this.#p;
    const rng = this.#rng;
    const law = p.newcomer;
    if (!p.aggregate) {
      for (let k = 0; k < count; k++) this.#push(law.mean + law.sd * rng.normal());
      return;
    }
    const heavy = rng.binomial(count, p.freshHeavy);
    for (let k = 0; k < heavy; k++) this.#push(law.mean + law.sd * normUpperQuantile(p.freshHeavy * rng.uniform()));
    const body = count - heavy;
    if (body <= 0) return;
    this.#bodyCount += body;
    this.#lightCount += rng.binomial(body, p.freshLight);
    this.#bodyMean += Math.max(0, body * p.fresh.mean + Math.sqrt(body * p.fresh.variance) * rng.normal());
    this.#bodyNoise += body * p.fresh.noise;
  }

  /** Light levels jump heavy with probability jumpUp, heavy ones fall light with jumpDown. */
  jump(): void {
    const p = this.#p;
    const rng = this.#rng;
    if (!p.aggregate) {
      for (let i = 0; i < this.#n; i++) {
        const u = this.#u[i]!;
        if (u < 0) {
          if (rng.uniform() < p.jumpUp) this.#u[i] = heavyLevel(rng);
        } else if (u >= HEAVY_LEVEL && rng.uniform() < p.jumpDown) this.#u[i] = lightLevel(rng);
      }
      return;
    }
    // Aggregated: every one-by-one unit is heavy. Walk them by geometric skips from the end, so a
    // unit leaving for the body is replaced by one already visited.
    if (p.jumpDown > 0) {
      const logStay = Math.log1p(-Math.min(p.jumpDown, 1 - 1e-12));
      for (let i = this.#n - 1 - skip(rng, logStay); i >= 0; i -= 1 + skip(rng, logStay)) {
        this.#u[i] = this.#u[--this.#n]!;
        this.#place(lightLevel(rng));
      }
    }
    const up = rng.binomial(this.#lightCount, p.jumpUp);
    if (up === 0) return;
    const light = p.light;
    this.#bodyMean = Math.max(0, this.#bodyMean - up * light.mean - Math.sqrt(up * light.variance) * rng.normal());
    this.#bodyNoise = Math.max(0, this.#bodyNoise - up * light.noise);
    this.#bodyCount -= up;
    this.#lightCount -= up;
    for (let k = 0; k < up; k++) this.#push(heavyLevel(rng));
  }

  /** Removes `count` units at random (the population shrinks). */
  remove(count: number): void {
    const share = count / this.size();
    let removed = 0;
    for (let i = this.#n - 1; i >= 0 && removed < count; i--) {
      if (this.#rng.uniform() < share) {
        this.#u[i] = this.#u[--this.#n]!;
        removed++;
      }
    }
    const fromBody = Math.min(this.#bodyCount, count - removed);
    if (fromBody <= 0) return;
    const left = 1 - fromBody / this.#bodyCount;
    this.#bodyMean = Math.max(0, this.#bodyMean * left - Math.sqrt(fromBody * this.#p.fresh.variance) * this.#rng.normal());
    this.#bodyNoise *= left;
    this.#lightCount = Math.round(this.#lightCount * left);
    this.#bodyCount -= fromBody;
  }

  monthSpend(): number {
    const p = this.#p;
    const rng = this.#rng;
    const u = this.#u;
    const g = p.g;
    const a = p.a;
    const b = p.b;
    let total = 0;
    for (let i = 0; i < this.#n; i++) total += lookup(g, a * u[i]! + b * rng.normal());
    if (this.#bodyCount > 0) {
      const body = this.#bodyMean + Math.sqrt(this.#bodyNoise) * rng.normal();
      if (body > 0) total += body;
    }
    return total;
  }

  /** A unit at level u: one by one when heavy (or when nothing is aggregated), else into the body. */
  #place(u: number): void {
    const p = this.#p;
    if (p.aggregate && u < HEAVY_LEVEL) {
      this.#bodyCount++;
      if (u < 0) this.#lightCount++;
      this.#bodyMean += levelMean(p, u);
      this.#bodyNoise += levelNoise(p, u);
    } else this.#push(u);
  }

  #push(u: number): void {
    if (this.#n === this.#u.length) {
      const grown = new Float64Array(this.#u.length * 2);
      grown.set(this.#u);
      this.#u = grown;
    }
    this.#u[this.#n++] = u;
  }
}

/** A level drawn from the heavy range (u ≥ Φ⁻¹(0.95)), exactly. */
function heavyLevel(rng: Rng): number {
  return normUpperQuantile(HEAVY_LEVEL_SHARE * rng.uniform());
}

/** A level drawn from the light range (u < 0). */
function lightLevel(rng: Rng): number {
  return -Math.abs(rng.normal());
}

/** Units skipped before the next jump: geometric, by inversion (`logStay` = log(1 − p)). */
function skip(rng: Rng, logStay: number): number {
  return Math.floor(Math.log(rng.uniform()) / logStay);
}
