/**
 * Chargeback state: adjustments to a team's monthly statement, the team flags escalation advice
 * reads, and a paged reader of rollup rows at their finest grain (the rows every statement line and
 * FOCUS row traces to). Every change is audited.
 */
import type { Tier } from '../domain/scope.ts';

export type AdjustmentKind = 'credit' | 'correction';

/** A signed change to a team's charge for one month: negative lowers it (every credit is negative). */
export interface ChargebackAdjustment {
  id: string;
  teamId: string;
  teamPath: string;
  /** `YYYY-MM`. */
  period: string;
  amountNano: bigint;
  kind: AdjustmentKind;
  reason: string;
  actor: string;
  at: number;
}

export interface AdjustmentInput {
  teamPath: string;
  /** `YYYY-MM`. */
  period: string;
  /** Signed nano-USD: a credit must be negative, a correction either way (never 0). */
  amountNano: bigint;
  kind: AdjustmentKind;
  reason: string;
}

/** Facts about a team that escalation advice reads; both false until set. */
export interface TeamFlags {
  teamId: string;
  teamPath: string;
  /** The team bills its own customers for what its agents spend. */
  billsCustomers: boolean;
  /** Compliance requires the team's spend to be held by hard limits. */
  complianceHardLimits: boolean;
  /** Null when never set. */
  updatedAt: number | null;
}

export interface TeamFlagsChange {
  billsCustomers?: boolean;
  complianceHardLimits?: boolean;
}

/** One rollup row (hourly or daily), keyed as the ledger keys it. */
export interface RollupRow {
  /** Start of the hour or UTC day, epoch ms. */
  at: number;
  agentId: string;
  provider: string;
  model: string;
  orgId: string;
  teamId: string;
  projectId: string;
  calls: bigint;
  errors: bigint;
  inputTokens: bigint;
  cacheReadTokens: bigint;
  cacheWrite5mTokens: bigint;
  cacheWrite1hTokens: bigint;
  outputTokens: bigint;
  reasoningTokens: bigint;
  requests: bigint;
  listCostNano: bigint;
  effectiveCostNano: bigint;
  estimatedCalls: bigint;
  unpricedCalls: bigint;
}

export interface RollupPageQuery {
  grain: 'hour' | 'day';
  /** Inclusive epoch ms, compared with the bucket start. */
  from: number;
  /** Exclusive epoch ms, compared with the bucket start. */
  to: number;
  within?: { tier: Tier; id: string };
  /** Keyset cursor from the previous page. */
  cursor?: string;
  /** Rows per page, 1–10 000 (default 5 000). */
  limit?: number;
}

export interface Chargeback {
  /** Records an adjustment (audited); refuses a missing reason, a zero amount or a positive credit. */
  addAdjustment(input: AdjustmentInput, actor: string): Promise<ChargebackAdjustment>;
  /** A team's adjustments, optionally for one period, oldest first. */
  listAdjustments(opts: { teamPath: string; period?: string }): Promise<ChargebackAdjustment[]>;
  /** Sets one or both flags of a team (audited); returns the flags before and after. */
  setTeamFlags(teamPath: string, change: TeamFlagsChange, actor: string): Promise<{ flags: TeamFlags; before: TeamFlags }>;
  /** A team's flags (both false when never set). */
  getTeamFlags(teamPath: string): Promise<TeamFlags>;
  /** Flags set on teams, optionally under a scope, in path order. */
  listTeamFlags(opts?: { under?: string }): Promise<TeamFlags[]>;
  /** Rollup rows in key order (bucket, agent, provider, model), paged: what statements and exports read. */
  rollups(query: RollupPageQuery): Promise<{ rows: RollupRow[]; nextCursor: string | null }>;
}
