/**
 * What a ledger spool alert says, as JSON: the database is unreachable and rows go to the local
 * spool (`spooling`), the spool is full and paid calls are refused (`spool_full`), rows can be
 * written nowhere (`spool_failed`), or the database is back and the spool replayed (`replayed`).
 * The alerts of one outage share an `outage_id`.
 */
import type { SpoolAlert } from '../ledger/spool/ledger-spool.ts';
import type { PayloadEnvelope, Severity } from './envelope.ts';
import { iso } from './envelope.ts';

export type LedgerAlertEvent = SpoolAlert['kind'];

/** A spool alert as the dispatcher takes it. */
export interface LedgerNotice {
  kind: 'ledger';
  spool: SpoolAlert;
  database: 'sqlite' | 'postgres';
  /** Ties the alerts of one outage together, from `spooling` to `replayed`. */
  outageId: string;
  /** 1 for the first alert of this event in the outage, 2 for a repeat (a spool that fails again), … */
  seq: number;
  /** The gateway host that spooled: each replica has its own spool. */
  host: string;
}

export interface LedgerPayload extends PayloadEnvelope<'ledger', LedgerAlertEvent> {
  outage_id: string;
  host: string;
  database: 'sqlite' | 'postgres';
  spool: {
    /** The spool directory on `host`. */
    path: string;
    bytes: number;
    /** From this size on, new paid calls are refused (ledger.spool.max_bytes). */
    max_bytes: number;
    /** Rows spooled so far in this outage, or replayed (`replayed`). */
    rows: number;
  };
  /** The gateway's own log line, with the database's error when there was one. */
  detail: string;
}

const SEVERITY: Record<LedgerAlertEvent, Severity> = { spooling: 'warning', spool_full: 'critical', spool_failed: 'critical', replayed: 'info' };

export const DATABASE_NAMES: Record<LedgerNotice['database'], string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

export function ledgerPayload(a: LedgerNotice, opts: { now: number }): LedgerPayload {
  const s = a.spool;
  return {
    type: `ledger.${s.kind}`,
    event: s.kind,
    severity: SEVERITY[s.kind],
    summary: ledgerSummary(a),
    delivery_id: `${a.outageId}.${s.kind}${a.seq > 1 ? `.${a.seq}` : ''}`,
    sent_at: iso(opts.now),
    // The dashboard reads the database that is down: there is nothing to link to.
    dashboard_url: null,
    outage_id: a.outageId,
    host: a.host,
    database: a.database,
    spool: { path: s.path, bytes: s.bytes, max_bytes: s.maxBytes, rows: s.rows },
    detail: s.message,
  };
}

function ledgerSummary(a: LedgerNotice): string {
  const { kind, path, bytes, maxBytes, rows } = a.spool;
  const db = DATABASE_NAMES[a.database];
  switch (kind) {
    case 'spooling':
      return `${db} unreachable: ${count(rows, 'ledger row')} (${bytesShort(bytes)}) spooled to ${path}; ${rows === 1 ? 'it is' : 'they are'} replayed when it is back`;
    case 'spool_full':
      return `Ledger spool full: ${bytesShort(bytes)} of ${bytesShort(maxBytes)} at ${path} (${count(rows, 'row')}) while ${db} is unreachable; new model calls are refused (503) until it is back`;
    case 'spool_failed':
      return `${db} unreachable and the ledger spool at ${path} cannot be written: new model calls are refused (503) until one of them works`;
    case 'replayed':
      return `${db} reachable again: ${count(rows, 'spooled ledger row')} replayed; the spool at ${path} is empty`;
  }
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 's'}`;
}

/** A size for people, in decimal units: `212 KB`, `1.5 MB`. */
export function bytesShort(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 99.5 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
