/**
 * Where alerts go. A sink turns a payload into one HTTP request per attempt (a webhook re-signs each
 * attempt with a fresh timestamp) and says how it may be named in logs and the delivery log: a
 * webhook by its URL without query or credentials, a Slack webhook by its host only (the path is
 * the secret).
 */
import type { SinkPayload } from './alert.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { slackBody } from './slack.ts';

export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Sink {
  kind: 'webhook' | 'slack';
  /** Safe to log and store. */
  label: string;
  /** The request for one attempt at `now` (epoch ms). */
  request(payload: SinkPayload, now: number): SinkRequest;
  /** Strings that must never appear in a logged or stored error (URL path, secret). */
  readonly secrets: readonly string[];
}

/** The payload's `event` (`opened`, `spooling`, `bypass`, …; the `type` in the body adds what it is about). */
export const EVENT_HEADER = 'x-tollgate-event';
/** The payload's `delivery_id`: the same on every retry (draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export function webhookSink(cfg: { url: string; secret: string; name?: string | undefined }): Sink {
  const u = new URL(cfg.url);
  return {
    kind: 'webhook',
    label: cfg.name ?? `${u.origin}${u.pathname}`,
    secrets: [cfg.secret, ...(u.search ? [u.search.slice(1)] : []), ...(u.password ? [u.password] : [])],
    request(payload, now) {
      const body = JSON.stringify(payload);
      return {
        url: cfg.url,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tollgate-alerts',
          [EVENT_HEADER]: payload.event,
          [IDEMPOTENCY_HEADER]: payload.delivery_id,
          [SIGNATURE_HEADER]: signatureHeader(cfg.secret, body, Math.floor(now / 1000)),
        },
      };
    },
  };
}

export function slackSink(cfg: { url: string; name?: string | undefined }): Sink {
  const u = new URL(cfg.url);
  return {
    kind: 'slack',
    label: cfg.name ?? `${u.origin}/…`,
    secrets: [u.pathname, ...(u.search ? [u.search.slice(1)] : [])].filter((s) => s.length > 1),
    request(payload) {
      return {
        url: cfg.url,
        body: JSON.stringify(slackBody(payload)),
        headers: { 'content-type': 'application/json', 'user-agent': 'tollgate-alerts', [EVENT_HEADER]: payload.event },
      };
    },
  };
}

/** Replaces any secret of the sink found in `text` (an error message may quote the URL). */
export function scrub(text: string, sink: Sink): string {
  let out = text;
  for (const s of sink.secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}
