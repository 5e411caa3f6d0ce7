/** Whether a Redis server answers, and if not, why: for start-up checks, tests and benchmarks. */
import { Redis } from 'ioredis';

/** Why Redis at `url` cannot be reached, or undefined when it answers a PING within `timeoutMs`. */
export async function redisUnreachable(url: string, timeoutMs = 3000): Promise<Error | undefined> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | undefined;
  // The 'error' event names the reason (ECONNREFUSED…); the rejection only says the connection closed.
  client.on('error', (err: Error) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (thrown) {
    return cause ?? (thrown as Error);
  } finally {
    client.disconnect();
  }
}
