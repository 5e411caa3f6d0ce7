/**
 * Wiring: in-process counters when no Redis URL is given (one gateway process), Redis otherwise
 * (replicas share budgets and rate limits). The only place besides tests that names a counters backend.
 */
import type { Counters } from './contract.ts';

export interface OpenedCounters extends Counters {
  kind: 'memory' | 'redis';
  /** Where the counters live, without credentials: `in-process` or `redis://host:port/db`. */
  location: string;
}

export interface OpenCountersOptions {
  /** Hash tag of the Redis keys; see `RedisCountersOptions.prefix`. */
  prefix?: string;
  /** Called with the first error of each Redis outage. */
  onError?: (err: Error) => void;
}

/**
 * Opens the counters. For Redis, waits for the first connection attempt (up to its connect timeout)
 * but does not fail when Redis is down: it reconnects in the background and calls fail meanwhile.
 */
export async function openCounters(redisUrl: string | null | undefined, opts: OpenCountersOptions = {}): Promise<OpenedCounters> {
  if (!redisUrl) {
    const { MemoryCounters } = await import('./memory/memory-counters.ts');
    return Object.assign(new MemoryCounters(), { kind: 'memory' as const, location: 'in-process' });
  }
  const { RedisCounters } = await import('./redis/redis-counters.ts');
  const counters = await RedisCounters.open({ url: redisUrl, ...opts });
  return Object.assign(counters, { kind: 'redis' as const });
}
