/** Percentages for the dashboard's JSON: exact integer ratios rounded once, to two decimals. */
import { ratioBp } from './showback.ts';

/** n / d as a percentage with two decimals (half away from zero); null when d is not positive. */
export function percentOf(n: bigint, d: bigint): number | null {
  const bp = ratioBp(n, d);
  return bp === null ? null : bp / 100;
}
