/**
 * The counters contract, run against every backend: each backend's test file is a few lines that
 * call `runCountersContract` with a way to make fresh, empty counters. Time is injected: `now` is a
 * fake clock, while `expiresAt` is an hour from the real one (Redis expires keys on its own clock).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Charge, Counters, ReserveResult } from '../../src/counters/contract.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';

export interface CountersContractOptions {
  /** Largest limit, amount and spent the backend must handle exactly. Default 9e18 nano-USD. */
  maxValue?: bigint;
}

const NOW = 1_000_000;
const LEASE_MS = 30_000;
const UNTIL = NOW + LEASE_MS;
const EXPIRES = Date.now() + 3_600_000;

function charge(key: string, amount: bigint, limit: bigint, more: Partial<Charge> = {}): Charge {
  return { key, amount, limit, enforce: true, ...more };
}

export function runCountersContract(name: string, make: () => Promise<Counters>, cleanup?: () => Promise<void>, opts: CountersContractOptions = {}): void {
  const max = opts.maxValue ?? 9_000_000_000_000_000n;

  describe(`counters contract: ${name}`, () => {
    let counters: Counters;
    beforeEach(async () => {
      counters = await make();
    });
    afterEach(async () => {
      await counters.close();
    });
    afterAll(async () => {
      await cleanup?.();
    });

    const seed = async (entries: Record<string, bigint>): Promise<void> => {
      for (const [key, spent] of Object.entries(entries)) await counters.seed(key, spent, EXPIRES);
    };
    const state = async (key: string, now = NOW): Promise<{ spent: bigint; reserved: bigint } | null> => (await counters.read([key], now))[0] ?? null;

    describe('missing counters and seeding', () => {
      it('reports missing counters, `also` keys included, once each, and reserves nothing', async () => {
        await seed({ a: 0n });
        const result = await counters.reserve('L1', [charge('a', 5n, 100n, { also: ['w1'] }), charge('c', 1n, 100n, { enforce: false }), charge('w1', 1n, 100n)], UNTIL, NOW);
        expect(result).toEqual({ ok: false, missing: ['w1', 'c'] });
        expect(await state('a')).toEqual({ spent: 0n, reserved: 0n });
        expect(await counters.read(['w1', 'c'], NOW)).toEqual([null, null]);
      });

      it('seeds only when the counter does not exist', async () => {
        await counters.seed('a', 5n, EXPIRES);
        expect((await counters.reserve('L1', [charge('a', 10n, 100n)], UNTIL, NOW)).ok).toBe(true);
        await counters.seed('a', 900n, EXPIRES);
        expect(await state('a')).toEqual({ spent: 5n, reserved: 10n });
      });

      it('keeps keys apart whatever characters they hold', async () => {
        await seed({ 'r:{team}:min': 1n, 'r:team:min': 2n, 'b:p1:2026-10-01T00:00Z': 3n });
        expect(await counters.read(['r:{team}:min', 'r:team:min', 'b:p1:2026-10-01T00:00Z', 'b:p1'], NOW)).toEqual([
          { spent: 1n, reserved: 0n },
          { spent: 2n, reserved: 0n },
          { spent: 3n, reserved: 0n },
          null,
        ]);
      });
    });

    describe('reserve', () => {
      it('is all or nothing: one enforced charge over its limit reserves nothing anywhere', async () => {
        await seed({ a: 0n, b: 90n, c: 0n });
        const over = await counters.reserve('L1', [charge('a', 10n, 100n), charge('b', 20n, 100n), charge('c', 5n, 1n, { enforce: false })], UNTIL, NOW);
        expect(over).toEqual({ ok: false, refused: 1, state: { spent: 90n, reserved: 0n } });
        expect(await counters.read(['a', 'b', 'c'], NOW)).toEqual([
          { spent: 0n, reserved: 0n },
          { spent: 90n, reserved: 0n },
          { spent: 0n, reserved: 0n },
        ]);

        const fits = await counters.reserve('L2', [charge('a', 10n, 100n), charge('b', 10n, 100n), charge('c', 5n, 1n, { enforce: false })], UNTIL, NOW);
        expect(fits).toEqual({ ok: true, used: [10n, 100n, 5n] });
        expect(await counters.read(['a', 'b', 'c'], NOW)).toEqual([
          { spent: 0n, reserved: 10n },
          { spent: 90n, reserved: 10n },
          { spent: 0n, reserved: 5n },
        ]);
      });

      it('names the first enforced charge that does not fit, skipping tracked ones', async () => {
        await seed({ a: 50n, b: 50n, c: 50n });
        const result = await counters.reserve('L1', [charge('a', 100n, 10n, { enforce: false }), charge('b', 100n, 10n), charge('c', 100n, 10n)], UNTIL, NOW);
        expect(result).toEqual({ ok: false, refused: 1, state: { spent: 50n, reserved: 0n } });
      });

      it('tracks charges that are not enforced without ever refusing them', async () => {
        await seed({ t: 100n });
        expect(await counters.reserve('L1', [charge('t', 50n, 0n, { enforce: false })], UNTIL, NOW)).toEqual({ ok: true, used: [150n] });
        expect(await counters.reserve('L2', [charge('t', 1n, 0n, { enforce: false })], UNTIL, NOW)).toEqual({ ok: true, used: [151n] });
        expect(await state('t')).toEqual({ spent: 100n, reserved: 51n });
      });

      it('returns spent + reserved + amount as `used`, and admits up to the limit inclusive', async () => {
        await seed({ a: 7n });
        expect(await counters.reserve('L1', [charge('a', 3n, 15n)], UNTIL, NOW)).toEqual({ ok: true, used: [10n] });
        expect(await counters.reserve('L2', [charge('a', 5n, 15n)], UNTIL, NOW)).toEqual({ ok: true, used: [15n] });
        expect(await counters.reserve('L3', [charge('a', 1n, 15n)], UNTIL, NOW)).toEqual({ ok: false, refused: 0, state: { spent: 7n, reserved: 8n } });
        expect(await counters.reserve('L4', [charge('a', 0n, 15n)], UNTIL, NOW)).toEqual({ ok: true, used: [15n] });
      });

      it('counts `also` counters against the limit (older slices of a rolling window)', async () => {
        await seed({ w1: 40n, w2: 30n, w3: 0n });
        const window = (amount: bigint): Charge => charge('w3', amount, 100n, { also: ['w1', 'w2'] });
        expect(await counters.reserve('L1', [window(30n)], UNTIL, NOW)).toEqual({ ok: true, used: [100n] });
        expect(await counters.reserve('L2', [window(1n)], UNTIL, NOW)).toEqual({ ok: false, refused: 0, state: { spent: 70n, reserved: 30n } });
        expect(await counters.read(['w1', 'w2', 'w3'], NOW)).toEqual([
          { spent: 40n, reserved: 0n },
          { spent: 30n, reserved: 0n },
          { spent: 0n, reserved: 30n },
        ]);
        expect(await counters.settle('L1', [{ key: 'w3', amount: 10n }])).toEqual([10n]);
        expect(await counters.reserve('L3', [window(20n)], UNTIL, NOW)).toEqual({ ok: true, used: [100n] });
      });

      it('lets one lease hold several reservations and releases them together', async () => {
        await seed({ a: 0n, b: 0n });
        expect((await counters.reserve('L1', [charge('a', 10n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect((await counters.reserve('L1', [charge('a', 5n, 100n), charge('b', 20n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect(await counters.read(['a', 'b'], NOW)).toEqual([
          { spent: 0n, reserved: 15n },
          { spent: 0n, reserved: 20n },
        ]);
        expect(await counters.settle('L1', [])).toEqual([]);
        expect(await counters.read(['a', 'b'], NOW)).toEqual([
          { spent: 0n, reserved: 0n },
          { spent: 0n, reserved: 0n },
        ]);
      });
    });

    describe('settle', () => {
      it('releases the reservation and adds the actual amount (less, equal, zero)', async () => {
        await seed({ a: 0n });
        for (const id of ['L1', 'L2', 'L3']) expect((await counters.reserve(id, [charge('a', 100n, 1000n)], UNTIL, NOW)).ok).toBe(true);
        expect(await counters.settle('L1', [{ key: 'a', amount: 40n }])).toEqual([40n]);
        expect(await state('a')).toEqual({ spent: 40n, reserved: 200n });
        expect(await counters.settle('L2', [{ key: 'a', amount: 100n }])).toEqual([140n]);
        expect(await counters.settle('L3', [{ key: 'a', amount: 0n }])).toEqual([140n]);
        expect(await state('a')).toEqual({ spent: 140n, reserved: 0n });
      });

      it('counts actual use for an unknown lease and for one that expired, releasing nothing twice', async () => {
        await seed({ a: 0n });
        expect(await counters.settle('never-reserved', [{ key: 'a', amount: 25n }])).toEqual([25n]);
        expect((await counters.reserve('L1', [charge('a', 50n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect(await state('a', UNTIL)).toEqual({ spent: 25n, reserved: 0n });
        expect(await counters.settle('L1', [{ key: 'a', amount: 30n }])).toEqual([55n]);
        expect(await counters.settle('L1', [{ key: 'a', amount: 0n }])).toEqual([55n]);
        expect(await state('a', UNTIL)).toEqual({ spent: 55n, reserved: 0n });
      });

      it('skips counters that do not exist, returning 0n for them', async () => {
        await seed({ a: 0n });
        expect(await counters.settle('L1', [{ key: 'a', amount: 10n }, { key: 'gone', amount: 5n }])).toEqual([10n, 0n]);
        expect(await counters.read(['a', 'gone'], NOW)).toEqual([{ spent: 10n, reserved: 0n }, null]);
      });
    });

    describe('leases', () => {
      it('drops an expired lease before reserving', async () => {
        await seed({ a: 0n });
        expect((await counters.reserve('L1', [charge('a', 80n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect(await counters.reserve('L2', [charge('a', 30n, 100n)], UNTIL + 1000, UNTIL - 1000)).toEqual({ ok: false, refused: 0, state: { spent: 0n, reserved: 80n } });
        // Expired means expiry <= now.
        expect(await counters.reserve('L2', [charge('a', 30n, 100n)], UNTIL + LEASE_MS, UNTIL)).toEqual({ ok: true, used: [30n] });
      });

      it('drops an expired lease before reading', async () => {
        await seed({ a: 0n });
        expect((await counters.reserve('L1', [charge('a', 80n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect(await state('a', UNTIL - 500)).toEqual({ spent: 0n, reserved: 80n });
        expect(await state('a', UNTIL)).toEqual({ spent: 0n, reserved: 0n });
      });

      it('keeps a renewed lease past its original expiry, and never shortens one', async () => {
        await seed({ a: 0n });
        expect((await counters.reserve('L1', [charge('a', 80n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect(await counters.renew(['L1', 'unknown'], UNTIL + LEASE_MS, NOW)).toEqual(['unknown']);
        expect(await counters.renew(['L1'], NOW + 1000, NOW)).toEqual([]);
        expect(await state('a', UNTIL + 500)).toEqual({ spent: 0n, reserved: 80n });
        expect(await state('a', UNTIL + LEASE_MS - 500)).toEqual({ spent: 0n, reserved: 80n });
        expect(await state('a', UNTIL + LEASE_MS)).toEqual({ spent: 0n, reserved: 0n });
        expect(await counters.renew([], UNTIL, NOW)).toEqual([]);
      });

      it('reports a lease that expired before it was renewed, and releases it', async () => {
        await seed({ a: 0n });
        expect((await counters.reserve('L1', [charge('a', 80n, 100n)], UNTIL, NOW)).ok).toBe(true);
        expect((await counters.reserve('L2', [charge('a', 10n, 100n)], UNTIL + LEASE_MS, NOW)).ok).toBe(true);
        // The holder of L1 stalled past its expiry: the renewal says so instead of reviving it.
        expect(await counters.renew(['L1', 'L2'], UNTIL + 2 * LEASE_MS, UNTIL)).toEqual(['L1']);
        expect(await state('a', UNTIL)).toEqual({ spent: 0n, reserved: 10n });
      });

      it('does not create a lease when renewing an unknown id', async () => {
        await seed({ a: 0n });
        expect(await counters.renew(['ghost'], UNTIL, NOW)).toEqual(['ghost']);
        expect(await counters.settle('ghost', [{ key: 'a', amount: 1n }])).toEqual([1n]);
        expect(await state('a')).toEqual({ spent: 1n, reserved: 0n });
      });
    });

    describe('exactness', () => {
      it(`is exact at large values (limit ${max})`, async () => {
        await seed({ a: max - 3n, w1: max / 2n, w2: max - max / 2n - 1n, w3: 0n });
        expect(await counters.reserve('L1', [charge('a', 3n, max)], UNTIL, NOW)).toEqual({ ok: true, used: [max] });
        expect(await counters.reserve('L2', [charge('a', 1n, max)], UNTIL, NOW)).toEqual({ ok: false, refused: 0, state: { spent: max - 3n, reserved: 3n } });
        expect(await counters.settle('L1', [{ key: 'a', amount: 2n }])).toEqual([max - 1n]);
        expect(await state('a')).toEqual({ spent: max - 1n, reserved: 0n });

        const window = (amount: bigint): Charge => charge('w3', amount, max, { also: ['w1', 'w2'] });
        expect(await counters.reserve('L3', [window(2n)], UNTIL, NOW)).toEqual({ ok: false, refused: 0, state: { spent: max - 1n, reserved: 0n } });
        expect(await counters.reserve('L3', [window(1n)], UNTIL, NOW)).toEqual({ ok: true, used: [max] });
      });

      it('keeps tracked totals exact past the limit', async () => {
        await seed({ t: max });
        expect(await counters.reserve('L1', [charge('t', max, max, { enforce: false })], UNTIL, NOW)).toEqual({ ok: true, used: [2n * max] });
        expect(await counters.settle('L1', [{ key: 't', amount: max }])).toEqual([2n * max]);
        expect(await counters.settle('L2', [{ key: 't', amount: 1n }])).toEqual([2n * max + 1n]);
        expect(await state('t')).toEqual({ spent: 2n * max + 1n, reserved: 0n });
      });
    });

    describe('concurrency', () => {
      const LIMIT = 10_000n;
      const amounts = (seed: number): bigint[] => {
        const random = seededRandom(seed);
        return Array.from({ length: 500 }, () => BigInt(1 + Math.floor(random() * 100)));
      };

      it('never admits past the limit under 500 concurrent reservations, and settles back to zero reserved', async () => {
        await seed({ a: 0n });
        const asked = amounts(1);
        const results = await Promise.all(asked.map((amount, i) => counters.reserve(`L${i}`, [charge('a', amount, LIMIT)], UNTIL, NOW)));
        const admitted = asked.filter((_, i) => results[i]!.ok);
        const reservedSum = admitted.reduce((s, a) => s + a, 0n);
        expect(reservedSum).toBeLessThanOrEqual(LIMIT);
        expect(admitted.length).toBeGreaterThan(0);
        expect(admitted.length).toBeLessThan(asked.length);

        // Reservations only grew, so a refused call saw at most the final total and did not fit it.
        for (const [i, r] of results.entries()) {
          if (r.ok) {
            expect(r.used[0]!).toBeLessThanOrEqual(LIMIT);
          } else {
            expect('refused' in r && r.state.spent + r.state.reserved + asked[i]! > LIMIT).toBe(true);
            expect(asked[i]!).toBeGreaterThan(LIMIT - reservedSum);
          }
        }
        // The admitted calls ran one at a time: sorted by `used`, each adds exactly its own amount.
        const ok = results.flatMap((r, i) => (r.ok ? [{ used: r.used[0]!, amount: asked[i]! }] : [])).sort((x, y) => (x.used < y.used ? -1 : 1));
        let running = 0n;
        for (const o of ok) expect(o.used).toBe((running += o.amount));
        expect(await state('a')).toEqual({ spent: 0n, reserved: reservedSum });

        const actual = (i: number): bigint => (asked[i]! * BigInt(i % 4)) / 3n;
        const settled = await Promise.all(results.map((r, i) => (r.ok ? counters.settle(`L${i}`, [{ key: 'a', amount: actual(i) }]) : Promise.resolve([]))));
        const spent = results.reduce((s, r, i) => (r.ok ? s + actual(i) : s), 0n);
        for (const s of settled) for (const v of s) expect(v).toBeLessThanOrEqual(spent);
        expect(spent).toBeLessThanOrEqual(LIMIT);
        expect(await state('a')).toEqual({ spent, reserved: 0n });
      });

      it('never spends past the limit when 500 calls reserve and settle concurrently', async () => {
        await seed({ a: 0n });
        const asked = amounts(2);
        const refusedAmounts: bigint[] = [];
        let spent = 0n;
        await Promise.all(
          asked.map(async (amount, i) => {
            const r: ReserveResult = await counters.reserve(`M${i}`, [charge('a', amount, LIMIT)], UNTIL, NOW);
            if (!r.ok) {
              expect('refused' in r && r.state.spent + r.state.reserved + amount > LIMIT).toBe(true);
              refusedAmounts.push(amount);
              return;
            }
            expect(r.used[0]!).toBeLessThanOrEqual(LIMIT);
            const [after] = await counters.settle(`M${i}`, [{ key: 'a', amount }]);
            expect(after!).toBeLessThanOrEqual(LIMIT);
            spent += amount;
          }),
        );
        expect(spent).toBeLessThanOrEqual(LIMIT);
        expect(await state('a')).toEqual({ spent, reserved: 0n });
        // With actual == reserved, spent + reserved only grew: a refused amount did not fit the final total either.
        for (const amount of refusedAmounts) expect(amount).toBeGreaterThan(LIMIT - spent);
      });
    });
  });
}
