/**
 * Redis for tests: a random key prefix per suite on the local server. Mandatory when CI=true; on a
 * machine without Redis the suites skip with a printed notice.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUnreachable } from '../../src/counters/redis/reachability.ts';

export const REDIS_URL = process.env['TOLLGATE_TEST_REDIS'] ?? 'redis://127.0.0.1:6379';

export async function redisAvailable(): Promise<boolean> {
  const err = await redisUnreachable(REDIS_URL);
  if (err === undefined) return true;
  if (process.env['CI'] === 'true') {
    throw new Error(`Redis is required when CI=true but ${REDIS_URL} is unreachable: ${String(err)}`, { cause: err });
  }
  console.warn(`[skip] Redis tests skipped: ${REDIS_URL} unreachable (${String(err)}). Set TOLLGATE_TEST_REDIS or start Redis.`);
  return false;
}


export function testPrefix(): string {
  return `tg_test_${randomBytes(6).toString('hex')}`;
}

/** Deletes every key whose hash tag starts with `prefix` (a suite's per-test prefixes included). */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
