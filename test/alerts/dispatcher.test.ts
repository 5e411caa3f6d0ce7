/**
 * Alert delivery over real HTTP: a receiver on 127.0.0.1 port 0 checks the webhook signature, fails
 * attempts on purpose (500, 429, 400, no answer, connection refused) and the dispatcher's delivery
 * log must show what happened, with no secret in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/alerts/payload.ts';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import type { DispatcherOptions } from '../../src/alerts/dispatcher.ts';
import { alertsConfigSchema } from '../../src/alerts/config.ts';
import { verifySignature } from '../../src/alerts/signature.ts';
import { slackSink, webhookSink } from '../../src/alerts/sinks.ts';
import type { NewDelivery } from '../../src/ledger/anomalies-contract.ts';
import { openSqliteStore } from '../../src/ledger/sqlite/sqlite-store.ts';
import type { Receiver } from './receiver.ts';
import { sampleAlert, startReceiver } from './receiver.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const SLACK_PATH = '/services/T0000/B0000/XXXXsecretXXXX';

let rx: Receiver;
let log: NewDelivery[];
let warnings: { obj: object; msg: string }[];
const dispatchers: AlertDispatcher[] = [];

beforeEach(async () => {
  rx = await startReceiver();
  log = [];
  warnings = [];
});
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.close(0);
  await rx.close();
});

function dispatcher(over: Partial<DispatcherOptions> = {}): AlertDispatcher {
  const d = new AlertDispatcher({
    sinks: [webhookSink({ url: `${rx.url}/hooks/tollgate?token=qs-secret`, secret: SECRET })],
    deliveries: { recordDelivery: (x) => Promise.resolve(void log.push(x)) },
    dashboardUrl: 'https://tollgate.example.com/',
    baseDelayMs: 10,
    maxDelayMs: 100,
    timeoutMs: 2_000,
    log: { warn: (obj, msg) => warnings.push({ obj, msg }), error: (obj, msg) => warnings.push({ obj, msg }) },
    ...over,
  });
  dispatchers.push(d);
  return d;
}

/** Everything logged or recorded, as one string: no secret may be in it. */
const traces = () => JSON.stringify({ log, warnings });

