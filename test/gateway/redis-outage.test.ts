/**
 * Redis (the budget counters) unreachable under load. The gateway reaches Redis through a loopback
 * TCP proxy the test cuts and restores (the shared server itself is never stopped). The rules of the
 * controls: while the counters are down, calls under a hard budget are refused with a clear 503 (fail
 * closed) and calls under showback budgets flow (fail open); every call answered is in the ledger
 * once; when Redis is back the hard budget admits again, its ceiling still holds, and reservations
 * left by calls that could not settle lapse with their lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { RedisCounters } from '../../src/counters/redis/redis-counters.ts';
import { parsePeriod, periodWindow } from '../../src/domain/budget-period.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';
import { createPricer } from '../../src/pricing/index.ts';
import type { CallKind, CallOutcome, CallShape } from '../support/call-load.ts';
import { audit, figures, runCall, sdkClient } from '../support/call-load.ts';
import type { Harness } from '../support/gateway.ts';
import { AGENT, startHarness } from '../support/gateway.ts';
import { deleteKeys, REDIS_URL, redisAvailable, testPrefix } from '../support/redis.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const SHOWBACK = 'acme/support/helpdesk/showback-bot';
/** Room for about 15 of the capped agent's calls (0.64 m$ each, bound 0.8 m$). */
const HARD_BUDGET_NANO = 10_000_000n;
/** The capped agent's streams in flight when Redis goes away. */
const IN_FLIGHT = 4;
const LEASE_MS = 1000;
const WORKERS = 8;

const redisUp = await redisAvailable();

type Phase = 'up' | 'outage' | 'recovered';
interface Tagged extends CallOutcome {
  agent: 'showback' | 'hard';
  phase: Phase;
}

