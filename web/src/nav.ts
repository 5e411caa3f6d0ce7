/** The dashboard's pages in navigation order; `admin` pages are not shown to viewers. */
export interface NavItem {
  path: string;
  label: string;
  admin?: boolean;
}

export const NAV: readonly NavItem[] = [
  { path: 'rollout', label: 'Rollout status' },
  { path: 'overview', label: 'Overview' },
  { path: 'explore', label: 'Explore' },
  { path: 'calls', label: 'Calls' },
  { path: 'budgets', label: 'Budgets & keys' },
  { path: 'showback', label: 'Showback' },
  { path: 'chargeback', label: 'Chargeback' },
  { path: 'unit-economics', label: 'Unit economics' },
  { path: 'forecast', label: 'Forecast' },
  { path: 'routing', label: 'Routing' },
  { path: 'anomalies', label: 'Anomalies' },
  { path: 'reconciliation', label: 'Reconciliation', admin: true },
];
