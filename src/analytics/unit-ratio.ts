/**
 * Exact ratios of integers (ROI, change in $/outcome, drift factors): kept as numerator and
 * denominator, compared by cross-multiplication and rounded once, half away from zero, only when
 * shown. Nothing here goes through a float, so SQLite and PostgreSQL print the same digits.
 */
import { divRound } from '../domain/money.ts';

/** num / den with den > 0. */
export interface Ratio {
  num: bigint;
  den: bigint;
}

/** num / den, or null when the denominator is not positive (nothing to divide by). */
export function ratio(num: bigint, den: bigint): Ratio | null {
  return den > 0n ? { num, den } : null;
}

/** a / b − 1, or null when b is not positive. */
export function changeOf(a: bigint, b: bigint): Ratio | null {
  return b > 0n ? { num: a - b, den: b } : null;
}

/** Negative, zero or positive as a < b, a = b, a > b. */
export function compareRatio(a: Ratio, b: Ratio): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The ratio as a decimal with `places` digits, e.g. "3.5200" (rounded once). */
export function ratioDecimal(r: Ratio, places: number): string {
  const scaled = divRound(r.num * 10n ** BigInt(places), r.den);
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const unit = 10n ** BigInt(places);
  const whole = (abs / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = places > 0 ? `.${(abs % unit).toString().padStart(places, '0')}` : '';
  return `${neg ? '-' : ''}${whole}${frac}`;
}

/** Plain decimal for JSON and CSV: no thousands separators. */
export function ratioPlain(r: Ratio, places: number): string {
  return ratioDecimal(r, places).replace(/,/g, '');
}

/** The ratio as a percentage, e.g. "+352%" (signed) or "35.2%". */
export function ratioPercent(r: Ratio, places = 0, signed = true): string {
  const text = ratioDecimal({ num: r.num * 100n, den: r.den }, places);
  // A change that rounds to zero reads "0%", neither "+0%" nor "-0%".
  if (/^-?0(\.0+)?$/.test(text)) return `${text.replace('-', '')}%`;
  return `${signed && !text.startsWith('-') ? '+' : ''}${text}%`;
}
