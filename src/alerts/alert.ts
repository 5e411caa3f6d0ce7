/**
 * What the dispatcher sends: an anomaly event, a ledger spool event, or a reconciliation finding.
 * Each has one payload builder; the sinks sign, retry and render them all the same way.
 */
import type { AlertEvent, AnomalyAlert } from '../ledger/anomalies-contract.ts';
import type { LedgerNotice, LedgerPayload } from './ledger-payload.ts';
import { ledgerPayload } from './ledger-payload.ts';
import type { AlertPayload } from './payload.ts';
import { alertPayload } from './payload.ts';
import type { ReconcileNotice, ReconcilePayload } from './reconcile-payload.ts';
import { reconcilePayload } from './reconcile-payload.ts';

/** An anomaly opened, resolved, or whose agent was killed automatically. */
export interface AnomalyNotice {
  kind: 'anomaly';
  anomaly: AnomalyAlert;
  event: AlertEvent;
}

export type Alert = AnomalyNotice | LedgerNotice | ReconcileNotice;

/** The JSON body of a webhook (and what a Slack message is rendered from), by `type`. */
export type SinkPayload = AlertPayload | LedgerPayload | ReconcilePayload;

export function payloadOf(a: Alert, opts: { dashboardUrl?: string | null; now: number }): SinkPayload {
  switch (a.kind) {
    case 'anomaly':
      return alertPayload(a.anomaly, a.event, opts);
    case 'ledger':
      return ledgerPayload(a, opts);
    case 'reconcile':
      return reconcilePayload(a, opts);
  }
}

export function isLedgerPayload(p: SinkPayload): p is LedgerPayload {
  return p.type.startsWith('ledger.');
}

export function isReconcilePayload(p: SinkPayload): p is ReconcilePayload {
  return p.type.startsWith('reconcile.');
}
