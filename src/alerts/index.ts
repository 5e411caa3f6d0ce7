/** Anomaly alert delivery: the config section, the payload, the sinks and the dispatcher. */
export type { AlertsConfig } from './config.ts';
export { alertsConfigSchema } from './config.ts';
export type { AlertLogger, DeliveryLog, DispatcherOptions } from './dispatcher.ts';
export { AlertDispatcher } from './dispatcher.ts';
export type { AlertPayload, AnomalyJson } from './payload.ts';
export { alertPayload, anomalyJson } from './payload.ts';
export { SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.ts';
export type { Sink } from './sinks.ts';
export { EVENT_HEADER, IDEMPOTENCY_HEADER, slackSink, webhookSink } from './sinks.ts';
export { slackBody } from './slack.ts';
