/**
 * `tollgate anomalies` as an engineer on call drives it: in-process through `run()`, on a fresh
 * SQLite file per test, with anomalies recorded through the store the way the gateway records them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/analytics/anomalies/contract.ts';
import type { Store } from '../../src/ledger/contract.ts';
import { makeFinding, USD } from '../support/findings.ts';
import { cliRunner } from '../support/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'tollgate-anomalies-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BOT = 'acme/support/helpdesk/triage-bot';
const OTHER = 'globex/ops/billing/bot';
const HOUR = 3_600_000;
let dbFile: string;
let n = 0;
let ids: { loop: string; spike: string; old: string };

const { cli, ok, json, refused, withStore } = cliRunner(() => dbFile);

async function finding(store: Store, path: string, over: Partial<Finding> = {}): Promise<Finding> {
  return makeFinding((await store.directory.getScope(path))!, over);
}

beforeEach(async () => {
  dbFile = join(root, `t${n++}.db`);
  await cli('scopes', 'create', BOT);
  await cli('scopes', 'create', OTHER);
  ids = await withStore(async (s) => {
    const loop = await s.anomalies.open(await finding(s, BOT));
    const spike = await s.anomalies.open(await finding(s, OTHER, { signal: 'spend_spike', atRiskNanoPerHour: 0.5 * USD, summary: 'spend 4x the usual hour' }));
    const old = await s.anomalies.open(await finding(s, OTHER, { signal: 'prompt_bloat', since: Date.now() - 72 * HOUR, at: Date.now() - 71 * HOUR, atRiskNanoPerHour: 30 * USD, summary: 'prompts grew 6x' }));
    await s.anomalies.resolve(old.alert.scopeId, 'prompt_bloat', Date.now() - 70 * HOUR);
    return { loop: loop.alert.id, spike: spike.alert.id, old: old.alert.id };
  });
});

describe('tollgate anomalies', () => {
  it('lists anomalies newest first, with what is at risk', async () => {
    const out = await ok('anomalies');
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^id\s+scope\s+signal\s+state\s+since\s+at risk\s+summary$/);
    expect(lines[2]).toContain(ids.spike);
    expect(lines[2]).toMatch(/globex\/ops\/billing\/bot\s+spend_spike\s+open\s+\S+\s+\$0\.5000\/h\s+spend 4x the usual hour$/);
    expect(lines[3]).toMatch(new RegExp(`^${ids.loop}\\s+acme/support/helpdesk/triage-bot\\s+runaway_loop\\s+open\\s+\\S+\\s+\\$9\\.10/h\\s+290 calls`));
    expect(lines[4]).toMatch(new RegExp(`^${ids.old}\\s+globex/ops/billing/bot\\s+prompt_bloat\\s+resolved\\s+\\S+\\s+peak \\$30\\.00/h\\s+prompts grew 6x$`));
    // `list` is the same command, spelled out.
    expect(await ok('anomalies', 'list')).toBe(out);
  });

  it('filters by state, scope and time', async () => {
    const open = await json<{ id: string; state: string }[]>('anomalies', '--open');
    expect(open.map((a) => a.id).sort()).toEqual([ids.loop, ids.spike].sort());
    expect((await json<{ id: string }[]>('anomalies', '--scope', 'globex')).map((a) => a.id)).toEqual([ids.spike, ids.old]);
    expect((await json<{ id: string }[]>('anomalies', '--since', '24h')).map((a) => a.id)).toEqual([ids.spike, ids.loop]);
    expect((await json<{ id: string }[]>('anomalies', '--since', '7d', '--limit', '1')).map((a) => a.id)).toEqual([ids.spike]);
    expect(await ok('anomalies', '--open', '--scope', 'initech')).toBe('No open anomalies under initech.\n');
    expect(await refused('anomalies', '--since', 'yesterday')).toContain('cannot read since "yesterday"');
    expect(await refused('anomalies', '--scope', 'Bad Path')).toContain('invalid scope segment');
    expect((await cli('anomalies', '--limit', '0')).code).toBe(2);
  });

  it('prints JSON with exact money and the evidence', async () => {
    const [a] = await json<Record<string, unknown>[]>('anomalies', '--scope', BOT);
    expect(a).toMatchObject({
      id: ids.loop,
      scope: { tier: 'agent', path: BOT },
      signal: 'runaway_loop',
      state: 'open',
      at_risk_usd_per_hour: '9.100000000',
      at_risk_nano_per_hour: 9_100_000_000,
      top_models: [{ model: 'gpt-4.1', cost_usd: '0.700000000', cost_nano: 700_000_000, calls: 310 }],
      baseline_vs_now: [{ measure: 'spend_per_hour', text: 'spend: $0.4000/h → $9.50/h (normal up to $1.20/h)' }],
    });
  });

  it('shows one anomaly with its evidence and the alerts sent', async () => {
    await withStore((s) => s.anomalies.recordDelivery({ anomalyId: ids.loop, sink: 'slack', url: 'https://hooks.slack.com/…', event: 'opened', attempts: 5, lastError: 'HTTP 500', state: 'dead', at: Date.UTC(2026, 10, 3, 2, 6) }));
    const out = await ok('anomalies', 'show', ids.loop);
    expect(out).toContain(`Anomaly ${ids.loop}: runaway loop on ${BOT} (agent)\nState:    open\n`);
    expect(out).toContain('At risk:  $9.10/h above the baseline (peak $9.10/h)');
    expect(out).toContain('Baseline → now:\n  spend: $0.4000/h → $9.50/h (normal up to $1.20/h)\n');
    expect(out).toMatch(/Top models:\nmodel\s+cost\s+calls\n─+\s+─+\s+─+\ngpt-4\.1\s+\$0\.7000\s+310\n/);
    expect(out).toMatch(/Top traces:\ntrace\s+cost\s+calls\n─+\s+─+\s+─+\ntrace-7\s+\$0\.6500\s+290\n/);
    expect(out).toMatch(/Alerts sent:\n.*\n.*\n2026-11-03T02:06Z\s+opened\s+slack https:\/\/hooks\.slack\.com\/…\s+dead\s+5\s+HTTP 500\n$/);
    const j = await json<{ evidence: Finding; deliveries: { state: string }[] }>('anomalies', 'show', ids.loop);
    expect(j.evidence.topTraces).toEqual([{ traceId: 'trace-7', costNano: 650_000_000, calls: 290 }]);
    expect(j.deliveries).toMatchObject([{ state: 'dead', attempts: 5, last_error: 'HTTP 500' }]);
    expect(await refused('anomalies', 'show', 'anm_nope')).toBe('error: no anomaly anm_nope (list them with: tollgate anomalies)\n');
  });

  it('resolves by hand, once, in the audit log', async () => {
    expect(await ok('anomalies', 'resolve', ids.loop)).toMatch(new RegExp(`^Resolved ${ids.loop} \\(runaway loop on ${BOT}, open since \\S+\\)\\.\\n$`));
    expect(await refused('anomalies', 'resolve', ids.loop)).toContain('is already resolved');
    expect(await refused('anomalies', 'resolve', 'anm_nope')).toContain('no anomaly anm_nope');
    const [entry] = await json<{ actor: string; action: string; target: string }[]>('audit', '--limit', '1');
    expect(entry).toMatchObject({ actor: 'cli:tester', action: 'anomaly.resolve', target: BOT });
    expect((await json<{ id: string }[]>('anomalies', '--open')).map((a) => a.id)).toEqual([ids.spike]);
  });
});

describe('tollgate anomalies policy', () => {
  it('sets, replaces, lists and deletes policies', async () => {
    expect(await ok('anomalies', 'policy', 'list')).toContain('No anomaly policies');
    expect(await ok('anomalies', 'policy', 'set', '--scope', 'acme/support', '--auto-kill', '--min-usd-per-hour', '5')).toBe(
      'Set the anomaly policy of acme/support: agents whose runaway loop or prompt bloat puts more than $5.00/h at risk are killed automatically.\n',
    );
    expect(await ok('anomalies', 'policy', 'set', '--scope', 'acme/support', '--auto-kill', '--min-usd-per-hour', '$12.50')).toContain('Updated the anomaly policy of acme/support: agents whose runaway loop or prompt bloat puts more than $12.50/h at risk are killed automatically.\nWas: agents whose runaway loop or prompt bloat puts more than $5.00/h');
    expect(await ok('anomalies', 'policy', 'set', '--scope', BOT, '--no-auto-kill', '--min-usd-per-hour', '0')).toBe(`Set the anomaly policy of ${BOT}: alerts only, no agent is killed automatically.\n`);
    const table = await ok('anomalies', 'policy', 'list');
    expect(table).toMatch(/acme\/support\s+on\s+\$12\.50\/h\s+\S+\s+cli:tester\n/);
    expect(table).toMatch(/acme\/support\/helpdesk\/triage-bot\s+off\s+\$0\.0000\/h/);
    expect(await json('anomalies', 'policy', 'list', '--scope', 'acme/support/helpdesk')).toMatchObject([{ scope: BOT, auto_kill: false, min_usd_per_hour: '0.000000000' }]);
    expect(await ok('anomalies', 'policy', 'delete', '--scope', BOT)).toBe(`Deleted the anomaly policy of ${BOT} (alerts only, no agent is killed automatically).\n`);
    expect(await refused('anomalies', 'policy', 'delete', '--scope', BOT)).toContain(`scope "${BOT}" has no anomaly policy`);
    const audit = await json<{ action: string }[]>('audit', '--limit', '4');
    expect(audit.map((e) => e.action)).toEqual(['anomaly_policy.delete', 'anomaly_policy.create', 'anomaly_policy.update', 'anomaly_policy.create']);
  });

  it('refuses unclear policies', async () => {
    expect(await refused('anomalies', 'policy', 'set', '--scope', 'acme', '--min-usd-per-hour', '5')).toBe('error: give --auto-kill (kill runaway agents) or --no-auto-kill (alert only)\n');
    expect(await refused('anomalies', 'policy', 'set', '--scope', 'acme', '--auto-kill', '--min-usd-per-hour', 'five')).toContain('"five" is not an amount of USD per hour');
    expect(await refused('anomalies', 'policy', 'set', '--scope', 'acme', '--auto-kill', '--min-usd-per-hour', '-1')).toContain('at least $0');
    expect(await refused('anomalies', 'policy', 'set', '--scope', 'acme/nowhere', '--auto-kill', '--min-usd-per-hour', '1')).toContain('scope "acme/nowhere" does not exist');
    expect((await cli('anomalies', 'policy', 'set', '--scope', 'acme', '--auto-kill')).code).toBe(2);
    expect(await ok('anomalies', 'policy', 'list')).toContain('No anomaly policies');
  });
});

describe('tollgate anomalies deliveries', () => {
  it('lists deliveries, and the dead letters alone with --dead', async () => {
    expect(await ok('anomalies', 'deliveries', '--dead')).toBe('No dead letters: every alert was delivered.\n');
    await withStore(async (s) => {
      await s.anomalies.recordDelivery({ anomalyId: ids.loop, sink: 'webhook', url: 'https://hooks.example.com/tollgate', event: 'opened', attempts: 1, lastError: null, state: 'delivered', at: Date.UTC(2026, 10, 3, 2, 5) });
      await s.anomalies.recordDelivery({ anomalyId: ids.loop, sink: 'slack', url: 'https://hooks.slack.com/…', event: 'opened', attempts: 5, lastError: 'no answer within 10000 ms', state: 'dead', at: Date.UTC(2026, 10, 3, 2, 7) });
    });
    const all = (await ok('anomalies', 'deliveries')).split('\n');
    expect(all[0]).toMatch(/^at\s+anomaly\s+event\s+sink\s+url\s+state\s+attempts\s+last error$/);
    expect(all[2]).toMatch(/^2026-11-03T02:07Z\s+anm_\w+\s+opened\s+slack\s+https:\/\/hooks\.slack\.com\/…\s+dead\s+5\s+no answer within 10000 ms$/);
    expect(all[3]).toMatch(/^2026-11-03T02:05Z\s+anm_\w+\s+opened\s+webhook\s+https:\/\/hooks\.example\.com\/tollgate\s+delivered\s+1\s+—$/);
    expect(await json('anomalies', 'deliveries', '--dead')).toEqual([
      { id: expect.stringMatching(/^dlv_/) as unknown, anomaly_id: ids.loop, event: 'opened', sink: 'slack', url: 'https://hooks.slack.com/…', state: 'dead', attempts: 5, last_error: 'no answer within 10000 ms', at: '2026-11-03T02:07:00.000Z' },
    ]);
    expect(await json('anomalies', 'deliveries', '--anomaly', ids.spike)).toEqual([]);
  });
});
