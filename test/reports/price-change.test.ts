/**
 * Price-change detection on provider cost reports and on the ledger: it fires on an injected change
 * (and says when, how much, and that the catalog did not move), and stays quiet on volume growth, on
 * a shift between input and output, on a lone odd day, and on a price change the catalog dates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectPriceChanges, priceChangeFinding } from '../../src/analytics/price-change.ts';
import { fromCostReport, fromLedger } from '../../src/analytics/price-change-input.ts';
import type { CostReportRow } from '../../src/analytics/price-change-input.ts';
import { usage } from '../../src/domain/usage.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { createPricer, pricingConfigSchema } from '../../src/pricing/index.ts';
import { chainOf, makeEvent } from '../support/events.ts';

const pricer = createPricer();
const day = (d: number, month = 10, year = 2026) => `${year}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** Sonnet at $3 in / $15 out: `k` MTok in and k/10 MTok out cost k × $4.50 at list. */
function sonnetRow(d: number, k: bigint, paidPct: bigint, over: Partial<CostReportRow> = {}): CostReportRow {
  return { day: day(d), provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: k * 1_000_000n, output_tokens: k * 100_000n, cost_nano: (k * 4_500_000_000n * paidPct) / 100n, ...over };
}

const detect = (rows: CostReportRow[], opts = {}) => detectPriceChanges(fromCostReport(rows, pricer), pricer, opts);

describe('on a provider cost report', () => {
  it('fires when the paid price moves and the catalog does not, with the evidence', () => {
    // Ten days at 80% of list while volume grows; from Oct 6 the provider bills list price.
    const rows = Array.from({ length: 10 }, (_, i) => sonnetRow(i + 1, BigInt(i + 1), i + 1 >= 6 ? 100n : 80n));
    const { changes, trends } = detect(rows);
    expect(changes).toHaveLength(1);
    const c = changes[0]!;
    expect(c).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', since: Date.UTC(2026, 9, 6), changeBp: 2500, catalogMoved: false });
    expect(c.before).toMatchObject({ days: 5, indexBp: 8000 });
    expect(c.after).toMatchObject({ days: 5, indexBp: 10_000 });
    // $3.6 and $4.5 per 1.1 MTok before and after. After-days: 6..10 → 40 × $4.50 = $180 at list, $144 at the old level: +$36 over 5 days = +$216 per 30.
    expect(c.impactNanoPer30Days).toBe(216_000_000_000n);
    const f = priceChangeFinding(c);
    expect(f.title).toBe('anthropic/claude-sonnet-4-5: effective price +25.0% since 2026-10-06, catalog unchanged');
    expect(f.key).toBe('price_change:anthropic/claude-sonnet-4-5:2026-10-06');
    expect(f.summary).toContain('Paid 80.0% of the catalog list price from 2026-10-01 to 2026-10-05, 100.0% since 2026-10-06 (5 days)');
    expect(f.evidence).toMatchObject({ since: '2026-10-06', paid_vs_catalog_before_pct: 80, paid_vs_catalog_after_pct: 100, catalog_moved: false, unit_price_before: '$3.2727/MTok', unit_price_after: '$4.0909/MTok' });
    expect(trends[0]?.days).toHaveLength(10);
  });

  it('does not fire on volume growth alone', () => {
    const rows = Array.from({ length: 20 }, (_, i) => sonnetRow(i + 1, BigInt(1 + i * i), 80n));
    expect(detect(rows).changes).toEqual([]);
  });

  it('does not fire when the mix shifts from input to output at unchanged prices', () => {
    const rows = Array.from({ length: 10 }, (_, i) => {
      const input = i < 5 ? 9_000_000n : 1_000_000n;
      const output = i < 5 ? 100_000n : 2_000_000n;
      return { day: day(i + 1), provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: input, output_tokens: output, cost_nano: input * 3_000n + output * 15_000n };
    });
    const { changes, trends } = detect(rows);
    expect(changes).toEqual([]);
    // The unit price per raw token did move a lot: the paid-to-catalog index did not.
    expect(new Set(trends[0]?.days.map((d) => d.indexBp))).toEqual(new Set([10_000]));
  });

  it('does not fire on a price change the catalog dates (o3 cut from $10/$40 to $2/$8 on 2025-06-10)', () => {
    const o3 = (d: number, paidAtOld: boolean): CostReportRow => {
      const after = d >= 10;
      const [inRate, outRate] = after && !paidAtOld ? [2_000n, 8_000n] : [10_000n, 40_000n];
      return { day: day(d, 6, 2025), provider: 'openai', model: 'o3', input_tokens: 1_000_000n, output_tokens: 250_000n, cost_nano: 1_000_000n * inRate + 250_000n * outRate };
    };
    const followed = Array.from({ length: 10 }, (_, i) => o3(i + 5, false));
    expect(detect(followed).changes).toEqual([]);
    // A bill that did not follow the catalog's cut is a finding, and says the catalog moved.
    const stale = Array.from({ length: 10 }, (_, i) => o3(i + 5, true));
    const { changes } = detect(stale);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ since: Date.UTC(2025, 5, 10), changeBp: 40_000, catalogMoved: true });
    expect(changes[0]!.catalogRates).toEqual({ before: { input: 10_000_000_000n, output: 40_000_000_000n }, after: { input: 2_000_000_000n, output: 8_000_000_000n } });
    expect(priceChangeFinding(changes[0]!).title).toContain("against the catalog's own price change since 2025-06-10");
  });

  it('ignores a lone odd day, and waits for min-days to confirm a new level', () => {
    const blip = Array.from({ length: 10 }, (_, i) => sonnetRow(i + 1, 3n, i === 4 ? 120n : 100n));
    expect(detect(blip).changes).toEqual([]);
    const lastDay = Array.from({ length: 10 }, (_, i) => sonnetRow(i + 1, 3n, i === 9 ? 110n : 100n));
    expect(detect(lastDay).changes).toEqual([]);
    expect(detect(lastDay, { minDays: 1 }).changes.map((c) => c.since)).toEqual([Date.UTC(2026, 9, 10)]);
    // Within the band (±2% by default) is no change; a wider move is.
    const small = Array.from({ length: 10 }, (_, i) => sonnetRow(i + 1, 3n, i >= 5 ? 101n : 100n));
    expect(detect(small).changes).toEqual([]);
    expect(detect(small, { toleranceBp: 50 }).changes).toHaveLength(1);
  });
});

