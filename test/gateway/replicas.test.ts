/**
 * Guarantees 2 and 3 across replicas: three real `tollgate serve` processes share one PostgreSQL
 * schema and one Redis. 600 concurrent calls spread over them never overspend a $0.50 hard budget;
 * a replica SIGKILLed with calls in flight gives its reservations back when their leases run out;
 * a kill switch thrown with the CLI stops every replica within a second and cuts a running stream.
 * Throughout, the Redis counters equal the ledger to the nano-dollar.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePeriod, periodWindow } from '../../src/domain/budget-period.ts';
import { usdToNano } from '../../src/domain/money.ts';
import { seededRandom } from '../../src/domain/seeded-random.ts';
import { costBound } from '../../src/gateway/cost-bound.ts';
import type { BudgetPolicy } from '../../src/ledger/contract.ts';
import { createPricer } from '../../src/pricing/index.ts';
import { postgresAvailable } from '../support/postgres.ts';
import { redisAvailable } from '../support/redis.ts';
import type { Cluster, Replica } from '../support/replicas.ts';
import { REPLICA_ADMIN_KEY, startCluster } from '../support/replicas.ts';

const ORG = 'acme';
const TEAM = 'acme/support';
const AGENT = 'acme/support/helpdesk/triage-bot';
const STREAM_PROJECT = 'acme/support/escalations';
const STREAM_AGENT = `${STREAM_PROJECT}/stream-bot`;
const LIMIT = usdToNano('0.50');
const LEASE_MS = 2500;
const MODEL = 'gpt-4.1-mini';
const pricer = createPricer();

interface ErrorJson {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

interface BudgetJson {
  id: string;
  scope: string;
  spent_usd: string;
  reserved_usd: string | null;
}

interface Reconciled {
  policy: BudgetPolicy;
  /** Ledger total of the budget's scope in its current period. */
  ledger: bigint;
  counter: { spent: bigint; reserved: bigint } | null;
}

