/**
 * Crash safety: `tollgate serve` runs as a real process under load (plain and streamed calls) and is
 * SIGKILLed at seeded random moments, then restarted on the same database. Every response a client
 * read in full must have exactly one ledger row with the cost of the usage the client saw; nothing
 * may be counted twice; the reservations the dead process held on a hard budget (in Redis) must
 * expire with their lease. Then a graceful stop: SIGTERM with a slow stream in flight finishes the
 * stream, refuses new connections, records the row and exits 0. Run on SQLite and on PostgreSQL.
 * Last, in-process: a stream still running at the shutdown deadline is cut and still recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import { parsePeriod, periodWindow } from '../../src/domain/budget-period.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { openStore } from '../../src/ledger/open-store.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { Simulator } from '../../src/providers/simulator/index.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import type { CallKind, CallOutcome } from '../support/call-load.ts';
import { audit, figures, runCall, sdkClient } from '../support/call-load.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import { killAllGateways, startGatewayProcess, writeServeConfig } from '../support/gateway-process.ts';
import { startHarness } from '../support/gateway.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';
import { deleteKeys, REDIS_URL, redisAvailable, testPrefix } from '../support/redis.ts';

const AGENT = 'crash/platform/gateway/loader';
const LEASE_MS = 1000;
const ROUNDS = 4;
const WORKERS = 12;
const SEED = 20_260_915;

const pgUp = await postgresAvailable();
const redisUp = await redisAvailable();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Setup {
  db: string;
  store: Store;
  sim: Simulator;
  env: NodeJS.ProcessEnv;
  secret: string;
  agentId: string;
  counters: RedisCounters;
  counterKey: string;
  close(): Promise<void>;
}

async function setUp(backend: 'sqlite' | 'postgres'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-'));
  dirs.push(dir);
  const schema = testSchemaName();
  const db = backend === 'sqlite' ? join(dir, 'ledger.db') : `${PG_URL}?schema=${schema}`;
  // Migrations run here once, before any gateway process.
  const store = await openStore(db);
  const sim = await startSimulator({ recordCalls: false });
  const { secret } = await createKey(store, { scope: AGENT, name: 'crash', actor: 'test' });
  const agentId = (await store.directory.getScope(AGENT))!.id;
  // A hard budget far above what the test spends: every call reserves its bound in Redis, none is refused.
  const { budget } = await store.controls.setBudget({ scopePath: AGENT, amountNano: 1_000_000_000_000n, period: 'month', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
  const prefix = testPrefix();
  const counters = await RedisCounters.open({ url: REDIS_URL, prefix });
  const config = writeServeConfig(dir, { simUrl: sim.url, spool: { dir: join(dir, 'spool') }, more: ['controls:', `  lease_ms: ${LEASE_MS}`, 'gateway:', '  shutdown_timeout_ms: 10000'] });
  const env = { TOLLGATE_DB: db, TOLLGATE_CONFIG: config, TOLLGATE_REDIS: REDIS_URL, TOLLGATE_REDIS_PREFIX: prefix, TOLLGATE_ADMIN_KEY: 'tga-crash-test-admin' };
  const window = periodWindow(parsePeriod('month'), 'UTC', Date.now());
  return {
    db,
    store,
    sim,
    env,
    secret,
    agentId,
    counters,
    counterKey: `b:${budget.id}:${window.start}`,
    async close() {
      await store.close();
      await counters.close();
      await sim.close();
      await deleteKeys(prefix);
      if (backend === 'postgres') await dropSchema(schema);
    },
  };
}

/** Workers call the gateway until `stop()` (which waits for the calls in flight); each call's outcome is kept. */
function load(gw: GatewayProcess, secret: string, random: () => number, outcomes: CallOutcome[]): { stop: () => Promise<void> } {
  const client = sdkClient(gw.url, secret);
  let stopped = false;
  const kinds: CallKind[] = ['sdk-json', 'sdk-stream', 'raw-stream'];
  const worker = async () => {
    while (!stopped) {
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      const shape = { outputTokens: 5 + Math.floor(random() * 40), chunkDelayMs: Math.floor(random() * 8), latencyMs: Math.floor(random() * 30) };
      outcomes.push(await runCall(kind, client, gw.url, secret, shape));
    }
  };
  const running = Promise.all(Array.from({ length: WORKERS }, worker));
  return {
    async stop() {
      stopped = true;
      await running;
    },
  };
}

async function reserved(s: Setup): Promise<bigint> {
  const [state] = await s.counters.read([s.counterKey], Date.now());
  return state?.reserved ?? 0n;
}

