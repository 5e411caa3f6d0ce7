/**
 * A price sheet compiled to exact integers: one vector of rates per long-context tier, so pricing a
 * usage is a tier pick and seven bigint multiply-adds.
 *
 * Units: token rates are nano-USD per million tokens (`perMTok`), so Σ tokens × rate is a cost in
 * nano-USD × 1e-6; the per-request rate is scaled to that same unit. Rounding happens once, at the end.
 */
import { divRound, parseDecimal, perMTok } from '../domain/money.ts';
import type { PricePerMTok } from '../domain/money.ts';
import type { Usage } from '../domain/usage.ts';

/** A price as written in the catalog or config: $ per unit, or long-context tiers of it. */
export type PriceValue = number | string | TieredValue;
interface TieredValue {
  readonly base: number | string;
  readonly tiers: readonly { readonly start: number; readonly price: number | string }[];
}

/** Price key → value, as in genai-prices' `ModelPrice`. Keys we have no usage for are ignored. */
export type PriceRecord = Readonly<Record<string, PriceValue | undefined>>;

/** The rates one tier charges for each `Usage` bucket. */
export interface Rates {
  readonly input: PricePerMTok;
  readonly cacheRead: PricePerMTok;
  readonly cacheWrite5m: PricePerMTok;
  readonly cacheWrite1h: PricePerMTok;
  /** Output tokens that are not reasoning. */
  readonly output: PricePerMTok;
  readonly reasoning: PricePerMTok;
  /** Per request, in nano-USD × 1e-6 (the unit of `costNumerator`). */
  readonly request: bigint;
}

export interface Tier {
  /** The tier applies when total input tokens are strictly greater than this; 0 for the base tier. */
  readonly start: number;
  readonly rates: Rates;
}

export interface PriceSheet {
  readonly base: Tier;
  /** Long-context tiers, highest start first. */
  readonly longContext: readonly Tier[];
  /**
   * False when the sheet has only keys our usage cannot use (audio hours, document pages): such a
   * model is not priced by it. An empty sheet is the catalog saying "free" and stays usable.
   */
  readonly pricesUsage: boolean;
}

/**
 * Keys that price our `Usage`. Audio/image/video tokens, web searches, pages, characters etc. are
 * ignored: `Usage` has no such fields, so a call's cost for them is not captured here.
 */
const USAGE_KEYS = [
  'input_mtok',
  'cache_read_mtok',
  'cache_write_mtok',
  'cache_write_5m_mtok',
  'cache_write_1h_mtok',
  'output_mtok',
  'output_reasoning_mtok',
  'requests_kcount',
] as const;
type UsageKey = (typeof USAGE_KEYS)[number];

const compiled = new WeakMap<PriceRecord, PriceSheet>();

/** Compiles (once per sheet object) a catalog or config price sheet to integer rates. */
export function compileSheet(prices: PriceRecord): PriceSheet {
  let sheet = compiled.get(prices);
  if (!sheet) {
    sheet = build(prices);
    compiled.set(prices, sheet);
  }
  return sheet;
}

/** The tier a request falls in: a cliff on total input tokens (strictly greater than `start`). */
export function selectTier(sheet: PriceSheet, totalInputTokens: number): Tier {
  for (const tier of sheet.longContext) if (totalInputTokens > tier.start) return tier;
  return sheet.base;
}

/** Σ units × rate in nano-USD × 1e-6, unrounded. Each token is priced exactly once. */
export function costNumerator(r: Rates, u: Usage): bigint {
  return (
    BigInt(u.inputTokens) * r.input +
    BigInt(u.cacheReadTokens) * r.cacheRead +
    BigInt(u.cacheWrite5mTokens) * r.cacheWrite5m +
    BigInt(u.cacheWrite1hTokens) * r.cacheWrite1h +
    BigInt(u.outputTokens - u.reasoningTokens) * r.output +
    BigInt(u.reasoningTokens) * r.reasoning +
    BigInt(u.requests) * r.request
  );
}

function build(prices: PriceRecord): PriceSheet {
  const keys = Object.keys(prices).filter((k) => prices[k] !== undefined);
  const starts = new Set<number>();
  for (const key of USAGE_KEYS) {
    const v = prices[key];
    if (typeof v === 'object') for (const t of v.tiers) starts.add(t.start);
  }
  const longContext = [...starts].sort((a, b) => b - a).map((start) => ({ start, rates: ratesAt(prices, start) }));
  return {
    base: { start: 0, rates: ratesAt(prices, null) },
    longContext,
    pricesUsage: keys.length === 0 || keys.some((k) => (USAGE_KEYS as readonly string[]).includes(k)),
  };
}

/** Rates in force above tier threshold `start` (null: the base tier). */
function ratesAt(prices: PriceRecord, start: number | null): Rates {
  const rate = (key: UsageKey): PricePerMTok | undefined => {
    const v = prices[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object') return toPerMTok(v);
    return toPerMTok(start === null ? v.base : priceAbove(v, start));
  };
  const input = rate('input_mtok') ?? 0n;
  const cacheWrite = rate('cache_write_mtok');
  const output = rate('output_mtok') ?? 0n;
  const requestsK = rate('requests_kcount');
  return {
    input,
    cacheRead: rate('cache_read_mtok') ?? input,
    cacheWrite5m: rate('cache_write_5m_mtok') ?? cacheWrite ?? input,
    cacheWrite1h: rate('cache_write_1h_mtok') ?? cacheWrite ?? input,
    output,
    reasoning: rate('output_reasoning_mtok') ?? output,
    // $/1000 requests → nano per request × 1e6 = perMTok(x) × 1000.
    request: requestsK === undefined ? 0n : requestsK * 1000n,
  };
}

/** A key's own tier applies in every interval at or above its start (total > start holds there too). */
function priceAbove(v: TieredValue, start: number): number | string {
  let price = v.base;
  let best = -1;
  for (const t of v.tiers) {
    if (t.start <= start && t.start > best) {
      best = t.start;
      price = t.price;
    }
  }
  return price;
}

/** Digits kept beyond the nano before rounding a catalog float artefact. */
const EXTRA_DIGITS = 30;

/**
 * $/MTok → nano-USD per MTok, exact when the price has at most nine decimals (every config price:
 * the schema insists). A few catalog prices are float artefacts (0.18000000000000002, 1/12 as
 * 0.08333333333333334): those are rounded half away from zero to the nano per MTok.
 */
export function toPerMTok(value: number | string): PricePerMTok {
  try {
    return perMTok(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  return divRound(parseDecimal(value, 9 + EXTRA_DIGITS), 10n ** BigInt(EXTRA_DIGITS));
}
