/**
 * Budget requests as people write them (CLI flags, API JSON) turned into a BudgetInput: USD amounts
 * parsed exactly, the action defaulting to the tier's (DESIGN: agent hard, project soft, team
 * showback, org plan), thresholds from "50,80,100".
 */
import { TollgateError } from '../domain/errors.ts';
import { usdToNano } from '../domain/money.ts';
import { parseScope, TIERS } from '../domain/scope.ts';
import type { Tier } from '../domain/scope.ts';
import type { BudgetAction, BudgetInput } from '../ledger/contract.ts';

export const DEFAULT_ACTION: Record<Tier, BudgetAction> = { org: 'plan', team: 'showback', project: 'soft', agent: 'hard' };
export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];

export interface BudgetRequest {
  scope: string;
  /** USD, e.g. "500", "$1,250.50", 0.5. */
  amount: string | number;
  period: string;
  action?: string | undefined;
  /** "50,80,100" or [50, 80, 100]. */
  thresholds?: string | readonly number[] | undefined;
  timeZone?: string | undefined;
  degradeTo?: string | null | undefined;
}

export function budgetInput(r: BudgetRequest, defaultTimeZone: string): BudgetInput {
  const segments = parseScope(r.scope);
  const tier = TIERS[segments.length - 1]!;
  let amountNano: bigint;
  try {
    amountNano = usdToNano(r.amount);
  } catch (err) {
    throw new TollgateError('invalid_request', `budget amount ${JSON.stringify(r.amount)} is not a USD amount (e.g. 500 or 1250.50): ${(err as Error).message}`);
  }
  return {
    scopePath: segments.join('/'),
    amountNano,
    period: r.period,
    action: (r.action ?? DEFAULT_ACTION[tier]) as BudgetAction,
    thresholds: parseThresholds(r.thresholds),
    timeZone: r.timeZone ?? defaultTimeZone,
    degradeTo: r.degradeTo ?? null,
  };
}

function parseThresholds(t: BudgetRequest['thresholds']): number[] {
  // A copy: callers may adjust the list they get.
  if (t === undefined) return [...DEFAULT_THRESHOLDS];
  const parts = typeof t === 'string' ? t.split(',').map((p) => p.trim().replace(/%$/, '')).filter((p) => p !== '') : t;
  return parts.map((p) => {
    const n = typeof p === 'number' ? p : /^\d+$/.test(p) ? Number(p) : NaN;
    if (!Number.isInteger(n)) throw new TollgateError('invalid_request', `alert thresholds are whole percentages separated by commas (e.g. 50,80,100), got ${JSON.stringify(p)}`);
    return n;
  });
}