describe.each([
  { backend: 'sqlite' as const, run: redisUp },
  { backend: 'postgres' as const, run: redisUp && pgUp },
])('crash safety on $backend', ({ backend, run }) => {
  it.runIf(run)(`SIGKILL at ${ROUNDS} seeded random moments under load: every response received is in the ledger once, at its cost; dead reservations expire`, async () => {
    const s = await setUp(backend);
    const random = seededRandom(SEED);
    const outcomes: CallOutcome[] = [];
    const kills: { afterMs: number; reservedAtKill: bigint; reservedAfterLease: bigint | null }[] = [];
    try {
      let gw = await startGatewayProcess(s.env);
      for (let round = 0; round < ROUNDS; round++) {
        // The restarted process boots while this one is under load (start-up costs seconds on a busy machine).
        const next = startGatewayProcess(s.env);
        const traffic = load(gw, s.secret, random, outcomes);
        const afterMs = 500 + Math.floor(random() * 1000);
        await sleep(afterMs);
        const stopped = traffic.stop();
        expect(await gw.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
        const killedAt = Date.now();
        const reservedAtKill = await reserved(s);
        await stopped;
        let reservedAfterLease: bigint | null = null;
        if (round === ROUNDS - 1) {
          // Nobody settles the dead process's reservations: they must lapse with their lease.
          await sleep(Math.max(0, killedAt + LEASE_MS + 100 - Date.now()));
          reservedAfterLease = await reserved(s);
        }
        kills.push({ afterMs, reservedAtKill, reservedAfterLease });
        gw = await next;
      }
      // The last process serves a little, then stops gracefully.
      const traffic = load(gw, s.secret, random, outcomes);
      await sleep(300);
      await traffic.stop();
      expect(await gw.kill('SIGTERM')).toEqual({ code: 0, signal: null });

      const a = await audit(s.store, createPricer(), outcomes, s.agentId);
      const [counter] = await s.counters.read([s.counterKey], Date.now());
      console.log(
        figures(`crash ${backend}`, a, {
          kills: kills.length,
          'kill moments ms': kills.map((k) => k.afterMs).join('/'),
          'reserved at kill (nano-USD)': kills.map((k) => k.reservedAtKill.toString()).join('/'),
          'reserved after the last kill + lease': String(kills.at(-1)?.reservedAfterLease),
          'counter spent': String(counter?.spent ?? 0n),
        }),
      );
      expect(a.problems).toEqual([]);
      expect(a.lost).toBe(0);
      expect(a.duplicated).toBe(0);
      expect(a.wrongCost).toBe(0);
      expect(a.cutAfterDoneWithoutRow).toBe(0);
      // Enough calls got through to mean something, even on a busy machine (figures above).
      expect(a.received).toBeGreaterThanOrEqual(20);
      // The kills really cut calls in flight, and those held reservations until their lease ran out.
      expect(a.cut).toBeGreaterThanOrEqual(ROUNDS);
      expect(kills.some((k) => k.reservedAtKill > 0n)).toBe(true);
      expect(kills.at(-1)?.reservedAfterLease).toBe(0n);
      expect(counter?.reserved).toBe(0n);
    } finally {
      killAllGateways();
      await s.close();
    }
  }, 120_000);

  it.runIf(run)('SIGTERM stops accepting, lets a slow stream finish, records it and exits 0', async () => {
    const s = await setUp(backend);
    try {
      const gw = await startGatewayProcess(s.env);
      const res = await request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.secret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '40', 'x-sim-chunk-delay-ms': '50' },
        body: JSON.stringify({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'a slow answer' }] }),
      });
      const id = res.headers['x-tollgate-request-id'] as string;
      let text = '';
      let stopped: Promise<unknown> | null = null;
      let refusedNew: unknown = null;
      for await (const chunk of res.body) {
        text += (chunk as Buffer).toString();
        if (!stopped && text.length > 200) {
          const t0 = Date.now();
          stopped = gw.kill('SIGTERM').then((exit) => ({ exit, ms: Date.now() - t0 }));
          await sleep(100);
          // No new connection is accepted while the stream drains.
          refusedNew = await request(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${s.secret}` } }).then(
            (r) => r.statusCode,
            (err: { code?: string }) => err.code,
          );
        }
      }
      expect(stopped).not.toBeNull();
      const { exit, ms } = (await stopped) as { exit: unknown; ms: number };
      expect(text).toContain('data: [DONE]');
      expect(refusedNew).toBe('ECONNREFUSED');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(gw.output()).toMatch(/Stopping \(SIGTERM\)[\s\S]*Stopped: ledger flushed/);
      const row = await s.store.ledger.get(id);
      expect(row).toMatchObject({ status: 200, estimated: false, stream: true });
      expect(row!.usage.outputTokens).toBe(40);
      console.log(`[sigterm ${backend}] stream of 40 chunks × 50 ms finished during the stop; process exited 0 after ${ms} ms; new connection: ${String(refusedNew)}`);
    } finally {
      killAllGateways();
      await s.close();
    }
  }, 60_000);
});

describe('shutdown deadline', () => {
  it('cuts a stream still running at the deadline and records what it used before the ledger closes', async () => {
    const h = await startHarness();
    try {
      const res = await request(`${h.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '200', 'x-sim-chunk-delay-ms': '20' },
        body: JSON.stringify({ model: 'gpt-4.1-mini', stream: true, messages: [{ role: 'user', content: 'a long answer' }] }),
      });
      const id = res.headers['x-tollgate-request-id'] as string;
      const reading = (async () => {
        let text = '';
        try {
          for await (const chunk of res.body) text += (chunk as Buffer).toString();
        } catch {
          // The connection is closed at the deadline.
        }
        return text;
      })();
      await sleep(300);
      const t0 = Date.now();
      await h.gateway.close(500);
      const took = Date.now() - t0;
      expect(await reading).not.toContain('[DONE]');
      const row = await h.store.ledger.get(id);
      expect(row).toMatchObject({ status: 499, errorCode: 'client_closed', estimated: true, stream: true });
      expect(row!.usage.outputTokens).toBeGreaterThan(0);
      expect(row!.usage.outputTokens).toBeLessThan(200);
      expect(took).toBeLessThan(3000);
    } finally {
      await h.sim.close();
      await h.store.close();
    }
  });
});
