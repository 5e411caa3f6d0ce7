import type { Counters } from '../../counters/contract.ts';
import type { Store } from '../../ledger/contract.ts';

/** What the dashboard's read routes need from the gateway. */
export interface DashboardDeps {
  store: Store;
  now: () => number;
  /** Budget counters, for the reservations beside a budget's spend; null leaves reservations out. */
  counters?: Counters | null;
  /** Anomaly detection runs in this gateway. */
  anomaliesOn?: boolean;
  /** Alert sinks (webhooks, Slack) configured. */
  alertSinks?: number;
}
