/**
 * A real HTTP receiver on 127.0.0.1 port 0 for alert sinks: answers each request with the next
 * scripted reply (or never, for `hang`), and keeps what it received (headers and the raw body).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnomalyAlert } from '../../src/ledger/anomalies-contract.ts';

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Replies for the next requests, in order; when they run out, 200. */
  script(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let replies: Reply[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const reply = replies.shift() ?? { status: 200, body: 'ok' };
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (...r) => {
      replies = r;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const USD = 1_000_000_000;
const T0 = Date.UTC(2026, 10, 3, 2, 0);

/** An open runaway-loop anomaly on an agent, as the store returns it. */
export function sampleAlert(over: Partial<AnomalyAlert> = {}): AnomalyAlert {
  const path = 'acme/support/helpdesk/triage-bot';
  return {
    id: 'anm_0123456789abcdef',
    scopeId: 'scp_bot',
    tier: 'agent',
    path,
    signal: 'runaway_loop',
    state: 'open',
    openedAt: T0 + 5 * 60_000,
    since: T0,
    lastSeenAt: T0 + 5 * 60_000,
    resolvedAt: null,
    resolvedBy: null,
    atRiskNanoPerHour: 9_100_000_000n,
    peakNanoPerHour: 12_345_678_901n,
    evidence: {
      tier: 'agent',
      scopeId: 'scp_bot',
      path,
      signal: 'runaway_loop',
      since: T0,
      at: T0 + 5 * 60_000,
      comparisons: [
        { measure: 'spend_per_hour', baseline: 0.4 * USD, band: 1.2 * USD, current: 9.5 * USD },
        { measure: 'requests_per_hour', baseline: 120, band: 300, current: 3480.4 },
      ],
      atRiskNanoPerHour: 9.1 * USD,
      topModels: [{ model: 'gpt-4.1', costNano: 700_000_000, calls: 310 }],
      topTraces: [{ traceId: 'trace-<7>', costNano: 650_000_000, calls: 290 }],
      summary: 'triage-bot: 290 calls of one trace in 5 min (usually 2)',
    },
    summary: 'triage-bot: 290 calls of one trace in 5 min (usually 2)',
    action: null,
    ...over,
  };
}
