import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in bulk: one system call per 512 ids instead of one per request. */
const pool = Buffer.alloc(4096);
let offset = pool.length;

function random8(): string {
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + 8);
  offset += 8;
  return hex;
}

/**
 * Time-ordered request ids (`req_` + 12 hex digits of epoch ms + 16 random hex digits): they sort by
 * time, so the ledger's primary-key index grows at its end, and each is the call's idempotency key.
 */
export function newRequestId(now: number = Date.now()): string {
  return `req_${now.toString(16).padStart(12, '0')}${random8()}`;
}
