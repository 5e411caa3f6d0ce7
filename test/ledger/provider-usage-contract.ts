/**
 * The ProviderUsage contract (provider reports stored per day and group, an import replacing the
 * days it covers; the ledger's daily side per provider and model), run against every backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usage } from '../../src/domain/usage.ts';
import type { Store } from '../../src/ledger/contract.ts';
import type { ProviderUsageImport, ProviderUsageRow } from '../../src/ledger/provider-usage-contract.ts';
import { chainOf, makeEvent } from '../support/events.ts';

export interface ProviderUsageContractOptions {
  name: string;
  open: () => Promise<Store>;
  dispose?: () => Promise<void>;
}

const DAY = 86_400_000;
const D1 = Date.UTC(2026, 10, 3);
const D2 = D1 + DAY;
const D3 = D2 + DAY;

function row(over: Partial<ProviderUsageRow>): ProviderUsageRow {
  return {
    provider: 'anthropic',
    source: 'usage',
    day: D1,
    model: 'claude-sonnet-4-20250514',
    apiKeyId: 'apikey_1',
    projectId: 'wrkspc_1',
    detail: '',
    inputTokens: 1000n,
    cacheReadTokens: 0n,
    cacheWrite5mTokens: 0n,
    cacheWrite1hTokens: 0n,
    outputTokens: 100n,
    requests: 0n,
    costNano: null,
    ...over,
  };
}

export function runProviderUsageContract(opts: ProviderUsageContractOptions): void {
  describe(`provider usage contract: ${opts.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await opts.open();
    });
    afterAll(async () => {
      await store?.close();
      await opts.dispose?.();
    });

    it('stores rows with exact bigints and reads them back by window and provider', async () => {
      const big = 9_000_000_000_000_000_123n;
      const batch: ProviderUsageImport = {
        provider: 'anthropic',
        days: { usage: [D1, D2], cost: [D1] },
        rows: [row({}), row({ day: D2, outputTokens: 7n }), row({ source: 'cost', apiKeyId: '', detail: 'output', costNano: big, inputTokens: 0n, outputTokens: 0n })],
      };
      const res = await store.providerUsage.import(batch, 1);
      expect(res).toMatchObject({ rows: 3, replaced: 0 });
      expect(res.importId).toMatch(/^pui_/);
      const rows = await store.providerUsage.rows({ from: D1, to: D3 });
      expect(rows).toHaveLength(3);
      expect(rows.find((r) => r.source === 'cost')).toEqual(row({ source: 'cost', apiKeyId: '', detail: 'output', costNano: big, inputTokens: 0n, outputTokens: 0n }));
      expect(await store.providerUsage.rows({ from: D2, to: D2 + 1 })).toEqual([row({ day: D2, outputTokens: 7n })]);
      expect(await store.providerUsage.rows({ from: D1, to: D3, provider: 'openai' })).toEqual([]);
    });

    it('an import replaces the days and sources it covers, and only those', async () => {
      const again = await store.providerUsage.import({ provider: 'anthropic', days: { usage: [D1], cost: [] }, rows: [row({ inputTokens: 5n })] }, 2);
      expect(again).toMatchObject({ rows: 1, replaced: 1 });
      const rows = await store.providerUsage.rows({ from: D1, to: D3 });
      expect(rows.map((r) => [r.day, r.source, r.inputTokens])).toEqual([
        [D1, 'cost', 0n],
        [D1, 'usage', 5n],
        [D2, 'usage', 1000n],
      ]);
      // A covered day with no rows (an empty bucket) clears that day.
      expect(await store.providerUsage.import({ provider: 'anthropic', days: { usage: [D2], cost: [] }, rows: [] }, 3)).toMatchObject({ rows: 0, replaced: 1 });
      expect(await store.providerUsage.rows({ from: D2, to: D3 })).toEqual([]);
    });

    it('refuses rows outside the days the import covers, and duplicate groups within one import', async () => {
      await expect(store.providerUsage.import({ provider: 'anthropic', days: { usage: [D1], cost: [] }, rows: [row({ day: D2 })] }, 4)).rejects.toThrow('a day its import does not cover');
      await expect(store.providerUsage.import({ provider: 'anthropic', days: { usage: [D3], cost: [] }, rows: [row({ day: D3 }), row({ day: D3 })] }, 4)).rejects.toThrow('row 2 repeats the group of row 1');
      // The failed import left nothing behind.
      expect(await store.providerUsage.rows({ from: D3, to: D3 + DAY })).toEqual([]);
    });

    it('reads the ledger per UTC day, provider and served model from the daily rollups', async () => {
      const chain = chainOf('acme/support/helpdesk/bot');
      await store.ledger.record([
        makeEvent(chain, { startedAt: D1 + 3_600_000, provider: 'openai', servedModel: 'gpt-4o-2024-08-06', usage: usage({ inputTokens: 10, cacheReadTokens: 2, outputTokens: 3 }), listCostNano: 100n, effectiveCostNano: 90n }),
        makeEvent(chain, { startedAt: D1 + 7_200_000, provider: 'openai', servedModel: 'gpt-4o-2024-08-06', usage: usage({ inputTokens: 20, outputTokens: 4 }), listCostNano: 200n, effectiveCostNano: 180n }),
        makeEvent(chain, { startedAt: D2 + 60_000, provider: 'anthropic', servedModel: 'claude-sonnet-4-20250514', usage: usage({ inputTokens: 5, cacheWrite1hTokens: 7, outputTokens: 1 }), listCostNano: 50n, effectiveCostNano: 50n }),
      ]);
      const days = await store.providerUsage.ledgerDays({ from: D1, to: D3 });
      expect(days).toEqual([
        { provider: 'openai', model: 'gpt-4o-2024-08-06', day: D1, calls: 2n, inputTokens: 30n, cacheReadTokens: 2n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 7n, listCostNano: 300n, effectiveCostNano: 270n },
        { provider: 'anthropic', model: 'claude-sonnet-4-20250514', day: D2, calls: 1n, inputTokens: 5n, cacheReadTokens: 0n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 7n, outputTokens: 1n, listCostNano: 50n, effectiveCostNano: 50n },
      ]);
      expect(await store.providerUsage.ledgerDays({ from: D1, to: D3, provider: 'anthropic' })).toHaveLength(1);
      // Windows round out to whole UTC days.
      expect(await store.providerUsage.ledgerDays({ from: D2 + 5, to: D2 + 6 })).toHaveLength(1);
    });
  });
}
