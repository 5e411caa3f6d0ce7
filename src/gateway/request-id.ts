import { randomBytes } from 'node:crypto';

/**
 * Time-ordered request ids (`req_` + 12 hex digits of epoch ms + 16 random hex digits): they sort by
 * time, so the ledger's primary-key index grows at its end, and each is the call's idempotency key.
 */
export function newRequestId(now: number = Date.now()): string {
  return `req_${now.toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}
