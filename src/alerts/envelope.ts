/**
 * What every alert body has, whatever it is about: a `type` to route on (`anomaly.opened`,
 * `ledger.spooling`, `reconcile.bypass`), its `event` (the part after the dot, also sent as the
 * `x-tollgate-event` header), a severity, one line for people, the id receivers drop repeats by
 * (also the `idempotency-key` header), and when it was sent.
 */

/** `critical`: something is refused or stopped now; `warning`: needs a look; `info`: back to normal. */
export type Severity = 'info' | 'warning' | 'critical';

export type AlertFamily = 'anomaly' | 'ledger' | 'reconcile';

export interface PayloadEnvelope<F extends AlertFamily = AlertFamily, E extends string = string> {
  type: `${F}.${E}`;
  event: E;
  severity: Severity;
  /** One line for people. */
  summary: string;
  /** Stable per alert (the same on every retry, and for a re-sent finding): receivers drop repeats by it. */
  delivery_id: string;
  sent_at: string;
  /** Where the dashboard shows it; null when no dashboard URL is configured or no page applies. */
  dashboard_url: string | null;
}

/**
 * A value that can go in an HTTP header as is: printable ASCII stays (ids, paths, dates), anything
 * else is percent-encoded, so a model name or key id with spaces or non-ASCII characters cannot
 * break the request.
 */
export function headerSafe(text: string): string {
  return text.replace(/[^\x21-\x7e]|%/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      // A lone surrogate has no UTF-8 form: the replacement character's.
      return '%EF%BF%BD';
    }
  });
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
