/**
 * What a reconciliation alert says, as JSON: one finding of `tollgate reconcile` (bypass, price
 * drift, token or cost mismatch) with its evidence and dollar impact, and the window it was found
 * in. Its delivery id is the finding's key and the window, so re-running the same reconciliation
 * re-sends the same id and a receiver that drops repeats by it alerts once.
 */
import type { ReconcileFinding, Verdict } from '../analytics/reconcile.ts';
import { isoDay } from '../analytics/unit-period.ts';
import { TollgateError } from '../domain/errors.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import type { PayloadEnvelope } from './envelope.ts';
import { headerSafe, iso } from './envelope.ts';

export type ReconcileEvent = 'bypass' | Exclude<Verdict, 'matched'>;
const EVENTS: readonly string[] = ['bypass', 'price_drift', 'token_mismatch', 'cost_mismatch'] satisfies ReconcileEvent[];

/** A finding as the dispatcher takes it. */
export interface ReconcileNotice {
  kind: 'reconcile';
  finding: ReconcileFinding;
  /** The window reconciled, [from, to) epoch ms. */
  window: { from: number; to: number };
  toleranceBp: number;
}

export interface ReconcilePayload extends PayloadEnvelope<'reconcile', ReconcileEvent> {
  /** The finding's stable key (kind, provider/model, day, and the key or project of a bypass). */
  finding_key: string;
  /** What it means and what to do. */
  detail: string;
  window: { from: string; to: string };
  tolerance_pct: number;
  /** Dollar size of the finding, exact: decimal USD, and nano-USD as a decimal string. */
  impact_usd: string;
  impact_nano: string;
  /** The figures behind it, as `tollgate reconcile --json` gives them. */
  evidence: Record<string, string | number | boolean>;
}

export function reconcileEvent(f: ReconcileFinding): ReconcileEvent {
  const kind = f.evidence['kind'];
  if (typeof kind !== 'string' || !EVENTS.includes(kind)) throw new TollgateError('internal', `reconciliation finding ${f.key} has no known kind (${String(kind)}); expected one of ${EVENTS.join(', ')}`);
  return kind as ReconcileEvent;
}

/** `<finding key>@<from>/<to>`, days when the window is whole days (an ISO 8601 interval). */
export function findingDeliveryId(f: ReconcileFinding, window: { from: number; to: number }): string {
  return headerSafe(`${f.key}@${instant(window.from)}/${instant(window.to)}`);
}

export function reconcilePayload(a: ReconcileNotice, opts: { dashboardUrl?: string | null; now: number }): ReconcilePayload {
  const f = a.finding;
  const event = reconcileEvent(f);
  const day = typeof f.evidence['day'] === 'string' ? f.evidence['day'] : isoDay(a.window.from);
  return {
    type: `reconcile.${event}`,
    event,
    severity: 'warning',
    summary: f.title,
    delivery_id: findingDeliveryId(f, a.window),
    sent_at: iso(opts.now),
    dashboard_url: opts.dashboardUrl ? `${opts.dashboardUrl.replace(/\/+$/, '')}/#/reconciliation?month=${day.slice(0, 7)}` : null,
    finding_key: f.key,
    detail: f.summary,
    window: { from: iso(a.window.from), to: iso(a.window.to) },
    tolerance_pct: a.toleranceBp / 100,
    impact_usd: nanoToDecimalString(f.impactNano),
    impact_nano: f.impactNano.toString(),
    evidence: f.evidence,
  };
}

function instant(ms: number): string {
  return ms % 86_400_000 === 0 ? isoDay(ms) : iso(ms).replace(/\.000Z$/, 'Z');
}