describe('on the ledger', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-price-change-'));
  let store: Store;
  beforeAll(async () => {
    store = await openSqliteStore(join(root, 'ledger.db'));
  });
  afterAll(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('fires when the negotiated discount ends, not while volume grows, not across a catalog-dated change', async () => {
    // Anthropic 20% off until Oct 8; calls grow every day. o3 calls across its dated cut, priced as recorded.
    const discounted = createPricer(pricingConfigSchema.parse({ discounts: [{ provider: 'anthropic', percent: 20, from: '2026-01-01', until: '2026-10-08' }] }));
    const chain = chainOf('acme/support/helpdesk/bot');
    const events = [];
    for (let d = 1; d <= 12; d++) {
      for (let n = 0; n < d; n++) {
        const at = Date.UTC(2026, 9, d, 10, n);
        const u = usage({ inputTokens: 20_000 + 1000 * n, cacheReadTokens: 5000, outputTokens: 800 });
        const q = discounted.price('anthropic', 'claude-sonnet-4-5', u, at);
        events.push(makeEvent(chain, { startedAt: at, provider: 'anthropic', servedModel: 'claude-sonnet-4-5', usage: u, listCostNano: q.listNano, effectiveCostNano: q.effectiveNano }));
      }
      const at = Date.UTC(2025, 5, d, 10);
      const u = usage({ inputTokens: 200_000 * d, outputTokens: 50_000 });
      const q = pricer.price('openai', 'o3', u, at);
      events.push(makeEvent(chain, { startedAt: at, provider: 'openai', servedModel: 'o3', usage: u, listCostNano: q.listNano, effectiveCostNano: q.effectiveNano }));
    }
    await store.ledger.record(events);
    const rows = [
      ...(await fromLedger(store, pricer, { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 9, 13) })),
      ...(await fromLedger(store, pricer, { from: Date.UTC(2025, 5, 1), to: Date.UTC(2025, 5, 13) })),
    ];
    const { changes, trends } = detectPriceChanges(rows, pricer, { minCatalogNano: 1n });
    expect(trends.map((t) => `${t.provider}/${t.model}`)).toEqual(['anthropic/claude-sonnet-4-5', 'openai/o3']);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ model: 'claude-sonnet-4-5', since: Date.UTC(2026, 9, 8), catalogMoved: false, before: { indexBp: 8000 }, after: { indexBp: 10_000 } });
  });
});
