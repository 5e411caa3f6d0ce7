/**
 * What the dashboard reads from `/api/`. Amounts are exact decimal USD strings (fields ending `Usd`
 * or `_usd`), token counts decimal strings, times epoch ms or ISO strings, as the API documents.
 * The newer dashboard routes use camelCase; the older report routes (showback, chargeback, unit
 * economics, routing, anomalies, budgets, reconcile) keep the CLI's snake_case JSON.
 */

export type Tier = 'org' | 'team' | 'project' | 'agent';

export type Principal = { kind: 'admin' } | { kind: 'viewer'; scope: { path: string; tier: Tier; id?: string }; display: string };

export interface SessionInfo {
  principal: Principal | null;
  csrfToken: string;
}

export interface ScopeNode {
  id: string;
  path: string;
  tier: Tier;
  name: string;
  parentPath: string | null;
}

export interface RowBudget {
  period: string;
  limitUsd: string;
  spentUsd: string;
  usedPct: number;
  action: string;
}

export interface SpendRow {
  key: string;
  label: string;
  path: string | null;
  tier: Tier | null;
  spendUsd: string;
  spendNano: string;
  listUsd: string;
  previousSpendUsd: string;
  changePct: number | null;
  sharePct: number;
  calls: number;
  errors: number;
  inputTokens: string;
  outputTokens: string;
  cacheReadTokens: string;
  tokensPerRequest: number | null;
  budget: RowBudget | null;
  outcomes: number | null;
  costPerOutcomeUsd: string | null;
}

export type GroupBy = 'team' | 'project' | 'agent' | 'model' | 'provider';

export interface SpendReport {
  scope: string;
  from: number;
  to: number;
  groupBy: GroupBy;
  totalUsd: string;
  previousTotalUsd: string;
  rows: SpendRow[];
}

export interface SeriesPoint {
  at: number;
  spendUsd: string;
  calls: number;
}

export interface SpendSeries {
  bucket: 'hour' | 'day' | 'week';
  from?: number;
  to?: number;
  series: { key: string; label: string; points: SeriesPoint[] }[];
  total: SeriesPoint[];
  budgets: { scope: string; period: string; limitUsd: string; perBucketUsd: string | null }[];
  anomalies: { id: string; at: number; signal: string; scope: string; status: string; summary: string }[];
}

export interface CallRow {
  id: string;
  startedAt: number;
  scope: string;
  provider: string;
  requestedModel: string;
  servedModel: string;
  route: string;
  status: number;
  errorCode: string | null;
  stream: boolean;
  estimated: boolean;
  traceId: string | null;
  customer: string | null;
  inputTokens: string;
  cacheReadTokens: string;
  cacheWriteTokens: string;
  outputTokens: string;
  reasoningTokens: string;
  spendUsd: string;
  listUsd: string;
  latencyMs: number;
  priceSource: string;
  routeTier: string | null;
}

export interface CallsPage {
  from?: number;
  to?: number;
  rows: CallRow[];
  nextCursor: string | null;
  totals: { calls: number; spendUsd: string; spendNano: string };
}

export interface Overview {
  scope: string;
  month: string;
  asOf: number | string;
  monthToDateUsd: string;
  lastMonthUsd: string;
  plan: { scope: string; period: string; limitUsd: string; usedPct: number } | null;
  budget: { scope: string; period: string; limitUsd: string; usedPct: number } | null;
  forecastMonthEnd: { p50Usd: string; p90Usd: string; method: string };
  openAnomalies: { id: string; scope: string; signal: string; summary: string; openedAt: number | string; usdPerHour: string }[];
  topMovers: { key?: string; label?: string; path: string; tier: Tier; thisWeekUsd: string; lastWeekUsd: string; changeUsd: string; changePct: number | null }[];
  unitTrend: { workload: string; outcome: string; displayName?: string; unit?: string; points: { month: string; costPerOutcomeUsd: string | null; outcomes: number }[] }[];
  daily: { at: number; spendUsd: string }[];
}

