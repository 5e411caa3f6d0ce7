/**
 * `tollgate forecast`: P50/P90/P99 spend per month from a Monte Carlo over the ledger's (or a pilot
 * CSV's) heavy-tailed units, with adoption, model mix and price scenarios as named inputs, what
 * each contributes, and budget advice per tier (`--apply` writes it, audited). `forecast fit`
 * shows the per-unit distributions, `forecast backtest` checks the method on the ledger's history.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { AdviceRow } from '../../analytics/forecast/budget-advice.ts';
import { backtest } from '../../analytics/forecast/backtest.ts';
import { fitSpend, summarizeDistribution, summarizeSample } from '../../analytics/forecast/distribution-fit.ts';
import type { SpendFit } from '../../analytics/forecast/distribution-fit.ts';
import { fitReason } from '../../analytics/forecast/fit-reason.ts';
import type { ForecastResult } from '../../analytics/forecast/forecast.ts';
import { NAIVE_MARGIN } from '../../analytics/forecast/forecast.ts';
import { backtestJson, forecastJson, toNano, usdString } from '../../analytics/forecast/forecast-json.ts';
import type { ForecastModel } from '../../analytics/forecast/forecast-model.ts';
import type { UnitKind } from '../../analytics/forecast/forecast-source.ts';
import { DEFAULT_HISTORY_MONTHS, loadLedgerData, UNIT_KINDS } from '../../analytics/forecast/forecast-source.ts';
import type { MixScenario, PriceChange } from '../../analytics/forecast/model-mix.ts';
import { FRONTIER_MIN_INPUT_PER_MTOK, parsePriceChange } from '../../analytics/forecast/model-mix.ts';
import { parsePilotCsv } from '../../analytics/forecast/pilot-csv.ts';
import type { ForecastSource } from '../../analytics/forecast/scenario-forecast.ts';
import { scenarioForecast } from '../../analytics/forecast/scenario-forecast.ts';
import { parseDay, parseGrowth, parseHorizon, parseShare, parseTiers, parseUsers } from '../../analytics/forecast/scenario.ts';
import type { UnitDay, UnitSeries } from '../../analytics/forecast/unit-series.ts';
import { DAY_MS } from '../../analytics/forecast/unit-series.ts';
import { TollgateError } from '../../domain/errors.ts';
import { formatUsd } from '../../domain/money.ts';
import type { Controls } from '../../ledger/contract.ts';
import type { CliContext } from '../context.ts';
import { table, toJson } from '../output.ts';

interface SourceOptions {
  scope?: string;
  by: UnitKind | 'auto';
  pilot?: string;
  asOf?: string;
  history: string;
  seed: string;
  json?: boolean;
}

type Source = ForecastSource;

/** A pilot has no scopes, so no budgets to read. */
const NO_BUDGETS: Pick<Controls, 'listBudgets'> = { listBudgets: () => Promise.resolve([]) };

const BY = ['auto', ...UNIT_KINDS] as const;
const TRIALS = 10_000;
const BACKTEST_TRIALS = 2000;
const usd = (x: number) => formatUsd(toNano(x));
const signed = (x: number) => (Math.abs(x) < 0.005 ? '—' : `${x > 0 ? '+' : '-'}${usd(Math.abs(x))}`);
const pct = (x: number, digits = 0) => `${(100 * x).toFixed(digits)}%`;
const plural = (n: number, noun: string) => `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`;

