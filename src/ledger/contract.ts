/**
 * The storage contracts. The core (pricing, admission, analytics) sees only these; `ledger/sqlite`
 * and `ledger/postgres` implement them and only wiring code chooses between them.
 */
import type { ForecastReads } from '../analytics/forecast/forecast-source.ts';
import type { ScopeChain, Tier } from '../domain/scope.ts';
import type { Usage } from '../domain/usage.ts';
import type { Anomalies } from './anomalies-contract.ts';
import type { Chargeback } from './chargeback-contract.ts';
import type { Outcomes } from './outcomes-contract.ts';
import type { ProviderUsage } from './provider-usage-contract.ts';

export interface ScopeNode {
  id: string;
  parentId: string | null;
  tier: Tier;
  /** The path segment; renaming changes it (and the paths beneath), never the id. */
  slug: string;
  /** Free-text display name. */
  name: string;
  path: string;
  createdAt: number;
  archivedAt: number | null;
}

export type KeyKind = 'agent' | 'viewer';
export type KeyState = 'active' | 'suspended' | 'revoked';

export interface KeyRecord {
  id: string;
  /** Human-recognisable, non-secret form such as `tg-3fA9x…Q2kd`. */
  display: string;
  kind: KeyKind;
  scopeId: string;
  scopePath: string;
  name: string;
  state: KeyState;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

/** A key with everything the hot path needs to stamp a call, loaded once and cached. */
export interface ResolvedKey extends KeyRecord {
  /** SHA-256 of the secret: the cache's map key. Never shown to people. */
  hash: string;
  /** The owner chain for agent keys; null for viewer keys (which stop above the agent tier). */
  chain: ScopeChain | null;
  /** True when the key's scope or one of its ancestors is archived. */
  scopeArchived: boolean;
}

export interface NewKey {
  id: string;
  hash: string;
  display: string;
  kind: KeyKind;
  scopeId: string;
  name: string;
  expiresAt: number | null;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** Scopes, keys and the audit log: the administrative state, small and slowly changing. */
export interface Directory {
  /** Resolves a path to its nodes (root first); with `create`, makes the missing tiers and lists them. */
  ensureScope(path: string, opts: { create: boolean; actor: string }): Promise<{ nodes: ScopeNode[]; created: string[] }>;
  /** The node at `path`, archived or not; null when absent. */
  getScope(path: string): Promise<ScopeNode | null>;
  /** Nodes in path order, optionally only the subtree under `under`. */
  listScopes(opts?: { under?: string; includeArchived?: boolean }): Promise<ScopeNode[]>;
  /** Changes a node's slug and/or display name; paths beneath follow. Ledger rows keep ids, so history stays attached. */
  renameScope(path: string, change: { slug?: string; name?: string }, actor: string): Promise<ScopeNode>;
  /** Archives a node and its subtree (never deletes: the ledger references them). Returns how many nodes changed. */
  archiveScope(path: string, actor: string): Promise<number>;
  /** Stores a new key (already hashed). */
  insertKey(key: NewKey, actor: string): Promise<KeyRecord>;
  /** Keys, optionally under a scope, newest first. */
  listKeys(opts?: { under?: string; includeRevoked?: boolean }): Promise<KeyRecord[]>;
  /** Every key that is not revoked, resolved: what the in-memory key cache loads. */
  loadKeys(): Promise<ResolvedKey[]>;
  /** One key by the hash of its secret; null when unknown. */
  findKeyByHash(hash: string): Promise<ResolvedKey | null>;
  /** Suspends, re-activates or revokes a key found by id or display prefix. Revocation is final. */
  setKeyState(ref: string, state: KeyState, actor: string): Promise<KeyRecord>;
  /** A counter bumped by every change to scopes or keys; caches compare it to know they are stale. */
  version(): Promise<number>;
  /** Audit entries, newest first. */
  audit(opts?: { limit?: number; target?: string }): Promise<AuditEntry[]>;
}

/** One model call, as the ledger stores it. `id` is its idempotency key. */
export interface LedgerEvent {
  id: string;
  startedAt: number;
  endedAt: number;
  chain: ScopeChain;
  keyId: string | null;
  provider: string;
  requestedModel: string;
  servedModel: string;
  /** API route, e.g. `openai.chat`, `anthropic.messages`. */
  route: string;
  /** HTTP status returned to the client. */
  status: number;
  errorCode: string | null;
  usage: Usage;
  listCostNano: bigint;
  effectiveCostNano: bigint;
  /** Where the price came from: `catalog`, `custom`, `fallback` or `unpriced` (cost 0, flagged in reports). */
  priceSource: string;
  latencyMs: number;
  stream: boolean;
  /** True when usage was estimated (e.g. a stream cut short) rather than reported by the provider. */
  estimated: boolean;
  traceId: string | null;
  /** Free tags; `customer` is also indexed for per-customer reports. */
  tags: Record<string, string>;
  /** Set when the cheap-first router placed the call (the client asked for a routed model). */
  routing?: RouteStamp;
}

/** How the cheap-first router placed one call. Each attempt of an escalated call is its own event. */
export interface RouteStamp {
  /** The routed model the client asked for (or its soft budget degraded to), e.g. `auto`. */
  alias: string;
  /** The tier this call ran on. */
  tier: string;
  /** Why this tier: the features, hint, policy or budget state that decided, or why the attempt before failed. */
  reason: string;
  /** Id of the earlier attempt that failed and was escalated to this one; null for a first attempt. */
  escalatedFrom: string | null;
  /** `provider/model` of the routed model's top tier when this call ran below it (its all-frontier counterfactual); null on the top tier. */
  frontier: string | null;
}

export type GroupBy = 'org' | 'team' | 'project' | 'agent' | 'provider' | 'model';

export interface SpendQuery {
  /** Inclusive epoch ms; rounded down to the hour (rollups are hourly). */
  from: number;
  /** Exclusive epoch ms; rounded up to the hour. */
  to: number;
  groupBy: GroupBy;
  /** Restrict to the subtree of this scope node. */
  within?: { tier: Tier; id: string };
  /** Only calls to this provider. */
  provider?: string;
  /** Only calls served by this model (the served model, as rollups and `groupBy: 'model'` key it). */
  model?: string;
  /**
   * Only calls tagged with this customer. Rollups do not carry the tag, so this reads the events
   * (the same sums, from the rows themselves): slower over long windows.
   */
  customer?: string;
}

export interface SpendRow {
  /** Id of the group (scope id, provider or model). */
  key: string;
  calls: number;
  errors: number;
  inputTokens: bigint;
  cacheReadTokens: bigint;
  cacheWrite5mTokens: bigint;
  cacheWrite1hTokens: bigint;
  outputTokens: bigint;
  reasoningTokens: bigint;
  listCostNano: bigint;
  effectiveCostNano: bigint;
  estimatedCalls: number;
  unpricedCalls: number;
}

export interface SeriesQuery extends SpendQuery {
  /** Bucket size; `from`/`to` are rounded out to whole buckets. */
  bucket: 'hour' | 'day';
}

export interface SeriesRow extends SpendRow {
  /** Start of the bucket, epoch ms. */
  at: number;
}

export interface EventQuery {
  from?: number;
  to?: number;
  within?: { tier: Tier; id: string };
  traceId?: string;
  /** Only calls the cheap-first router placed. */
  routed?: boolean;
  /** Only calls to this provider. */
  provider?: string;
  /** Only calls served by this model (the served model, as `SpendQuery.model`). */
  model?: string;
  /** Only calls tagged with this customer. */
  customer?: string;
  /** `ok`: HTTP status below 400; `error`: 400 and above (what rollups count as errors). */
  status?: 'ok' | 'error';
  /** Keyset cursor from the previous page. */
  cursor?: string;
  limit?: number;
}

export interface ScanQuery {
  /** Inclusive epoch ms. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  within?: { tier: Tier; id: string };
  /** Only calls the cheap-first router placed. */
  routedOnly?: boolean;
  /** Rows per batch (default 2,000; at most 50,000). */
  batchSize?: number;
}

/**
 * One call as the per-call analytics read it (re-pricing, price-change detection, routing savings):
 * the columns they use and nothing more, so a scan of a quarter's ledger stays cheap. Fields mean
 * what they mean on `LedgerEvent`.
 */
export interface ScanRow {
  id: string;
  startedAt: number;
  chain: ScopeChain;
  provider: string;
  servedModel: string;
  usage: Usage;
  listCostNano: bigint;
  effectiveCostNano: bigint;
  /** How the router placed the call, without its reason; null when the client named a model. */
  routing: Omit<RouteStamp, 'reason'> | null;
}

/** The append-only record of calls, with hourly rollups kept in the same transaction. */
export interface Ledger {
  /** Appends events idempotently by id, updating rollups atomically with them. */
  record(events: readonly LedgerEvent[]): Promise<{ inserted: number; duplicates: number }>;
  /** Spend grouped by a tier, provider or model, read from the hourly rollups. */
  spend(query: SpendQuery): Promise<SpendRow[]>;
  /** Spend per hour or day and group, oldest bucket first, from the rollups of that size. */
  series(query: SeriesQuery): Promise<SeriesRow[]>;
  /** One event by id (the gateway's request id); null when absent. */
  get(id: string): Promise<LedgerEvent | null>;
  /** Raw events, newest first, paged: the rows behind any figure. */
  events(query: EventQuery): Promise<{ rows: LedgerEvent[]; nextCursor: string | null }>;
  /** Exact totals straight from the events (not the rollups), for reconciliation and tests. */
  totals(query: Omit<EventQuery, 'cursor' | 'limit'>): Promise<{ calls: number; listCostNano: bigint; effectiveCostNano: bigint }>;
  /**
   * Every call in [from, to), oldest first (by start, then id), in batches: each call exactly once,
   * whatever the batch size. What per-call analytics read instead of paging `events`: only the
   * columns of `ScanRow`, keyset pages on (start, id).
   */
  scan(query: ScanQuery): AsyncIterable<ScanRow[]>;
}

/** What differs between backends, as flags the shared code acts on. */
export interface StoreCapabilities {
  /** Most bind parameters one statement may carry; batches are split to fit. */
  maxBindParameters: number;
  /** Accepts whole arrays as parameters (PostgreSQL): bulk inserts bind one array per column. */
  arrayParameters: boolean;
  dialect: 'sqlite' | 'postgres';
}

export type BudgetAction = 'hard' | 'soft' | 'showback' | 'chargeback' | 'plan';

/** A budget on one scope and period. Refusing actions (`hard`, `chargeback`) hold calls to the limit. */
export interface BudgetPolicy {
  id: string;
  scopeId: string;
  scopePath: string;
  tier: Tier;
  amountNano: bigint;
  /** `day|week|month|quarter|year` or `rolling:<N>h|d` (see domain/budget-period). */
  period: string;
  action: BudgetAction;
  /** Percentages of the amount at which an alert fires once per period, ascending. */
  thresholds: number[];
  /** IANA zone calendar periods are aligned in. */
  timeZone: string;
  /** Soft budgets: model alias calls are sent to once the budget is spent; null keeps the model. */
  degradeTo: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface BudgetInput {
  scopePath: string;
  amountNano: bigint;
  period: string;
  action: BudgetAction;
  thresholds: number[];
  timeZone: string;
  degradeTo: string | null;
}

/** Requests and tokens per minute on a scope (any tier; usually an agent). Null: no limit. */
export interface RateLimit {
  scopeId: string;
  scopePath: string;
  rpm: number | null;
  tpm: number | null;
  updatedAt: number;
}

export interface KillSwitch {
  scopeId: string;
  scopePath: string;
  at: number;
  actor: string;
  reason: string;
}

/** A budget threshold crossed, recorded once per budget, period and threshold (across replicas). */
export interface BudgetAlert {
  budgetId: string;
  scopePath: string;
  periodStart: number;
  threshold: number;
  at: number;
  spentNano: bigint;
  limitNano: bigint;
}

/**
 * Budgets, rate limits and kill switches: administrative state like the directory (every change is
 * audited and bumps the directory version, so gateway caches reload within a second).
 */
export interface Controls {
  /** Creates or replaces the budget of a scope for a period; returns it and the one it replaced. */
  setBudget(input: BudgetInput, actor: string): Promise<{ budget: BudgetPolicy; before: BudgetPolicy | null }>;
  /** Deletes the budget of a scope for a period; throws `not_found` when there is none. */
  deleteBudget(scopePath: string, period: string, actor: string): Promise<BudgetPolicy>;
  /** Budgets, optionally only those in the subtree under `under`, in scope path order. */
  listBudgets(opts?: { under?: string }): Promise<BudgetPolicy[]>;
  /** Sets (or with both null, removes) a scope's rate limits. */
  setRateLimit(scopePath: string, limits: { rpm: number | null; tpm: number | null }, actor: string): Promise<RateLimit | null>;
  listRateLimits(opts?: { under?: string }): Promise<RateLimit[]>;
  /** Stops every call of a scope's subtree; throws `conflict` when already killed. */
  kill(scopePath: string, reason: string, actor: string): Promise<KillSwitch>;
  /** Lifts a kill switch; throws `not_found` when the scope is not killed. */
  revive(scopePath: string, actor: string): Promise<KillSwitch>;
  listKills(): Promise<KillSwitch[]>;
  /** Records a crossed threshold; false when it was already recorded (by this or another replica). */
  recordAlert(alert: Omit<BudgetAlert, 'scopePath'>): Promise<boolean>;
  /** Recorded alerts, newest first. */
  alerts(opts?: { limit?: number; budgetId?: string }): Promise<BudgetAlert[]>;
}

export interface Store {
  readonly directory: Directory;
  readonly controls: Controls;
  readonly outcomes: Outcomes;
  readonly chargeback: Chargeback;
  /** Spend per unit and day, and the model mix, as the forecast reads them. */
  readonly forecast: ForecastReads;
  readonly anomalies: Anomalies;
  /** What the providers' usage and cost reports say they billed, for reconciliation. */
  readonly providerUsage: ProviderUsage;
  readonly ledger: Ledger;
  readonly capabilities: StoreCapabilities;
  /** Where the data lives, for people (file path or URL without credentials). */
  readonly location: string;
  close(): Promise<void>;
}
