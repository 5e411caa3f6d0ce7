/**
 * Anomaly detection inside a real gateway in front of the simulator: baselines seeded from the
 * ledger's rollups, a prompt bloat and a runaway loop found in live traffic, alerts delivered to a
 * real signed-webhook receiver, and an agent's kill switch tripped by its scope's policy and lifted
 * by one revive.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/admin/create-key.ts';
import { AlertDispatcher, verifySignature, webhookSink } from '../../src/alerts/index.ts';
import { Detector } from '../../src/analytics/anomalies/detector.ts';
import type { ScopeChain } from '../../src/domain/scope.ts';
import { makeEvent } from '../support/events.ts';
import type { Harness } from '../support/gateway.ts';
import { startHarness } from '../support/gateway.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const HOUR = 3_600_000;

interface Received {
  event: string;
  body: { signal: string; scope: { path: string }; event: string };
  signed: boolean;
}

let h: Harness;
let receiver: Server;
const received: Received[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const sig = req.headers['x-tollgate-signature'];
      received.push({ event: String(req.headers['x-tollgate-event']), body: JSON.parse(raw) as Received['body'], signed: verifySignature(SECRET, typeof sig === 'string' ? sig : undefined, raw) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  // The dispatcher logs deliveries in the store the harness opens: reach it through the harness once it exists.
  const deliveries = { recordDelivery: (d: Parameters<Harness['store']['anomalies']['recordDelivery']>[0]) => h.store.anomalies.recordDelivery(d) };
  h = await startHarness({
    gateway: {
      anomalies: {
        detector: new Detector(),
        dispatcher: new AlertDispatcher({ sinks: [webhookSink({ url, secret: SECRET })], deliveries, baseDelayMs: 5, dashboardUrl: 'http://127.0.0.1:8787' }),
        evaluateEveryMs: 3_600_000,
      },
    },
  });
});

afterAll(async () => {
  await h?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

async function agentKey(scope: string): Promise<{ secret: string; chain: ScopeChain }> {
  const { secret } = await createKey(h.store, { scope, name: 'test', actor: 'test' });
  await h.gateway.keys.reload();
  const resolved = (await h.store.directory.loadKeys()).find((k) => k.scopePath === scope);
  return { secret, chain: resolved!.chain! };
}

/** Two weeks of steady hourly history for an agent, written straight to the ledger: `calls` calls an hour of `tokens` tokens each. */
async function history(chain: ScopeChain, calls: number, tokens: number): Promise<void> {
  const now = Date.now();
  const start = Math.floor(now / HOUR) * HOUR - 14 * 24 * HOUR;
  const events = [];
  for (let t = start; t < Math.floor(now / HOUR) * HOUR - HOUR; t += HOUR) {
    for (let i = 0; i < calls; i++) {
      events.push(makeEvent(chain, { startedAt: t + i * 60_000, usage: { ...makeEvent(chain).usage, inputTokens: tokens - 50, outputTokens: 50, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, reasoningTokens: 0, requests: 1 }, listCostNano: 100_000n, effectiveCostNano: 100_000n }));
    }
  }
  for (let i = 0; i < events.length; i += 2000) await h.store.ledger.record(events.slice(i, i + 2000));
}

async function chat(secret: string, content: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${h.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4.1-mini', max_tokens: 20, messages: [{ role: 'user', content }] }),
  });
}

describe('anomaly detection in the gateway', () => {
  it('finds a prompt bloat against the baseline seeded from the ledger, records it once and alerts', async () => {
    const { secret, chain } = await agentKey('acme/support/helpdesk/bloat-bot');
    await history(chain, 12, 300);
    await h.gateway.anomalies!.seed();

    // ~4,000-token prompts where the agent's calls were ~300 tokens, more calls than the detector needs to judge (min_window_calls 25).
    const big = 'lorem ipsum dolor sit amet '.repeat(600);
    for (let i = 0; i < 30; i++) expect((await chat(secret, `${i} ${big}`)).status).toBe(200);
    await h.gateway.anomalies!.evaluate();
    await h.gateway.anomalies!.evaluate(); // a second evaluation refreshes the open row, it does not add one

    const open = await h.store.anomalies.list({ open: true, under: 'acme/support/helpdesk/bloat-bot' });
    expect(open.map((a) => [a.signal, a.tier])).toEqual([['prompt_bloat', 'agent']]);
    const tpr = open[0]!.evidence.comparisons.find((c) => c.measure === 'tokens_per_request')!;
    expect(tpr.baseline).toBeGreaterThan(250);
    expect(tpr.baseline).toBeLessThan(350);
    expect(tpr.current / tpr.baseline).toBeGreaterThan(3);
    // The bloat policy is not set here: no kill.
    expect((await h.store.controls.listKills()).map((k) => k.scopePath)).not.toContain('acme/support/helpdesk/bloat-bot');

    await h.gateway.anomalies!.settled();
    const alerts = received.filter((r) => r.body.scope.path === 'acme/support/helpdesk/bloat-bot');
    expect(alerts.map((r) => [r.event, r.body.signal, r.signed])).toEqual([['opened', 'prompt_bloat', true]]);
    const [delivery] = await h.store.anomalies.deliveries({ anomalyId: open[0]!.id });
    expect(delivery).toMatchObject({ state: 'delivered', event: 'opened', sink: 'webhook' });
  });

  it('trips the kill switch of an agent in a runaway loop when its scope opted in, and one revive lets it call again', async () => {
    const path = 'acme/support/helpdesk/loop-bot';
    const { secret, chain } = await agentKey(path);
    await history(chain, 6, 400);
    await h.gateway.anomalies!.seed();
    await h.store.anomalies.setPolicy({ scopePath: 'acme/support', autoKill: true, minNanoPerHour: 1_000n }, 'test');

    // One trace calling again and again with the same question.
    const trace = { 'x-tollgate-trace-id': 'trace-loop-1' };
    for (let i = 0; i < 130; i++) expect((await chat(secret, 'retry the failing step', trace)).status).toBe(200);
    await h.gateway.anomalies!.evaluate();

    const [loop] = await h.store.anomalies.list({ open: true, under: path });
    expect(loop).toMatchObject({ signal: 'runaway_loop', tier: 'agent', action: 'auto_killed' });
    expect(loop!.evidence.topTraces[0]).toMatchObject({ traceId: 'trace-loop-1' });
    expect(loop!.evidence.topTraces[0]!.calls).toBeGreaterThanOrEqual(120);
    const kill = (await h.store.controls.listKills()).find((k) => k.scopePath === path);
    expect(kill).toMatchObject({ actor: 'anomaly-detector' });
    expect(kill!.reason).toContain(loop!.id);
    // The audit log says who killed it and why.
    expect((await h.store.directory.audit({ target: path })).map((a) => [a.action, a.actor])).toContainEqual(['scope.kill', 'anomaly-detector']);

    // Every replica's controls cache sees the kill within its poll: the next call is refused.
    await h.gateway.controls.reload();
    const refused = await chat(secret, 'retry the failing step', trace);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('killed');

    // A second evaluation does not kill again or alert again.
    await h.gateway.anomalies!.evaluate();
    await h.gateway.anomalies!.settled();
    const sent = received.filter((r) => r.body.scope.path === path).map((r) => r.event);
    expect(sent.sort()).toEqual(['auto_killed', 'opened']);
    expect(received.every((r) => r.signed)).toBe(true);

    await h.store.controls.revive(path, 'oncall');
    await h.gateway.controls.reload();
    expect((await chat(secret, 'a normal question')).status).toBe(200);
  });
});