describe('webhook sink', () => {
  it('POSTs the alert as signed JSON that a receiver can verify, with event and idempotency headers', async () => {
    const d = dispatcher();
    d.deliver(sampleAlert(), 'opened');
    await d.drain();

    expect(rx.received).toHaveLength(1);
    const [req] = rx.received;
    expect(req!.path).toBe('/hooks/tollgate?token=qs-secret');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-tollgate-event']).toBe('opened');
    expect(req!.headers['idempotency-key']).toBe('anm_0123456789abcdef.opened');
    const sig = String(req!.headers['x-tollgate-signature']);
    expect(sig).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, sig, req!.body)).toBe(true);
    expect(verifySignature('another-secret-of-16+', sig, req!.body)).toBe(false);
    expect(verifySignature(SECRET, sig, req!.body.replace('9.100000000', '0.100000000'))).toBe(false);

    const p = JSON.parse(req!.body) as AlertPayload;
    expect(p).toMatchObject({
      event: 'opened',
      delivery_id: 'anm_0123456789abcdef.opened',
      id: 'anm_0123456789abcdef',
      scope: { tier: 'agent', id: 'scp_bot', path: 'acme/support/helpdesk/triage-bot' },
      signal: 'runaway_loop',
      state: 'open',
      since: '2026-11-03T02:00:00.000Z',
      at_risk_usd_per_hour: '9.100000000',
      at_risk_nano_per_hour: 9_100_000_000,
      peak_usd_per_hour: '12.345678901',
      top_models: [{ model: 'gpt-4.1', cost_usd: '0.700000000', cost_nano: 700_000_000, calls: 310 }],
      top_traces: [{ trace_id: 'trace-<7>', cost_usd: '0.650000000', cost_nano: 650_000_000, calls: 290 }],
      dashboard_url: 'https://tollgate.example.com/#/anomalies/anm_0123456789abcdef',
      revive_command: null,
    });
    expect(p.baseline_vs_now[0]).toEqual({ measure: 'spend_per_hour', unit: 'nano_usd', baseline: 400_000_000, band: 1_200_000_000, now: 9_500_000_000, text: 'spend: $0.4000/h → $9.50/h (normal up to $1.20/h)' });
    expect(p.baseline_vs_now[1]).toMatchObject({ measure: 'requests_per_hour', now: 3480.4, text: 'requests: 120/h → 3,480.4/h (normal up to 300/h)' });

    expect(log).toEqual([{ anomalyId: 'anm_0123456789abcdef', sink: 'webhook', url: `${rx.url}/hooks/tollgate`, event: 'opened', attempts: 1, lastError: null, state: 'delivered', at: expect.any(Number) as number }]);
    expect(traces()).not.toContain('qs-secret');
    expect(traces()).not.toContain(SECRET);
  });

  it('retries 500s with backoff and delivers on the third attempt, signing each attempt', async () => {
    rx.script({ status: 500, body: 'db down' }, { status: 503, body: '' });
    const d = dispatcher({ baseDelayMs: 40, random: () => 1 });
    d.deliver(sampleAlert(), 'resolved');
    await d.drain();

    expect(rx.received).toHaveLength(3);
    expect(new Set(rx.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['anm_0123456789abcdef.resolved']));
    for (const r of rx.received) expect(verifySignature(SECRET, String(r.headers['x-tollgate-signature']), r.body)).toBe(true);
    // Waits of 40 then 80 ms (random() = 1 takes the top of each jittered range).
    const gaps = [rx.received[1]!.at - rx.received[0]!.at, rx.received[2]!.at - rx.received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(log).toMatchObject([{ event: 'resolved', attempts: 3, lastError: 'HTTP 503', state: 'delivered' }]);
  });

  it('dead-letters a 400 at once, without retrying', async () => {
    rx.script({ status: 400, body: 'unknown event type' });
    const d = dispatcher();
    d.deliver(sampleAlert(), 'opened');
    await d.drain();
    expect(rx.received).toHaveLength(1);
    expect(log).toMatchObject([{ attempts: 1, state: 'dead', lastError: 'HTTP 400: unknown event type' }]);
    expect(warnings).toMatchObject([{ msg: 'alert delivery failed for good', obj: { attempts: 1, url: `${rx.url}/hooks/tollgate`, error: 'HTTP 400: unknown event type' } }]);
  });

  it('gives up after the last attempt when every answer is a 5xx', async () => {
    rx.script(...Array.from({ length: 10 }, () => ({ status: 502, body: 'bad gateway' })));
    const d = dispatcher({ maxAttempts: 4 });
    d.deliver(sampleAlert(), 'opened');
    await d.drain();
    expect(rx.received).toHaveLength(4);
    expect(log).toMatchObject([{ attempts: 4, state: 'dead', lastError: 'HTTP 502: bad gateway' }]);
  });

  it('times out a receiver that never answers, retries, and dead-letters', async () => {
    rx.script('hang', 'hang', 'hang');
    const d = dispatcher({ timeoutMs: 200, maxAttempts: 2 });
    const started = Date.now();
    d.deliver(sampleAlert(), 'opened');
    // deliver() returned at once, the receiver still holding the request.
    expect(Date.now() - started).toBeLessThan(100);
    expect(d.pending).toBe(1);
    await d.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(rx.received).toHaveLength(2);
    expect(log).toMatchObject([{ attempts: 2, state: 'dead', lastError: 'no answer within 200 ms' }]);
  });

  it('honours Retry-After on a 429, capped by the longest wait', async () => {
    rx.script({ status: 429, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '3600' } });
    const d = dispatcher({ maxDelayMs: 1_500 });
    d.deliver(sampleAlert(), 'opened');
    await d.drain();
    const [a, b, c] = rx.received;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
    // An hour asked for, 1.5 s waited.
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(1_450);
    expect(c!.at - b!.at).toBeLessThan(3_000);
    expect(log).toMatchObject([{ attempts: 3, state: 'delivered', lastError: 'HTTP 429' }]);
  });

  it('retries a refused connection and records the network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const d = dispatcher({ sinks: [webhookSink({ url: `http://127.0.0.1:${port}/x`, secret: SECRET })], maxAttempts: 3 });
    d.deliver(sampleAlert(), 'opened');
    await d.drain();
    expect(log).toMatchObject([{ attempts: 3, state: 'dead', url: `http://127.0.0.1:${port}/x` }]);
    expect(log[0]!.lastError).toMatch(/ECONNREFUSED/);
  });
});

