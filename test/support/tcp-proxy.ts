/**
 * A loopback TCP proxy in front of a shared server (PostgreSQL, Redis) that a test can cut and
 * restore, so an outage is simulated without stopping the server others use. `reset` is a server
 * that is down (connections are refused at once, live ones are reset); `blackhole` is a network
 * partition (connections hang, nothing comes back).
 */
import type { AddressInfo, Socket } from 'node:net';
import { createConnection, createServer } from 'node:net';

export type ProxyMode = 'up' | 'reset' | 'blackhole';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  mode: ProxyMode;
  /** Cuts (or restores) the link; live connections are reset when it goes down. */
  set(mode: ProxyMode): void;
  /** Connections accepted so far, and those refused or held while down. */
  stats: { accepted: number; refused: number };
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  /** Client socket → its upstream socket. */
  const live = new Map<Socket, Socket>();
  const held = new Set<Socket>();
  const stats = { accepted: 0, refused: 0 };
  let mode: ProxyMode = 'up';

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (mode !== 'up') {
      stats.refused++;
      if (mode === 'reset') client.resetAndDestroy();
      else held.add(client.once('close', () => held.delete(client)));
      return;
    }
    stats.accepted++;
    const upstream = createConnection(target);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    live.set(client, upstream);
    client.once('close', () => live.delete(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const proxy: TcpProxy = {
    port: (server.address() as AddressInfo).port,
    get mode() {
      return mode;
    },
    set(next) {
      mode = next;
      if (next === 'reset' || next === 'blackhole') {
        // A partition leaves live connections open but silent; a stopped server resets them. Both lose them in the end.
        for (const [client, upstream] of live) {
          if (next === 'reset') client.resetAndDestroy();
          else {
            client.unpipe(upstream);
            upstream.unpipe(client);
            client.pause();
            upstream.pause();
          }
        }
      } else {
        for (const s of held) s.resetAndDestroy();
        for (const s of live.keys()) if (s.isPaused()) s.resetAndDestroy();
      }
    },
    stats,
    async close() {
      for (const s of [...live.keys(), ...held]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
