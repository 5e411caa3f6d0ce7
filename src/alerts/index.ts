/** Alert delivery: the config section, the alert kinds and their payloads, the sinks and the dispatcher. */
export type { Alert, AnomalyNotice, SinkPayload } from './alert.ts';
export { payloadOf } from './alert.ts';
export type { AlertsConfig } from './config.ts';
export { alertsConfigSchema } from './config.ts';
export type { AlertLogger, DeliveryLog, DeliveryOutcome, DispatcherOptions } from './dispatcher.ts';
export { AlertDispatcher } from './dispatcher.ts';
export type { PayloadEnvelope, Severity } from './envelope.ts';
export type { LedgerNotice, LedgerPayload } from './ledger-payload.ts';
export { spoolAlertListener } from './ledger-alerts.ts';
export { ledgerPayload } from './ledger-payload.ts';
export type { AlertPayload, AnomalyJson } from './payload.ts';
export { alertPayload, anomalyJson } from './payload.ts';
export type { ReconcileNotice, ReconcilePayload } from './reconcile-payload.ts';
export { reconcilePayload } from './reconcile-payload.ts';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.ts';
export type { Sink } from './sinks.ts';
export { EVENT_HEADER, IDEMPOTENCY_HEADER, slackSink, webhookSink } from './sinks.ts';
export { slackBody } from './slack.ts';
