/**
 * `GET /api/forecast` (read): the spend forecast of `tollgate forecast --json`, computed by the
 * same function (analytics/forecast/scenario-forecast.ts) from the same inputs, shaped for the
 * dashboard. Query parameters mirror the CLI's flags; a viewer forecasts its own subtree.
 *
 * The work runs on the gateway's event loop, so the API draws fewer trials than the CLI by default
 * (API_TRIALS; the response says how many; `trials` asks for up to the CLI's default), and reuses
 * the ledger reads of the same scope and as-of day for a few minutes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fitReason } from '../../analytics/forecast/fit-reason.ts';
import type { AdviceRow } from '../../analytics/forecast/budget-advice.ts';
import { usdString } from '../../analytics/forecast/forecast-json.ts';
import type { UnitKind } from '../../analytics/forecast/forecast-source.ts';
import { DEFAULT_HISTORY_MONTHS, loadLedgerData, UNIT_KINDS } from '../../analytics/forecast/forecast-source.ts';
import { parsePriceChange } from '../../analytics/forecast/model-mix.ts';
import type { ScenarioForecast } from '../../analytics/forecast/scenario-forecast.ts';
import { scenarioForecast } from '../../analytics/forecast/scenario-forecast.ts';
import { parseDay, parseGrowth, parseHorizon, parseShare, parseTiers, parseUsers } from '../../analytics/forecast/scenario.ts';
import { DAY_MS, monthTotals } from '../../analytics/forecast/unit-series.ts';
import { TollgateError } from '../../domain/errors.ts';
import { nanoToDecimalString } from '../../domain/money.ts';
import type { Store } from '../../ledger/contract.ts';
import type { Pricer } from '../../pricing/index.ts';
import { scopeOf } from '../access.ts';
import { queryText } from '../query-params.ts';
import { LedgerDataCache } from './ledger-data-cache.ts';

/** Trials the API draws by default: about a fifth of the CLI's time, with P99 read from the top 20 draws. */
export const API_TRIALS = 2000;
/** The most an API caller may ask for: the CLI's default. */
export const MAX_API_TRIALS = 10_000;
const BY = ['auto', ...UNIT_KINDS] as const;
/** How long the ledger reads behind a forecast are reused (see ledger-data-cache.ts). */
const LEDGER_READS_TTL_MS = 5 * 60_000;

export interface ForecastRouteDeps {
  store: Store;
  pricer: Pricer;
  now: () => number;
}

export function registerForecastRoutes(app: FastifyInstance, deps: ForecastRouteDeps): void {
  const reads = new LedgerDataCache({ ttlMs: LEDGER_READS_TTL_MS, maxEntries: 32, now: deps.now });
  app.get('/api/forecast', { config: { access: 'read' } }, async (req) => {
    const q = (name: string) => queryText(req, name);
    const scope = scopeOf(req, q('scope'));
    const unit = q('unit') ?? 'auto';
    if (!(BY as readonly string[]).includes(unit)) throw invalid('unit', `unit is one of ${BY.join(', ')}, got "${unit}"`);
    const horizon = param('months', (t) => parseHorizon(t, 'months'), q('months') ?? '3');
    const users = optional('users', (t) => parseUsers(t, 'users'), q('users'));
    const growth = param('growth', (t) => parseGrowth(t, 'growth'), q('growth') ?? '0');
    const frontierShare = optional('frontier_share', (t) => parseShare(t, 'frontier_share'), q('frontier_share'));
    const frontierModels = listOf(req, 'frontier_models');
    const priceChanges = listOf(req, 'price_change').map((t) => param('price_change', (x) => parsePriceChange(x, 'price_change'), t));
    const tiers = param('tiers', (t) => parseTiers(t, 'tiers'), q('tiers') ?? 'org,team');
    const asOfDay = optional('as_of', (t) => parseDay(t, 'as_of'), q('as_of')) ?? Math.floor(deps.now() / DAY_MS);
    const history = whole('history', q('history'), DEFAULT_HISTORY_MONTHS, 1, 120);
    const trials = whole('trials', q('trials'), API_TRIALS, 100, MAX_API_TRIALS);
    const seed = whole('seed', q('seed'), 1, 0, 2 ** 31 - 1);

    const ledger = await reads.get(JSON.stringify([scope ?? null, unit, asOfDay, history]), () =>
      loadLedgerData(deps.store, deps.store.forecast, { ...(scope === undefined ? {} : { scope }), unit: unit as UnitKind | 'auto', asOfDay, history }),
    );
    const f = await scenarioForecast(
      { noun: ledger.unit, series: ledger.series, ledger },
      { horizon, users, growth, frontierShare, frontierModels: frontierModels.length > 0 ? frontierModels : null, priceChanges, trials, seed, tiers },
      { pricer: deps.pricer, controls: deps.store.controls },
    );
    return {
      asOf: new Date(asOfDay * DAY_MS).toISOString().slice(0, 10),
      scope: ledger.scope.path,
      unit: ledger.unit,
      trials,
      seed,
      ...(trials < MAX_API_TRIALS ? { note: `${trials.toLocaleString('en')} Monte Carlo trials (the CLI draws ${MAX_API_TRIALS.toLocaleString('en')}); ask for more with trials=${MAX_API_TRIALS}` } : {}),
      ...forecastBody(f, { growth, priceChanges: priceChanges.map((c) => c.text) }),
    };
  });
}

