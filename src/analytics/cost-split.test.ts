import { describe, expect, it } from 'vitest';
import { seededRandom } from '../domain/seeded-random.ts';
import { createPricer } from '../pricing/index.ts';
import type { CostRow, UnitPrices } from './cost-split.ts';
import { apportion, splitCost, TOKEN_TYPES, unitPrices } from './cost-split.ts';

const AT = Date.UTC(2026, 9, 15);
const SONNET = unitPrices(createPricer(), 'anthropic', 'claude-sonnet-4-5-20250929', AT);
const row = (over: Partial<CostRow>): CostRow => ({
  inputTokens: 0n,
  cacheReadTokens: 0n,
  cacheWrite5mTokens: 0n,
  cacheWrite1hTokens: 0n,
  outputTokens: 0n,
  reasoningTokens: 0n,
  requests: 0n,
  listCostNano: 0n,
  effectiveCostNano: 0n,
  ...over,
});
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

describe('apportion', () => {
  it('gives the leftover units to the largest remainders, ties to the earlier weight', () => {
    expect(apportion(10n, [1n, 1n, 1n])).toEqual([4n, 3n, 3n]);
    // 7 × 2/9 = 1.56, 7 × 3/9 = 2.33, 7 × 4/9 = 3.11: floors 1+2+3 = 6, the one left goes to 1.56.
    expect(apportion(7n, [2n, 3n, 4n])).toEqual([2n, 2n, 3n]);
    expect(apportion(-10n, [1n, 1n, 1n])).toEqual([-4n, -3n, -3n]);
    expect(apportion(5n, [0n, 3n, 0n])).toEqual([0n, 5n, 0n]);
  });

  it('splits 0 to 0s, and refuses a non-zero total without weight', () => {
    expect(apportion(0n, [0n, 0n])).toEqual([0n, 0n]);
    expect(apportion(0n, [5n, 1n])).toEqual([0n, 0n]);
    expect(() => apportion(1n, [0n, 0n])).toThrow(RangeError);
    expect(() => apportion(1n, [-1n, 2n])).toThrow(RangeError);
  });

  it('sums exactly on awkward numbers, each part within one unit of its exact share', () => {
    const next = seededRandom(42);
    const rnd = { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo)) };
    for (let n = 0; n < 500; n++) {
      const total = BigInt(rnd.int(0, 2 ** 31)) * BigInt(rnd.int(1, 2 ** 20)) + BigInt(rnd.int(0, 999));
      const weights: bigint[] = Array.from({ length: rnd.int(1, 7) }, () => (rnd.next() < 0.3 ? 0n : BigInt(rnd.int(1, 2 ** 40))));
      if (!weights.some((w) => w > 0n)) weights[0] = 1n;
      const parts = apportion(total, weights);
      expect(sum(parts)).toBe(total);
      const w = sum(weights);
      parts.forEach((p, i) => {
        const exactTimesW = total * weights[i]!;
        // |p − total·wᵢ/W| < 1  ⇔  |p·W − total·wᵢ| < W
        const diff = p * w - exactTimesW;
        expect(diff < w && -diff < w).toBe(true);
      });
    }
  });
});

describe('unitPrices', () => {
  it('reads each bucket\'s rate from the pricer, in nano-USD per million', () => {
    expect(SONNET.list).toEqual({
      input: 3_000_000_000n,
      cache_read: 300_000_000n,
      cache_write_5m: 3_750_000_000n,
      cache_write_1h: 6_000_000_000n,
      output: 15_000_000_000n,
      reasoning: 15_000_000_000n,
      requests: 0n,
    });
    expect(SONNET.effective).toEqual(SONNET.list);
    const unknown = unitPrices(createPricer(), 'nobody', 'no-such-model', AT);
    expect(Object.values(unknown.list).every((r) => r === 0n)).toBe(true);
  });
});

