/**
 * Money is integer nano-USD (1e-9 USD) held as bigint. Nothing in Tollgate adds floats of dollars:
 * prices are exact integers too (see `PricePerMTok`), and formatting happens only at the edge.
 */
export type Nano = bigint;

export const NANO_PER_USD = 1_000_000_000n;

/**
 * A price in nano-USD per million units (tokens, or requests for per-request fees): $/MTok × 1e9.
 * $3.00/MTok is 3_000_000_000n; $0.0375/MTok is 37_500_000n. Any catalog price with at most
 * nine decimals is exact.
 */
export type PricePerMTok = bigint;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;
/** Digits a parsed value may have: far beyond any amount of money, and small enough that `1e999999999` fails at once instead of building a gigabyte bigint. */
const MAX_DIGITS = 400;

/**
 * Parses a decimal (string or JS number as written in a catalog) into an integer scaled by 10^scale,
 * exactly, without going through float arithmetic. Throws if precision would be lost.
 */
export function parseDecimal(value: string | number, scale: number): bigint {
  const text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(value)}`);
  const [, sign, whole = '0', frac = '', exp = '0'] = m;
  const shift = scale + Number(exp);
  let digits = whole + frac;
  let point = shift - frac.length; // digits × 10^point
  if (point < 0) {
    const dropped = digits.slice(digits.length + point);
    if (/[1-9]/.test(dropped)) {
      throw new RangeError(`${JSON.stringify(value)} has more than ${scale} decimal places`);
    }
    digits = digits.slice(0, digits.length + point) || '0';
    point = 0;
  }
  if (!/[1-9]/.test(digits)) return 0n;
  if (digits.replace(/^0+/, '').length + point > MAX_DIGITS) {
    throw new RangeError(`${JSON.stringify(value)} is out of range (more than ${MAX_DIGITS} digits)`);
  }
  const n = BigInt(digits) * 10n ** BigInt(point);
  return sign ? -n : n;
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  // Number#toString gives the shortest round-trip decimal, e.g. 0.0375 or 1e-7: exactly what was typed.
  return n.toString();
}

/**
 * "$12.50" style price or amount in USD → nano-USD, exactly. Accepts what `formatUsd` prints
 * ("-$1,234.50"); commas must group thousands, so a decimal comma ("$1,50") is refused, not read as 150.
 */
export function usdToNano(usd: string | number): Nano {
  if (typeof usd === 'number') return parseDecimal(usd, 9);
  const text = usd.trim().replace(/^(-?)\$/, '$1');
  if (text.includes(',') && !/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(text)) {
    throw new RangeError(`${JSON.stringify(usd)}: commas must separate thousands, e.g. $1,234.50`);
  }
  return parseDecimal(text.replace(/,/g, '').replace(/(?<=\d)_(?=\d)/g, ''), 9);
}

/** $/MTok as written in a catalog → nano-USD per MTok. */
export function perMTok(usdPerMTok: string | number): PricePerMTok {
  return parseDecimal(usdPerMTok, 9);
}

/** Integer division rounding half away from zero. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const half = denominator / 2n;
  const q = numerator >= 0n ? (numerator + half) / denominator : -((-numerator + half) / denominator);
  return q;
}

/**
 * Formats nano-USD for people. `digits` decimals (default 2, the cents an invoice shows; use 9
 * to show the exact ledger value). Rounds half away from zero.
 */
export function formatUsd(nano: Nano, digits = 2): string {
  if (digits < 0 || digits > 9) throw new RangeError('digits must be 0..9');
  const unit = 10n ** BigInt(9 - digits);
  const rounded = divRound(nano, unit);
  const neg = rounded < 0n;
  const abs = neg ? -rounded : rounded;
  const scale = 10n ** BigInt(digits);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = digits > 0 ? '.' + (abs % scale).toString().padStart(digits, '0') : '';
  return `${neg ? '-' : ''}$${whole}${frac}`;
}

/** Plain decimal string of USD with all nine digits, for JSON and CSV (never a float). */
export function nanoToDecimalString(nano: Nano): string {
  const neg = nano < 0n;
  const abs = neg ? -nano : nano;
  return `${neg ? '-' : ''}${abs / NANO_PER_USD}.${(abs % NANO_PER_USD).toString().padStart(9, '0')}`;
}

/** Sum of bigints (the only way totals are made). */
export function sumNano(values: Iterable<Nano>): Nano {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}
