/**
 * Ledger spool alerts through the alert sinks while PostgreSQL is unreachable (a loopback TCP proxy
 * in front of the shared server, cut and restored): a real receiver on 127.0.0.1 port 0 gets
 * `ledger.spooling`, signed, then `ledger.replayed` of the same outage when the database is back.
 * Their deliveries never touch the delivery log (it lives in the database that is down); an anomaly
 * alert sent in the same outage still arrives, its log write given up after a bounded wait. Then the
 * same through `tollgate serve`, whose config wires the spool to the `alerts:` sinks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDispatcher } from '../../src/alerts/dispatcher.ts';
import { spoolAlertListener } from '../../src/alerts/ledger-alerts.ts';
import type { LedgerPayload } from '../../src/alerts/ledger-payload.ts';
import type { AlertPayload } from '../../src/alerts/payload.ts';
import { verifySignature } from '../../src/alerts/signature.ts';
import { slackSink, webhookSink } from '../../src/alerts/sinks.ts';
import type { SlackBody } from '../../src/alerts/slack-blocks.ts';
import { createKey } from '../../src/admin/create-key.ts';
import type { NewDelivery } from '../../src/ledger/anomalies-contract.ts';
import { GroupCommitter } from '../../src/ledger/group-commit.ts';
import { openStore } from '../../src/ledger/open-store.ts';
import { LedgerSpool } from '../../src/ledger/spool/ledger-spool.ts';
import { startSimulator } from '../../src/providers/simulator/index.ts';
import { MODEL, sdkClient } from '../support/call-load.ts';
import { chainOf, makeEvent } from '../support/events.ts';
import { killAllGateways, startGatewayProcess, writeServeConfig } from '../support/gateway-process.ts';
import { dropSchema, PG_URL, postgresAvailable, testSchemaName } from '../support/postgres.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import type { Receiver } from './receiver.ts';
import { sampleAlert, startReceiver } from './receiver.ts';

const SECRET = 'whsec-spool-0123456789abcdef';
const SLACK_PATH = '/services/T0/B0/spool-secret';
const pgUp = await postgresAvailable();
const dir = mkdtempSync(join(tmpdir(), 'tollgate-spool-alert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let rx: Receiver;
let proxy: TcpProxy;
let schema: string;
beforeEach(async () => {
  rx = await startReceiver();
  const target = new URL(PG_URL);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  schema = testSchemaName();
});
afterEach(async () => {
  killAllGateways();
  proxy.set('up');
  await proxy.close();
  await rx.close();
  if (pgUp) await dropSchema(schema);
});

/** The schema created directly, and the URL that reaches it through the proxy. */
async function database(): Promise<{ direct: string; viaProxy: string }> {
  const direct = `${PG_URL}?schema=${schema}`;
  await (await openStore(direct)).close();
  const via = new URL(direct);
  via.host = `127.0.0.1:${proxy.port}`;
  return { direct, viaProxy: via.toString() };
}

const bodies = <T>(path: string, type?: string) =>
  rx.received.filter((r) => r.path === path).map((r) => ({ ...r, json: JSON.parse(r.body) as T & { type: string } })).filter((r) => type === undefined || r.json.type === type);

const summaryOf = (spoolDir: string) =>
  new RegExp(`^PostgreSQL unreachable: \\d+ ledger rows? \\(\\d+(\\.\\d)? (B|KB)\\) spooled to ${spoolDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; (they are|it is) replayed when it is back$`);

