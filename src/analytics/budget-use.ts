/**
 * A budget as the dashboard shows it beside a figure: its limit, what its current period has spent
 * (from `budgetStatus`, so from the ledger) and the share used. Where a scope has several budgets,
 * the tightest one (most used) is the one that matters.
 */
import { nanoToDecimalString } from '../domain/money.ts';
import type { BudgetStatus } from './budget-status.ts';
import { percentOf } from './percent.ts';

/** The most used of a scope's budgets (spent ÷ limit, compared exactly); null when there are none. */
export function tightest(states: readonly BudgetStatus[]): BudgetStatus | null {
  let best: BudgetStatus | null = null;
  for (const s of states) {
    // a/b > c/d  ⇔  a·d > c·b for positive limits: no division, no rounding.
    if (best === null || s.spentNano * best.policy.amountNano > best.spentNano * s.policy.amountNano) best = s;
  }
  return best;
}

export interface BudgetUseJson {
  scope: string;
  period: string;
  action: string;
  limitUsd: string;
  spentUsd: string;
  usedPct: number;
}

export function budgetUseJson(s: BudgetStatus): BudgetUseJson {
  return {
    scope: s.policy.scopePath,
    period: s.policy.period,
    action: s.policy.action,
    limitUsd: nanoToDecimalString(s.policy.amountNano),
    spentUsd: nanoToDecimalString(s.spentNano),
    usedPct: percentOf(s.spentNano, s.policy.amountNano) ?? (s.spentNano > 0n ? 100 : 0),
  };
}
