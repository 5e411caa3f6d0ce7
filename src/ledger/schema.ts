/**
 * Table shapes as Kysely sees them. Integers that can grow (tokens, nano-USD, epoch ms) are BIGINT
 * in SQL and bigint when read (pg parses int8 to bigint, better-sqlite3 runs in safe-integer mode);
 * writes accept number or bigint.
 */
import type { ColumnType, Generated } from 'kysely';

export type BigInt64 = ColumnType<bigint, bigint | number, bigint | number>;
/** 0/1 flag; SQLite has no boolean and the shared code stays portable. */
export type Flag = ColumnType<bigint, number, number>;

export interface ScopesTable {
  id: string;
  parent_id: string | null;
  tier: string;
  slug: string;
  name: string;
  path: string;
  created_at: BigInt64;
  archived_at: BigInt64 | null;
}

export interface KeysTable {
  id: string;
  hash: string;
  display: string;
  kind: string;
  scope_id: string;
  name: string;
  state: string;
  created_at: BigInt64;
  expires_at: BigInt64 | null;
  revoked_at: BigInt64 | null;
}

export interface EventsTable {
  id: string;
  started_at: BigInt64;
  ended_at: BigInt64;
  org_id: string;
  org_name: string;
  team_id: string;
  team_name: string;
  project_id: string;
  project_name: string;
  agent_id: string;
  agent_name: string;
  key_id: string | null;
  provider: string;
  requested_model: string;
  served_model: string;
  route: string;
  status: number;
  error_code: string | null;
  input_tokens: BigInt64;
  cache_read_tokens: BigInt64;
  cache_write_5m_tokens: BigInt64;
  cache_write_1h_tokens: BigInt64;
  output_tokens: BigInt64;
  reasoning_tokens: BigInt64;
  requests: BigInt64;
  list_cost_nano: BigInt64;
  effective_cost_nano: BigInt64;
  price_source: string;
  latency_ms: number;
  stream: Flag;
  estimated: Flag;
  trace_id: string | null;
  customer: string | null;
  tags: string;
  /** Cheap-first routing (migration 0007); all null for calls that named a model. */
  route_alias: string | null;
  route_tier: string | null;
  route_reason: string | null;
  escalated_from: string | null;
  route_frontier: string | null;
}

export interface RollupHourlyTable {
  hour: BigInt64;
  agent_id: string;
  provider: string;
  model: string;
  org_id: string;
  team_id: string;
  project_id: string;
  calls: BigInt64;
  errors: BigInt64;
  input_tokens: BigInt64;
  cache_read_tokens: BigInt64;
  cache_write_5m_tokens: BigInt64;
  cache_write_1h_tokens: BigInt64;
  output_tokens: BigInt64;
  reasoning_tokens: BigInt64;
  requests: BigInt64;
  list_cost_nano: BigInt64;
  effective_cost_nano: BigInt64;
  estimated_calls: BigInt64;
  unpriced_calls: BigInt64;
  latency_ms_sum: BigInt64;
}

export type RollupDailyTable = Omit<RollupHourlyTable, 'hour'> & { day: BigInt64 };

