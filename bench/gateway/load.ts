/**
 * One load run with autocannon: `connections` keep-alive clients for `seconds`, then each client
 * finishes the request it has in flight and stops. Nothing is aborted mid-call, so a gateway's
 * ledger must hold exactly one row per counted response. Latencies are kept at full (sub-ms)
 * precision here; autocannon's own histogram rounds to whole milliseconds.
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** 2xx responses, as autocannon counted them. */
  ok: number;
  /** Non-2xx responses, connection errors and timeouts. */
  failed: number;
}

/** If a client never finishes its last call, autocannon's own clock ends the run this much later. */
const HARD_STOP_EXTRA_S = 20;

export function load(spec: LoadSpec): Promise<LoadResult> {
  const clients: autocannon.Client[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  let lastResponse = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        method: 'POST',
        headers: spec.headers,
        body: spec.body,
        duration: spec.seconds + HARD_STOP_EXTRA_S,
        // Reports soon after the last client is done, rather than on the next whole second.
        sampleInt: 50,
        setupClient: (c) => clients.push(c),
      },
      (err, result) => {
        clearTimeout(drain);
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        const elapsedS = (lastResponse - started) / 1000;
        resolve({
          rps: result['2xx'] / elapsedS,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          ok: result['2xx'],
          failed: result.non2xx + result.errors,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      lastResponse = performance.now();
    });
    // Time is up: each client may send no request beyond those it has made, so it stops after its answer.
    const drain = setTimeout(() => {
      for (const c of clients) c.responseMax = Math.max(1, c.reqsMade);
    }, spec.seconds * 1000);
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest rank: the smallest latency with at least q of all latencies at or below it.
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}
