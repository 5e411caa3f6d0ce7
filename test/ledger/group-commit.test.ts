import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger, LedgerEvent, Store } from '../../src/ledger/contract.ts';
import { GroupCommitter } from '../../src/ledger/group-commit.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import { chainOf, makeEvent } from '../support/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-gc-'));
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(dir, 'gc.db'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts transactions by wrapping the real ledger. */
function counting(ledger: Ledger): Ledger & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    record: (events) => {
      batches.push(events.length);
      return ledger.record(events);
    },
    spend: (q) => ledger.spend(q),
    series: (q) => ledger.series(q),
    get: (id) => ledger.get(id),
    events: (q) => ledger.events(q),
    totals: (q) => ledger.totals(q),
    scan: (q) => ledger.scan(q),
  };
}

describe('GroupCommitter', () => {
  it('commits 1000 concurrent single-row callers in a handful of transactions, every row once', async () => {
    const ledger = counting(store.ledger);
    const gc = new GroupCommitter(ledger, { maxBatch: 300, maxDelayMs: 5 });
    const c = chainOf('gc/t/p/a');
    const events = Array.from({ length: 1000 }, (_, i) => makeEvent(c, { listCostNano: BigInt(i), effectiveCostNano: BigInt(i) }));
    await Promise.all(events.map((e) => gc.record(e)));
    expect(ledger.batches.reduce((s, n) => s + n, 0)).toBe(1000);
    expect(ledger.batches.length).toBeLessThanOrEqual(6);
    expect(Math.max(...ledger.batches)).toBeLessThanOrEqual(300);
    const t = await store.ledger.totals({ within: { tier: 'org', id: c.orgId } });
    expect(t).toEqual({ calls: 1000, listCostNano: 499_500n, effectiveCostNano: 499_500n });
    await gc.close();
  });

  it('by default writes at once when idle and batches what arrives meanwhile', async () => {
    const ledger = counting(store.ledger);
    const gc = new GroupCommitter(ledger, { maxBatch: 400 });
    const c = chainOf('gc-now/t/p/a');
    await gc.record(makeEvent(c));
    expect(ledger.batches).toEqual([1]);
    await Promise.all(Array.from({ length: 1000 }, () => gc.record(makeEvent(c))));
    expect(ledger.batches.slice(1)).toEqual([400, 400, 200]);
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(1001);
    await gc.close();
  });

  it('resolves only after the row is committed', async () => {
    const gc = new GroupCommitter(store.ledger, { maxDelayMs: 20 });
    const c = chainOf('gc2/t/p/a');
    const e = makeEvent(c);
    const p = gc.record(e);
    expect(gc.pending).toBe(1);
    await p;
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(1);
    await gc.close();
    await expect(gc.record(makeEvent(c))).rejects.toThrow('closed');
  });

  it('fails only the bad row of a batch; its neighbours are committed once', async () => {
    const gc = new GroupCommitter(store.ledger, { maxBatch: 50, maxDelayMs: 50 });
    const c = chainOf('gc3/t/p/a');
    const good = Array.from({ length: 10 }, () => makeEvent(c, { listCostNano: 7n, effectiveCostNano: 7n }));
    const bad: LedgerEvent = makeEvent(c, { provider: null as unknown as string });
    const results = await Promise.allSettled([...good.slice(0, 5), bad, ...good.slice(5)].map((e) => gc.record(e)));
    expect(results.filter((r) => r.status === 'rejected').length).toBe(1);
    expect(results[5]?.status).toBe('rejected');
    expect(await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).toEqual({ calls: 10, listCostNano: 70n, effectiveCostNano: 70n });
    await gc.close();
  });

  it('flush() writes what is queued without waiting for the timer', async () => {
    const gc = new GroupCommitter(store.ledger, { maxDelayMs: 60_000 });
    const c = chainOf('gc4/t/p/a');
    const p = Promise.all([gc.record(makeEvent(c)), gc.record(makeEvent(c))]);
    await gc.flush();
    await p;
    expect((await store.ledger.totals({ within: { tier: 'org', id: c.orgId } })).calls).toBe(2);
    await gc.close();
  });
});
