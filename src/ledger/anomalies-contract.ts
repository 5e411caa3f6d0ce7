/**
 * Anomaly alerts as the store keeps them: one row per episode of a signal on a scope, deduplicated
 * across replicas (one open row per scope and signal), the log of their deliveries to sinks, and the
 * per-scope policies that let a runaway agent trip its own kill switch.
 */
import type { Finding, Signal, WatchedTier } from '../analytics/anomalies/contract.ts';

export type AnomalyState = 'open' | 'resolved';
/** What the store records was done about an anomaly. */
export type AnomalyAction = 'auto_killed';
/** What a notification announces. */
export type AlertEvent = 'opened' | 'resolved' | 'auto_killed';
export const ALERT_EVENTS = ['opened', 'resolved', 'auto_killed'] as const satisfies readonly AlertEvent[];

export interface AnomalyAlert {
  /** `anm_` and 16 hex digits. */
  id: string;
  scopeId: string;
  tier: WatchedTier;
  /** The scope's current path (the path it had when opened if the scope is gone). */
  path: string;
  signal: Signal;
  state: AnomalyState;
  /** When this row was opened, epoch ms. */
  openedAt: number;
  /** When the condition started, as the detector saw it first, epoch ms. */
  since: number;
  /** The latest evaluation that still saw it, epoch ms. */
  lastSeenAt: number;
  resolvedAt: number | null;
  /** `detector`, or the actor who resolved it by hand; null while open. */
  resolvedBy: string | null;
  /** Spend per hour above the baseline at the latest evaluation, nano-USD. */
  atRiskNanoPerHour: bigint;
  /** The highest at-risk rate seen during the episode, nano-USD per hour. */
  peakNanoPerHour: bigint;
  /** The latest finding: comparisons, top models and traces. */
  evidence: Finding;
  summary: string;
  action: AnomalyAction | null;
}

export interface AnomalyQuery {
  /** Only open (true) or only resolved (false) anomalies. */
  open?: boolean;
  /** Anomalies open at any time in [from, to): opened before `to`, not resolved before `from`. Epoch ms. */
  from?: number;
  to?: number;
  /** Only anomalies on this scope path and its subtree. */
  under?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

export type DeliveryState = 'delivered' | 'dead';

export interface AlertDelivery {
  /** `dlv_` and 16 hex digits. */
  id: string;
  anomalyId: string;
  /** `webhook` or `slack`. */
  sink: string;
  /** Where it was sent, without secrets (no query string or credentials; a Slack URL's path is hidden). */
  url: string;
  event: AlertEvent;
  attempts: number;
  /** Why the last attempt failed; null when delivered at the first attempt. */
  lastError: string | null;
  state: DeliveryState;
  /** When delivery ended (delivered or given up), epoch ms. */
  at: number;
}

export type NewDelivery = Omit<AlertDelivery, 'id'>;

/** A scope's automatic action: with `autoKill`, runaway-loop and prompt-bloat anomalies of its agents trip their kill switch. */
export interface AnomalyPolicy {
  scopeId: string;
  scopePath: string;
  autoKill: boolean;
  /** The at-risk rate, nano-USD per hour, an anomaly must exceed before the agent is killed. */
  minNanoPerHour: bigint;
  updatedAt: number;
  updatedBy: string;
}

export interface AnomalyPolicyInput {
  scopePath: string;
  autoKill: boolean;
  minNanoPerHour: bigint;
}

export interface Anomalies {
  /**
   * Records a finding: opens an anomaly, or, when one is already open for the finding's scope and
   * signal, refreshes it (last seen, evidence, summary, at-risk rate; `since` and `openedAt` stay).
   * Atomic across processes: of any number of concurrent calls, exactly one gets `created: true`.
   */
  open(finding: Finding): Promise<{ alert: AnomalyAlert; created: boolean }>;
  /** Closes the open anomaly of a scope and signal; null when none is open (or another replica closed it first). */
  resolve(scopeId: string, signal: Signal, at: number): Promise<AnomalyAlert | null>;
  /** Closes one anomaly by hand (audited); `not_found` when unknown, `conflict` when already resolved. */
  resolveById(id: string, actor: string, at: number): Promise<AnomalyAlert>;
  /** Newest first (by opening time). */
  list(query?: AnomalyQuery): Promise<AnomalyAlert[]>;
  get(id: string): Promise<AnomalyAlert | null>;
  /** Records what was done; false when an action was already recorded (so one replica acts, once). */
  markAction(id: string, action: AnomalyAction): Promise<boolean>;
  /** Logs one notification's outcome: delivered, or dead after its last attempt. */
  recordDelivery(delivery: NewDelivery): Promise<AlertDelivery>;
  /** Delivery log, newest first. */
  deliveries(query?: { state?: DeliveryState; anomalyId?: string; limit?: number }): Promise<AlertDelivery[]>;
  /** Creates or replaces a scope's policy (audited, bumps the directory version); returns it and the one it replaced. */
  setPolicy(input: AnomalyPolicyInput, actor: string): Promise<{ policy: AnomalyPolicy; before: AnomalyPolicy | null }>;
  /** Policies, optionally only in the subtree under `under`, in scope path order. */
  listPolicies(opts?: { under?: string }): Promise<AnomalyPolicy[]>;
  /** Removes a scope's policy (audited); `not_found` when it has none. */
  deletePolicy(scopePath: string, actor: string): Promise<AnomalyPolicy>;
  /** The policy of the scope or of its nearest ancestor that has one; null when none up the chain. */
  policyFor(scopeId: string): Promise<AnomalyPolicy | null>;
}

/** Signals that can trip an agent's kill switch: both mean an agent spending on a loop or a growing prompt. */
export const AUTO_KILL_SIGNALS: ReadonlySet<Signal> = new Set(['runaway_loop', 'prompt_bloat']);

/** True when the policy asks to kill the finding's agent: an agent, a killing signal, and more at risk than the policy's floor. */
export function autoKillApplies(finding: Pick<Finding, 'tier' | 'signal' | 'atRiskNanoPerHour'>, policy: AnomalyPolicy | null): boolean {
  if (!policy?.autoKill || finding.tier !== 'agent' || !AUTO_KILL_SIGNALS.has(finding.signal)) return false;
  return atRiskNano(finding.atRiskNanoPerHour) > policy.minNanoPerHour;
}

/** The detector's at-risk rate as whole nano-USD (it is a float in the finding; never negative). */
export function atRiskNano(v: number): bigint {
  return Number.isFinite(v) && v > 0 ? BigInt(Math.round(Math.min(v, Number.MAX_SAFE_INTEGER))) : 0n;
}
