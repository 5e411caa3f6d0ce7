/**
 * The `alerts` section of tollgate.yaml: where alerts go (anomalies, the ledger spool, reconciliation
 * findings). Secrets usually come from `${ENV}` expansion (like providers' api_key); a variable that
 * is unset expands to "" and is refused here, by name of the field and never by value.
 */
import { z } from 'zod';

const httpUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `${what} must be an http(s) URL` });

const label = z.string().trim().min(1).max(80).optional();

export const alertsConfigSchema = z.strictObject({
  /** Base URL of the dashboard; alerts link to `${dashboard_url}/#/anomalies/<id>` or `/#/reconciliation?month=…`. */
  dashboard_url: httpUrl('alerts.dashboard_url').optional(),
  /** Generic webhooks: JSON bodies signed with HMAC-SHA256 (header x-tollgate-signature). */
  webhooks: z
    .array(
      z.strictObject({
        url: httpUrl('a webhook url'),
        /** Shared HMAC secret, e.g. `${TOLLGATE_WEBHOOK_SECRET}`. Never logged or stored. */
        secret: z.string().min(16, 'a webhook secret must be at least 16 characters (is its ${VAR} set?)'),
        /** How the delivery log names it (default: the URL without query or credentials). */
        name: label,
      }),
    )
    .default([]),
  /** Slack (or Slack-compatible) incoming webhooks. Their URL's path is the secret: it is never logged or stored. */
  slack: z
    .array(
      z.strictObject({
        url: httpUrl('a slack url'),
        name: label,
      }),
    )
    .default([]),
  retry: z
    .strictObject({
      /** Attempts per notification and sink, the first included (default 5). */
      max_attempts: z.number().int().min(1).max(20).optional(),
      /** One attempt's deadline, ms (default 10 000). */
      timeout_ms: z.number().int().min(100).max(120_000).optional(),
      /** First backoff, ms; doubled per attempt, with jitter (default 1 000). */
      base_delay_ms: z.number().int().min(0).max(60_000).optional(),
      /** Longest wait between attempts, also the cap on a sink's Retry-After, ms (default 60 000). */
      max_delay_ms: z.number().int().min(0).max(3_600_000).optional(),
    })
    .optional(),
});

export type AlertsConfig = z.output<typeof alertsConfigSchema>;