/** budgetJson in src/analytics/budget-status.ts. */
export interface BudgetState {
  id: string;
  scope: string;
  tier: Tier;
  period: string;
  action: string;
  amount_usd: string;
  spent_usd: string;
  reserved_usd: string | null;
  remaining_usd: string;
  forecast_usd: string;
  status: string;
  thresholds: number[];
  time_zone: string;
  degrade_to: string | null;
  period_from: string;
  resets_at: string;
}

export interface KillSwitch {
  scopePath: string;
  reason: string;
  actor: string;
  killedAt?: number | string;
  at?: number | string;
}

export interface KeyInfo {
  id: string;
  display: string;
  kind: string;
  scopePath: string;
  name: string;
  state: string;
  /** Active but past its expiry: refused like a revoked key. */
  expired?: boolean;
  createdAt: number | string;
  expiresAt: number | string | null;
  revokedAt: number | string | null;
}

export interface AuditEntry {
  id: number | string;
  at: number | string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface Rollout {
  attributedSharePct: number | null;
  providerBilledUsd: string | null;
  gatewayUsd: string;
  tiers: Record<Tier, { count: number; withBudget: number }>;
  teams: { path: string; mode: 'showback' | 'chargeback' | 'none' }[];
  anomalyDetection: boolean;
  alertSinks: number;
  outcomesRecorded: boolean;
  steps: { done: boolean; title: string; detail: string; command: string | null }[];
}

export interface Forecast {
  asOf: number | string;
  unit: string;
  fit: { winner: string; why: string };
  months: {
    month: string;
    p50Usd: string;
    p90Usd: string;
    p99Usd: string;
    naiveUsd: string;
    p90Parts: { todayUsd: string; adoptionUsd: string; mixUsd: string; priceUsd: string; tailUsd: string };
  }[];
  history: { month: string; spendUsd: string }[];
  budgets: { scope: string; period: string; action?: string; alertAtUsd: string; refuseAtUsd: string | null }[];
}

/** anomalyJson in src/alerts/payload.ts. */
export interface Anomaly {
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
  at_risk_usd_per_hour: string;
  peak_usd_per_hour: string;
  baseline_vs_now: { measure: string; unit: string; baseline: number; band: number; now: number; text: string }[];
  top_models: { model: string; cost_usd: string; calls: number }[];
  top_traces: { trace_id: string; cost_usd: string; calls: number }[];
  action: string | null;
  dashboard_url: string | null;
}

export interface AnomalyDetail extends Anomaly {
  evidence: unknown;
  deliveries: { id: string; event: string; sink: string; url: string; state: string; attempts: number; last_error: string | null; at: string }[];
}

export interface ShowbackLineBudget {
  amount_usd: string;
  action: string;
  used_pct: number;
}

export interface ShowbackOutcomes {
  count: string;
  cost_per_outcome_usd: string | null;
  by_type: { type: string; count: string }[];
}

export interface ShowbackTop {
  name: string;
  spend_usd: string;
  share_pct: number;
}

/** showbackJson in src/analytics/showback.ts; each line names its scope under the report's level. */
export interface Showback {
  month: string;
  previous_month: string;
  level: Tier;
  scope: string;
  basis: string;
  total: {
    spend_usd: string;
    list_usd: string;
    calls: number;
    previous_usd: string;
    change_usd: string;
    change_pct: number | null;
    budget: ShowbackLineBudget | null;
    outcomes: ShowbackOutcomes | null;
    unpriced_calls: number;
  };
  lines: (Record<string, unknown> & {
    rank: number;
    name: string;
    archived: boolean;
    calls: number;
    spend_usd: string;
    previous_usd: string;
    change_usd: string;
    change_pct: number | null;
    share_pct: number;
    budget: ShowbackLineBudget | null;
    top_models: ShowbackTop[];
    top_agents: ShowbackTop[];
    outcomes: ShowbackOutcomes | null;
    unpriced_calls: number;
  })[];
}

export interface ChargebackItem {
  provider: string;
  model: string;
  token_type: string;
  quantity: string;
  list_usd: string;
  debit_usd: string;
  lines: number;
}

/** statementJson in src/analytics/chargeback.ts. */
export interface Chargeback {
  team: string;
  period: string;
  from: string;
  to: string;
  time_zone: string;
  budget_id: string | null;
  opening_balance_usd: string | null;
  debits_usd: string;
  list_usd: string;
  credits_usd: string;
  closing_balance_usd: string | null;
  calls: string;
  estimated_calls: string;
  unpriced_calls: string;
  projects: { project: string; debit_usd: string; agents: { agent: string; calls: string; debit_usd: string; items?: ChargebackItem[] }[] }[];
  adjustments?: { kind: string; amount_usd: string; reason: string; actor?: string; at?: string }[];
}

export interface UnitWorkload {
  project: string;
  type: string;
  name: string;
  unit: string;
  cost_usd: string;
  outcomes: string;
  value_usd: string;
  cost_per_outcome_usd: string | null;
  baseline_usd: string | null;
  baseline_value_usd: string | null;
  savings_usd: string | null;
  roi: string | null;
  target_usd: string | null;
  target_status: string | null;
  per_trace: {
    traces: number;
    unmatched_traces: number;
    p50_usd: string | null;
    p90_usd: string | null;
    p99_usd: string | null;
    worst: { trace_id: string; cost_usd: string; outcomes: string; calls: string; cost_per_outcome_usd: string | null } | null;
  } | null;
  drift: { week: string; change: string | null; flagged: boolean; cause_text: string | null; evidence: string | null } | null;
  weeks: { week: string; cost_usd: string; outcomes: string; cost_per_outcome_usd: string | null }[];
}

/** unitEconomicsJson in src/analytics/unit-json.ts. */
export interface UnitEconomics {
  scope: string;
  tier: Tier;
  period: { label: string; from: string; to: string };
  cost_usd: string;
  workloads: UnitWorkload[];
  totals: { measured_cost_usd: string; roi_cost_usd: string; baseline_value_usd: string; savings_usd: string; roi: string | null };
  unmeasured: { project: string; cost_usd: string }[];
}

export interface RoutingTier {
  tier: string;
  frontier: boolean;
  models: string[];
  calls: number;
  answered: number;
  share_of_requests: number;
  escalated: number;
  escalation_rate: number;
  cost_usd: string;
  all_frontier_usd: string;
}

export interface RoutingTotals {
  requests: number;
  frontier_requests: number;
  escalated_requests: number;
  actual_usd: string;
  all_frontier_usd: string;
  saving_usd: string;
  escalation_rate: number;
  unpriced_counterfactual_calls: number;
  formula: { blended_cost: string; f_requests: number | null; f_cost: number | null; r: number | null; waste: number | null; predicted_saving_from_request_share: number | null; actual_saving: number | null } | null;
}

/** routingJson in src/analytics/routing.ts (plus the period). */
export interface RoutingReport {
  period: string;
  from: string;
  to: string;
  scope: string | null;
  routed_models: (RoutingTotals & { alias: string; frontier_models: string[]; tiers: RoutingTier[] })[];
  total: RoutingTotals;
}

/** The `tollgate reconcile --json` report. */
export interface Reconcile {
  from: string;
  to: string;
  tolerance_pct: number;
  totals: {
    billed_usd: string;
    seen_on_billed_days_usd: string;
    seen_usd: string;
    bypass_usd: string;
    coverage_pct: number | null;
    unreported_days: { provider: string; day: string; cost_usd: string }[];
  };
  bypass_undetectable: string[];
  findings: { key: string; title: string; summary: string; evidence: Record<string, unknown>; impact_usd: string }[];
  lines: { day: string; provider: string; model: string; verdict: string; billed_usd: string | null; seen_usd: string; seen_calls: number }[];
  bypasses: { day: string; provider: string; model: string; via: string; id: string; requests: number; cost_usd: string | null; cost_estimated: boolean }[];
}

/** `{ data: [...] }` list answers. */
export interface DataList<T> {
  data: T[];
}
