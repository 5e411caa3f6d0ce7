import { describe, expect, it } from 'vitest';
import type { SpoolAlert } from '../ledger/spool/ledger-spool.ts';
import type { Alert } from './alert.ts';
import { payloadOf } from './alert.ts';
import { headerSafe } from './envelope.ts';
import { spoolAlertListener } from './ledger-alerts.ts';
import type { LedgerNotice } from './ledger-payload.ts';
import { bytesShort, ledgerPayload } from './ledger-payload.ts';
import { findingDeliveryId } from './reconcile-payload.ts';
import { slackBody } from './slack.ts';

const NOW = Date.UTC(2026, 10, 3, 2, 6);
const PATH = '/var/lib/tollgate/spool';
const spool = (kind: SpoolAlert['kind'], over: Partial<SpoolAlert> = {}): SpoolAlert => ({ kind, message: `the spool says ${kind}`, path: PATH, bytes: 212_000, maxBytes: 268_435_456, rows: 149, ...over });
const notice = (s: SpoolAlert, over: Partial<LedgerNotice> = {}): LedgerNotice => ({ kind: 'ledger', spool: s, database: 'postgres', outageId: 'led_0123456789abcdef', seq: 1, host: 'gw-1', ...over });

describe('ledger alert payloads', () => {
  it('say what happened in one line, with the rows, the size and where', () => {
    const summary = (s: SpoolAlert, db: LedgerNotice['database'] = 'postgres') => ledgerPayload(notice(s, { database: db }), { now: NOW }).summary;
    expect(summary(spool('spooling'))).toBe('PostgreSQL unreachable: 149 ledger rows (212 KB) spooled to /var/lib/tollgate/spool; they are replayed when it is back');
    expect(summary(spool('spooling', { rows: 1, bytes: 1_130 }), 'sqlite')).toBe('SQLite unreachable: 1 ledger row (1.1 KB) spooled to /var/lib/tollgate/spool; it is replayed when it is back');
    expect(summary(spool('spool_full', { bytes: 268_500_000, rows: 190_402 }))).toBe(
      'Ledger spool full: 269 MB of 268 MB at /var/lib/tollgate/spool (190,402 rows) while PostgreSQL is unreachable; new model calls are refused (503) until it is back',
    );
    expect(summary(spool('spool_failed'))).toBe('PostgreSQL unreachable and the ledger spool at /var/lib/tollgate/spool cannot be written: new model calls are refused (503) until one of them works');
    expect(summary(spool('replayed', { bytes: 0 }))).toBe('PostgreSQL reachable again: 149 spooled ledger rows replayed; the spool at /var/lib/tollgate/spool is empty');
  });

  it('carries the envelope every alert has, and the spool figures', () => {
    expect(ledgerPayload(notice(spool('spool_full'), { seq: 2 }), { now: NOW })).toEqual({
      type: 'ledger.spool_full',
      event: 'spool_full',
      severity: 'critical',
      summary: expect.any(String) as string,
      delivery_id: 'led_0123456789abcdef.spool_full.2',
      sent_at: '2026-11-03T02:06:00.000Z',
      dashboard_url: null,
      outage_id: 'led_0123456789abcdef',
      host: 'gw-1',
      database: 'postgres',
      spool: { path: PATH, bytes: 212_000, max_bytes: 268_435_456, rows: 149 },
      detail: 'the spool says spool_full',
    });
    expect(payloadOf(notice(spool('replayed')), { now: NOW })).toMatchObject({ type: 'ledger.replayed', severity: 'info', delivery_id: 'led_0123456789abcdef.replayed' });
  });

  it('render for Slack within its limits, every kind', () => {
    for (const kind of ['spooling', 'spool_full', 'spool_failed', 'replayed'] as const) {
      const body = slackBody(ledgerPayload(notice(spool(kind, { path: `/${'x'.repeat(3000)}`, message: 'y'.repeat(5000) }), { host: 'h'.repeat(200) }), { now: NOW }));
      expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
      const [header, section, context] = body.blocks as unknown as [{ text: { text: string } }, { text: { text: string }; fields: { text: string }[] }, { elements: { text: string }[] }];
      expect(header.text.text.length).toBeLessThanOrEqual(150);
      expect(section.text.text.length).toBeLessThanOrEqual(3000);
      for (const f of section.fields) expect(f.text.length).toBeLessThanOrEqual(2000);
      expect(context.elements[0]!.text.length).toBeLessThanOrEqual(2000);
    }
  });

  it('sizes read in decimal units', () => {
    expect([0, 999, 1_000, 1_130, 212_000, 999_400, 999_600, 268_435_456, 5e12].map(bytesShort)).toEqual(['0 B', '999 B', '1.0 KB', '1.1 KB', '212 KB', '999 KB', '1.0 MB', '268 MB', '5.0 TB']);
  });
});

describe('spool alert listener', () => {
  it('ties the alerts of one outage together, numbers repeats, and starts a new outage after the replay', () => {
    const sent: Alert[] = [];
    const listen = spoolAlertListener({ send: (a) => (sent.push(a), Promise.resolve([])) }, { database: 'sqlite', host: 'gw-2' });
    for (const kind of ['spooling', 'spool_full', 'spool_failed', 'spool_failed', 'replayed', 'spooling'] as const) listen(spool(kind));
    const ids = sent.map((a) => payloadOf(a, { now: NOW }).delivery_id);
    const first = (sent[0] as LedgerNotice).outageId;
    expect(first).toMatch(/^led_[0-9a-f]{16}$/);
    expect(ids.slice(0, 5)).toEqual([`${first}.spooling`, `${first}.spool_full`, `${first}.spool_failed`, `${first}.spool_failed.2`, `${first}.replayed`]);
    const second = (sent[5] as LedgerNotice).outageId;
    expect(second).not.toBe(first);
    expect(ids[5]).toBe(`${second}.spooling`);
    expect(sent.every((a) => a.kind === 'ledger' && a.host === 'gw-2' && a.database === 'sqlite')).toBe(true);
  });
});

describe('delivery ids in headers', () => {
  it('keep printable ASCII and percent-encode the rest', () => {
    expect(headerSafe('reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_x@2026-11-01/2026-12-01')).toBe('reconcile:bypass:openai/gpt-4o:2026-11-03:api_key:key_x@2026-11-01/2026-12-01');
    expect(headerSafe('a b\tcafé 100%')).toBe('a%20b%09caf%C3%A9%20100%25');
    expect(headerSafe('x\uD800y')).toBe('x%EF%BF%BDy');
  });

  it('name a reconciliation finding by its key and the window, with times when the window is not whole days', () => {
    const f = { key: 'reconcile:price_drift:anthropic/claude sonnet:2026-11-04', title: '', summary: '', evidence: { kind: 'price_drift' }, impactNano: 0n };
    expect(findingDeliveryId(f, { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) })).toBe('reconcile:price_drift:anthropic/claude%20sonnet:2026-11-04@2026-11-01/2026-12-01');
    expect(findingDeliveryId(f, { from: Date.UTC(2026, 10, 3, 12), to: Date.UTC(2026, 10, 4, 6, 30, 0, 250) })).toBe('reconcile:price_drift:anthropic/claude%20sonnet:2026-11-04@2026-11-03T12:00:00Z/2026-11-04T06:30:00.250Z');
  });
});
