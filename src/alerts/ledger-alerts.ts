/**
 * The ledger spool's alerts, sent through the alert sinks. The alerts of one outage share an id
 * (from `spooling` to `replayed`), so a receiver can pair them; an event that repeats within one
 * outage (a spool that fails, recovers and fails again) gets its own delivery id.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SpoolAlert } from '../ledger/spool/ledger-spool.ts';
import type { Alert } from './alert.ts';
import type { LedgerNotice } from './ledger-payload.ts';

/** A listener for `LedgerSpool.onAlert` that sends each spool alert through `dispatcher`. */
export function spoolAlertListener(dispatcher: { send(alert: Alert): Promise<unknown> }, opts: { database: LedgerNotice['database']; host?: string }): (alert: SpoolAlert) => void {
  const host = opts.host ?? hostname();
  let outage: { id: string; seen: Map<SpoolAlert['kind'], number> } | null = null;
  return (spool) => {
    outage ??= { id: `led_${randomBytes(8).toString('hex')}`, seen: new Map() };
    const seq = (outage.seen.get(spool.kind) ?? 0) + 1;
    outage.seen.set(spool.kind, seq);
    const notice: LedgerNotice = { kind: 'ledger', spool, database: opts.database, outageId: outage.id, seq, host };
    if (spool.kind === 'replayed') outage = null;
    // The spool calls its listeners synchronously on the ledger's write path: sending happens on the side.
    void dispatcher.send(notice);
  };
}
