import { afterAll, describe, expect, it } from 'vitest';
import type { Counters } from '../../src/counters/contract.ts';
import { openCounters } from '../../src/counters/open-counters.ts';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import { deleteKeys, REDIS_URL, redisAvailable, testPrefix } from '../support/redis.ts';
import { runCountersContract } from './counters-contract.ts';

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const UNREACHABLE = 'redis://127.0.0.1:1';
const EXPIRES = Date.now() + 3_600_000;
const run = testPrefix();
let suites = 0;
// A prefix per test keeps tests apart; all of them start with the run's prefix, deleted at the end.
const fresh = (): Promise<RedisCounters> => RedisCounters.open({ url: REDIS_URL, prefix: `${run}_${++suites}` });

if (await redisAvailable()) {
  runCountersContract('redis', fresh, () => deleteKeys(run), { maxValue: MAX_EXACT });

  describe('redis counters', () => {
    const open: Counters[] = [];
    afterAll(async () => {
      await Promise.all(open.map((c) => c.close()));
      await deleteKeys(run);
    });

    it('admits at most the limit when two replicas reserve concurrently', async () => {
      const prefix = `${run}_shared`;
      const [a, b] = [new RedisCounters({ url: REDIS_URL, prefix }), new RedisCounters({ url: REDIS_URL, prefix })];
      open.push(a, b);
      await a.seed('k', 0n, EXPIRES);
      const results = await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).reserve(`L${i}`, [{ key: 'k', amount: 7n, limit: 1000n, enforce: true }], 2_000_000, 1_000_000)));
      expect(results.filter((r) => r.ok)).toHaveLength(142);
      expect(await b.read(['k'], 1_000_000)).toEqual([{ spent: 0n, reserved: 994n }]);
    });

    it('waits for the first connection instead of failing a command issued at once', async () => {
      const counters = new RedisCounters({ url: REDIS_URL, prefix: `${run}_early` });
      open.push(counters);
      await counters.seed('k', 3n, EXPIRES);
      expect(await counters.read(['k'], 0)).toEqual([{ spent: 3n, reserved: 0n }]);
    });

    it('releases a lease only into the counter it reserved on, not a re-seeded one of the same key', async () => {
      const counters = new RedisCounters({ url: REDIS_URL, prefix: `${run}_gen` });
      open.push(counters);
      const charge = { key: 'k', amount: 80n, limit: 100n, enforce: true, expiresAt: EXPIRES };
      await counters.seed('k', 0n, Date.now() + 50);
      expect((await counters.reserve('L1', [charge], 2_000_000, 1_000_000)).ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await counters.read(['k'], 1_000_000)).toEqual([null]);
      await counters.seed('k', 0n, EXPIRES);
      expect((await counters.reserve('L2', [{ ...charge, amount: 10n }], 2_000_000, 1_000_000)).ok).toBe(true);
      expect(await counters.settle('L1', [{ key: 'k', amount: 5n }])).toEqual([5n]);
      expect(await counters.read(['k'], 1_000_000)).toEqual([{ spent: 5n, reserved: 10n }]);
    });

    it('rejects values beyond 2^53-1 before calling Redis', async () => {
      const counters = new RedisCounters({ url: UNREACHABLE, connectTimeoutMs: 200 });
      open.push(counters);
      const big = MAX_EXACT + 1n;
      const charge = { key: 'k', amount: 1n, limit: 10n, enforce: true, expiresAt: EXPIRES };
      const beyond = { code: 'internal', message: expect.stringContaining('2^53-1') as unknown };
      await expect(counters.reserve('L', [{ ...charge, limit: big }], 1, 0)).rejects.toMatchObject(beyond);
      await expect(counters.reserve('L', [{ ...charge, amount: big }], 1, 0)).rejects.toMatchObject(beyond);
      await expect(counters.seed('k', big, EXPIRES)).rejects.toMatchObject(beyond);
      await expect(counters.settle('L', [{ key: 'k', amount: big }])).rejects.toMatchObject(beyond);
    });

    it('fails fast instead of hanging when Redis is unreachable, and reports the outage once', async () => {
      const errors: Error[] = [];
      const counters = new RedisCounters({ url: UNREACHABLE, onError: (err) => errors.push(err) });
      open.push(counters);
      const charge = { key: 'k', amount: 1n, limit: 10n, enforce: true, expiresAt: EXPIRES };
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = Date.now();
        await expect(counters.reserve('L', [charge], 1, 0)).rejects.toMatchObject({ code: 'unavailable' });
        expect(Date.now() - started).toBeLessThan(2000);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(errors).toHaveLength(1);
      expect(await counters.ready()).toBe(false);
    });

    it('opens Redis counters from a URL and names them without credentials', async () => {
      const counters = await openCounters('redis://user:secret@127.0.0.1:1/2', { onError: () => undefined });
      expect([counters.kind, counters.location]).toEqual(['redis', 'redis://127.0.0.1:1/2']);
      await counters.close();
      const live = await openCounters(REDIS_URL, { prefix: `${run}_open` });
      open.push(live);
      expect(live.kind).toBe('redis');
      await live.seed('k', 1n, EXPIRES);
      expect(await live.read(['k'], 0)).toEqual([{ spent: 1n, reserved: 0n }]);
    });
  });
} else {
  describe.skip('counters contract: redis (Redis unreachable)', () => {
    it('skipped', () => undefined);
  });
}