describe('ledger spool alerts', () => {
  it.runIf(pgUp)('reach the sinks while PostgreSQL is unreachable, never wait on the delivery log, and pair with the replay', async () => {
    const { direct, viaProxy } = await database();
    const store = await openStore(viaProxy);
    const spoolDir = join(dir, 'in-process');
    const logWrites: NewDelivery[] = [];
    const logs: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const at = (level: string) => (obj: object, msg: string) => void logs.push({ level, obj: obj as Record<string, unknown>, msg });
    const dispatcher = new AlertDispatcher({
      sinks: [webhookSink({ url: `${rx.url}/hook`, secret: SECRET }), slackSink({ url: `${rx.url}${SLACK_PATH}` })],
      // The anomaly delivery log in the same database: reached through the proxy, so it is down too.
      deliveries: { recordDelivery: (d) => (logWrites.push(d), store.anomalies.recordDelivery(d)) },
      timeoutMs: 1_000,
      baseDelayMs: 10,
      log: { info: at('info'), warn: at('warn'), error: at('error') },
    });
    const spool = LedgerSpool.open({ dir: spoolDir, database: direct, replayEveryMs: 200, writeTimeoutMs: 500 });
    spool.onAlert(spoolAlertListener(dispatcher, { database: store.capabilities.dialect, host: 'gw-test-1' }));
    const writer = new GroupCommitter(store.ledger, { spool });
    const chain = chainOf('acme/support/helpdesk/triage-bot');
    try {
      await writer.record(makeEvent(chain));
      expect(rx.received).toEqual([]);

      // A partition: connections hang, nothing comes back.
      proxy.set('blackhole');
      const rows = Array.from({ length: 40 }, (_, i) => makeEvent(chain, { effectiveCostNano: BigInt(i + 1) }));
      await Promise.all(rows.map((e) => writer.record(e)));
      expect(spool.spooling).toBe(true);
      await expect.poll(() => rx.received.length, { timeout: 5_000 }).toBe(2);
      expect(bodies(SLACK_PATH)).toHaveLength(1);
      const [spooling] = bodies<LedgerPayload>('/hook', 'ledger.spooling');
      expect(spooling).toBeDefined();
      expect(spooling!.headers['x-tollgate-event']).toBe('spooling');
      expect(verifySignature(SECRET, String(spooling!.headers['x-tollgate-signature']), spooling!.body)).toBe(true);
      const p = spooling!.json;
      expect(p).toMatchObject({ type: 'ledger.spooling', event: 'spooling', severity: 'warning', host: 'gw-test-1', database: 'postgres', dashboard_url: null, spool: { path: spoolDir, max_bytes: 256 * 1024 * 1024 } });
      expect(p.summary).toMatch(summaryOf(spoolDir));
      expect(p.detail).toContain('ledger database unreachable');
      expect(p.outage_id).toMatch(/^led_[0-9a-f]{16}$/);
      expect(p.delivery_id).toBe(`${p.outage_id}.spooling`);
      expect(spooling!.headers['idempotency-key']).toBe(p.delivery_id);
      expect(p.spool.rows).toBeGreaterThan(0);
      expect(p.spool.bytes).toBeGreaterThan(0);
      const slack = JSON.parse(bodies(SLACK_PATH)[0]!.body) as SlackBody;
      expect(slack.text).toBe(`[Tollgate] Ledger database unreachable on gw-test-1: rows spooled. ${p.summary}`);
      expect(JSON.stringify(slack.blocks)).toContain(`*Spool*\\n\`${spoolDir}\``);

      // The outcomes are in the process log, not in the (unreachable) delivery log.
      await dispatcher.drain();
      expect(logWrites).toEqual([]);
      expect(logs.filter((l) => l.msg === 'alert delivered').map((l) => `${String(l.obj['type'])} ${String(l.obj['sink'])}`).sort()).toEqual(['ledger.spooling slack', 'ledger.spooling webhook']);

      // An anomaly alert in the same outage still goes out; its delivery log write hangs and is given up after the attempt deadline.
      const started = Date.now();
      dispatcher.deliver(sampleAlert(), 'opened');
      await dispatcher.drain();
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(bodies<AlertPayload>('/hook', 'anomaly.opened')).toHaveLength(1);
      expect(logWrites.map((d) => `${d.sink} ${d.state}`).sort()).toEqual(['slack delivered', 'webhook delivered']);
      expect(logs.filter((l) => l.msg === 'could not record an alert delivery').map((l) => l.obj['err'])).toEqual(['the delivery log did not answer within 1000 ms', 'the delivery log did not answer within 1000 ms']);

      proxy.set('up');
      await expect.poll(() => bodies('/hook', 'ledger.replayed').length, { timeout: 20_000, interval: 100 }).toBe(1);
      const replayed = bodies<LedgerPayload>('/hook', 'ledger.replayed')[0]!.json;
      expect(replayed).toMatchObject({ event: 'replayed', severity: 'info', outage_id: p.outage_id, delivery_id: `${p.outage_id}.replayed` });
      expect(replayed.summary).toMatch(new RegExp(`^PostgreSQL reachable again: \\d+ spooled ledger rows? replayed; the spool at ${spoolDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is empty$`));
      for (const e of rows) expect(await store.ledger.get(e.id)).not.toBeNull();
      expect(bodies('/hook').map((b) => b.json.type)).toEqual(['ledger.spooling', 'anomaly.opened', 'ledger.replayed']);
    } finally {
      proxy.set('up');
      await writer.close();
      await dispatcher.close(0);
      await store.close();
    }
  });

  it.runIf(pgUp)('tollgate serve sends them to the alerts: sinks of its config', async () => {
    const { direct, viaProxy } = await database();
    const setup = await openStore(direct);
    const { secret } = await createKey(setup, { scope: 'acme/support/helpdesk/triage-bot', name: 'spool-alert', actor: 'test' });
    await setup.close();
    const sim = await startSimulator({ recordCalls: false });
    const spoolDir = join(dir, 'serve');
    // Without anomaly detection the dispatcher is still built: the spool alerts through it.
    const config = writeServeConfig(dir, {
      simUrl: sim.url,
      spool: { dir: spoolDir, retryMs: 250, writeTimeoutMs: 2000 },
      more: ['alerts:', `  webhooks: [{ url: "${rx.url}/hook", secret: "${SECRET}" }]`, '  retry: { max_attempts: 3, base_delay_ms: 50 }'],
    });
    try {
      const gw = await startGatewayProcess({ TOLLGATE_DB: viaProxy, TOLLGATE_CONFIG: config, TOLLGATE_ADMIN_KEY: 'tga-spool-alert-admin' });
      const client = sdkClient(gw.url, secret);
      const call = () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }] });
      await call();
      expect(rx.received).toEqual([]);

      // PostgreSQL down: calls still answer, their rows go to the spool, and the webhook hears of it.
      proxy.set('reset');
      for (let i = 0; i < 3; i++) await call();
      await expect.poll(() => bodies('/hook', 'ledger.spooling').length, { timeout: 10_000, interval: 100 }).toBe(1);
      const spooling = bodies<LedgerPayload>('/hook', 'ledger.spooling')[0]!;
      expect(verifySignature(SECRET, String(spooling.headers['x-tollgate-signature']), spooling.body)).toBe(true);
      expect(spooling.json).toMatchObject({ database: 'postgres', spool: { path: spoolDir } });
      expect(spooling.json.summary).toMatch(summaryOf(spoolDir));
      await expect.poll(() => gw.output(), { timeout: 5_000 }).toMatch(/info: alert delivered \{"type":"ledger\.spooling"/);

      proxy.set('up');
      await expect.poll(() => bodies('/hook', 'ledger.replayed').length, { timeout: 20_000, interval: 100 }).toBe(1);
      expect(bodies<LedgerPayload>('/hook', 'ledger.replayed')[0]!.json.outage_id).toBe(spooling.json.outage_id);
      expect(await gw.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(gw.output()).not.toContain(SECRET);
    } finally {
      await sim.close();
    }
  });
});
