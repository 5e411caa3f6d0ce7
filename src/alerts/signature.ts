/**
 * Webhook signatures. Each attempt carries `x-tollgate-signature: t=<unix seconds>,v1=<hex>` where
 * the hex is HMAC-SHA256 of `<t>.<raw body>` under the webhook's secret. A receiver recomputes it over
 * the bytes it received (before parsing the JSON), compares in constant time and refuses timestamps
 * too far from its clock, so a captured request cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-tollgate-signature';
/** How far a signature's timestamp may be from the receiver's clock by default, seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signature(secret: string, body: string, unixSeconds: number): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}

/** The header value for a body sent at `unixSeconds`. */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${signature(secret, body, unixSeconds)}`;
}

/**
 * Checks a received header against the raw body: true when one `v1` matches and `t` is within
 * `toleranceSeconds` of `now` (epoch ms).
 */
export function verifySignature(secret: string, header: string | undefined, body: string, opts: { now?: number; toleranceSeconds?: number } = {}): boolean {
  if (!header) return false;
  let t: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v !== undefined && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (t === null || candidates.length === 0) return false;
  const now = opts.now ?? Date.now();
  if (Math.abs(now / 1000 - t) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signature(secret, body, t), 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}