/** The dashboard's shape of a forecast; USD strings are the CLI's `…_usd` figures, to the micro-dollar. */
function forecastBody(f: ScenarioForecast, inputs: { growth: number; priceChanges: string[] }) {
  const { model, result: r, mix } = f;
  const { totalUsd } = monthTotals(model.series);
  return {
    fit: { winner: model.fit.model === 'lognormal+pareto' ? 'pareto-tail' : 'lognormal', why: fitReason(model.fit) },
    months: r.months.map((m) => {
      const c = m.contributions.p90;
      return {
        month: m.month.label,
        units: m.users,
        p50Usd: usdString(m.spend.p50),
        p90Usd: usdString(m.spend.p90),
        p99Usd: usdString(m.spend.p99),
        naiveUsd: usdString(m.naive),
        p90Parts: { todayUsd: usdString(c.today), adoptionUsd: usdString(c.adoption), mixUsd: usdString(c.mix), priceUsd: usdString(c.price), tailUsd: usdString(c.tail) },
      };
    }),
    horizonTotal: { p50Usd: usdString(r.horizonTotal.p50), p90Usd: usdString(r.horizonTotal.p90), p99Usd: usdString(r.horizonTotal.p99) },
    // The months trained on; a month the data covers only partly is its run rate (coveredDays < days).
    history: model.series.months.map((m, i) => ({ month: m.label, spendUsd: usdString(totalUsd[i] ?? 0), days: m.days, coveredDays: m.coveredDays })),
    budgets: (f.advice?.rows ?? []).map(budgetJson),
    inputs: {
      unitsToday: r.todayUnits,
      growthPerMonth: inputs.growth,
      frontierTokenShare: mix?.frontierTokenShare ?? null,
      targetFrontierTokenShare: mix?.targetTokenShare ?? null,
      priceChanges: inputs.priceChanges,
      untaggedShare: f.untaggedShare,
    },
  };
}

/**
 * Advice as policy levels: a refusing budget (hard, chargeback) is a ceiling at P99 alerting at the
 * P90 level; an alerting one sits at P90 and never refuses (refuseAtUsd null).
 */
function budgetJson(a: AdviceRow) {
  const refusing = a.action === 'hard' || a.action === 'chargeback';
  const alertAt = refusing ? (a.amountNano * BigInt(a.thresholds[0] ?? 100)) / 100n : a.amountNano;
  return {
    scope: a.scope,
    tier: a.tier,
    period: 'month',
    action: a.action,
    amountUsd: nanoToDecimalString(a.amountNano),
    alertAtUsd: nanoToDecimalString(alertAt),
    refuseAtUsd: refusing ? nanoToDecimalString(a.amountNano) : null,
    thresholds: a.thresholds,
    p90Usd: usdString(a.spend.p90),
    p99Usd: usdString(a.spend.p99),
    currentUsd: a.current ? nanoToDecimalString(a.current.amountNano) : null,
  };
}

function invalid(param: string, message: string): TollgateError {
  return new TollgateError('invalid_request', message, { details: { param } });
}

/** Runs a parser, tagging its refusal with the parameter it read. */
function param<T>(name: string, parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof TollgateError && err.code === 'invalid_request') throw invalid(name, err.message);
    throw err;
  }
}

function optional<T>(name: string, parse: (text: string) => T, text: string | undefined): T | null {
  return text === undefined ? null : param(name, parse, text);
}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n >= min && n <= max)) throw invalid(name, `${name} is a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}, got "${text}"`);
  return n;
}

/** A parameter given several times, or once comma-separated (`price_change=a:x2,b:x0.5`). */
function listOf(req: FastifyRequest, name: string): string[] {
  const v = (req.query as Record<string, unknown>)[name];
  const parts = v === undefined ? [] : Array.isArray(v) ? v : [v];
  if (parts.some((p) => typeof p !== 'string')) throw invalid(name, `give ${name} as text`);
  return (parts as string[]).flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
}
