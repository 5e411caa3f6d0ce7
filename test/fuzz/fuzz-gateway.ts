/**
 * What the fuzz tests share: a real gateway (real SQLite, real HTTP on port 0) in front of the fake
 * upstream, the run count and seed (FUZZ_RUNS, FUZZ_SEED: `npm run fuzz` raises the count), and the
 * properties every answer and every ledger row must keep.
 */
import { request } from 'undici';
import { expect } from 'vitest';
import { validateUsage } from '../../src/domain/usage.ts';
import { createUpstreams } from '../../src/gateway/upstreams.ts';
import type { LedgerEvent } from '../../src/ledger/contract.ts';
import type { Pricer } from '../../src/pricing/index.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { Harness } from '../support/gateway.ts';
import { startHarness, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from '../support/gateway.ts';
import type { FakeUpstream } from './fake-upstream.ts';
import { startFakeUpstream } from './fake-upstream.ts';

/** Runs per property: modest in `npm test`, thousands in `npm run fuzz`. */
export const FUZZ_RUNS = positive(process.env['FUZZ_RUNS'], 60);
/** Fixed unless FUZZ_SEED says otherwise: a failure names its seed and path, and replays with them. */
export const FUZZ_SEED = positive(process.env['FUZZ_SEED'], 20_261_103);
/** A fuzz run may send thousands of calls: its test timeout grows with the run count. */
export const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 100;

function positive(text: string | undefined, fallback: number): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** Body limit of the fuzzed gateway: room for 100k nested arrays, small enough that oversized bodies are cheap to send. */
export const FUZZ_BODY_LIMIT = 256 * 1024;

export interface FuzzGateway {
  h: Harness;
  upstream: FakeUpstream;
  /** Built like the gateway's own: what every row's cost is checked against. */
  pricer: Pricer;
  close(): Promise<void>;
}

export async function startFuzzGateway(): Promise<FuzzGateway> {
  const upstream = await startFakeUpstream();
  const h = await startHarness({
    gateway: {
      bodyLimit: FUZZ_BODY_LIMIT,
      upstreams: createUpstreams(
        {
          openai: { base_url: `${upstream.url}/v1`, api_key: UPSTREAM_OPENAI_KEY },
          anthropic: { base_url: upstream.url, api_key: UPSTREAM_ANTHROPIC_KEY, api: 'anthropic' },
        },
        { headersTimeoutMs: 5_000 },
      ),
    },
  });
  // An outcome type, so outcome reports can succeed as well as fail.
  await h.store.outcomes.setType({ projectPath: 'acme/support/helpdesk', type: 'ticket_resolved', displayName: 'Resolved ticket', unit: 'ticket', baselineNano: 6_000_000_000n, targetNano: null }, 'fuzz');
  return {
    h,
    upstream,
    pricer: createPricer(),
    async close() {
      await h.close();
      await upstream.close();
    },
  };
}

/** The error shapes of the gateway's routes. */
export type Shape = 'openai' | 'anthropic' | 'admin' | 'otlp';

export function shapeOf(path: string): Shape {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/api/')) return 'admin';
  if (path.startsWith('/v1/otlp/')) return 'otlp';
  return 'openai';
}

/** Statuses a gateway may answer with on its own: client errors, and the documented upstream and availability errors. */
export function expectGatewayStatus(status: number, what: string): void {
  if (status >= 500) expect([502, 503, 504], `${what}: ${status}`).toContain(status);
  expect(status, what).toBeGreaterThanOrEqual(200);
}

/** An error body the gateway wrote itself is JSON in the route's own shape, with a message a person can read. */
export function expectErrorShape(shape: Shape, text: string, what: string): void {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    expect.fail(`${what}: error body is not JSON: ${text.slice(0, 200)}`);
  }
  const b = body as Record<string, unknown>;
  const err = b['error'] as Record<string, unknown> | undefined;
  switch (shape) {
    case 'openai':
      expect(typeof err?.['message'], `${what}: ${text.slice(0, 300)}`).toBe('string');
      expect(typeof err?.['type'], what).toBe('string');
      expect(typeof err?.['code'], what).toBe('string');
      break;
    case 'anthropic':
      expect(b['type'], `${what}: ${text.slice(0, 300)}`).toBe('error');
      expect(typeof err?.['type'], what).toBe('string');
      expect(typeof err?.['message'], what).toBe('string');
      break;
    case 'admin':
      expect(typeof err?.['code'], `${what}: ${text.slice(0, 300)}`).toBe('string');
      expect(typeof err?.['message'], what).toBe('string');
      break;
    case 'otlp':
      expect(typeof b['code'], `${what}: ${text.slice(0, 300)}`).toBe('number');
      expect(typeof b['message'], what).toBe('string');
      break;
  }
  const message = String(shape === 'otlp' ? b['message'] : err?.['message']);
  expect(message.length, `${what}: empty error message`).toBeGreaterThan(0);
}

/** The gateway still answers: /healthz is 200. */
export async function expectAlive(url: string): Promise<void> {
  const res = await request(`${url}/healthz`);
  expect(res.statusCode).toBe(200);
  await res.body.dump();
}

/** A ledger row's money is the pricer's price of the row's own usage, and its usage is well-formed. */
export function expectPricedExactly(row: LedgerEvent, pricer: Pricer): void {
  expect(validateUsage(row.usage), `row ${row.id}`).toEqual([]);
  const q = pricer.price(row.provider, row.servedModel, row.usage, row.startedAt);
  expect(row.listCostNano, `row ${row.id} list cost`).toBe(q.listNano);
  expect(row.effectiveCostNano, `row ${row.id} effective cost`).toBe(q.effectiveNano);
  expect(row.effectiveCostNano >= 0n, `row ${row.id} cost is negative`).toBe(true);
  expect(row.priceSource).toBe(q.source);
}

/** Every row of the ledger so far, priced exactly; returns how many there were. */
export async function expectWholeLedgerPriced(g: FuzzGateway): Promise<number> {
  await g.h.gateway.writer.flush();
  let n = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await g.h.store.ledger.events({ limit: 500, ...(cursor ? { cursor } : {}) });
    for (const row of page.rows) {
      expectPricedExactly(row, g.pricer);
      n++;
    }
    if (!page.nextCursor) return n;
    cursor = page.nextCursor;
  }
}