describe.runIf(redisUp)('Redis outage under load', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let counters: RedisCounters;
  let showSecret: string;
  const prefix = testPrefix();
  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    counters = await RedisCounters.open({ url: `redis://127.0.0.1:${proxy.port}${target.pathname}`, prefix, commandTimeoutMs: 500 });
    h = await startHarness({ gateway: { counters, leaseMs: LEASE_MS } });
    showSecret = (await createKey(h.store, { scope: SHOWBACK, name: 'show', actor: 'test' })).secret;
    await h.gateway.keys.reload();
  });
  afterAll(async () => {
    await h.close();
    await counters.close();
    await proxy.close();
    await deleteKeys(prefix);
  });

  it('fails closed for the hard budget and open for showback, records every call once, and the ceiling holds after', async () => {
    const { budget } = await h.store.controls.setBudget({ scopePath: AGENT, amountNano: HARD_BUDGET_NANO, period: 'month', action: 'hard', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
    await h.store.controls.setBudget({ scopePath: SHOWBACK, amountNano: 1_000_000n, period: 'month', action: 'showback', thresholds: [], timeZone: 'UTC', degradeTo: null }, 'test');
    await h.gateway.controls.reload();

    const random = seededRandom(99);
    const outcomes: Tagged[] = [];
    const kinds: CallKind[] = ['sdk-json', 'sdk-stream', 'raw-stream'];
    let phase: Phase = 'up';
    const health: string[] = [];
    const healthz = async () => ((await (await request(`${h.url}/healthz`)).body.json()) as { counters: string }).counters;
    const call = async (agent: Tagged['agent'], kind: CallKind, shape: CallShape) => {
      const secret = agent === 'hard' ? h.secret : showSecret;
      const at = phase;
      const o = await runCall(kind, sdkClient(h.url, secret), h.url, secret, shape);
      outcomes.push({ ...o, agent, phase: at });
      return o;
    };
    const loop = (agent: Tagged['agent'], workers: number, shape: () => CallShape) => {
      let stopped = false;
      const worker = async () => {
        while (!stopped) {
          const o = await call(agent, kinds[Math.floor(random() * kinds.length)]!, shape());
          if (o.status !== 200) await sleep(25);
        }
      };
      const running = Promise.all(Array.from({ length: workers }, worker));
      return async () => {
        stopped = true;
        await running;
      };
    };
    const big: CallShape = { outputTokens: 400, maxTokens: 500, chunkDelayMs: 0, latencyMs: 0 };

    // The capped agent's counter is seeded; the showback agent calls throughout.
    await call('hard', 'sdk-json', big);
    const stopShowback = loop('showback', WORKERS / 2, () => ({ outputTokens: 5 + Math.floor(random() * 30), chunkDelayMs: Math.floor(random() * 4), latencyMs: 0 }));
    // Slow streams of the capped agent are in flight when Redis goes away: they end during the outage and cannot settle.
    const inFlight = Array.from({ length: IN_FLIGHT }, () => call('hard', 'raw-stream', { ...big, chunkDelayMs: 5 }));
    await sleep(300);
    proxy.set('reset');
    phase = 'outage';
    const stopHard = loop('hard', WORKERS / 2, () => big);
    const streams = await Promise.all(inFlight);
    await sleep(500);
    health.push(await healthz());
    await stopHard();
    proxy.set('up');
    phase = 'recovered';
    await expect.poll(healthz, { timeout: 10_000, interval: 100 }).toBe('up');
    health.push('up');
    // One call at a time until the budget refuses: the ceiling must hold with what the outage did to the counter.
    for (let i = 0; i < 40; i++) if ((await call('hard', 'sdk-json', big)).error === 'budget_exceeded') break;
    await stopShowback();
    await sleep(LEASE_MS + 100);
    const window = periodWindow(parsePeriod('month'), 'UTC', Date.now());
    const [counter] = await counters.read([`b:${budget.id}:${window.start}`], Date.now());

    const pricer = createPricer();
    const idOf = async (path: string) => (await h.store.directory.getScope(path))!.id;
    const hardAudit = await audit(h.store, pricer, outcomes.filter((o) => o.agent === 'hard'), await idOf(AGENT));
    const showAudit = await audit(h.store, pricer, outcomes.filter((o) => o.agent === 'showback'), await idOf(SHOWBACK));
    const count = (agent: Tagged['agent'], p: Phase, f: (o: Tagged) => boolean) => outcomes.filter((o) => o.agent === agent && o.phase === p && f(o)).length;
    const hardSpent = (await h.store.ledger.totals({ within: { tier: 'agent', id: await idOf(AGENT) } })).effectiveCostNano;
    console.log(
      `[redis outage] requests: ${outcomes.length}, responses received: ${hardAudit.received + showAudit.received}, refused: ${hardAudit.refused + showAudit.refused}, ` +
        `ledger rows: ${hardAudit.rows + showAudit.rows}, lost: ${hardAudit.lost + showAudit.lost}, duplicated: ${hardAudit.duplicated + showAudit.duplicated}; healthz counters: ${health.join(' → ')}`,
    );
    console.log(
      figures('redis outage, capped agent', hardAudit, {
        'outage 200': count('hard', 'outage', (o) => o.status === 200),
        'outage 503': count('hard', 'outage', (o) => o.status === 503),
        'recovered 200': count('hard', 'recovered', (o) => o.status === 200),
        'recovered budget_exceeded': count('hard', 'recovered', (o) => o.error === 'budget_exceeded'),
        'spent (nano-USD)': hardSpent.toString(),
        'budget (nano-USD)': HARD_BUDGET_NANO.toString(),
        'counter spent / reserved after the lease': `${counter?.spent} / ${counter?.reserved}`,
      }),
    );
    console.log(figures('redis outage, showback agent', showAudit, { 'outage 200': count('showback', 'outage', (o) => o.status === 200), 'outage refused': count('showback', 'outage', (o) => o.status !== 200 && o.complete) }));

    expect(streams.map((o) => o.status)).toEqual(streams.map(() => 200));
    for (const a of [hardAudit, showAudit]) {
      expect(a.problems).toEqual([]);
      expect(a.lost).toBe(0);
      expect(a.duplicated).toBe(0);
      expect(a.wrongCost).toBe(0);
      expect(a.cut).toBe(0);
    }
    expect(health).toEqual(['down', 'up']);
    // Fail open: the showback agent was never refused, and flowed during the outage.
    expect(showAudit.refused).toBe(0);
    expect(count('showback', 'outage', (o) => o.status === 200)).toBeGreaterThan(5);
    // Fail closed: the capped agent got clear 503s while the counters were down, and calls again after.
    const refusals = outcomes.filter((o) => o.agent === 'hard' && o.phase === 'outage' && o.status === 503);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((o) => o.error === 'unavailable')).toBe(true);
    expect(count('hard', 'recovered', (o) => o.status === 200)).toBeGreaterThan(0);
    expect(count('hard', 'recovered', (o) => o.error === 'budget_exceeded')).toBeGreaterThan(0);
    // The ceiling held, and the reservations of calls that could not settle lapsed with their lease.
    expect(hardSpent).toBeLessThanOrEqual(HARD_BUDGET_NANO);
    expect(counter?.reserved).toBe(0n);
  }, 60_000);
});
