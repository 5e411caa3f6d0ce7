/**
 * Redis for target (e): a reachability check before anything starts, and removal of the run's keys
 * (every key under the hash tag `{<prefix>}`) once the Tollgate process has stopped.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUnreachable } from '../../src/counters/redis/reachability.ts';

export const BENCH_REDIS_URL = process.env['TOLLGATE_BENCH_REDIS'] || 'redis://127.0.0.1:6379';

/** A key prefix no other run (or deployment) shares. */
export function runPrefix(): string {
  return `tg_bench_${randomBytes(6).toString('hex')}`;
}

/** Why Redis cannot be reached, or undefined when it answers a PING. */
export function redisError(url: string): Promise<Error | undefined> {
  return redisUnreachable(url, 2000);
}

/** Deletes every key of the run (`{<prefix>}:…`); returns how many there were. */
export async function deleteRunKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      // The prefix is [A-Za-z0-9_] only, so it has no glob characters to escape.
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}
