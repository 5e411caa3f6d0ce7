/**
 * Money for people. The API sends amounts as exact decimal USD strings ("12.345678901"); they are
 * formatted from the string (Intl.NumberFormat formats decimal strings exactly), compared and summed
 * as integer nano-USD, and turned into floats only for chart geometry (`usdForChart`).
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
const LOCALE = 'en-US';

const cents = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const small = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', minimumSignificantDigits: 2, maximumSignificantDigits: 2 });
const exact = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 9 });
const compact = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 });
const compactSmall = new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 });
const whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const compactCount = new Intl.NumberFormat(LOCALE, { notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 1 });
const pct1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const ratio = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

/** What is shown for a missing figure. */
export const NONE = '—';

type Literal = Intl.StringNumericLiteral;

/** The decimal string in canonical form (no '+', no leading zeros), or null when it is not a plain decimal. */
function canonical(usd: string | null | undefined): { negative: boolean; int: string; frac: string } | null {
  if (usd === null || usd === undefined) return null;
  const m = DECIMAL.exec(usd.trim());
  if (!m) return null;
  const int = m[2]!.replace(/^0+(?=\d)/, '');
  const frac = m[3] ?? '';
  const zero = /^0*$/.test(int) && /^0*$/.test(frac);
  return { negative: m[1] === '-' && !zero, int, frac };
}

function literal(c: { negative: boolean; int: string; frac: string }): Literal {
  return `${c.negative ? '-' : ''}${c.int}${c.frac === '' ? '' : `.${c.frac}`}` as Literal;
}

/**
 * An amount for a table or a card: cents from $0.01 up ("$1,234.56"), two significant digits below
 * a cent ("$0.0042") so that small unit costs do not read as zero.
 */
export function formatUsd(usd: string | null | undefined): string {
  const c = canonical(usd);
  if (c === null) return NONE;
  const belowCent = c.int === '0' && !/[1-9]/.test(c.frac.slice(0, 2)) && /[1-9]/.test(c.frac);
  return (belowCent ? small : cents).format(literal(c));
}

/** Every digit the API gave (up to nano-USD), for figures that must match the ledger exactly. */
export function formatUsdExact(usd: string | null | undefined): string {
  const c = canonical(usd);
  return c === null ? NONE : exact.format(literal(c));
}

/** A signed change: "+$12.30" or "−$4.00". */
export function formatUsdChange(usd: string | null | undefined): string {
  const c = canonical(usd);
  if (c === null) return NONE;
  const text = formatUsd(literal({ ...c, negative: false }));
  const zero = c.int === '0' && !/[1-9]/.test(c.frac);
  return zero ? text : `${c.negative ? '−' : '+'}${text}`;
}

/** Exact integer nano-USD of a decimal USD string (digits past the ninth are truncated toward zero). */
export function usdToNano(usd: string | null | undefined): bigint {
  const c = canonical(usd);
  if (c === null) return 0n;
  const nano = BigInt(c.int) * 1_000_000_000n + BigInt((c.frac + '000000000').slice(0, 9));
  return c.negative ? -nano : nano;
}

/** The decimal USD string of an integer nano-USD amount. */
export function nanoToUsd(nano: bigint): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0');
  return `${negative ? '-' : ''}${abs / 1_000_000_000n}.${frac}`;
}

/** Sorts decimal USD strings exactly (for `Array.prototype.sort`). */
export function compareUsd(a: string | null | undefined, b: string | null | undefined): number {
  const d = usdToNano(a) - usdToNano(b);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

/** A float for chart geometry only: never add, compare or show it as the amount itself. */
export function usdForChart(usd: string | null | undefined): number {
  const c = canonical(usd);
  return c === null ? 0 : Number(literal(c));
}

/** A chart value (already a float) for an axis: "$12.3k", "$1.2M", "$0.05". */
export function formatUsdAxis(value: number): string {
  if (!Number.isFinite(value)) return NONE;
  if (Math.abs(value) < 1 && value !== 0) return compactSmall.format(value);
  return compact.format(value).replace(/K$/, 'k');
}

/** A chart value (already a float) in a tooltip: like `formatUsd`. */
export function formatUsdValue(value: number): string {
  if (!Number.isFinite(value)) return NONE;
  if (value !== 0 && Math.abs(value) < 0.01) return small.format(value);
  return cents.format(value);
}

/** A percentage the API computed: "12.3%", or "+12.3%" with `signed`. */
export function formatPct(value: number | null | undefined, opts: { signed?: boolean } = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const text = `${pct1.format(Math.abs(value))}%`;
  if (value < 0) return `−${text}`;
  return opts.signed && value > 0 ? `+${text}` : text;
}

/** A share given as a fraction (0.8275 → "82.8%"). */
export function formatShare(value: number | null | undefined): string {
  return value === null || value === undefined ? NONE : formatPct(value * 100);
}

/** A count, exact: a number or a decimal integer string ("1234567" → "1,234,567"). */
export function formatCount(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  if (typeof value === 'number') return Number.isFinite(value) ? whole.format(value) : NONE;
  const c = canonical(value);
  return c === null ? NONE : whole.format(literal(c));
}

/** A large count, short: "1.2M tokens" style (no unit added). */
export function formatCountCompact(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? compactCount.format(n) : NONE;
}

/** A plain ratio such as ROI ("11.16×"). */
export function formatRatio(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return NONE;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? `${ratio.format(n)}×` : NONE;
}