export interface AuditLogTable {
  id: Generated<number>;
  at: BigInt64;
  actor: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface BudgetsTable {
  id: string;
  scope_id: string;
  amount_nano: BigInt64;
  period: string;
  action: string;
  /** JSON array of percentages. */
  thresholds: string;
  time_zone: string;
  degrade_to: string | null;
  created_at: BigInt64;
  updated_at: BigInt64;
}

export interface RateLimitsTable {
  scope_id: string;
  rpm: BigInt64 | null;
  tpm: BigInt64 | null;
  updated_at: BigInt64;
}

export interface KillSwitchesTable {
  scope_id: string;
  at: BigInt64;
  actor: string;
  reason: string;
}

export interface BudgetAlertsTable {
  budget_id: string;
  period_start: BigInt64;
  threshold: number;
  at: BigInt64;
  spent_nano: BigInt64;
  limit_nano: BigInt64;
}

export interface TraceCostsTable {
  trace_id: string;
  agent_id: string;
  org_id: string;
  team_id: string;
  project_id: string;
  first_at: BigInt64;
  last_at: BigInt64;
  calls: BigInt64;
  tokens: BigInt64;
  list_cost_nano: BigInt64;
  effective_cost_nano: BigInt64;
}

export interface OutcomeTypesTable {
  project_id: string;
  type: string;
  display_name: string;
  unit: string;
  baseline_nano: BigInt64 | null;
  target_nano: BigInt64 | null;
  created_at: BigInt64;
  updated_at: BigInt64;
}

export interface OutcomesTable {
  id: string;
  idempotency_key: string;
  type: string;
  count: BigInt64;
  occurred_at: BigInt64;
  trace_id: string | null;
  value_nano: BigInt64 | null;
  org_id: string;
  team_id: string;
  project_id: string;
  agent_id: string;
  key_id: string | null;
  recorded_at: BigInt64;
}

export interface ChargebackAdjustmentsTable {
  id: string;
  team_id: string;
  /** YYYY-MM */
  period: string;
  /** Signed: a credit lowers the team's debit. */
  amount_nano: BigInt64;
  kind: string;
  reason: string;
  actor: string;
  at: BigInt64;
}

export interface TeamFlagsTable {
  team_id: string;
  bills_customers: Flag;
  compliance_hard_limits: Flag;
  updated_at: BigInt64;
}

export interface AnomaliesTable {
  id: string;
  scope_id: string;
  tier: string;
  /** The scope's path when the anomaly opened (reads prefer the current path). */
  path: string;
  signal: string;
  state: string;
  /** `<scope_id>/<signal>` while open, null once resolved: unique, so one open row per scope and signal. */
  open_key: string | null;
  opened_at: BigInt64;
  since: BigInt64;
  last_seen_at: BigInt64;
  resolved_at: BigInt64 | null;
  resolved_by: string | null;
  at_risk_nano_per_hour: BigInt64;
  peak_nano_per_hour: BigInt64;
  /** JSON of the latest Finding. */
  evidence: string;
  summary: string;
  action: string | null;
}

export interface AlertDeliveriesTable {
  id: string;
  anomaly_id: string;
  sink: string;
  /** The sink's address without secrets. */
  url: string;
  event: string;
  attempts: number;
  last_error: string | null;
  state: string;
  at: BigInt64;
}

export interface AnomalyPoliciesTable {
  scope_id: string;
  auto_kill: Flag;
  min_nano_per_hour: BigInt64;
  updated_at: BigInt64;
  updated_by: string;
}

export interface ProviderUsageTable {
  provider: string;
  /** `usage` or `cost`. */
  source: string;
  /** UTC midnight, epoch ms. */
  day: BigInt64;
  model: string;
  api_key_id: string;
  project_or_workspace_id: string;
  detail: string;
  input_tokens: BigInt64;
  cache_read_tokens: BigInt64;
  cache_write_5m_tokens: BigInt64;
  cache_write_1h_tokens: BigInt64;
  output_tokens: BigInt64;
  requests: BigInt64;
  cost_nano: BigInt64 | null;
  import_id: string;
  imported_at: BigInt64;
}

export interface Database {
  provider_usage: ProviderUsageTable;
  anomalies: AnomaliesTable;
  alert_deliveries: AlertDeliveriesTable;
  anomaly_policies: AnomalyPoliciesTable;
  trace_costs: TraceCostsTable;
  outcome_types: OutcomeTypesTable;
  outcomes: OutcomesTable;
  chargeback_adjustments: ChargebackAdjustmentsTable;
  team_flags: TeamFlagsTable;
  budgets: BudgetsTable;
  rate_limits: RateLimitsTable;
  kill_switches: KillSwitchesTable;
  budget_alerts: BudgetAlertsTable;
  scopes: ScopesTable;
  keys: KeysTable;
  events: EventsTable;
  rollup_hourly: RollupHourlyTable;
  rollup_daily: RollupDailyTable;
  audit_log: AuditLogTable;
  meta: MetaTable;
}
