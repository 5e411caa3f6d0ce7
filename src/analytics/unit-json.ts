/**
 * The unit-economics report as JSON (CLI `--format json` and `GET /api/reports/unit-economics`):
 * money as exact decimal USD strings with the nano-USD integer beside them, counts as integer
 * strings, ratios as fixed-place decimals computed from the integers.
 */
import { nanoToDecimalString } from '../domain/money.ts';
import type { DriftCheck } from './drift.ts';
import { DRIFT_CAUSE_TEXT, DRIFT_CAUSES } from './drift.ts';
import type { UnitEconomicsReport, Workload } from './unit-economics.ts';
import { isoDay } from './unit-period.ts';
import type { Ratio } from './unit-ratio.ts';
import { ratioPlain } from './unit-ratio.ts';

type Json = Record<string, unknown>;

/** `{name}_usd` and `{name}_nano`, both null when the amount is. */
export function money(name: string, nano: bigint | null): Json {
  return { [`${name}_usd`]: nano === null ? null : nanoToDecimalString(nano), [`${name}_nano`]: nano === null ? null : nano.toString() };
}

/** A ratio as a decimal string with 4 places (ROI 3.52 = 352 %), or null. */
export function ratioJson(r: Ratio | null): string | null {
  return r === null ? null : ratioPlain(r, 4);
}

export function driftJson(d: DriftCheck | null): Json | null {
  if (!d) return null;
  return {
    week: isoDay(d.week),
    reference_week: isoDay(d.referenceWeek),
    change: ratioJson(d.change),
    flagged: d.flagged,
    cause: d.cause,
    cause_text: d.cause ? DRIFT_CAUSE_TEXT[d.cause] : null,
    evidence: d.evidence || null,
    factors: Object.fromEntries(DRIFT_CAUSES.map((k) => [k, ratioJson(d.factors[k])])),
  };
}

export function workloadJson(w: Workload): Json {
  const t = w.perTrace;
  return {
    project: w.projectPath,
    type: w.type,
    name: w.displayName,
    unit: w.unit,
    ...money('cost', w.costNano),
    outcomes: w.outcomes.toString(),
    ...money('value', w.valueNano),
    ...money('cost_per_outcome', w.costPerOutcomeNano),
    ...money('baseline', w.baselineNano),
    ...money('baseline_value', w.baselineValueNano),
    ...money('savings', w.savingsNano),
    roi: ratioJson(w.roi),
    ...money('target', w.targetNano),
    target_status: w.targetStatus,
    per_trace: {
      traces: t.traces,
      unmatched_traces: t.unmatchedTraces,
      ...money('p50', t.p50Nano),
      ...money('p90', t.p90Nano),
      ...money('p99', t.p99Nano),
      worst: t.worst && { trace_id: t.worst.traceId, ...money('cost', t.worst.costNano), outcomes: t.worst.outcomes.toString(), calls: t.worst.calls.toString(), ...money('cost_per_outcome', t.worst.costPerOutcomeNano) },
    },
    drift: driftJson(w.drift),
    weeks: w.weeks.map((k) => ({
      week: isoDay(k.weekStart),
      ...money('cost', k.costNano),
      calls: k.calls.toString(),
      tokens: k.tokens.toString(),
      outcomes: k.outcomes.toString(),
      ...money('cost_per_outcome', k.costPerOutcomeNano),
      drift: driftJson(k.drift),
    })),
  };
}

export function unitEconomicsJson(r: UnitEconomicsReport): Json {
  return {
    scope: r.scope.path,
    tier: r.scope.tier,
    period: { label: r.label, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() },
    drift_settings: { band_pct: ratioPlain({ num: BigInt(r.driftBandCentiPct), den: 100n }, 2), weeks: r.driftWeeks },
    ...money('cost', r.costNano),
    workloads: r.workloads.map(workloadJson),
    totals: {
      ...money('measured_cost', r.totals.measuredCostNano),
      ...money('roi_cost', r.totals.roiCostNano),
      ...money('baseline_value', r.totals.baselineValueNano),
      ...money('savings', r.totals.savingsNano),
      roi: ratioJson(r.totals.roi),
    },
    unmeasured: r.unmeasured.map((u) => ({ project: u.projectPath, ...money('cost', u.costNano) })),
  };
}
