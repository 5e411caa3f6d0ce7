/**
 * The shapes shared by the anomaly detector (pure, streaming), the alert store and sinks, and the
 * gateway's watcher that feeds settled calls in and acts on what comes out.
 */
import type { ScopeChain } from '../../domain/scope.ts';

export const SIGNALS = ['spend_spike', 'price_mix_shift', 'prompt_bloat', 'runaway_loop', 'silent_stop'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Tiers watched against their own baseline (the org is watched by its plan and budgets). */
export const WATCHED_TIERS = ['team', 'project', 'agent'] as const;
export type WatchedTier = (typeof WATCHED_TIERS)[number];

/** One settled call, as the detector sees it. Costs are integer nano-USD (exact sums of ledger rows). */
export interface Observation {
  /** When the call ended, epoch ms. */
  at: number;
  chain: ScopeChain;
  model: string;
  costNano: number;
  /** All tokens of the call: input (incl. cache) + output. */
  tokens: number;
  traceId: string | null;
  /** A short hash of the prompt's tail, when the gateway computed one: repeated values mean a loop. */
  fingerprint?: string | null;
}

/** Past traffic of one scope in one hour, to seed baselines from the ledger's hourly rollups at start-up. */
export interface HourlySeed {
  /** Start of the hour, epoch ms. */
  hour: number;
  tier: WatchedTier;
  scopeId: string;
  /** Slash path, e.g. `acme/support/helpdesk/triage-bot`. */
  path: string;
  costNano: number;
  tokens: number;
  calls: number;
}

/** Baseline against now, for one measure. Rates are per hour. */
export interface Comparison {
  measure: 'spend_per_hour' | 'tokens_per_hour' | 'requests_per_hour' | 'tokens_per_request';
  baseline: number;
  /** Upper edge of the band the current value was held against (for a silent stop, its lower edge). */
  band: number;
  current: number;
}

/** An anomaly the detector sees now, with its evidence. */
export interface Finding {
  tier: WatchedTier;
  scopeId: string;
  path: string;
  signal: Signal;
  /** When the condition started (first bucket above the band), epoch ms. */
  since: number;
  /** When this finding was evaluated, epoch ms. */
  at: number;
  comparisons: Comparison[];
  /** Spend per hour above the baseline right now, nano-USD (0 for a silent stop). */
  atRiskNanoPerHour: number;
  topModels: { model: string; costNano: number; calls: number }[];
  topTraces: { traceId: string; costNano: number; calls: number }[];
  /** One line for a human: what, how far from normal. */
  summary: string;
}

/** What changed at one evaluation: conditions that began, persisted, or ended. */
export interface Evaluation {
  opened: Finding[];
  ongoing: Finding[];
  resolved: { tier: WatchedTier; scopeId: string; path: string; signal: Signal; at: number }[];
}
