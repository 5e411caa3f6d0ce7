/**
 * Splits the exact cost of a rollup row across its token types. The ledger keeps one cost per call
 * (priced once, rounded once), so the parts are apportioned: weights are units × the model's unit
 * prices, and the rounding remainder goes by largest remainder, so the parts always sum exactly to
 * the row's cost, to the nano-USD.
 */
import type { RollupRow } from '../ledger/chargeback-contract.ts';
import type { Pricer } from '../pricing/index.ts';
import { usage } from '../domain/usage.ts';
import type { Usage } from '../domain/usage.ts';

export const TOKEN_TYPES = ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output', 'requests'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** How people read each type. */
export const TOKEN_TYPE_LABEL: Record<TokenType, string> = {
  input: 'input tokens (uncached)',
  cache_read: 'cache read tokens',
  cache_write_5m: 'cache write tokens (5 min)',
  cache_write_1h: 'cache write tokens (1 h)',
  output: 'output tokens',
  requests: 'requests',
};

/** Unit prices in nano-USD per million units (tokens, or requests) for each type. */
export type Rates = Record<TokenType, bigint> & {
  /** Output tokens spent reasoning, where the catalog prices them apart (else equal to `output`). */
  reasoning: bigint;
};

export interface UnitPrices {
  list: Rates;
  /** After the negotiated discount. */
  effective: Rates;
}

/** What one rollup row consumed and cost. */
export type CostRow = Pick<
  RollupRow,
  'inputTokens' | 'cacheReadTokens' | 'cacheWrite5mTokens' | 'cacheWrite1hTokens' | 'outputTokens' | 'reasoningTokens' | 'requests' | 'listCostNano' | 'effectiveCostNano'
>;

export interface CostPart {
  type: TokenType;
  /** Tokens (or requests) of this type. */
  quantity: bigint;
  listNano: bigint;
  effectiveNano: bigint;
}

/** Input-side probe: below every long-context threshold, so it prices the base tier (rate = cost × 10). */
const INPUT_PROBE = 100_000;
/** Output and request probe: a million units costs exactly the per-million rate. */
const MILLION = 1_000_000;

/**
 * The model's unit prices at `at`, read from the pricer by pricing one bucket at a time. Input-side
 * rates come from a 100k-token probe, so they are exact to 1e-8 $/MTok; a model the pricer cannot
 * price has all rates 0.
 */
export function unitPrices(pricer: Pricer, provider: string, model: string, at: number): UnitPrices {
  const probe = (u: Partial<Usage>, scale: bigint) => {
    const q = pricer.price(provider, model, usage({ requests: 0, ...u }), at);
    return { list: q.listNano * scale, effective: q.effectiveNano * scale };
  };
  const input = probe({ inputTokens: INPUT_PROBE }, 10n);
  const cacheRead = probe({ cacheReadTokens: INPUT_PROBE }, 10n);
  const cw5 = probe({ cacheWrite5mTokens: INPUT_PROBE }, 10n);
  const cw1 = probe({ cacheWrite1hTokens: INPUT_PROBE }, 10n);
  const output = probe({ outputTokens: MILLION }, 1n);
  const reasoning = probe({ outputTokens: MILLION, reasoningTokens: MILLION }, 1n);
  const requests = probe({ requests: MILLION }, 1n);
  const pick = (k: 'list' | 'effective'): Rates => ({
    input: input[k],
    cache_read: cacheRead[k],
    cache_write_5m: cw5[k],
    cache_write_1h: cw1[k],
    output: output[k],
    requests: requests[k],
    reasoning: reasoning[k],
  });
  return { list: pick('list'), effective: pick('effective') };
}

export function quantities(row: Omit<CostRow, 'listCostNano' | 'effectiveCostNano'>): Record<TokenType, bigint> {
  return {
    input: row.inputTokens,
    cache_read: row.cacheReadTokens,
    cache_write_5m: row.cacheWrite5mTokens,
    cache_write_1h: row.cacheWrite1hTokens,
    output: row.outputTokens,
    requests: row.requests,
  };
}

/**
 * The row's list and effective cost split across the six token types (in `TOKEN_TYPES` order),
 * each summing exactly to the row's figure. Weights are units × rate; when every weight is 0 but the
 * cost is not (a model repriced or removed since), the split falls back to token counts, then to
 * requests, so no nano is ever dropped.
 */
export function splitCost(row: CostRow, prices: UnitPrices): CostPart[] {
  const qty = quantities(row);
  const list = apportion(row.listCostNano, fallbackWeights(weights(row, prices.list), row));
  const effective = apportion(row.effectiveCostNano, fallbackWeights(weights(row, prices.effective), row));
  return TOKEN_TYPES.map((type, i) => ({ type, quantity: qty[type], listNano: list[i]!, effectiveNano: effective[i]! }));
}

function weights(row: CostRow, r: Rates): bigint[] {
  const plainOutput = row.outputTokens > row.reasoningTokens ? row.outputTokens - row.reasoningTokens : 0n;
  const reasoning = row.outputTokens > row.reasoningTokens ? row.reasoningTokens : row.outputTokens;
  return [
    row.inputTokens * r.input,
    row.cacheReadTokens * r.cache_read,
    row.cacheWrite5mTokens * r.cache_write_5m,
    row.cacheWrite1hTokens * r.cache_write_1h,
    plainOutput * r.output + reasoning * r.reasoning,
    row.requests * r.requests,
  ];
}

function fallbackWeights(w: bigint[], row: CostRow): bigint[] {
  if (w.some((x) => x > 0n)) return w;
  const tokens = [row.inputTokens, row.cacheReadTokens, row.cacheWrite5mTokens, row.cacheWrite1hTokens, row.outputTokens, 0n];
  if (tokens.some((x) => x > 0n)) return tokens;
  return [0n, 0n, 0n, 0n, 0n, 1n];
}

/**
 * Splits `total` in proportion to `weights` (non-negative, not all 0) so that the parts sum exactly
 * to `total`: each part is rounded toward zero, then the units left over go one each to the largest
 * remainders (ties: the earlier weight). A total of 0 splits to 0s; a negative total splits like
 * its absolute value, negated.
 */
export function apportion(total: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.some((w) => w < 0n)) throw new RangeError('apportion: weights must be non-negative');
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (total === 0n) return weights.map(() => 0n);
  if (sum === 0n) throw new RangeError('apportion: a non-zero total needs a non-zero weight');
  if (total < 0n) return apportion(-total, weights).map((p) => -p);
  const parts = weights.map((w) => (total * w) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  if (left > 0n) {
    const order = weights
      .map((w, i) => ({ i, rem: (total * w) % sum }))
      .filter((x) => weights[x.i]! > 0n)
      .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
    // Fewer units are left than positive weights (each part lost less than one unit).
    for (const { i } of order) {
      if (left === 0n) break;
      parts[i] = parts[i]! + 1n;
      left -= 1n;
    }
  }
  return parts;
}
