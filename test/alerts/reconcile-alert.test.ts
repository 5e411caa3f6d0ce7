/**
 * `tollgate reconcile --alert` against a real receiver on 127.0.0.1 port 0: the provider-shaped
 * fixtures give two bypasses (OpenAI) and a price drift (Anthropic); each finding goes to the webhook
 * (signed) and to Slack, with its evidence and dollar impact, under an idempotency key per finding
 * and window, so running it again sends the same keys. A dead-lettered delivery fails the command
 * after it has listed what was sent; the wait for retries is bounded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReconcilePayload } from '../../src/alerts/reconcile-payload.ts';
import { verifySignature } from '../../src/alerts/signature.ts';
import type { SlackBody } from '../../src/alerts/slack-blocks.ts';
import { cliRunner } from '../support/cli.ts';
import { recordGatewayAnthropic, recordGatewayOpenAi } from '../fixtures/provider-reports/gateway-ledger.ts';
import type { Receiver } from './receiver.ts';
import { startReceiver } from './receiver.ts';

const SECRET = 'whsec-reconcile-0123456789';
const SLACK_PATH = '/services/T0/B0/reconcile-secret';
const WINDOW = ['--from', '2026-11-03', '--to', '2026-11-05'];

const root = mkdtempSync(join(tmpdir(), 'tollgate-reconcile-alert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dbFile = join(root, 'ledger.db');
const { cli, ok, refused, withStore } = cliRunner(() => dbFile);
const FIXTURES = join(import.meta.dirname, '../fixtures/provider-reports');
const fx = (name: string) => join(FIXTURES, name);

let rx: Receiver;
beforeEach(async () => {
  rx = await startReceiver();
});
afterEach(async () => {
  await rx.close();
});

const RECONCILE = ['reconcile:', '  openai:', '    gateway_api_key_ids: [key_gateway]', '    gateway_project_ids: [proj_gateway]', '  anthropic:', '    gateway_workspace_ids: [wrkspc_gateway]', '  tolerance_pct: 1'];

/** A config whose alerts go to the receiver (a signed webhook, and Slack unless `slack` is false). */
function config(opts: { slack?: boolean; retry?: string } = {}): string {
  const file = join(root, `tollgate-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      ...RECONCILE,
      'alerts:',
      '  dashboard_url: https://tollgate.example.com',
      '  webhooks:',
      `    - { url: "${rx.url}/hooks/finance", secret: "${SECRET}", name: finance }`,
      ...(opts.slack === false ? [] : ['  slack:', `    - { url: "${rx.url}${SLACK_PATH}" }`]),
      `  retry: ${opts.retry ?? '{ max_attempts: 3, base_delay_ms: 10, timeout_ms: 2000 }'}`,
      '',
    ].join('\n'),
  );
  return file;
}

const webhooks = () => rx.received.filter((r) => r.path === '/hooks/finance');
const slacks = () => rx.received.filter((r) => r.path === SLACK_PATH);

beforeAll(async () => {
  await withStore(async (s) => {
    await recordGatewayOpenAi(s);
    // The Anthropic fixtures bill Nov 4 at another price.
    await recordGatewayAnthropic(s);
  });
  for (const [provider, file] of [
    ['openai', 'openai-usage-bypass.json'],
    ['openai', 'openai-costs-bypass.json'],
    ['anthropic', 'anthropic-usage-2-pages.json'],
    ['anthropic', 'anthropic-cost-2-pages.json'],
  ] as const) {
    await ok('import', 'usage', '--provider', provider, fx(file));
  }
});

const BYPASS_KEY = 'reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_laptop';
const BYPASS_PROJECT = 'reconcile:bypass:openai/gpt-4o-mini:2026-11-03:project:proj_research';
const DRIFT = 'reconcile:price_drift:anthropic/claude-sonnet-4:2026-11-04';

describe('tollgate reconcile --alert', () => {
  it('sends each finding, signed, with its evidence and $ impact, to the webhook and to Slack, and lists what it sent', async () => {
    const r = await cli('--config', config(), 'reconcile', ...WINDOW, '--alert');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);

    const hooks = webhooks();
    expect(hooks.map((h) => h.headers['idempotency-key']).sort()).toEqual([`${BYPASS_KEY}@2026-11-03/2026-11-05`, `${BYPASS_PROJECT}@2026-11-03/2026-11-05`, `${DRIFT}@2026-11-03/2026-11-05`].sort());
    for (const h of hooks) {
      expect(verifySignature(SECRET, String(h.headers['x-tollgate-signature']), h.body)).toBe(true);
      expect(h.headers['x-tollgate-event']).toBe((JSON.parse(h.body) as ReconcilePayload).event);
    }
    const bodies = new Map(hooks.map((h) => { const p = JSON.parse(h.body) as ReconcilePayload; return [p.finding_key, p]; }));
    expect(bodies.get(BYPASS_KEY)).toEqual({
      type: 'reconcile.bypass',
      event: 'bypass',
      severity: 'warning',
      summary: "openai/gpt-4o on 2026-11-03: ~$0.45 billed via api key key_laptop, which is not the gateway's",
      delivery_id: `${BYPASS_KEY}@2026-11-03/2026-11-05`,
      sent_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
      dashboard_url: 'https://tollgate.example.com/#/reconciliation?month=2026-11',
      finding_key: BYPASS_KEY,
      detail: expect.stringContaining('through api key key_laptop; the gateway never saw these calls') as string,
      window: { from: '2026-11-03T00:00:00.000Z', to: '2026-11-05T00:00:00.000Z' },
      tolerance_pct: 1,
      impact_usd: '0.450000000',
      impact_nano: '450000000',
      evidence: expect.objectContaining({ kind: 'bypass', provider: 'openai', model: 'gpt-4o', day: '2026-11-03', via: 'api_key', id: 'key_laptop', cost_estimated: true }) as object,
    });
    expect(bodies.get(BYPASS_PROJECT)).toMatchObject({ impact_usd: '0.105000000', evidence: { via: 'project', id: 'proj_research', billed_usd: '$0.1050', cost_estimated: false } });
    expect(bodies.get(DRIFT)).toMatchObject({ type: 'reconcile.price_drift', event: 'price_drift', evidence: { kind: 'price_drift', provider: 'anthropic', cost_diff_pct: 9.09 } });
    expect(BigInt(bodies.get(DRIFT)!.impact_nano)).toBeGreaterThan(0n);

    // Slack: one message per finding, no signature, the finding and its evidence readable.
    expect(slacks()).toHaveLength(3);
    const slack = slacks().map((s) => JSON.parse(s.body) as SlackBody).find((b) => b.text.includes('key_laptop'))!;
    expect(slack.text).toBe("[Tollgate] Bypass: openai/gpt-4o on 2026-11-03: ~$0.45 billed via api key key_laptop, which is not the gateway's");
    expect(slack.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    const all = JSON.stringify(slack.blocks);
    expect(all).toContain('*Impact*\\n$0.4500');
    expect(all).toContain('*Window*\\n2026-11-03 → 2026-11-05 (tolerance 1%)');
    expect(all).toContain('• id: `key_laptop`');
    expect(all).toContain(`<https://tollgate.example.com/#/reconciliation?month=2026-11|Open the reconciliation> · finding \`${BYPASS_KEY}\``);

    // The report, then what was sent.
    expect(r.out).toContain('Findings (3), largest first:');
    expect(r.out).toContain('Alerts: 3 findings to 2 sinks: 6 delivered, 0 dead-lettered');
    const lines = r.out.slice(r.out.indexOf('Alerts:')).split('\n');
    expect(lines.filter((l) => l.startsWith('delivered  webhook finance  ') && l.includes(BYPASS_KEY))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith(`delivered  slack ${rx.url}/…`))).toHaveLength(3);
    expect(r.out).not.toContain('reconcile-secret');
  });

  it('sends the same idempotency keys when run again, so a receiver that drops repeats alerts once; another window is another key', async () => {
    const cfg = config({ slack: false });
    await ok('--config', cfg, 'reconcile', ...WINDOW, '--alert');
    await ok('--config', cfg, 'reconcile', ...WINDOW, '--alert');
    const keys = webhooks().map((h) => String(h.headers['idempotency-key']));
    expect(keys).toHaveLength(6);
    // What a receiver that drops repeats by idempotency-key keeps: the three findings, once each.
    expect(new Set(keys).size).toBe(3);
    // The body is the same apart from when it was sent.
    const stable = (b: string) => JSON.stringify({ ...(JSON.parse(b) as ReconcilePayload), sent_at: null });
    for (const key of new Set(keys)) {
      const twice = webhooks().filter((h) => h.headers['idempotency-key'] === key);
      expect(twice).toHaveLength(2);
      expect(stable(twice[0]!.body)).toBe(stable(twice[1]!.body));
    }

    rx.received.length = 0;
    await ok('--config', cfg, 'reconcile', '--month', '2026-11', '--provider', 'openai', '--alert');
    expect(webhooks().map((h) => h.headers['idempotency-key']).sort()).toEqual([`${BYPASS_KEY}@2026-11-01/2026-12-01`, `${BYPASS_PROJECT}@2026-11-01/2026-12-01`].sort());
  });

  it('--json adds what was sent to the report', async () => {
    const r = JSON.parse(await ok('--config', config({ slack: false }), 'reconcile', ...WINDOW, '--provider', 'openai', '--alert', '--json')) as {
      findings: { key: string }[];
      alerts: { sinks: unknown[]; delivered: number; dead: number; deliveries: Record<string, unknown>[] };
    };
    expect(r.findings.map((f) => f.key)).toEqual([BYPASS_KEY, BYPASS_PROJECT]);
    expect(r.alerts).toMatchObject({ sinks: [{ kind: 'webhook', name: 'finance' }], delivered: 2, dead: 0 });
    expect(r.alerts.deliveries).toEqual([
      { finding_key: BYPASS_KEY, type: 'reconcile.bypass', delivery_id: `${BYPASS_KEY}@2026-11-03/2026-11-05`, sink: 'webhook', url: 'finance', state: 'delivered', attempts: 1, last_error: null, at: expect.any(String) as string },
      { finding_key: BYPASS_PROJECT, type: 'reconcile.bypass', delivery_id: `${BYPASS_PROJECT}@2026-11-03/2026-11-05`, sink: 'webhook', url: 'finance', state: 'delivered', attempts: 1, last_error: null, at: expect.any(String) as string },
    ]);
  });

  it('retries a 5xx, and fails the command after listing a delivery that was dead-lettered', async () => {
    rx.script({ status: 503, body: 'busy' }, { status: 410, body: 'hook removed' });
    // The retry waits 150-300 ms: the other finding's first attempt has long had the 410 by then.
    const r = await cli('--config', config({ slack: false, retry: '{ max_attempts: 3, base_delay_ms: 300, timeout_ms: 2000 }' }), 'reconcile', ...WINDOW, '--provider', 'openai', '--alert');
    expect(r.code).toBe(1);
    // Two findings: one answered 503 then 200 (delivered at the 2nd attempt) or 410 (dead at once), the other 410 or 200.
    expect(webhooks()).toHaveLength(3);
    expect(r.out).toContain('Alerts: 2 findings to 1 sink: 1 delivered, 1 dead-lettered');
    expect(r.out).toMatch(/\ndead +webhook finance +1 +reconcile:bypass:\S+ +HTTP 410: hook removed\n/);
    expect(r.out).toMatch(/\ndelivered +webhook finance +2 +reconcile:bypass:\S+ +HTTP 503: busy\n/);
    expect(r.err).toBe(
      'error: 1 of 2 alert deliveries were dead-lettered (webhook finance: HTTP 410: hook removed); fix the sink and run the same reconcile --alert again: a receiver that drops repeats by idempotency-key will not get the delivered ones twice\n',
    );
  });

  it('waits for retries no longer than --alert-wait, and dead-letters what is still pending', async () => {
    rx.script('hang', 'hang');
    const started = Date.now();
    const r = await cli('--config', config({ slack: false, retry: '{ max_attempts: 5, timeout_ms: 60000 }' }), 'reconcile', ...WINDOW, '--provider', 'openai', '--alert', '--alert-wait', '0.5');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Alerts: 2 findings to 1 sink: 0 delivered, 2 dead-lettered');
    expect(r.out).toContain('cut short at shutdown (retries stopped at shutdown)');
  });

  it('says when there is nothing to send', async () => {
    const out = await ok('--config', config(), 'reconcile', '--from', '2026-10-01', '--to', '2026-10-02', '--alert');
    expect(out).toContain('Alerts: no findings, nothing sent.');
    expect(rx.received).toEqual([]);
  });

  it('refuses --alert without a sink, and a bad --alert-wait, before doing anything', async () => {
    const bare = join(root, 'no-alerts.yaml');
    writeFileSync(bare, [...RECONCILE, ''].join('\n'));
    expect(await refused('--config', bare, 'reconcile', ...WINDOW, '--alert')).toBe(
      'error: --alert sends the findings to the alert sinks, and the config has none: add a webhook or a Slack URL under alerts: (webhooks: or slack:) in tollgate.yaml, or pass --config\n',
    );
    expect(await refused('--config', config(), 'reconcile', ...WINDOW, '--alert', '--alert-wait', 'soon')).toBe('error: --alert-wait "soon" must be a number of seconds above 0 and at most 3600, e.g. 60\n');
    expect(rx.received).toEqual([]);
  });
});