async function chat(r: Replica, secret: string, body: string, headers: Record<string, string> = {}) {
  const res = await request(`${r.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: JSON.parse(text) as ErrorJson };
}

/** A cheap call, for probing whether a replica admits the stream agent. */
function probe(r: Replica, secret: string) {
  return chat(r, secret, JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'ping' }] }), { 'x-sim-output-tokens': '4' });
}

async function budgets(r: Replica): Promise<BudgetJson[]> {
  const res = await request(`${r.url}/api/budgets`, { headers: { authorization: `Bearer ${REPLICA_ADMIN_KEY}` } });
  expect(res.statusCode).toBe(200);
  return ((await res.body.json()) as { data: BudgetJson[] }).data;
}

const reservedOf = (b: BudgetJson): bigint => usdToNano(b.reserved_usd ?? 'NaN');

/** Every budget's ledger total in its current period next to its Redis counter (key as admission names it). */
async function reconcile(c: Cluster): Promise<Reconciled[]> {
  const now = Date.now();
  const policies = await c.store.controls.listBudgets();
  const windows = policies.map((p) => periodWindow(parsePeriod(p.period), p.timeZone, now));
  const counters = await c.counters.read(
    policies.map((p, i) => `b:${p.id}:${windows[i]!.start}`),
    now,
  );
  return Promise.all(
    policies.map(async (policy, i) => {
      const w = windows[i]!;
      const ledger = (await c.store.ledger.totals({ from: w.start, to: w.end, within: { tier: policy.tier, id: policy.scopeId } })).effectiveCostNano;
      return { policy, ledger, counter: counters[i] ?? null };
    }),
  );
}

function expectCountersEqualLedger(rows: Reconciled[]): void {
  for (const r of rows) {
    if (r.counter === null) {
      // Never charged yet (no call reached it): nothing to agree on.
      expect(r.ledger, r.policy.scopePath).toBe(0n);
      continue;
    }
    expect({ scope: r.policy.scopePath, spent: r.counter.spent, reserved: r.counter.reserved }).toEqual({ scope: r.policy.scopePath, spent: r.ledger, reserved: 0n });
  }
}

async function scopeId(c: Cluster, path: string): Promise<string> {
  const node = await c.store.directory.getScope(path);
  if (!node) throw new Error(`no scope ${path}`);
  return node.id;
}

async function agentTotals(c: Cluster, path: string) {
  return c.store.ledger.totals({ within: { tier: 'agent', id: await scopeId(c, path) } });
}

/** Polls until `check` returns a value, every `everyMs`; returns it with the time it took. */
async function until<T>(what: string, check: () => Promise<T | null>, opts: { everyMs: number; timeoutMs: number }): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== null) return { value, ms: Date.now() - start };
    if (Date.now() - start > opts.timeoutMs) throw new Error(`${what}: not within ${opts.timeoutMs} ms`);
    await sleep(opts.everyMs);
  }
}

const available = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!available)('three tollgate serve replicas on one PostgreSQL and one Redis', () => {
  let c: Cluster;
  let replicas: Replica[];
  let agentSecret: string;
  let streamSecret: string;

  beforeAll(async () => {
    c = await startCluster({ leaseMs: LEASE_MS, simLatencyMs: 20 });
    try {
      agentSecret = (await c.cliJson<{ key: string }>('keys', 'create', '--scope', AGENT)).key;
      streamSecret = (await c.cliJson<{ key: string }>('keys', 'create', '--scope', STREAM_AGENT)).key;
      for (const args of [
        ['--scope', AGENT, '--amount', '0.50', '--period', 'day', '--action', 'hard'],
        ['--scope', STREAM_AGENT, '--amount', '5', '--period', 'day', '--action', 'hard'],
        ['--scope', TEAM, '--amount', '100', '--period', 'day', '--action', 'chargeback'],
        ['--scope', ORG, '--amount', '1000', '--period', 'month', '--action', 'plan'],
      ]) {
        await c.cliJson('budgets', 'set', ...args);
      }
      replicas = await Promise.all([1, 2, 3].map((n) => c.startReplica(`replica-${n}`)));
    } catch (err) {
      await c.close();
      throw err;
    }
  }, 60_000);

  afterAll(async () => {
    await c?.close();
  });

  it('600 concurrent calls round-robin over three replicas never overspend a $0.50 hard budget', async () => {
    const rand = seededRandom(23);
    const calls = Array.from({ length: 600 }, (_, i) => {
      const maxTokens = 200 + Math.floor(rand() * 3801);
      const words = 'lorem ipsum dolor sit amet '.repeat(1 + Math.floor(rand() * 40));
      const body = JSON.stringify({ model: MODEL, max_tokens: maxTokens, messages: [{ role: 'user', content: `#${i} ${words}` }] });
      // The gateway's own bound for these bytes; the simulator bills exactly that, so fitting is decidable afterwards.
      const bound = costBound(pricer, 'openai', MODEL, 'openai.chat', JSON.parse(body) as Record<string, unknown>, Buffer.byteLength(body), Date.now());
      return { body, maxTokens, bound, replica: replicas[i % 3]! };
    });
    // One small call per replica first, so every replica has its connections open and the agent's
    // counter exists: otherwise whichever replica warms up first takes the whole budget alone.
    for (const rep of replicas) expect((await probe(rep, agentSecret)).status).toBe(200);
    const results = await Promise.all(
      calls.map(async (call) => {
        const r = await chat(call.replica, agentSecret, call.body, { 'x-sim-input-tokens': String(call.bound.inputTokens), 'x-sim-output-tokens': String(call.maxTokens) });
        return { ...r, call };
      }),
    );

    const totals = await agentTotals(c, AGENT);
    const admitted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    const perReplica = replicas.map((rep) => admitted.filter((r) => r.call.replica === rep).length);
    console.log(`[replicas] 600 calls: ${admitted.length} admitted (${perReplica.join(' / ')} per replica), ${refused.length} refused; agent spent ${totals.effectiveCostNano} of ${LIMIT} nano-USD`);

    // Zero overshoot, to the nano-dollar, and every admitted call is in the ledger once (beside the warm-ups).
    expect(totals.effectiveCostNano).toBeLessThanOrEqual(LIMIT);
    expect(totals.calls).toBe(admitted.length + replicas.length);
    expect(admitted.length).toBeGreaterThan(10);
    expect(refused.length).toBeGreaterThan(0);

    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.json.error?.code).toBe('budget_exceeded');
      expect(r.headers['x-should-retry']).toBe('false');
      // The agent's ceiling refused it (the team chargeback budget is far from binding) at the bound computed here.
      expect(r.json.error?.details?.['scope']).toBe(AGENT);
      expect(usdToNano(String(r.json.error?.details?.['required_usd']))).toBe(r.call.bound.costNano);
      // No false refusal: admitted calls billed exactly their bound, so spent + reserved only grew towards
      // the final total; a call that does not fit beside the final total fitted at no moment.
      expect(totals.effectiveCostNano + r.call.bound.costNano).toBeGreaterThan(LIMIT);
    }

    // Every replica sees the same state: nothing reserved, spent equal to the ledger, budget by budget.
    const rows = await reconcile(c);
    for (const rep of replicas) {
      const shown = await budgets(rep);
      expect(shown).toHaveLength(rows.length);
      for (const b of shown) {
        expect(reservedOf(b), `${rep.name} ${b.scope} reserved`).toBe(0n);
        expect(usdToNano(b.spent_usd), `${rep.name} ${b.scope} spent`).toBe(rows.find((r) => r.policy.id === b.id)!.ledger);
      }
    }
    const agentRow = rows.find((r) => r.policy.scopePath === AGENT)!;
    expect(agentRow.ledger).toBe(totals.effectiveCostNano);
    // The shared Redis counter agrees with the ledger exactly, for the agent and for the team and org above it.
    expect(agentRow.counter?.spent).toBe(totals.effectiveCostNano);
    expectCountersEqualLedger(rows);
    // The replicas really did share the budget. (How it splits is a race: on a loaded machine one
    // replica can be starved of CPU, so this asks for two of the three, not all.)
    expect(perReplica.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('a replica SIGKILLed with streams in flight gives their reservations back within the lease', async () => {
    const [r1, r2] = replicas as [Replica, Replica, Replica];
    const before = await reconcile(c);
    const callsBefore = (await agentTotals(c, STREAM_AGENT)).calls;
    // Asking for usage ourselves keeps the body byte for byte, so the bound computed here is the one reserved.
    const body = JSON.stringify({ model: MODEL, stream: true, stream_options: { include_usage: true }, max_tokens: 200, messages: [{ role: 'user', content: 'a slow story' }] });
    const bound = costBound(pricer, 'openai', MODEL, 'openai.chat', JSON.parse(body) as Record<string, unknown>, Buffer.byteLength(body), Date.now()).costNano;
    const streams = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await request(`${r1.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${streamSecret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '200', 'x-sim-chunk-delay-ms': '200' },
          body,
        });
        expect(res.statusCode).toBe(200);
        let text = '';
        const ended = (async () => {
          try {
            for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
            return { text, error: null };
          } catch (err) {
            return { text, error: err as Error };
          }
        })();
        return { id: String(res.headers['x-tollgate-request-id']), ended };
      }),
    );

    // Another replica sees the reservations in the shared counters: the stream agent's, its team's and org's.
    const held = await until(
      'replica 2 shows the reservations',
      async () => {
        const shown = await budgets(r2);
        return reservedOf(shown.find((b) => b.scope === STREAM_AGENT)!) > 0n ? shown : null;
      },
      { everyMs: 20, timeoutMs: 5000 },
    );
    for (const scope of [STREAM_AGENT, TEAM, ORG]) expect(reservedOf(held.value.find((b) => b.scope === scope)!), scope).toBe(5n * bound);
    expect(reservedOf(held.value.find((b) => b.scope === AGENT)!)).toBe(0n);
    // Past the first lease the reservations are still there: the live replica renews them.
    await sleep(LEASE_MS + 300);
    const renewed = await budgets(r2);
    expect(reservedOf(renewed.find((b) => b.scope === STREAM_AGENT)!)).toBe(5n * bound);

    const killedAt = Date.now();
    await r1.kill('SIGKILL');
    const recovered = await until(
      'reservations released',
      async () => {
        const shown = await budgets(r2);
        return shown.every((b) => reservedOf(b) === 0n) ? shown : null;
      },
      { everyMs: 20, timeoutMs: LEASE_MS + 5000 },
    );
    const recoveryMs = Date.now() - killedAt;
    console.log(`[replicas] SIGKILL with 5 streams in flight: reservations back to 0 on replica 2 after ${recoveryMs} ms (lease ${LEASE_MS} ms)`);
    expect(recoveryMs).toBeLessThanOrEqual(LEASE_MS + 1000);
    // Held until the lease ran out (renewals stop with the process), not dropped on some earlier signal.
    expect(recoveryMs).toBeGreaterThan(LEASE_MS / 3);

    // The clients saw their streams break, never complete.
    for (const s of streams) {
      const { text, error } = await s.ended;
      expect(error).not.toBeNull();
      expect(text).not.toContain('[DONE]');
    }
    // The dead calls never settled: no ledger rows, spent unchanged on every budget (ledger and counter alike).
    for (const s of streams) expect(await c.store.ledger.get(s.id)).toBeNull();
    expect((await agentTotals(c, STREAM_AGENT)).calls).toBe(callsBefore);
    const after = await reconcile(c);
    for (const b of recovered.value) {
      const was = before.find((r) => r.policy.id === b.id)!;
      expect(usdToNano(b.spent_usd), b.scope).toBe(was.ledger);
    }
    // (The stream agent's counter was created by these calls: it reads 0, like its ledger.)
    const spentBy = (rows: Reconciled[]) => rows.map((r) => [r.policy.scopePath, r.ledger, r.counter?.spent ?? 0n]);
    expect(spentBy(after)).toEqual(spentBy(before));
    expectCountersEqualLedger(after);

    // A replacement replica joins the same counters and ledger and serves at once.
    const replacement = await c.startReplica('replica-1b');
    replicas[0] = replacement;
    expect((await probe(replacement, streamSecret)).status).toBe(200);
  });

  it('a kill switch set with the CLI stops every replica within a second, cuts a stream, and revive restores calls', async () => {
    const [, r2] = replicas as [Replica, Replica, Replica];
    const reason = 'runaway retry loop (INC-77)';
    const res = await request(`${r2.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${streamSecret}`, 'content-type': 'application/json', 'x-sim-output-tokens': '400', 'x-sim-chunk-delay-ms': '20' },
      body: JSON.stringify({ model: MODEL, stream: true, max_tokens: 1000, messages: [{ role: 'user', content: 'tell me a long story' }] }),
    });
    expect(res.statusCode).toBe(200);
    const streamId = String(res.headers['x-tollgate-request-id']);
    let text = '';
    let cutAt = 0;
    // Never rejects: a broken stream is a finding to assert on, not an unhandled rejection.
    const reading = (async () => {
      try {
        for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
        return null;
      } catch (err) {
        return err as Error;
      } finally {
        cutAt = Date.now();
      }
    })();
    await until('the stream is flowing', () => Promise.resolve(text.includes('data:') ? true : null), { everyMs: 10, timeoutMs: 5000 });

    // Every replica is probed every ~20 ms from before the switch is thrown until it refuses.
    let stop = false;
    const probing = Promise.allSettled(
      replicas.map(async (rep) => {
        for (;;) {
          const r = await probe(rep, streamSecret);
          if (r.status !== 200) return { rep, at: Date.now(), r };
          if (stop) throw new Error(`${rep.name} never refused`);
          await sleep(20);
        }
      }),
    );
    const deadline = setTimeout(() => (stop = true), 5000);
    const kill = await c.cliJson<{ at: number; reason: string }>('kill', '--scope', STREAM_PROJECT, '--reason', reason);
    const refused = (await probing).map((o) => {
      if (o.status === 'rejected') throw o.reason;
      return o.value;
    });
    clearTimeout(deadline);
    const streamError = await reading;

    const figures = refused.map(({ rep, at }) => `${rep.name} ${at - kill.at} ms`);
    console.log(`[replicas] kill switch → 403 killed: ${figures.join(', ')}; stream on ${r2.name} cut after ${cutAt - kill.at} ms`);
    for (const { rep, at, r } of refused) {
      expect(r.status, rep.name).toBe(403);
      expect(r.json.error?.code).toBe('killed');
      expect(r.json.error?.message).toContain(reason);
      expect(r.headers['x-should-retry']).toBe('false');
      expect(at - kill.at, rep.name).toBeLessThan(1000);
    }
    // The stream in flight was cut with an error event that says why, not finished.
    expect(streamError).toBeNull();
    expect(cutAt - kill.at).toBeLessThan(1000);
    expect(text).toContain('killed');
    expect(text).toContain(reason);
    expect(text).not.toContain('[DONE]');

    // It is billed for what it generated, estimated; the counters took exactly that.
    const row = await c.store.ledger.get(streamId);
    expect(row?.errorCode).toBe('killed');
    expect(row?.estimated).toBe(true);
    expect(row?.stream).toBe(true);
    expect(row?.usage.outputTokens).toBeGreaterThan(0);
    expect(row?.usage.outputTokens).toBeLessThan(400);
    expect(row?.effectiveCostNano).toBeGreaterThan(0n);
    const rows = await reconcile(c);
    const streamAgent = rows.find((r) => r.policy.scopePath === STREAM_AGENT)!;
    expect(streamAgent.counter?.spent).toBe((await agentTotals(c, STREAM_AGENT)).effectiveCostNano);
    expectCountersEqualLedger(rows);

    const revive = await c.cli('revive', '--scope', STREAM_PROJECT);
    expect(revive.code).toBe(0);
    const back = await Promise.all(
      replicas.map((rep) => until(`${rep.name} admits again`, async () => ((await probe(rep, streamSecret)).status === 200 ? rep.name : null), { everyMs: 20, timeoutMs: 3000 })),
    );
    console.log(`[replicas] revive → 200 again: ${back.map((b) => `${b.value} ${b.ms} ms`).join(', ')}`);
    for (const b of back) expect(b.ms).toBeLessThan(1000);
    expectCountersEqualLedger(await reconcile(c));
  });
});
