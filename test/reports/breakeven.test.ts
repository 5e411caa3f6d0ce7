/**
 * Break-even arithmetic against figures worked by hand: monthly scaling (730 h), GPUs paid busy or
 * idle, people, capacity at a utilisation, the break-even volume, growing the fleet, and the case
 * where no fleet ever pays. Then the ledger read: a model's dated snapshots count as the model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiUsageOf, breakeven } from '../../src/analytics/breakeven.ts';
import type { SelfHost } from '../../src/analytics/breakeven.ts';
import { usage } from '../../src/domain/usage.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { chainOf, makeEvent } from '../support/events.ts';

const USD = 1_000_000_000n;
const DAY_MS = 86_400_000;

/** 8 × $4.50/h, 2,500 tokens/s a GPU at 40 %, 1.5 people at $220,000. */
const fleet: SelfHost = { gpuHourlyNano: 4_500_000_000n, gpus: 8n, tokensPerSecond: 2500n, utilisationBp: 4000n, opsHeadcountCenti: 150n, salaryNano: 220_000n * USD };

describe('breakeven', () => {
  it('prices the deployment and finds the volume where the API costs as much', () => {
    // 30 days: 1,000M tokens for $3,000 ($3/MTok). Monthly: × 730/720 → 1,013,888,889 tokens, $3,041.666666667.
    const b = breakeven({ calls: 1, tokens: 1_000_000_000n, costNano: 3_000n * USD, windowMs: 30 * DAY_MS }, fleet);
    expect(b.api).toEqual({ monthlyTokens: 1_013_888_889n, monthlyCostNano: 3_041_666_666_667n, perMTokNano: 3n * USD });
    // GPUs 8 × 4.50 × 730 = $26,280 (idle hours included); people 1.5 × 220,000 / 12 = $27,500.
    expect(b.selfHost).toMatchObject({ gpuNano: 26_280n * USD, peopleNano: 27_500n * USD, totalNano: 53_780n * USD });
    // 2,500 × 0.4 × 2,628,000 s = 2,628,000,000 a GPU; × 8 = 21,024,000,000.
    expect(b.selfHost.capacityTokens).toBe(21_024_000_000n);
    expect(b.selfHost.perGpu).toEqual({ monthlyNano: 3_285n * USD, capacityTokens: 2_628_000_000n, apiValueNano: 7_884n * USD });
    expect(b.fits).toBe(true);
    // $53,780 at $3/MTok = 17,926,666,666.67 → 17,926,666,667 tokens, within 21,024M.
    expect(b.breakevenTokens).toBe(17_926_666_667n);
    expect(b.breakevenFits).toBe(true);
    expect(b.apiSavesNano).toBe(53_780n * USD - 3_041_666_666_667n);
    // Growing the fleet: one GPU's capacity is worth $7,884 against $3,285: margin $4,599 a GPU; $27,500 of people
    // needs ⌈27,500 / 4,599⌉ = 6 GPUs, paying from (6 × 3,285 + 27,500) / 3 × 1e6 = 15,736,666,667 tokens.
    expect(b.atScale).toEqual({ gpus: 6n, tokens: 15_736_666_667n });
  });

  it('says when the volume does not fit, and when no fleet pays', () => {
    // $0.50/MTok: one GPU's 2,628M tokens are worth $1,314 < $3,285 for the GPU.
    const cheap = breakeven({ calls: 1, tokens: 50_000_000_000n, costNano: 25_000n * USD, windowMs: 30 * DAY_MS }, fleet);
    expect(cheap.fits).toBe(false);
    expect(cheap.breakevenTokens).toBe(107_560_000_000n);
    expect(cheap.breakevenFits).toBe(false);
    expect(cheap.atScale).toBeNull();
  });

  it('a people-free fleet pays from its first GPU once the API price is above the GPU\'s cost per token', () => {
    const b = breakeven({ calls: 1, tokens: 1_000_000_000n, costNano: 3_000n * USD, windowMs: 30 * DAY_MS }, { ...fleet, opsHeadcountCenti: 0n });
    // $26,280 / $3 per MTok = 8,760M; one GPU pays from $3,285 / $3 per MTok = 1,095M.
    expect(b.breakevenTokens).toBe(8_760_000_000n);
    expect(b.atScale).toEqual({ gpus: 1n, tokens: 1_095_000_000n });
  });

  it('refuses a model with no priced usage', () => {
    expect(() => breakeven({ calls: 3, tokens: 0n, costNano: 0n, windowMs: DAY_MS }, fleet)).toThrow(/no priced tokens/);
  });
});

describe('apiUsageOf', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-breakeven-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads the model and its dated snapshots from the rollups, nothing else', async () => {
    const store = await openSqliteStore(join(root, 'ledger.db'));
    try {
      const chain = chainOf('acme/eng/ci/bot');
      const at = Date.UTC(2026, 9, 10);
      await store.ledger.record([
        makeEvent(chain, { startedAt: at, servedModel: 'claude-sonnet-4-5', usage: usage({ inputTokens: 1000, cacheReadTokens: 500, outputTokens: 200 }), effectiveCostNano: 7n }),
        makeEvent(chain, { startedAt: at, servedModel: 'claude-sonnet-4-5-20250929', usage: usage({ inputTokens: 100, outputTokens: 10 }), effectiveCostNano: 5n }),
        makeEvent(chain, { startedAt: at, servedModel: 'claude-haiku-4-5', usage: usage({ inputTokens: 9999, outputTokens: 9999 }), effectiveCostNano: 1000n }),
      ]);
      const u = await apiUsageOf(store, 'claude-sonnet-4-5', { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) });
      expect(u).toEqual({ models: ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'], calls: 2, tokens: 1810n, costNano: 12n, windowMs: 31 * DAY_MS });
      await expect(apiUsageOf(store, 'gpt-4o', { from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) })).rejects.toThrow(/no calls to gpt-4o in this window; models used: claude-haiku-4-5, claude-sonnet-4-5, claude-sonnet-4-5-20250929/);
    } finally {
      await store.close();
    }
  });
});
