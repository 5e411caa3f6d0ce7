import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../ledger/contract.ts';
import { openSqliteStore } from '../ledger/sqlite/sqlite-store.ts';
import { createPricer } from '../pricing/index.ts';
import { seedDemo } from './seed-demo.ts';

const NOW = Date.UTC(2026, 10, 28, 18);
const DAY = 86_400_000;
let store: Store;
let first: Awaited<ReturnType<typeof seedDemo>>;

beforeAll(async () => {
  store = await openSqliteStore(':memory:');
  first = await seedDemo(store, createPricer(), { now: NOW, days: 30, actor: 'test' });
});
afterAll(async () => {
  await store.close();
});

describe('demo history', () => {
  it('is idempotent', async () => {
    expect(first.inserted).toBeGreaterThan(10_000);
    expect((await seedDemo(store, createPricer(), { now: NOW, days: 30, actor: 'test' })).inserted).toBe(0);
  });

  it('is heavy-tailed: one agent burns most of the spend', async () => {
    const rows = await store.ledger.spend({ from: NOW - 30 * DAY, to: NOW + DAY, groupBy: 'agent' });
    const total = rows.reduce((s, r) => s + r.effectiveCostNano, 0n);
    expect(Number((rows[0]!.effectiveCostNano * 100n) / total)).toBeGreaterThan(40);
    expect(Number((rows.at(-1)!.effectiveCostNano * 100n) / total)).toBeLessThan(2);
  });

  it('has a runaway loop: one trace with hundreds of calls in the small hours', async () => {
    const day = Math.floor(NOW / DAY) - 20;
    const loop = await store.ledger.totals({ traceId: `demo-trace-${day}-runaway-test-fixer` });
    expect(loop.calls).toBe(900);
    const night = await store.ledger.totals({ from: day * DAY + 2 * 3_600_000, to: day * DAY + 5 * 3_600_000, within: { tier: 'agent', id: first.chains.get('acme/eng/ci/test-fixer')!.agentId } });
    expect(night.calls).toBeGreaterThanOrEqual(900);
  });

  it('has a prompt-bloat week: the summariser reads about 3× the tokens per call', async () => {
    const id = first.chains.get('acme/support/helpdesk/summariser')!.agentId;
    const today = Math.floor(NOW / DAY);
    const perCall = async (fromDay: number, toDay: number) => {
      const [r] = await store.ledger.spend({ from: fromDay * DAY, to: toDay * DAY, groupBy: 'agent', within: { tier: 'agent', id } });
      return Number(r!.inputTokens + r!.cacheReadTokens) / r!.calls;
    };
    const bloated = await perCall(today - 12, today - 5);
    const normal = await perCall(today - 28, today - 13);
    expect(bloated / normal).toBeGreaterThan(2.3);
    expect(bloated / normal).toBeLessThan(3.8);
  });
});
