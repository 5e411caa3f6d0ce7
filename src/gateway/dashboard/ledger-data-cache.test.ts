// The forecast's read cache: one read per key while fresh, shared by concurrent asks, never keeping a failure.
import { describe, expect, it } from 'vitest';
import type { LedgerData } from '../../analytics/forecast/forecast-source.ts';
import { LedgerDataCache } from './ledger-data-cache.ts';

function setup(maxEntries = 4) {
  let now = 0;
  let reads = 0;
  const cache = new LedgerDataCache({ ttlMs: 1000, maxEntries, now: () => now });
  const load = (label: string) => () => {
    reads++;
    return Promise.resolve({ unit: label } as unknown as LedgerData);
  };
  return { cache, load, reads: () => reads, advance: (ms: number) => void (now += ms) };
}

describe('LedgerDataCache', () => {
  it('reads once per key while fresh, again once stale', async () => {
    const s = setup();
    const [a, b] = await Promise.all([s.cache.get('k', s.load('first')), s.cache.get('k', s.load('second'))]);
    expect([a.unit, b.unit, s.reads()]).toEqual(['first', 'first', 1]);
    s.advance(999);
    expect((await s.cache.get('k', s.load('third'))).unit).toBe('first');
    s.advance(1);
    expect((await s.cache.get('k', s.load('fourth'))).unit).toBe('fourth');
    expect((await s.cache.get('other', s.load('fifth'))).unit).toBe('fifth');
    expect(s.reads()).toBe(3);
  });

  it('does not keep a failed read', async () => {
    const s = setup();
    await expect(s.cache.get('k', () => Promise.reject(new Error('database unreachable')))).rejects.toThrow('database unreachable');
    await Promise.resolve();
    expect((await s.cache.get('k', s.load('retried'))).unit).toBe('retried');
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const s = setup(2);
    await s.cache.get('a', s.load('a1'));
    await s.cache.get('b', s.load('b1'));
    await s.cache.get('c', s.load('c1'));
    expect((await s.cache.get('b', s.load('b2'))).unit).toBe('b1');
    expect((await s.cache.get('a', s.load('a2'))).unit).toBe('a2');
  });
});
