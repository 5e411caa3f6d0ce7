/**
 * One forecast from start to finish, as `tollgate forecast` and `GET /api/forecast` both run it:
 * fit the units' spend, turn the scenario (users, growth, model mix, price changes) into the
 * simulation's inputs, run the Monte Carlo, and split the first month into per-tier budget advice.
 * Same source, inputs and seed: same figures, whoever asks.
 */
import type { Tier } from '../../domain/scope.ts';
import type { Controls } from '../../ledger/contract.ts';
import type { Pricer } from '../../pricing/index.ts';
import type { AdviceRow } from './budget-advice.ts';
import { tierAdvice } from './budget-advice.ts';
import type { ForecastResult } from './forecast.ts';
import { forecastMonths, runForecast } from './forecast.ts';
import type { ForecastModel } from './forecast-model.ts';
import { buildModel } from './forecast-model.ts';
import type { LedgerData } from './forecast-source.ts';
import { modelSpend } from './forecast-source.ts';
import type { MixScenario, PriceChange } from './model-mix.ts';
import { frontierClassifier, mixScenario } from './model-mix.ts';
import type { UnitSeries } from './unit-series.ts';
import { DAY_MS } from './unit-series.ts';

/** What is forecast: the ledger's units under a scope, or a pilot's users (no mix, prices or scopes). */
export interface ForecastSource {
  /** The unit's name for people: customer, agent, project or user. */
  noun: string;
  series: UnitSeries;
  ledger: LedgerData | null;
}

export interface ScenarioInputs {
  /** Months to forecast. */
  horizon: number;
  /** Active units in the first forecast month; null: today's, grown one month. */
  users: number | null;
  /** Adoption growth of the unit count, per month. */
  growth: number;
  /** Frontier models' share of tokens asked for; null: the ledger's. */
  frontierShare: number | null;
  /** Models counted as frontier; null: by catalog price. */
  frontierModels: readonly string[] | null;
  priceChanges: readonly PriceChange[];
  trials: number;
  seed: number;
  /** Tiers to advise month budgets for (the scope itself always). */
  tiers: ReadonlySet<Tier>;
}

export interface ScenarioForecast {
  model: ForecastModel;
  result: ForecastResult;
  /** The mix and price multipliers; null for a pilot. */
  mix: MixScenario | null;
  /** Month budgets advised for the first forecast month; null for a pilot. */
  advice: { month: string; rows: AdviceRow[] } | null;
  /** Customer units: the share of spend without a customer tag (not in the forecast); else null. */
  untaggedShare: number | null;
}

export async function scenarioForecast(src: ForecastSource, inputs: ScenarioInputs, deps: { pricer: Pick<Pricer, 'price'>; controls: Pick<Controls, 'listBudgets'> }): Promise<ScenarioForecast> {
  const { seed } = inputs;
  const model = buildModel(src.series, { seed });
  const months = forecastMonths(model, inputs.horizon);
  let mix: MixScenario | null = null;
  if (src.ledger) {
    const isFrontier = frontierClassifier(deps.pricer, src.ledger.window.toDay * DAY_MS, inputs.frontierModels);
    mix = mixScenario(modelSpend(src.ledger.models, isFrontier), { frontierShare: inputs.frontierShare, priceChanges: inputs.priceChanges, months });
  }
  const result = runForecast(model, { horizon: inputs.horizon, users: inputs.users, growth: inputs.growth, mix: mix?.mix ?? 1, price: mix?.price ?? [], trials: inputs.trials, seed });
  let advice: ScenarioForecast['advice'] = null;
  if (src.ledger) {
    const l = src.ledger;
    const agentModel = l.agents === null ? null : l.agents === l.series ? model : buildModel(l.agents, { seed });
    const existing = await deps.controls.listBudgets({ under: l.scope.path });
    advice = { month: months[0]!.label, rows: tierAdvice({ root: l.scope, nodes: l.nodes, agentModel, firstMonth: result.firstMonth, existing, tiers: inputs.tiers, seed }) };
  }
  return { model, result, mix, advice, untaggedShare: src.ledger && src.ledger.unit === 'customer' ? untagged(src.ledger) : null };
}

function untagged(l: LedgerData): number | null {
  const tagged = l.series.spend.reduce((s, v) => s + v, 0);
  return l.untaggedUsd > 0 ? l.untaggedUsd / (tagged + l.untaggedUsd) : null;
}