export function registerForecast(program: Command, ctx: CliContext): void {
  const forecast = program
    .command('forecast')
    .description('P50/P90/P99 spend per month from a Monte Carlo over heavy-tailed users/agents, with adoption, model-mix and price scenarios and per-tier budget advice')
    .option('--scope <path>', 'org, team, project or agent to forecast (default: the only org)')
    .addOption(new Option('--by <unit>', 'unit simulated: customer (the x-tollgate-customer tag), agent, or project (a workload); auto: customer when tagged').choices(BY).default('auto'))
    .option('--pilot <file.csv>', 'forecast from a pilot CSV (columns user, day or month, spend_usd) instead of the ledger')
    .option('--as-of <YYYY-MM-DD>', 'use the ledger up to this day, exclusive (default: today, UTC)')
    .option('--history <months>', 'months of history to train on, at most', String(DEFAULT_HISTORY_MONTHS))
    .option('--seed <n>', 'random seed (same seed, same figures)', '1')
    .option('--json', 'print JSON')
    .option('--horizon <months>', 'months to forecast, e.g. 3m, 12m, 1y', '3m')
    .option('--users <n>', 'active units in the first forecast month (default: today\'s, grown one month)')
    .option('--growth <rate>', 'adoption growth of the unit count, e.g. 15%/month or 40%/year', '0')
    .option('--frontier-share <share>', 'share of tokens on frontier models, e.g. 0.15 (default: the ledger\'s)')
    .option('--frontier-models <list>', `models counted as frontier, comma-separated (default: catalog input price ≥ $${FRONTIER_MIN_INPUT_PER_MTOK}/MTok)`)
    .option('--price-change <spec>', 'provider[:model]:x<multiplier>[@YYYY-MM-DD], repeatable, e.g. anthropic:x2.5@2026-04-01', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--trials <n>', `Monte Carlo trials (default ${TRIALS}; \`forecast backtest\`: ${BACKTEST_TRIALS} per window)`)
    .option('--tiers <list>', 'tiers to advise budgets for, of org,team,project,agent', 'org,team')
    .option('--apply', 'write the advised month budgets (audited) instead of printing the commands')
    .action(async (o: SourceOptions & { horizon: string; users?: string; growth: string; frontierShare?: string; frontierModels?: string; priceChange: string[]; trials?: string; tiers: string; apply?: boolean }) => {
      const horizon = parseHorizon(o.horizon);
      const growth = parseGrowth(o.growth);
      const users = o.users === undefined ? null : parseUsers(o.users);
      const frontierShare = o.frontierShare === undefined ? null : parseShare(o.frontierShare);
      const changes = o.priceChange.map((t) => parsePriceChange(t));
      const trials = intOption('--trials', o.trials ?? String(TRIALS), 100, 100_000);
      const seed = intOption('--seed', o.seed, 0, 2 ** 31 - 1);
      const tiers = parseTiers(o.tiers);
      const src = await loadSource(ctx, o);
      if (src.ledger === null && (frontierShare !== null || changes.length > 0 || o.apply)) {
        throw new TollgateError('invalid_request', 'a pilot CSV has no model mix, prices or scopes: --frontier-share, --price-change and --apply need the ledger');
      }
      const store = src.ledger ? await ctx.store() : null;
      const frontierModels = o.frontierModels ? o.frontierModels.split(',').map((m) => m.trim()).filter(Boolean) : null;
      const f = await scenarioForecast(src, { horizon, users, growth, frontierShare, frontierModels, priceChanges: changes, trials, seed, tiers }, { pricer: ctx.pricer(), controls: store?.controls ?? NO_BUDGETS });
      if (store && f.advice && o.apply) {
        for (const r of f.advice.rows) {
          await store.controls.setBudget(
            { scopePath: r.scope, amountNano: r.amountNano, period: 'month', action: r.action, thresholds: r.thresholds, timeZone: r.current?.timeZone ?? ctx.timeZone(), degradeTo: r.current?.degradeTo ?? null },
            ctx.actor,
          );
        }
      }
      const advice = f.advice && { ...f.advice, applied: o.apply === true };
      const { model, result, mix, untaggedShare } = f;
      if (o.json) {
        return ctx.io.stdout(
          toJson(forecastJson({ scope: src.ledger?.scope.path ?? null, unit: src.noun, model, result, trials, seed, growth, mix, priceChanges: changes, untaggedShare, advice })),
        );
      }
      ctx.io.stdout(renderForecast({ src, model, result, trials, growth, mix, changes, untaggedShare, advice }));
    });

  // The subcommands read the source options (--scope, --by, --json, …) from `forecast` itself: the
  // CLI's options are not positional, so those given after `fit` or `backtest` are parsed there.
  forecast
    .command('fit')
    .description('spend per unit (customer, agent, project) per day and month: empirical P50/P90/P99, the heavy-tailed fit chosen and why, top-5% share (takes forecast\'s --scope, --by, --pilot, --as-of, --history, --json)')
    .addOption(new Option('--grain <grain>', 'per day, per month, or both').choices(['day', 'month', 'both']).default('both'))
    .action(async (f: { grain: 'day' | 'month' | 'both' }) => {
      const o = forecast.opts<SourceOptions>();
      const kinds: (UnitKind | 'auto')[] = o.pilot || o.by !== 'auto' ? [o.by] : [...UNIT_KINDS];
      const rows: FitRow[] = [];
      let scope: string | null = null;
      for (const by of kinds) {
        const src = await loadSource(ctx, { ...o, by }, { optional: kinds.length > 1 });
        if (!src) continue;
        scope = src.ledger?.scope.path ?? null;
        if (f.grain !== 'day') rows.push(fitRow(src, 'month', monthValues(src.series), src.series));
        if (f.grain !== 'month') rows.push(fitRow(src, 'day', src.dayValues ?? [], null));
      }
      if (o.json) return ctx.io.stdout(toJson({ scope, fits: rows.map(fitRowJson) }));
      ctx.io.stdout(renderFits(scope, rows));
    });

  forecast
    .command('backtest')
    .description('train on months 1..k, forecast k+1, compare with what was spent: coverage of P90/P99 and error, against the naive "pilot average × users × 1.2" (takes forecast\'s --scope, --by, --pilot, --as-of, --history, --trials, --seed, --json)')
    .option('--min-train <months>', 'fewest months to train on', '1')
    .action(async (b: { minTrain: string }) => {
      const o = forecast.opts<SourceOptions & { trials?: string }>();
      const trials = intOption('--trials', o.trials ?? String(BACKTEST_TRIALS), 100, 100_000);
      const seed = intOption('--seed', o.seed, 0, 2 ** 31 - 1);
      const src = await loadSource(ctx, o);
      const r = backtest(src.series, { minTrain: intOption('--min-train', b.minTrain, 1, 120), trials, seed });
      if (o.json) return ctx.io.stdout(toJson(backtestJson(src.ledger?.scope.path ?? null, src.noun, r)));
      ctx.io.stdout(renderBacktest(src, r));
    });
}

function intOption(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new TollgateError('invalid_request', `${name} is a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}, got "${text}"`);
  return n;
}

function asOfDay(ctx: CliContext, text: string | undefined): number {
  return text === undefined ? Math.floor(ctx.now() / DAY_MS) : parseDay(text, '--as-of');
}

type LoadedSource = Source & { dayValues: number[] | null };

async function loadSource(ctx: CliContext, o: SourceOptions): Promise<LoadedSource>;
async function loadSource(ctx: CliContext, o: SourceOptions, opts: { optional: boolean }): Promise<LoadedSource | null>;
async function loadSource(ctx: CliContext, o: SourceOptions, opts: { optional: boolean } = { optional: false }): Promise<LoadedSource | null> {
  if (o.pilot) {
    if (o.by !== 'auto') throw new TollgateError('invalid_request', 'a pilot CSV has users only: leave out --by');
    let text: string;
    try {
      text = readFileSync(o.pilot, 'utf8');
    } catch (err) {
      throw new TollgateError('invalid_request', `cannot read ${o.pilot}: ${(err as Error).message}`);
    }
    const { series, days } = parsePilotCsv(text, o.pilot);
    return { noun: 'user', series, ledger: null, dayValues: days && positiveDays(days) };
  }
  const store = await ctx.store();
  const reads = store.forecast;
  const history = intOption('--history', o.history, 1, 120);
  try {
    const ledger = await loadLedgerData(store, reads, { ...(o.scope === undefined ? {} : { scope: o.scope }), unit: o.by, asOfDay: asOfDay(ctx, o.asOf), history });
    return { noun: ledger.unit, series: ledger.series, ledger, dayValues: positiveDays(ledger.days) };
  } catch (err) {
    if (opts.optional && err instanceof TollgateError && err.code === 'invalid_request' && /^no (customer|agent|project) /.test(err.message)) return null;
    throw err;
  }
}

/** Spend of each unit-day with any (a unit's days add up when a CSV repeats one). */
function positiveDays(days: readonly UnitDay[]): number[] {
  const sums = new Map<string, number>();
  for (const d of days) sums.set(`${d.unit}\u0000${d.day}`, (sums.get(`${d.unit}\u0000${d.day}`) ?? 0) + d.usd);
  return [...sums.values()].filter((v) => v > 0);
}

function monthValues(s: UnitSeries): number[] {
  return [...s.spend.filter((v) => v > 0)];
}

// ─── forecast ────────────────────────────────────────────────────────────────────────────────

function renderForecast(x: {
  src: Source;
  model: ForecastModel;
  result: ForecastResult;
  trials: number;
  growth: number;
  mix: MixScenario | null;
  changes: readonly PriceChange[];
  untaggedShare: number | null;
  advice: { month: string; rows: AdviceRow[]; applied: boolean } | null;
}): string {
  const { src, model, result: r, mix } = x;
  const noun = src.noun;
  const months = model.series.months;
  const first = r.months[0]!;
  const last = r.months.at(-1)!;
  const out: string[] = [];
  out.push(
    `Spend forecast for ${src.ledger ? src.ledger.scope.path : 'the pilot'}, ${first.month.label}${r.months.length > 1 ? ` … ${last.month.label}` : ''} (effective cost, USD; ${x.trials.toLocaleString('en')} trials)`,
  );
  const scaled = months.filter((m) => m.coveredDays < m.days).map((m) => `${m.label} from ${m.coveredDays} days`);
  out.push(
    `Trained on ${plural(model.series.units.length, noun)} over ${months[0]!.label}${months.length > 1 ? ` … ${months.at(-1)!.label}` : ''}` +
      `${scaled.length ? ` (run rate: ${scaled.join(', ')})` : ''}; ${plural(r.todayUnits, noun)} active in ${months.at(-1)!.label}.`,
  );
  const inputs = [`${noun}s ${r.todayUnits.toLocaleString('en')} → ${first.users.toLocaleString('en')}${x.growth !== 0 ? `, ${x.growth > 0 ? '+' : ''}${pct(x.growth, 1)}/month` : ''}`];
  if (mix?.frontierTokenShare != null) {
    inputs.push(
      mix.targetTokenShare === null
        ? `frontier models ${pct(mix.frontierTokenShare)} of tokens (${pct(mix.frontierSpendShare ?? 0)} of spend) as today`
        : `frontier share of tokens ${pct(mix.frontierTokenShare)} → ${pct(mix.targetTokenShare)} (spend ×${mix.mix.toFixed(2)})`,
    );
  }
  inputs.push(x.changes.length ? `prices: ${x.changes.map((c) => c.text).join(', ')}` : 'prices as today');
  out.push(`Inputs: ${inputs.join(' · ')}`);
  if (!r.knownCarried) out.push(`(fewer ${noun}s than today's ${r.todayUnits}: every ${noun} is drawn from the fitted distribution)`);
  if (x.untaggedShare !== null) out.push(`⚠ ${pct(x.untaggedShare, 1)} of spend carries no customer tag and is not in this forecast (--by agent covers all of it).`);
  out.push('');
  const rows = r.months.map((m) => {
    const c = m.contributions.p90;
    return [m.month.label, m.users.toLocaleString('en'), usd(m.spend.p50), usd(m.spend.p90), usd(m.spend.p99), usd(m.naive), '│', usd(c.today), signed(c.adoption), signed(c.mix), signed(c.price), signed(c.tail)];
  });
  rows.push([`${r.months.length} month${r.months.length > 1 ? 's' : ''}`, '', usd(r.horizonTotal.p50), usd(r.horizonTotal.p90), usd(r.horizonTotal.p99), usd(r.months.reduce((s, m) => s + m.naive, 0)), '│', '', '', '', '', '']);
  out.push(
    table(
      ['month', `${noun}s`, 'P50', 'P90', 'P99', 'naive', '│', 'P90: today', 'adoption', 'mix', 'price', 'tail'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
    ).trimEnd(),
  );
  const { noise, jumps } = model.sets[0]!;
  out.push(
    `naive: pilot average (${usd(r.pilotAverage)} per ${noun}-month) × ${noun}s × ${NAIVE_MARGIN}.  P90 = today's ${noun}s as they are + adoption + mix + price + tail;`,
    `tail: light ${noun}s turning heavy (${pct(jumps.up, 1)}/month${jumps.upAssumed ? ', assumed' : `; ${jumps.lightToHeavy} of ${jumps.lightPairs} light months were followed by a heavy one`}) and heavy ones falling back (${pct(jumps.down, 1)}/month).`,
    '',
    `Per ${noun}-month: P50 ${usd(model.fitted.p50)} · P90 ${usd(model.fitted.p90)} · P99 ${usd(model.fitted.p99)}; the top 5% carry ${pct(model.fitted.top5Share)} of spend (${pct(model.empirical.top5Share)} in the data).`,
    `Fit: ${fitReason(model.fit)}.`,
    `A ${noun}'s month wobbles ±${pct(noise.sigma)} around its level${noise.assumed ? ' (assumed: too little history)' : ''}; levels explain ${pct(noise.rho)} of the spread. Fit uncertainty: ${model.sets.length} bootstrap refits.`,
  );
  if (x.advice) out.push('', ...renderAdvice(x.advice));
  return out.join('\n') + '\n';
}

function renderAdvice(a: { month: string; rows: AdviceRow[]; applied: boolean }): string[] {
  if (a.rows.length === 0) return [`No budget advice: no spend to budget for in ${a.month}.`];
  const out = [
    `Budget advice for ${a.month}: alerting budgets at P90 (with an alert at P99), refusing ones (hard, chargeback) at P99 as the ceiling`,
    table(
      ['scope', 'tier', 'action', 'P90', 'P99', 'budget', 'alerts at', 'now'],
      a.rows.map((r) => [
        r.scope,
        r.tier,
        r.action,
        usd(r.spend.p90),
        usd(r.spend.p99),
        formatUsd(r.amountNano),
        r.thresholds.map((t) => `${t}%`).join(' '),
        r.current ? `${formatUsd(r.current.amountNano)} ${r.current.action}` : '—',
      ]),
      ['left', 'left', 'left', 'right', 'right', 'right', 'left', 'right'],
    ).trimEnd(),
  ];
  if (a.applied) out.push(`Applied: ${plural(a.rows.length, 'month budget')} set (audited; see \`tollgate budgets list\`).`);
  else {
    out.push('Apply with --apply, or:');
    for (const r of a.rows) {
      out.push(`  tollgate budgets set --scope ${r.scope} --amount ${usdString(Number(r.amountNano) / 1e9).replace(/\.?0+$/, '')} --period month --action ${r.action} --thresholds ${r.thresholds.join(',')}`);
    }
  }
  return out;
}

// ─── fit ─────────────────────────────────────────────────────────────────────────────────────

interface FitRow {
  noun: string;
  grain: 'day' | 'month';
  fit: SpendFit | null;
  empirical: ReturnType<typeof summarizeSample>;
  fitted: ReturnType<typeof summarizeDistribution> | null;
  /** Heaviest units over the window (month grain only), with their share of spend. */
  top: { label: string; share: number }[];
}

function fitRow(src: LoadedSource, grain: 'day' | 'month', values: number[], series: UnitSeries | null): FitRow {
  const fit = values.length > 0 ? fitSpend(values) : null;
  const top: { label: string; share: number }[] = [];
  if (series) {
    const M = series.months.length;
    const totals = series.units.map((u, i) => ({ u, t: series.spend.subarray(i * M, (i + 1) * M).reduce((s, v) => s + v, 0) }));
    const all = totals.reduce((s, x) => s + x.t, 0);
    for (const x of totals.sort((a, b) => b.t - a.t).slice(0, 3)) top.push({ label: src.ledger?.labels.get(x.u) ?? x.u, share: all > 0 ? x.t / all : 0 });
  }
  return { noun: src.noun, grain, fit, empirical: summarizeSample(values), fitted: fit ? summarizeDistribution(fit.dist) : null, top };
}

function fitRowJson(r: FitRow) {
  const s = (x: { p50: number; p90: number; p99: number; mean: number; top5Share: number }) => ({
    p50_usd: usdString(x.p50),
    p90_usd: usdString(x.p90),
    p99_usd: usdString(x.p99),
    mean_usd: usdString(x.mean),
    top5_share: Number(x.top5Share.toFixed(4)),
  });
  return {
    unit: r.noun,
    grain: r.grain,
    values: r.empirical.n,
    model: r.fit?.model ?? null,
    aic_gain: r.fit?.aicGain == null ? null : Number(r.fit.aicGain.toFixed(2)),
    pareto_alpha: r.fit?.model === 'lognormal+pareto' ? Number(r.fit.pareto!.alpha.toFixed(3)) : null,
    empirical: s(r.empirical),
    fitted: r.fitted && s(r.fitted),
    heaviest: r.top.map((t) => ({ unit: t.label, share: Number(t.share.toFixed(4)) })),
  };
}

function renderFits(scope: string | null, rows: FitRow[]): string {
  const head = `Spend per unit and period${scope ? ` under ${scope}` : ' in the pilot'} (effective cost, USD; fitted figures, empirical in brackets)\n\n`;
  const body = table(
    ['unit', 'per', 'values', 'P50', 'P90', 'P99', 'top 5% share', 'fit'],
    rows.map((r) => [
      r.noun,
      r.grain,
      r.empirical.n.toLocaleString('en'),
      both(r.fitted?.p50, r.empirical.p50),
      both(r.fitted?.p90, r.empirical.p90),
      both(r.fitted?.p99, r.empirical.p99),
      r.fitted ? `${pct(r.fitted.top5Share)} (${pct(r.empirical.top5Share)})` : '—',
      r.fit ? (r.fit.model === 'lognormal' ? `log-normal${r.fit.aicGain === null ? ', too few for a tail' : ` (tail AIC gain ${r.fit.aicGain.toFixed(1)})`}` : `Pareto tail α ${r.fit.pareto!.alpha.toFixed(2)} (AIC gain ${r.fit.aicGain!.toFixed(1)})`) : '—',
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const heaviest = rows.filter((r) => r.top.length > 0).map((r) => `Heaviest ${r.noun}s: ${r.top.map((t) => `${t.label} ${pct(t.share)}`).join(', ')}`);
  return head + body + (heaviest.length ? '\n' + heaviest.join('\n') + '\n' : '');
}

function both(fitted: number | undefined, empirical: number): string {
  return fitted === undefined ? `(${usd(empirical)})` : `${usd(fitted)} (${usd(empirical)})`;
}

// ─── backtest ────────────────────────────────────────────────────────────────────────────────

function renderBacktest(src: Source, r: ReturnType<typeof backtest>): string {
  const s = r.summary;
  const noun = src.noun;
  const err = (f: number, a: number) => (a > 0 ? `${f >= a ? '+' : ''}${pct((f - a) / a)}` : '—');
  const head = `Backtest${src.ledger ? ` for ${src.ledger.scope.path}` : ' on the pilot'}: train on months 1..k, forecast k+1 with its real ${noun} count, compare (effective cost, USD)\n\n`;
  const body = table(
    ['month', 'trained on', `${noun}s`, 'actual', 'naive', 'error', 'P50', 'error', 'P90', 'P99', 'covered'],
    r.windows.map((w) => [
      w.month.label,
      w.trainedOn.length === 1 ? w.trainedOn[0]!.label : `${w.trainedOn[0]!.label}…${w.trainedOn.at(-1)!.label}`,
      w.users.toLocaleString('en'),
      usd(w.actual),
      usd(w.naive),
      err(w.naive, w.actual),
      usd(w.forecast.p50),
      err(w.forecast.p50, w.actual),
      usd(w.forecast.p90),
      usd(w.forecast.p99),
      w.actual <= w.forecast.p90 ? '≤ P90' : w.actual <= w.forecast.p99 ? '≤ P99' : 'missed',
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  return (
    head +
    body +
    `\nCoverage: actual ≤ P90 in ${Math.round(s.coverageP90 * s.windows)} of ${s.windows} windows (${pct(s.coverageP90)}), ≤ P99 in ${Math.round(s.coverageP99 * s.windows)} (${pct(s.coverageP99)}).\n` +
    `Naive "pilot average × ${noun}s × ${NAIVE_MARGIN}" was below the actual month in ${s.naiveBelowActual} of ${s.windows}; median error: naive ${pct(s.medianErrorNaive)}, our P50 ${pct(s.medianErrorP50)} (bias ${s.meanBiasNaive >= 0 ? '+' : ''}${pct(s.meanBiasNaive)} vs ${s.meanBiasP50 >= 0 ? '+' : ''}${pct(s.meanBiasP50)}).\n`
  );
}
