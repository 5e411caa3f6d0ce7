/**
 * What an anomaly alert says, as JSON: the anomaly (scope, signal, since when, baseline against now,
 * money at risk per hour as an exact decimal string and as integer nano-USD, the top models and
 * traces) and the event being announced. The same shape serves the webhook body, the admin API and
 * `--json`; the webhook body adds the envelope every alert has (type, severity, delivery id).
 */
import type { Comparison } from '../analytics/anomalies/contract.ts';
import { formatUsd, nanoToDecimalString } from '../domain/money.ts';
import type { AlertEvent, AnomalyAlert } from '../ledger/anomalies-contract.ts';
import { atRiskNano } from '../ledger/anomalies-contract.ts';
import type { PayloadEnvelope, Severity } from './envelope.ts';
import { iso } from './envelope.ts';

const MEASURES: Record<Comparison['measure'], { label: string; unit: 'nano_usd' | 'tokens' | 'requests'; per: string }> = {
  spend_per_hour: { label: 'spend', unit: 'nano_usd', per: '/h' },
  tokens_per_hour: { label: 'tokens', unit: 'tokens', per: '/h' },
  requests_per_hour: { label: 'requests', unit: 'requests', per: '/h' },
  tokens_per_request: { label: 'tokens per request', unit: 'tokens', per: '' },
};

export interface ComparisonJson {
  measure: Comparison['measure'];
  unit: 'nano_usd' | 'tokens' | 'requests';
  baseline: number;
  band: number;
  now: number;
  /** For people, e.g. "spend: $0.40/h → $9.50/h (normal up to $1.20/h)". */
  text: string;
}

export interface AnomalyJson {
  id: string;
  scope: { tier: string; id: string; path: string };
  signal: string;
  state: 'open' | 'resolved';
  summary: string;
  since: string;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  /** Spend per hour above the baseline at the latest evaluation: exact USD decimal and integer nano-USD. */
  at_risk_usd_per_hour: string;
  at_risk_nano_per_hour: number;
  peak_usd_per_hour: string;
  peak_nano_per_hour: number;
  baseline_vs_now: ComparisonJson[];
  top_models: { model: string; cost_usd: string; cost_nano: number; calls: number }[];
  top_traces: { trace_id: string; cost_usd: string; cost_nano: number; calls: number }[];
  action: string | null;
  /** `${dashboard_url}/#/anomalies/<id>`, or null when no dashboard URL is configured. */
  dashboard_url: string | null;
}

/** The webhook body of an anomaly alert; `delivery_id` is `<anomaly id>.<event>`. */
export interface AlertPayload extends AnomalyJson, PayloadEnvelope<'anomaly', AlertEvent> {
  /** Set on `auto_killed`: the one command that lifts the kill switch. */
  revive_command: string | null;
}

const SEVERITY: Record<AlertEvent, Severity> = { opened: 'warning', auto_killed: 'critical', resolved: 'info' };

export function dashboardLink(dashboardUrl: string | null | undefined, id: string): string | null {
  return dashboardUrl ? `${dashboardUrl.replace(/\/+$/, '')}/#/anomalies/${encodeURIComponent(id)}` : null;
}

export function anomalyJson(a: AnomalyAlert, dashboardUrl?: string | null): AnomalyJson {
  const e = a.evidence;
  return {
    id: a.id,
    scope: { tier: a.tier, id: a.scopeId, path: a.path },
    signal: a.signal,
    state: a.state,
    summary: a.summary,
    since: iso(a.since),
    opened_at: iso(a.openedAt),
    last_seen_at: iso(a.lastSeenAt),
    resolved_at: a.resolvedAt === null ? null : iso(a.resolvedAt),
    resolved_by: a.resolvedBy,
    at_risk_usd_per_hour: nanoToDecimalString(a.atRiskNanoPerHour),
    at_risk_nano_per_hour: Number(a.atRiskNanoPerHour),
    peak_usd_per_hour: nanoToDecimalString(a.peakNanoPerHour),
    peak_nano_per_hour: Number(a.peakNanoPerHour),
    baseline_vs_now: e.comparisons.map(comparisonJson),
    top_models: e.topModels.map((m) => ({ model: m.model, ...cost(m.costNano), calls: m.calls })),
    top_traces: e.topTraces.map((t) => ({ trace_id: t.traceId, ...cost(t.costNano), calls: t.calls })),
    action: a.action,
    dashboard_url: dashboardLink(dashboardUrl, a.id),
  };
}

export function alertPayload(a: AnomalyAlert, event: AlertEvent, opts: { dashboardUrl?: string | null; now: number }): AlertPayload {
  return {
    type: `anomaly.${event}`,
    event,
    severity: SEVERITY[event],
    delivery_id: deliveryId(a.id, event),
    sent_at: iso(opts.now),
    ...anomalyJson(a, opts.dashboardUrl),
    revive_command: event === 'auto_killed' ? `tollgate revive --scope ${a.path}` : null,
  };
}

export function deliveryId(anomalyId: string, event: AlertEvent): string {
  return `${anomalyId}.${event}`;
}

/** An amount of nano-USD for people: cents from $1, four decimals below. */
export function usdShort(nano: bigint): string {
  return formatUsd(nano, nano >= 1_000_000_000n || nano <= -1_000_000_000n ? 2 : 4);
}

export function usdPerHour(nano: bigint): string {
  return `${usdShort(nano)}/h`;
}

export function comparisonJson(c: Comparison): ComparisonJson {
  const m = MEASURES[c.measure];
  const round = (v: number) => (m.unit === 'nano_usd' ? Math.round(v) : Math.round(v * 100) / 100);
  const show = (v: number) => (m.unit === 'nano_usd' ? usdPerHour(atRiskNano(v)) : `${round(v).toLocaleString('en')}${m.per}`);
  return {
    measure: c.measure,
    unit: m.unit,
    baseline: round(c.baseline),
    band: round(c.band),
    now: round(c.current),
    text: `${m.label}: ${show(c.baseline)} → ${show(c.current)} (normal up to ${show(c.band)})`,
  };
}

function cost(nano: number): { cost_usd: string; cost_nano: number } {
  const n = atRiskNano(nano);
  return { cost_usd: nanoToDecimalString(n), cost_nano: Number(n) };
}
