/** Percentages for the dashboard's JSON: exact integer ratios rounded once, to two decimals. */
import { divRound } from '../domain/money.ts';

/** n / d as a percentage with two decimals (half away from zero); null when d is not positive. */
export function percentOf(n: bigint, d: bigint): number | null {
  return d > 0n ? Number(divRound(n * 10_000n, d)) / 100 : null;
}