describe('slack sink', () => {
  it('posts text and blocks, and never logs or stores the webhook path', async () => {
    rx.script({ status: 404, body: `no_service ${SLACK_PATH}` });
    const d = dispatcher({ sinks: [slackSink({ url: `${rx.url}${SLACK_PATH}` })] });
    d.deliver(sampleAlert({ action: 'auto_killed' }), 'auto_killed');
    await d.drain();

    const [req] = rx.received;
    expect(req!.path).toBe(SLACK_PATH);
    expect(req!.headers['x-tollgate-signature']).toBeUndefined();
    const body = JSON.parse(req!.body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[] };
    expect(Object.keys(body)).toEqual(['text', 'blocks']);
    expect(body.text).toBe('[Tollgate] Agent killed automatically: runaway loop on acme/support/helpdesk/triage-bot, $9.10/h at risk. triage-bot: 290 calls of one trace in 5 min (usually 2)');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'context']);
    expect(body.blocks[0]!.text).toEqual({ type: 'plain_text', text: 'Agent killed automatically: runaway loop on acme/support/helpdesk/triage-bot, $9.10/h at risk' });
    const all = JSON.stringify(body.blocks);
    expect(all).toContain('spend: $0.4000/h → $9.50/h (normal up to $1.20/h)');
    // mrkdwn control characters in data are escaped.
    expect(all).toContain('`trace-&lt;7&gt;` $0.6500 in 290 calls');
    expect(all).toContain('Revive it with `tollgate revive --scope acme/support/helpdesk/triage-bot`');
    expect(body.blocks.at(-1)!.elements![0]!.text).toBe('<https://tollgate.example.com/#/anomalies/anm_0123456789abcdef|Open in the dashboard> · anomaly `anm_0123456789abcdef`');

    // The answer quoted the path: it is scrubbed from the dead letter.
    expect(log).toMatchObject([{ sink: 'slack', url: `${rx.url}/…`, state: 'dead', lastError: 'HTTP 404: no_service ***' }]);
    expect(traces()).not.toContain('XXXXsecretXXXX');
  });

  it('sends every alert to every sink, from a config section', async () => {
    const config = alertsConfigSchema.parse({
      dashboard_url: 'https://dash.example.com',
      webhooks: [{ url: `${rx.url}/a`, secret: SECRET, name: 'pager' }],
      slack: [{ url: `${rx.url}${SLACK_PATH}` }],
      retry: { max_attempts: 2, base_delay_ms: 5, timeout_ms: 1_000 },
    });
    const d = AlertDispatcher.fromConfig(config, { deliveries: { recordDelivery: (x) => Promise.resolve(void log.push(x)) } });
    dispatchers.push(d);
    expect(d.sinks).toEqual([
      { kind: 'webhook', label: 'pager' },
      { kind: 'slack', label: `${rx.url}/…` },
    ]);
    d.deliver(sampleAlert(), 'opened');
    d.deliver(sampleAlert({ state: 'resolved', resolvedAt: Date.UTC(2026, 10, 3, 3) }), 'resolved');
    await d.drain();
    expect(rx.received.map((r) => `${r.path === '/a' ? 'webhook' : 'slack'} ${String(r.headers['x-tollgate-event'])}`).sort()).toEqual(['slack opened', 'slack resolved', 'webhook opened', 'webhook resolved']);
    expect(log.map((l) => `${l.url} ${l.event} ${l.state}`).sort()).toEqual([`${rx.url}/… opened delivered`, `${rx.url}/… resolved delivered`, 'pager opened delivered', 'pager resolved delivered']);
    const resolved = rx.received.find((r) => r.path === SLACK_PATH && r.headers['x-tollgate-event'] === 'resolved')!;
    expect((JSON.parse(resolved.body) as { text: string }).text).toMatch(/^\[Tollgate\] Resolved: runaway loop on acme\/support\/helpdesk\/triage-bot \(peaked at \$12\.35\/h at risk\)\./);
  });
});

