/**
 * Unit economics of a scope over a period: per workload (a project's outcome type) its cost,
 * outcomes, $/outcome, the human baseline, savings and ROI = (baseline × outcomes − cost) / cost;
 * per trace the distribution of cost per outcome (p50/p90/p99, and the worst trace: runaway loops
 * live in the tail); and a weekly trend with drift detection (see drift.ts).
 *
 * Costs are effective cost from the rollups (Ledger.spend), outcomes come from the outcomes store,
 * per-trace costs from `trace_costs`. A workload's cost is its project's whole spend (within the
 * scope): every agent of the project works toward its outcomes. A project with several outcome
 * types shows each type against that same cost; the totals count each project's cost once.
 */
import { TollgateError } from '../domain/errors.ts';
import { divRound } from '../domain/money.ts';
import type { Tier } from '../domain/scope.ts';
import type { ScopeNode, SpendRow, Store } from '../ledger/contract.ts';
import type { OutcomeType, TraceOutcome } from '../ledger/outcomes-contract.ts';
import type { DriftCheck, WeekFigures } from './drift.ts';
import { checkDrift } from './drift.ts';
import type { Ratio } from './unit-ratio.ts';
import { ratio } from './unit-ratio.ts';
import { weekStart, WEEK_MS } from './unit-period.ts';

export type UnitStore = Pick<Store, 'directory' | 'ledger' | 'outcomes'>;

export interface UnitEconomicsOptions {
  scope: string;
  /** Inclusive epoch ms. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  /** Shown with the period, e.g. `2026-10`. */
  label?: string;
  /** Drift band in hundredths of a percent (default 2000 = 20%). */
  driftBandCentiPct?: number;
  /** Drift compares each week with the week this many weeks before it (default 4). */
  driftWeeks?: number;
  /** Weekly trend and drift (default true); the board summary skips them. */
  trend?: boolean;
  /** Weeks starting after this instant are left out of the trend (they have nothing yet). */
  now?: number;
  /** The per-trace cost distribution (default true); the overview's monthly trend skips it (it joins every trace's calls). */
  traces?: boolean;
}

export const DEFAULT_DRIFT_BAND_CENTI_PCT = 2000;
export const DEFAULT_DRIFT_WEEKS = 4;

/** Nearest-rank percentiles of cost per outcome over traces (each trace one sample). */
export interface TraceDistribution {
  /** Traces with a cost (calls carried the trace id). */
  traces: number;
  /** Outcomes whose trace id matched no call: not in the distribution. */
  unmatchedTraces: number;
  p50Nano: bigint | null;
  p90Nano: bigint | null;
  p99Nano: bigint | null;
  worst: { traceId: string; costNano: bigint; outcomes: bigint; calls: bigint; costPerOutcomeNano: bigint } | null;
}

export interface WeekRow extends WeekFigures {
  costPerOutcomeNano: bigint | null;
  /** Against the week `driftWeeks` before; null when either has nothing to compare. */
  drift: DriftCheck | null;
}

export interface Workload {
  projectId: string;
  projectPath: string;
  type: string;
  displayName: string;
  unit: string;
  costNano: bigint;
  outcomes: bigint;
  valueNano: bigint;
  /** cost ÷ outcomes, rounded once; null without outcomes. */
  costPerOutcomeNano: bigint | null;
  baselineNano: bigint | null;
  /** baseline × outcomes: what humans would have cost. */
  baselineValueNano: bigint | null;
  /** baseline × outcomes − cost. */
  savingsNano: bigint | null;
  /** savings ÷ cost. */
  roi: Ratio | null;
  targetNano: bigint | null;
  /** `over` when $/outcome is above the project's target. */
  targetStatus: 'ok' | 'over' | null;
  perTrace: TraceDistribution;
  /** Weeks overlapping the period (whole ISO weeks, Monday first, UTC). */
  weeks: WeekRow[];
  /** The latest week's drift check. */
  drift: DriftCheck | null;
}

export interface UnitEconomicsReport {
  scope: { path: string; tier: Tier };
  from: number;
  to: number;
  label: string;
  driftBandCentiPct: number;
  driftWeeks: number;
  /** Everything the scope spent in the period. */
  costNano: bigint;
  workloads: Workload[];
  totals: {
    /** Spend of projects that have an outcome type, each project once. */
    measuredCostNano: bigint;
    /** Spend of projects whose outcome types all have a baseline: what ROI is computed over. */
    roiCostNano: bigint;
    baselineValueNano: bigint;
    savingsNano: bigint;
    roi: Ratio | null;
  };
  /** Projects that spent in the period but have no outcome type: outside $/outcome and ROI. */
  unmeasured: { projectPath: string; costNano: bigint }[];
}

