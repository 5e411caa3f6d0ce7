/**
 * The storage contracts. The core (pricing, admission, analytics) sees only these; `ledger/sqlite`
 * and `ledger/postgres` implement them and only wiring code chooses between them.
 */
import type { ScopeChain, Tier } from '../domain/scope.ts';
import type { Usage } from '../domain/usage.ts';

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

export interface EventQuery {
  from?: number;
  to?: number;
  within?: { tier: Tier; id: string };
  traceId?: string;
  /** Keyset cursor from the previous page. */
  cursor?: string;
  limit?: number;
}

/** The append-only record of calls, with hourly rollups kept in the same transaction. */
export interface Ledger {
  /** Appends events idempotently by id, updating rollups atomically with them. */
  record(events: readonly LedgerEvent[]): Promise<{ inserted: number; duplicates: number }>;
  /** Spend grouped by a tier, provider or model, read from the hourly rollups. */
  spend(query: SpendQuery): Promise<SpendRow[]>;
  /** One event by id (the gateway's request id); null when absent. */
  get(id: string): Promise<LedgerEvent | null>;
  /** Raw events, newest first, paged: the rows behind any figure. */
  events(query: EventQuery): Promise<{ rows: LedgerEvent[]; nextCursor: string | null }>;
  /** Exact totals straight from the events (not the rollups), for reconciliation and tests. */
  totals(query: Omit<EventQuery, 'cursor' | 'limit'>): Promise<{ calls: number; listCostNano: bigint; effectiveCostNano: bigint }>;
}

/** What differs between backends, as flags the shared code acts on. */
export interface StoreCapabilities {
  /** Most bind parameters one statement may carry; batches are split to fit. */
  maxBindParameters: number;
  /** Accepts whole arrays as parameters (PostgreSQL): bulk inserts bind one array per column. */
  arrayParameters: boolean;
  dialect: 'sqlite' | 'postgres';
}

export interface Store {
  readonly directory: Directory;
  readonly ledger: Ledger;
  readonly capabilities: StoreCapabilities;
  /** Where the data lives, for people (file path or URL without credentials). */
  readonly location: string;
  close(): Promise<void>;
}
