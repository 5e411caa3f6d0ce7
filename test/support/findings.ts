/** A detector finding for store, CLI and route tests: a runaway loop on a scope, an hour ago, with evidence. */
import type { Finding, WatchedTier } from '../../src/analytics/anomalies/contract.ts';

export const USD = 1_000_000_000;
const HOUR = 3_600_000;
const TIER_BY_DEPTH: Record<number, WatchedTier> = { 2: 'team', 3: 'project', 4: 'agent' };

export function makeFinding(scope: { id: string; path: string }, over: Partial<Finding> = {}): Finding {
  const since = Date.now() - HOUR;
  return {
    tier: TIER_BY_DEPTH[scope.path.split('/').length] ?? 'agent',
    scopeId: scope.id,
    path: scope.path,
    signal: 'runaway_loop',
    since,
    at: since + 300_000,
    comparisons: [{ measure: 'spend_per_hour', baseline: 0.4 * USD, band: 1.2 * USD, current: 9.5 * USD }],
    atRiskNanoPerHour: 9.1 * USD,
    topModels: [{ model: 'gpt-4.1', costNano: 0.7 * USD, calls: 310 }],
    topTraces: [{ traceId: 'trace-7', costNano: 0.65 * USD, calls: 290 }],
    summary: '290 calls of one trace in 5 min (usually 2)',
    ...over,
  };
}
