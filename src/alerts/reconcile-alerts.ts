/**
 * `tollgate reconcile --alert`: each finding to every sink, the wait for the deliveries (bounded:
 * retries still running at the deadline are cut short and dead-lettered), and what was sent, as
 * JSON and as the error that makes the command fail when a delivery was dead-lettered.
 */
import type { ReconcileFinding } from '../analytics/reconcile.ts';
import { TollgateError } from '../domain/errors.ts';
import type { AlertsConfig } from './config.ts';
import type { AlertDispatcher, DeliveryOutcome } from './dispatcher.ts';
import type { ReconcileEvent } from './reconcile-payload.ts';
import { findingDeliveryId, reconcileEvent } from './reconcile-payload.ts';

export interface SentFinding {
  finding: ReconcileFinding;
  type: `reconcile.${ReconcileEvent}`;
  /** Also the idempotency-key header: the finding's key and the window. */
  deliveryId: string;
  /** One per sink. */
  outcomes: DeliveryOutcome[];
}

export interface FindingAlerts {
  sinks: { kind: string; label: string }[];
  sent: SentFinding[];
}

/** The `alerts` section when it has a sink; refuses otherwise (there would be nowhere to send to). */
export function alertSinksConfig(config: AlertsConfig | undefined): AlertsConfig {
  if (!config || config.webhooks.length + config.slack.length === 0) {
    throw new TollgateError('invalid_request', '--alert sends the findings to the alert sinks, and the config has none: add a webhook or a Slack URL under alerts: (webhooks: or slack:) in tollgate.yaml, or pass --config');
  }
  return config;
}

/** Sends every finding, waits up to `waitMs` for all deliveries and their retries, then closes the dispatcher. */
export async function alertFindings(dispatcher: AlertDispatcher, findings: readonly ReconcileFinding[], opts: { window: { from: number; to: number }; toleranceBp: number; waitMs: number }): Promise<FindingAlerts> {
  const started: { finding: ReconcileFinding; outcomes: Promise<DeliveryOutcome[]> }[] = [];
  try {
    for (const finding of findings) started.push({ finding, outcomes: dispatcher.send({ kind: 'reconcile', finding, window: opts.window, toleranceBp: opts.toleranceBp }) });
  } finally {
    await dispatcher.close(opts.waitMs);
  }
  const sent: SentFinding[] = [];
  for (const s of started) {
    sent.push({ finding: s.finding, type: `reconcile.${reconcileEvent(s.finding)}`, deliveryId: findingDeliveryId(s.finding, opts.window), outcomes: await s.outcomes });
  }
  return { sinks: dispatcher.sinks, sent };
}

export function findingAlertsJson(a: FindingAlerts) {
  const all = a.sent.flatMap((s) => s.outcomes);
  return {
    sinks: a.sinks.map((s) => ({ kind: s.kind, name: s.label })),
    delivered: all.filter((o) => o.state === 'delivered').length,
    dead: all.filter((o) => o.state === 'dead').length,
    deliveries: a.sent.flatMap((s) =>
      s.outcomes.map((o) => ({
        finding_key: s.finding.key,
        type: s.type,
        delivery_id: s.deliveryId,
        sink: o.sink,
        url: o.url,
        state: o.state,
        attempts: o.attempts,
        last_error: o.lastError,
        at: new Date(o.at).toISOString(),
      })),
    ),
  };
}

/** Throws when a delivery was dead-lettered: the command then exits non-zero, after printing what was sent. */
export function assertAllDelivered(a: FindingAlerts): void {
  const all = a.sent.flatMap((s) => s.outcomes);
  const dead = all.filter((o) => o.state === 'dead');
  if (dead.length === 0) return;
  const first = dead[0]!;
  throw new TollgateError(
    'upstream_error',
    `${dead.length} of ${all.length} alert deliveries were dead-lettered (${first.sink} ${first.url}: ${first.lastError ?? 'no answer'}); ` +
      'fix the sink and run the same reconcile --alert again: a receiver that drops repeats by idempotency-key will not get the delivered ones twice',
    // The report (with the dead letters) is already on stdout.
    { details: { printed: true } },
  );
}