export async function unitEconomics(store: UnitStore, o: UnitEconomicsOptions): Promise<UnitEconomicsReport> {
  if (!(o.to > o.from)) throw new TollgateError('invalid_request', 'the period is empty: "to" must be after "from"');
  const scope = await store.directory.getScope(o.scope);
  if (!scope) throw new TollgateError('not_found', `scope "${o.scope}" does not exist`);
  const band = o.driftBandCentiPct ?? DEFAULT_DRIFT_BAND_CENTI_PCT;
  const nWeeks = o.driftWeeks ?? DEFAULT_DRIFT_WEEKS;
  if (!Number.isInteger(band) || band < 0 || band > 1_000_000) throw new TollgateError('invalid_request', 'the drift band is a percentage from 0 to 10000');
  if (!Number.isInteger(nWeeks) || nWeeks < 1 || nWeeks > 26) throw new TollgateError('invalid_request', 'drift weeks must be a whole number from 1 to 26');
  const within = { tier: scope.tier, id: scope.id };

  const [types, spendRows, counts, traces, scopes] = await Promise.all([
    store.outcomes.listTypes({ under: scope.path }),
    store.ledger.spend({ from: o.from, to: o.to, groupBy: 'project', within }),
    store.outcomes.counts({ from: o.from, to: o.to, within }),
    o.traces === false ? Promise.resolve([]) : store.outcomes.traceOutcomes({ from: o.from, to: o.to, within }),
    store.directory.listScopes({ under: scope.path.split('/')[0]!, includeArchived: true }),
  ]);
  const spend = new Map(spendRows.map((r) => [r.key, r.effectiveCostNano]));
  const pathOf = new Map(scopes.map((s) => [s.id, s.path]));
  const countOf = new Map(counts.map((c) => [`${c.projectId}\u0000${c.type}`, c]));
  const weekly = o.trend === false ? null : await weeklyFigures(store, scope, types, o.from, o.now === undefined ? o.to : Math.max(o.from + 1, Math.min(o.to, o.now + 1)), nWeeks);

  const workloads = types.map((t): Workload => {
    const cost = spend.get(t.projectId) ?? 0n;
    const c = countOf.get(`${t.projectId}\u0000${t.type}`);
    const outcomes = c?.outcomes ?? 0n;
    const baselineValue = t.baselineNano === null ? null : t.baselineNano * outcomes;
    const savings = baselineValue === null ? null : baselineValue - cost;
    const cpo = outcomes > 0n ? divRound(cost, outcomes) : null;
    const weeks = weekly ? weekRows(weekly, t, nWeeks, band, o.from) : [];
    return {
      projectId: t.projectId,
      projectPath: t.projectPath,
      type: t.type,
      displayName: t.displayName,
      unit: t.unit,
      costNano: cost,
      outcomes,
      valueNano: c?.valueNano ?? 0n,
      costPerOutcomeNano: cpo,
      baselineNano: t.baselineNano,
      baselineValueNano: baselineValue,
      savingsNano: savings,
      roi: savings === null ? null : ratio(savings, cost),
      targetNano: t.targetNano,
      targetStatus: t.targetNano === null || cpo === null ? null : cpo > t.targetNano ? 'over' : 'ok',
      perTrace: distribution(traces.filter((x) => x.projectId === t.projectId && x.type === t.type)),
      weeks,
      drift: weeks.at(-1)?.drift ?? null,
    };
  });

  const measured = new Set(types.map((t) => t.projectId));
  const withoutBaseline = new Set(types.filter((t) => t.baselineNano === null).map((t) => t.projectId));
  let measuredCost = 0n;
  let roiCost = 0n;
  for (const id of measured) {
    measuredCost += spend.get(id) ?? 0n;
    if (!withoutBaseline.has(id)) roiCost += spend.get(id) ?? 0n;
  }
  const baselineValue = workloads.reduce((s, w) => s + (withoutBaseline.has(w.projectId) ? 0n : (w.baselineValueNano ?? 0n)), 0n);
  const costNano = spendRows.reduce((s, r) => s + r.effectiveCostNano, 0n);
  return {
    scope: { path: scope.path, tier: scope.tier },
    from: o.from,
    to: o.to,
    label: o.label ?? `${new Date(o.from).toISOString().slice(0, 10)} → ${new Date(o.to).toISOString().slice(0, 10)}`,
    driftBandCentiPct: band,
    driftWeeks: nWeeks,
    costNano,
    workloads,
    totals: { measuredCostNano: measuredCost, roiCostNano: roiCost, baselineValueNano: baselineValue, savingsNano: baselineValue - roiCost, roi: ratio(baselineValue - roiCost, roiCost) },
    unmeasured: spendRows
      .filter((r) => !measured.has(r.key) && r.effectiveCostNano !== 0n)
      .map((r) => ({ projectPath: pathOf.get(r.key) ?? r.key, costNano: r.effectiveCostNano }))
      .sort((a, b) => (b.costNano > a.costNano ? 1 : b.costNano < a.costNano ? -1 : a.projectPath < b.projectPath ? -1 : 1)),
  };
}