describe('splitCost', () => {
  it('splits a row by tokens × rate, exactly', () => {
    // 1000 input at $3/M = $0.003, 200 output at $15/M = $0.003: list $0.006, effective 20% off.
    const parts = splitCost(row({ inputTokens: 1000n, outputTokens: 200n, requests: 1n, listCostNano: 6_000_000n, effectiveCostNano: 4_800_000n }), SONNET);
    expect(parts.map((p) => p.type)).toEqual([...TOKEN_TYPES]);
    expect(parts.map((p) => [p.quantity, p.listNano, p.effectiveNano])).toEqual([
      [1000n, 3_000_000n, 2_400_000n],
      [0n, 0n, 0n],
      [0n, 0n, 0n],
      [0n, 0n, 0n],
      [200n, 3_000_000n, 2_400_000n],
      [1n, 0n, 0n],
    ]);
  });

  it('keeps sums exact when the row cost does not match the weights (long-context tiers, price changes, rounding per call)', () => {
    // Weights: 7 × 3000 = 21 000, 3 × 300 = 900, 11 × 15 000 = 165 000 (per million); total 186 900.
    const r = row({ inputTokens: 7n, cacheReadTokens: 3n, outputTokens: 11n, listCostNano: 1_000_000_007n, effectiveCostNano: 13n });
    const parts = splitCost(r, SONNET);
    expect(sum(parts.map((p) => p.listNano))).toBe(1_000_000_007n);
    expect(sum(parts.map((p) => p.effectiveNano))).toBe(13n);
    // 13 × 21000/186900 = 1.46, × 900/186900 = 0.06, × 165000/186900 = 11.48: floors 1+0+11, the last unit to 0.48.
    expect(parts.map((p) => p.effectiveNano)).toEqual([1n, 0n, 0n, 0n, 12n, 0n]);
  });

  it('puts a one-bucket row all in that bucket', () => {
    const parts = splitCost(row({ cacheWrite1hTokens: 12_345n, listCostNano: 74_070_001n, effectiveCostNano: 74_070_001n }), SONNET);
    expect(parts.map((p) => p.listNano)).toEqual([0n, 0n, 0n, 74_070_001n, 0n, 0n]);
  });

  it('splits an unpriced row (cost 0) to 0, and a row of a model no longer priced by token counts', () => {
    expect(splitCost(row({ inputTokens: 500n, outputTokens: 20n, requests: 3n }), SONNET).every((p) => p.listNano === 0n && p.effectiveNano === 0n)).toBe(true);
    const none: UnitPrices = { list: { ...SONNET.list, input: 0n, cache_read: 0n, cache_write_5m: 0n, cache_write_1h: 0n, output: 0n, reasoning: 0n }, effective: SONNET.list };
    const parts = splitCost(row({ inputTokens: 3n, outputTokens: 1n, requests: 1n, listCostNano: 10n, effectiveCostNano: 10n }), { list: none.list, effective: none.list });
    expect(parts.map((p) => p.listNano)).toEqual([8n, 0n, 0n, 0n, 2n, 0n]);
    // No tokens at all: the cost stays on the requests.
    expect(splitCost(row({ requests: 2n, listCostNano: 5n, effectiveCostNano: 5n }), { list: none.list, effective: none.list }).map((p) => p.listNano)).toEqual([0n, 0n, 0n, 0n, 0n, 5n]);
  });

  it('prices reasoning tokens at the reasoning rate', () => {
    const prices: UnitPrices = { list: { ...SONNET.list, reasoning: 30_000_000_000n }, effective: SONNET.list };
    // 10 plain output × 15 + 10 reasoning × 30 = 450 vs 10 input × 3 = 30: 45 nano split 42.19 / 2.81.
    const parts = splitCost(row({ inputTokens: 10n, outputTokens: 20n, reasoningTokens: 10n, listCostNano: 45n, effectiveCostNano: 45n }), prices);
    expect(parts.map((p) => p.listNano)).toEqual([3n, 0n, 0n, 0n, 42n, 0n]);
  });
});
