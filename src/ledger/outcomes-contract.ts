/**
 * Outcomes and their types: what agents produce (a resolved ticket, a merged PR), and the human
 * baseline each is compared with. Types are configured per project; outcomes are recorded with the
 * owner chain of the agent that reports them, idempotently by a client-chosen key.
 */
import type { ScopeChain, Tier } from '../domain/scope.ts';

export interface OutcomeType {
  projectId: string;
  projectPath: string;
  /** Slug, e.g. `resolved_ticket`. */
  type: string;
  /** For people, e.g. "Resolved ticket". */
  displayName: string;
  /** What one outcome is counted in: "ticket", "PR", "lead", "document". */
  unit: string;
  /** What a human-handled outcome costs, nano-USD; null when unknown (no savings or ROI then). */
  baselineNano: bigint | null;
  /** The project's unit-economics target in nano-USD per outcome; null when none. */
  targetNano: bigint | null;
  createdAt: number;
  updatedAt: number;
}

export interface OutcomeTypeInput {
  /** A project-tier path, e.g. `acme/support/helpdesk`. */
  projectPath: string;
  type: string;
  displayName: string;
  unit: string;
  baselineNano: bigint | null;
  targetNano: bigint | null;
}

/** One outcome as a client reports it. */
export interface NewOutcome {
  type: string;
  /** Whole units, at least 1. */
  count: number;
  occurredAt: number;
  /** The trace whose calls produced it (`x-tollgate-trace-id` on those calls). */
  traceId: string | null;
  /** What the outcome was worth to the business, nano-USD (informational). */
  valueNano: bigint | null;
  /** Unique across the store: a retry with the same key is ignored and reported as a duplicate. */
  idempotencyKey: string;
}

/** An outcome with the agent that reports it. */
export interface OutcomeInput extends NewOutcome {
  chain: ScopeChain;
  keyId: string | null;
}

export interface OutcomeWindow {
  /** Inclusive epoch ms of `occurred_at`. */
  from: number;
  /** Exclusive epoch ms. */
  to: number;
  /** Only outcomes of this scope's subtree. */
  within?: { tier: Tier; id: string };
}

/** Outcomes of one type in one project (and one ISO week when grouped by week). */
export interface OutcomeCount {
  projectId: string;
  type: string;
  /** Monday 00:00 UTC of the week, or null when not grouped by week. */
  weekStart: number | null;
  outcomes: bigint;
  valueNano: bigint;
}

/** The outcomes of one type that a trace produced, with the cost of the trace's calls. */
export interface TraceOutcome {
  projectId: string;
  type: string;
  traceId: string;
  outcomes: bigint;
  /** Cost of the trace's calls (every agent of the same org); null when no call carried the trace id. */
  costNano: bigint | null;
  calls: bigint;
  tokens: bigint;
}

export interface Outcomes {
  /** Creates or replaces an outcome type of a project (audited); returns it and the one it replaced. */
  setType(input: OutcomeTypeInput, actor: string): Promise<{ type: OutcomeType; before: OutcomeType | null }>;
  /** Outcome types, optionally only those of projects in the subtree under `under`, in path order. */
  listTypes(opts?: { under?: string }): Promise<OutcomeType[]>;
  /**
   * Records outcomes in one transaction, all or nothing: every outcome is checked first (its type
   * must be configured for its project), then inserted; keys already recorded (or repeated within
   * the batch) are skipped and returned in input order.
   */
  record(outcomes: readonly OutcomeInput[]): Promise<{ inserted: number; duplicates: string[] }>;
  /** Outcome counts by project and type (and ISO week with `byWeek`) of outcomes that occurred in the window. */
  counts(query: OutcomeWindow & { byWeek?: boolean }): Promise<OutcomeCount[]>;
  /** Per (trace, project, type) of traced outcomes that occurred in the window: outcomes and the trace's cost from `trace_costs`. */
  traceOutcomes(query: OutcomeWindow): Promise<TraceOutcome[]>;
}

/** Bounds every backend enforces (and the HTTP route and importer check first, to name the line). */
export const OUTCOME_LIMITS = {
  /** Units one outcome row may count. */
  maxCount: 1_000_000,
  /** Characters of an idempotency key or trace id. */
  maxKeyLength: 200,
  /** Earliest `occurred_at`: 2000-01-01T00:00:00Z. */
  minOccurredAt: Date.UTC(2000, 0, 1),
  /** How far in the future `occurred_at` may be (clock skew), ms. */
  maxFutureMs: 3_600_000,
} as const;

/** Outcome type slugs: like scope segments, plus `_` inside. */
export const OUTCOME_TYPE_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

/** What is wrong with an outcome, or null when it is well-formed (the type's existence is the store's check). */
export function outcomeProblem(o: NewOutcome, now: number): string | null {
  if (typeof o.idempotencyKey !== 'string' || o.idempotencyKey.trim() === '') return 'idempotency_key is missing: give each outcome a unique key so retries are not counted twice';
  if (o.idempotencyKey.length > OUTCOME_LIMITS.maxKeyLength) return `idempotency_key is longer than ${OUTCOME_LIMITS.maxKeyLength} characters`;
  if (typeof o.type !== 'string' || !OUTCOME_TYPE_PATTERN.test(o.type)) return `type ${JSON.stringify(o.type)} is not an outcome type slug (lower-case letters, digits, ".", "_", "-"), e.g. resolved_ticket`;
  if (!Number.isSafeInteger(o.count) || o.count < 1 || o.count > OUTCOME_LIMITS.maxCount) return `count must be a whole number from 1 to ${OUTCOME_LIMITS.maxCount.toLocaleString('en')}, got ${String(o.count)}`;
  if (!Number.isSafeInteger(o.occurredAt)) return 'occurred_at is not a valid time';
  if (o.occurredAt < OUTCOME_LIMITS.minOccurredAt) return `occurred_at ${new Date(o.occurredAt).toISOString()} is before 2000`;
  if (o.occurredAt > now + OUTCOME_LIMITS.maxFutureMs) return `occurred_at ${new Date(o.occurredAt).toISOString()} is in the future`;
  if (o.traceId !== null && (typeof o.traceId !== 'string' || o.traceId === '' || o.traceId.length > OUTCOME_LIMITS.maxKeyLength)) return `trace_id must be a non-empty string of at most ${OUTCOME_LIMITS.maxKeyLength} characters`;
  if (o.valueNano !== null && (typeof o.valueNano !== 'bigint' || o.valueNano < 0n || o.valueNano > 2n ** 63n - 1n)) return 'value_usd must be an amount of USD of at least 0';
  return null;
}