/** Nearest rank: the smallest value with at least p% of the samples at or below it. */
export function percentile(sorted: readonly bigint[], p: number): bigint | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1]!;
}

function distribution(traces: readonly TraceOutcome[]): TraceDistribution {
  const costed = traces.filter((t) => t.costNano !== null && t.outcomes > 0n);
  const samples = costed.map((t) => ({ t, cpo: divRound(t.costNano!, t.outcomes) })).sort((a, b) => (a.cpo < b.cpo ? -1 : a.cpo > b.cpo ? 1 : a.t.traceId < b.t.traceId ? -1 : 1));
  const sorted = samples.map((s) => s.cpo);
  const w = samples.at(-1);
  return {
    traces: samples.length,
    unmatchedTraces: traces.length - costed.length,
    p50Nano: percentile(sorted, 50),
    p90Nano: percentile(sorted, 90),
    p99Nano: percentile(sorted, 99),
    worst: w ? { traceId: w.t.traceId, costNano: w.t.costNano!, outcomes: w.t.outcomes, calls: w.t.calls, costPerOutcomeNano: w.cpo } : null,
  };
}

interface Weekly {
  /** Week starts, oldest first, including `nWeeks` before the period for the drift reference. */
  starts: number[];
  /** project id → week start → spend by model. */
  spend: Map<string, Map<number, SpendRow[]>>;
  /** project id \0 type → week start → outcomes. */
  outcomes: Map<string, Map<number, bigint>>;
}

async function weeklyFigures(store: UnitStore, scope: ScopeNode, types: readonly OutcomeType[], from: number, to: number, nWeeks: number): Promise<Weekly> {
  const last = weekStart(to - 1);
  const starts: number[] = [];
  for (let w = weekStart(from) - nWeeks * WEEK_MS; w <= last; w += WEEK_MS) starts.push(w);
  const projects = [...new Set(types.map((t) => t.projectId))];
  const spend = new Map<string, Map<number, SpendRow[]>>();
  await Promise.all(
    projects.map(async (projectId) => {
      // Within an agent scope the workload is that agent's share of the project.
      const within = scope.tier === 'agent' ? { tier: scope.tier, id: scope.id } : { tier: 'project' as const, id: projectId };
      const byWeek = new Map<number, SpendRow[]>();
      spend.set(projectId, byWeek);
      for (const w of starts) byWeek.set(w, await store.ledger.spend({ from: w, to: w + WEEK_MS, groupBy: 'model', within }));
    }),
  );
  const counts = await store.outcomes.counts({ from: starts[0]!, to: last + WEEK_MS, within: { tier: scope.tier, id: scope.id }, byWeek: true });
  const outcomes = new Map<string, Map<number, bigint>>();
  for (const c of counts) {
    const k = `${c.projectId}\u0000${c.type}`;
    let m = outcomes.get(k);
    if (!m) outcomes.set(k, (m = new Map<number, bigint>()));
    m.set(c.weekStart!, c.outcomes);
  }
  return { starts, spend, outcomes };
}

function weekRows(weekly: Weekly, t: OutcomeType, nWeeks: number, band: number, from: number): WeekRow[] {
  const figures = weekly.starts.map((w): WeekFigures => {
    const rows = weekly.spend.get(t.projectId)?.get(w) ?? [];
    const models = rows.map((r) => ({ model: r.key, calls: BigInt(r.calls), tokens: tokensOf(r), costNano: r.effectiveCostNano }));
    return {
      weekStart: w,
      costNano: models.reduce((s, m) => s + m.costNano, 0n),
      calls: models.reduce((s, m) => s + m.calls, 0n),
      tokens: models.reduce((s, m) => s + m.tokens, 0n),
      outcomes: weekly.outcomes.get(`${t.projectId}\u0000${t.type}`)?.get(w) ?? 0n,
      models: models.sort((a, b) => (a.model < b.model ? -1 : 1)),
    };
  });
  const rows: WeekRow[] = [];
  for (const [i, f] of figures.entries()) {
    if (f.weekStart + WEEK_MS <= from) continue;
    const ref = figures[i - nWeeks];
    rows.push({ ...f, costPerOutcomeNano: f.outcomes > 0n ? divRound(f.costNano, f.outcomes) : null, drift: ref ? checkDrift(ref, f, { bandCentiPct: band }) : null });
  }
  return rows;
}

function tokensOf(r: SpendRow): bigint {
  return r.inputTokens + r.cacheReadTokens + r.cacheWrite5mTokens + r.cacheWrite1hTokens + r.outputTokens;
}
