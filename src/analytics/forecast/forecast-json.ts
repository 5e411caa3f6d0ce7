/**
 * The forecast, fit and backtest as JSON: money as decimal USD strings (nine decimals, from an
 * integer nano-USD rounded to the micro-dollar: these are estimates), shares and rates as numbers.
 */
import { nanoToDecimalString } from '../../domain/money.ts';
import type { AdviceRow } from './budget-advice.ts';
import type { BacktestSummary, BacktestWindow } from './backtest.ts';
import type { SpendFit, SpendSummary } from './distribution-fit.ts';
import type { Band, Contributions, ForecastResult } from './forecast.ts';
import { QUANTILES } from './forecast.ts';
import type { ForecastModel } from './forecast-model.ts';
import type { MixScenario, PriceChange } from './model-mix.ts';

/** USD estimate → integer nano-USD, to the micro-dollar. */
export function toNano(usd: number): bigint {
  return BigInt(Math.round(usd * 1e6)) * 1000n;
}

export const usdString = (usd: number): string => nanoToDecimalString(toNano(usd));
const round = (x: number, digits = 4) => Number(x.toFixed(digits));

function contributionJson(c: Contributions) {
  return { today_usd: usdString(c.today), adoption_usd: usdString(c.adoption), mix_usd: usdString(c.mix), price_usd: usdString(c.price), tail_usd: usdString(c.tail) };
}

function band(b: Band) {
  return { p50_usd: usdString(b.p50), p90_usd: usdString(b.p90), p99_usd: usdString(b.p99), mean_usd: usdString(b.mean) };
}

function summary(s: SpendSummary) {
  return { p50_usd: usdString(s.p50), p90_usd: usdString(s.p90), p99_usd: usdString(s.p99), mean_usd: usdString(s.mean), top5_share: round(s.top5Share) };
}

export function modelJson(m: ForecastModel) {
  const f = m.fit;
  const { levels, noise, jumps, newcomer } = m.sets[0]!;
  return {
    unit_months: f.n,
    units: m.series.units.length,
    months: m.series.months.map((s) => ({ month: s.label, days: s.days, covered_days: s.coveredDays })),
    model: f.model,
    aic_gain: f.aicGain === null ? null : round(f.aicGain, 2),
    lognormal: { mu: round(f.lognormal.mu), sigma: round(f.lognormal.sigma) },
    pareto_tail: tailJson(f),
    empirical: { ...summary(m.empirical), max_usd: usdString(m.empirical.max) },
    fitted: summary(m.fitted),
    levels: { model: levels.model, aic_gain: levels.aicGain === null ? null : round(levels.aicGain, 2), pareto_tail: tailJson(levels) },
    month_noise: { sigma: round(noise.sigma), rho: round(noise.rho), assumed: noise.assumed },
    jumps: {
      light_to_heavy_per_month: round(jumps.up),
      light_to_heavy_assumed: jumps.upAssumed,
      heavy_to_light_per_month: round(jumps.down),
      heavy_to_light_assumed: jumps.downAssumed,
      observed: { light_months: jumps.lightPairs, light_then_heavy: jumps.lightToHeavy, heavy_months: jumps.heavyPairs, heavy_then_light: jumps.heavyToLight },
      without_jumps: { light_to_heavy: round(jumps.noiseUp), heavy_to_light: round(jumps.noiseDown) },
    },
    newcomers: { seen: newcomer.count, latent_mean: round(newcomer.mean), latent_sd: round(newcomer.sd) },
    bootstrap_sets: m.sets.length,
  };
}

function tailJson(f: SpendFit) {
  const t = f.pareto;
  if (f.model !== 'lognormal+pareto' || !t) return null;
  return { alpha: round(t.alpha, 3), threshold_usd: usdString(t.threshold), tail_share: round(t.tailShare), cap_usd: usdString(t.cap), body: { mu: round(t.body.mu), sigma: round(t.body.sigma) } };
}

export function forecastJson(x: {
  scope: string | null;
  unit: string;
  model: ForecastModel;
  result: ForecastResult;
  trials: number;
  seed: number;
  growth: number;
  mix: MixScenario | null;
  priceChanges: readonly PriceChange[];
  untaggedShare: number | null;
  advice: { month: string; rows: AdviceRow[]; applied: boolean } | null;
}) {
  const r = x.result;
  return {
    scope: x.scope,
    unit: x.unit,
    trials: x.trials,
    seed: x.seed,
    fit: modelJson(x.model),
    inputs: {
      units_today: r.todayUnits,
      units: r.months.map((m) => m.users),
      growth_per_month: round(x.growth),
      known_units_carried: r.knownCarried,
      mix: x.mix && {
        frontier_token_share: x.mix.frontierTokenShare === null ? null : round(x.mix.frontierTokenShare),
        frontier_spend_share: x.mix.frontierSpendShare === null ? null : round(x.mix.frontierSpendShare),
        target_frontier_token_share: x.mix.targetTokenShare,
        frontier_models: x.mix.frontierModels,
        mix_factor: round(x.mix.mix),
        price_factors: x.mix.price.map((f) => round(f)),
      },
      price_changes: x.priceChanges.map((c) => ({ provider: c.provider, model: c.model, multiplier: c.multiplier, from: c.from === null ? null : new Date(c.from).toISOString().slice(0, 10) })),
      untagged_share: x.untaggedShare === null ? null : round(x.untaggedShare),
    },
    pilot_average_usd: usdString(r.pilotAverage),
    months: r.months.map((m) => ({
      month: m.month.label,
      units: m.users,
      ...band(m.spend),
      naive_usd: usdString(m.naive),
      contributions: Object.fromEntries(QUANTILES.map((q) => [q, contributionJson(m.contributions[q])])),
    })),
    horizon_total: band(r.horizonTotal),
    simulation: { aggregated_body: r.aggregated, unit_months: r.unitMonths },
    budget_advice: x.advice && {
      month: x.advice.month,
      applied: x.advice.applied,
      budgets: x.advice.rows.map((a) => ({
        scope: a.scope,
        tier: a.tier,
        action: a.action,
        period: 'month',
        amount_usd: nanoToDecimalString(a.amountNano),
        thresholds: a.thresholds,
        ...band(a.spend),
        current: a.current && { amount_usd: nanoToDecimalString(a.current.amountNano), action: a.current.action },
      })),
    },
  };
}

export function backtestJson(scope: string | null, unit: string, r: { windows: BacktestWindow[]; summary: BacktestSummary }) {
  const s = r.summary;
  return {
    scope,
    unit,
    summary: {
      windows: s.windows,
      coverage_p90: round(s.coverageP90),
      coverage_p99: round(s.coverageP99),
      naive_below_actual: s.naiveBelowActual,
      median_abs_error_p50: round(s.medianErrorP50),
      median_abs_error_naive: round(s.medianErrorNaive),
      mean_bias_p50: round(s.meanBiasP50),
      mean_bias_naive: round(s.meanBiasNaive),
    },
    windows: r.windows.map((w) => ({
      month: w.month.label,
      trained_on: w.trainedOn.map((m) => m.label),
      units: w.users,
      actual_usd: usdString(w.actual),
      naive_usd: usdString(w.naive),
      ...band(w.forecast),
      within_p90: w.actual <= w.forecast.p90,
      within_p99: w.actual <= w.forecast.p99,
    })),
  };
}
