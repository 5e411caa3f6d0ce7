/**
 * The Slack incoming-webhook body for an alert: `text` (the notification line, and all that
 * Slack-compatible receivers without Block Kit show) and `blocks`, rendered per kind of alert.
 * https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks
 */
import type { SinkPayload } from './alert.ts';
import { isLedgerPayload, isReconcilePayload } from './alert.ts';
import { anomalySlackBody } from './slack-anomaly.ts';
import type { SlackBody } from './slack-blocks.ts';
import { ledgerSlackBody } from './slack-ledger.ts';
import { reconcileSlackBody } from './slack-reconcile.ts';

export type { SlackBody } from './slack-blocks.ts';

export function slackBody(p: SinkPayload): SlackBody {
  if (isLedgerPayload(p)) return ledgerSlackBody(p);
  if (isReconcilePayload(p)) return reconcileSlackBody(p);
  return anomalySlackBody(p);
}
