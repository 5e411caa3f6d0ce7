/**
 * What price-change detection reads: per provider, model and UTC day, the tokens used, what they
 * cost, and what the catalog's list price says the same usage costs. Two sources feed it:
 *
 *   - the ledger: each call's recorded effective cost against today's catalog list price for the
 *     same usage at the call's own timestamp (exact, per call, long-context tiers included);
 *   - a provider's cost report (`CostReportRow`, the normalised shape importers produce): daily
 *     sums, so priced at the catalog's base-tier unit rates for the day.
 */
import { TollgateError } from '../domain/errors.ts';
import { divRound } from '../domain/money.ts';
import { totalInputTokens } from '../domain/usage.ts';
import type { Store } from '../ledger/contract.ts';
import type { Pricer } from '../pricing/index.ts';
import { unitPrices } from './cost-split.ts';
import { DAY_MS } from './unit-period.ts';

/** One provider/model/day of a provider's cost report, normalised. Token counts are disjoint buckets. */
export interface CostReportRow {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  provider: string;
  model: string;
  /** Input tokens at the full input rate (not cached). */
  input_tokens: bigint;
  output_tokens: bigint;
  cache_read_tokens?: bigint;
  /** Tokens written to the prompt cache (5-minute rate). */
  cache_write_tokens?: bigint;
  /** What the provider billed for them, nano-USD. */
  cost_nano: bigint;
}

/** One provider/model/day as the detector sees it. */
export interface DailyUsage {
  /** UTC midnight, epoch ms. */
  day: number;
  provider: string;
  model: string;
  tokens: bigint;
  /** What was paid. */
  costNano: bigint;
  /** What the catalog's list price says the same usage costs. */
  catalogNano: bigint;
}

const MILLION = 1_000_000n;

/** Report rows → daily usage, each row priced at the catalog's list rates of its day. */
export function fromCostReport(rows: readonly CostReportRow[], pricer: Pricer): DailyUsage[] {
  return rows.map((r, i) => {
    const day = Date.parse(`${r.day}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(r.day) || Number.isNaN(day)) throw new TollgateError('invalid_request', `cost report row ${i + 1}: day ${JSON.stringify(r.day)} is not a date like 2026-11-01`);
    const rates = unitPrices(pricer, r.provider, r.model, day).list;
    const read = r.cache_read_tokens ?? 0n;
    const write = r.cache_write_tokens ?? 0n;
    const weighted = r.input_tokens * rates.input + read * rates.cache_read + write * rates.cache_write_5m + r.output_tokens * rates.output;
    return { day, provider: r.provider, model: r.model, tokens: r.input_tokens + read + write + r.output_tokens, costNano: r.cost_nano, catalogNano: divRound(weighted, MILLION) };
  });
}

/** The ledger's calls in [from, to) → daily usage per provider and served model. */
export async function fromLedger(store: Store, pricer: Pricer, window: { from: number; to: number }): Promise<DailyUsage[]> {
  const days = new Map<string, DailyUsage>();
  for await (const batch of store.ledger.scan({ from: window.from, to: window.to })) {
    for (const e of batch) {
      const day = Math.floor(e.startedAt / DAY_MS) * DAY_MS;
      const key = `${day}\u0000${e.provider}\u0000${e.servedModel}`;
      let d = days.get(key);
      if (!d) days.set(key, (d = { day, provider: e.provider, model: e.servedModel, tokens: 0n, costNano: 0n, catalogNano: 0n }));
      d.tokens += BigInt(totalInputTokens(e.usage) + e.usage.outputTokens);
      d.costNano += e.effectiveCostNano;
      d.catalogNano += pricer.price(e.provider, e.servedModel, e.usage, e.startedAt).listNano;
    }
  }
  return [...days.values()];
}