describe('dispatcher lifecycle', () => {
  it('close() cuts retries short after its deadline and dead-letters what was left', async () => {
    rx.script('hang');
    const d = dispatcher({ timeoutMs: 60_000 });
    d.deliver(sampleAlert(), 'opened');
    const started = Date.now();
    await d.close(150);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(log).toMatchObject([{ attempts: 1, state: 'dead', lastError: 'cut short at shutdown (retries stopped at shutdown)' }]);
    d.deliver(sampleAlert(), 'resolved');
    expect(d.pending).toBe(0);
    expect(warnings.at(-1)).toMatchObject({ msg: 'alert not sent: the dispatcher is closed' });
  });

  it('dead-letters at once beyond the pending bound instead of queueing without end', async () => {
    rx.script('hang', 'hang');
    const d = dispatcher({ maxPending: 2, timeoutMs: 300, maxAttempts: 1 });
    for (let i = 0; i < 4; i++) d.deliver(sampleAlert({ id: `anm_${i}` }), 'opened');
    await d.drain();
    expect(log.filter((l) => l.attempts === 0)).toMatchObject([
      { anomalyId: 'anm_2', state: 'dead', lastError: 'more than 2 alert deliveries were already in progress' },
      { anomalyId: 'anm_3', state: 'dead' },
    ]);
  });

  it('keeps going when the delivery log cannot be written, and says so', async () => {
    const d = dispatcher({ deliveries: { recordDelivery: () => Promise.reject(new Error('database is locked')) } });
    d.deliver(sampleAlert(), 'opened');
    await d.drain();
    expect(rx.received).toHaveLength(1);
    expect(warnings).toMatchObject([{ msg: 'could not record an alert delivery', obj: { state: 'delivered', err: 'database is locked' } }]);
  });
});

describe('with the real store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-alerts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs deliveries and dead letters in the store', async () => {
    const store = await openSqliteStore(join(dir, 'alerts.db'));
    try {
      const { nodes } = await store.directory.ensureScope('acme/support/helpdesk/triage-bot', { create: true, actor: 'test' });
      const agent = nodes.at(-1)!;
      const { alert } = await store.anomalies.open({ ...sampleAlert().evidence, scopeId: agent.id });
      rx.script({ status: 500 }, { status: 200 }, { status: 410, body: 'gone' });
      const d = dispatcher({ deliveries: store.anomalies });
      d.deliver(alert, 'opened');
      await d.drain();
      d.deliver(alert, 'resolved');
      await d.drain();
      expect(await store.anomalies.deliveries({ state: 'dead' })).toMatchObject([{ anomalyId: alert.id, event: 'resolved', attempts: 1, lastError: 'HTTP 410: gone', url: `${rx.url}/hooks/tollgate` }]);
      expect(await store.anomalies.deliveries({ anomalyId: alert.id })).toMatchObject([{ event: 'resolved', state: 'dead' }, { event: 'opened', state: 'delivered', attempts: 2, lastError: 'HTTP 500' }]);
    } finally {
      await store.close();
    }
  });
});
