/**
 * Where each budget stands now: spent in its current period (from the ledger, so every figure traces
 * to rows), reserved by calls in flight (from the counters, when they are reachable), what is left,
 * a run-rate forecast to the period's end, and a status.
 */
import { parsePeriod, periodWindow } from '../domain/budget-period.ts';
import { nanoToDecimalString } from '../domain/money.ts';
import type { Counters } from '../counters/contract.ts';
import type { BudgetPolicy, Ledger } from '../ledger/contract.ts';

export type BudgetHealth = 'ok' | 'warning' | 'exceeded';

export interface BudgetStatus {
  policy: BudgetPolicy;
  /** First instant counted (calendar period start, or the oldest slice of a rolling window). */
  from: number;
  /** When the period resets (calendar) or its oldest slice drops out (rolling). */
  resetsAt: number;
  spentNano: bigint;
  /** Held by calls in flight; null when the counters live in another process (in-process counters) or are down. */
  reservedNano: bigint | null;
  remainingNano: bigint;
  /** Spend at the current run rate by the period's end (calendar periods; rolling windows: equal to spent). */
  forecastNano: bigint;
  health: BudgetHealth;
}

export async function budgetStatus(policies: readonly BudgetPolicy[], deps: { ledger: Ledger; counters: Counters | null; now: number }): Promise<BudgetStatus[]> {
  const windows = policies.map((p) => periodWindow(parsePeriod(p.period), p.timeZone, deps.now));
  const spent = await Promise.all(policies.map((p, i) => spentIn(deps.ledger, p, windows[i]!.from, windows[i]!.end, deps.now)));
  let reserved: (bigint | null)[] = policies.map(() => null);
  if (deps.counters) {
    try {
      const keys = policies.map((p, i) => [`b:${p.id}:${windows[i]!.start}`, ...windows[i]!.earlier.map((s) => `b:${p.id}:${s}`)]);
      const states = await deps.counters.read(keys.flat(), deps.now);
      let at = 0;
      reserved = keys.map((k) => {
        let sum = 0n;
        for (const s of states.slice(at, at + k.length)) sum += s?.reserved ?? 0n;
        at += k.length;
        return sum;
      });
    } catch {
      // Counters down: show spend from the ledger and no reservation figure rather than fail.
    }
  }
  return policies.map((policy, i) => {
    const w = windows[i]!;
    const s = spent[i]!;
    const r = reserved[i] ?? null;
    const remaining = policy.amountNano - s - (r ?? 0n);
    const isRolling = policy.period.startsWith('rolling');
    const elapsed = BigInt(Math.max(1, deps.now - w.start));
    const forecast = isRolling ? s : (s * BigInt(w.end - w.start)) / elapsed;
    const first = policy.thresholds[0] ?? 100;
    const health: BudgetHealth = s >= policy.amountNano ? 'exceeded' : s * 100n >= BigInt(first) * policy.amountNano || forecast > policy.amountNano ? 'warning' : 'ok';
    return { policy, from: w.from, resetsAt: w.end, spentNano: s, reservedNano: r, remainingNano: remaining > 0n ? remaining : 0n, forecastNano: forecast, health };
  });
}

const HOUR_MS = 3_600_000;

/**
 * Spend of a budget's scope in [from, end): the whole hours before this one from the hourly rollups
 * (kept in the same transaction as the events, so equal to them), the current hour from the events.
 * A month's budget then reads a few hundred rollup rows instead of every call of the month. A window
 * that does not start on an hour (a zone with a half-hour offset) is read from the events whole.
 */
async function spentIn(ledger: Ledger, p: BudgetPolicy, from: number, end: number, now: number): Promise<bigint> {
  const within = { tier: p.tier, id: p.scopeId };
  const cut = Math.min(end, Math.floor(now / HOUR_MS) * HOUR_MS);
  if (from % HOUR_MS !== 0 || cut <= from) return (await ledger.totals({ from, to: end, within })).effectiveCostNano;
  const [hours, rest] = await Promise.all([ledger.spend({ from, to: cut, groupBy: p.tier, within }), ledger.totals({ from: cut, to: end, within })]);
  return hours.reduce((sum, r) => sum + r.effectiveCostNano, 0n) + rest.effectiveCostNano;
}

/** A budget's state in the API's JSON: money as exact decimal USD strings. */
export function budgetJson(s: BudgetStatus): Record<string, unknown> {
  const p = s.policy;
  return {
    id: p.id,
    scope: p.scopePath,
    tier: p.tier,
    period: p.period,
    action: p.action,
    amount_usd: nanoToDecimalString(p.amountNano),
    spent_usd: nanoToDecimalString(s.spentNano),
    reserved_usd: s.reservedNano === null ? null : nanoToDecimalString(s.reservedNano),
    remaining_usd: nanoToDecimalString(s.remainingNano),
    forecast_usd: nanoToDecimalString(s.forecastNano),
    status: s.health,
    thresholds: p.thresholds,
    time_zone: p.timeZone,
    degrade_to: p.degradeTo,
    period_from: new Date(s.from).toISOString(),
    resets_at: new Date(s.resetsAt).toISOString(),
  };
}
