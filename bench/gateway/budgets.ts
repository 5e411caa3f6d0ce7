/**
 * The budgets of targets (d) and (e), one per kind of admission check on the key's chain
 * (bench/load/gateway/agent). None can refuse during a benchmark: a call reserves an upper bound of
 * cents and costs a few millionths of a dollar (20 output tokens of gpt-4.1-mini), against limits
 * of millions. Each stays within the $9,007,199.25 per period that refusing budgets, and any limit
 * held in Redis (Lua doubles), may have.
 */
export const BENCH_BUDGETS = [
  { scope: 'bench/load/gateway/agent', tier: 'agent', action: 'hard', period: 'day', usd: '1000000' },
  { scope: 'bench/load', tier: 'team', action: 'chargeback', period: 'month', usd: '5000000' },
  { scope: 'bench', tier: 'org', action: 'plan', period: 'year', usd: '9000000' },
] as const;

export const BENCH_KEY_SCOPE = 'bench/load/gateway/agent';

/** One budget after a benchmark, as the Tollgate child reports it (USD as exact decimal strings). */
export interface BudgetCheck {
  scope: string;
  action: string;
  period: string;
  /** Spent this period, as the counters hold it (what admission compares with the limit). */
  counterUsd: string;
  /** Spent this period, as the ledger holds it. */
  ledgerUsd: string;
  /** Still reserved by calls in flight: zero once every call has settled. */
  reservedUsd: string;
  /** Counters and ledger agree, nothing is reserved, and something was spent. */
  ok: boolean;
}

/** Describes the budgets for the report's header. */
export function describeBudgets(): string {
  return BENCH_BUDGETS.map((b) => `${b.tier} ${b.action} $${Number(b.usd).toLocaleString('en')}/${b.period}`).join(', ');
}
