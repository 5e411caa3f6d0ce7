/**
 * Virtual keys: `tg-` followed by 43 base64url characters (32 random bytes). Only the SHA-256 of the
 * whole secret is stored; a fast hash is right here because the secret has 256 bits of entropy
 * (there is nothing to brute-force), and it keeps lookup a single map access.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'tg-';
export const VIEWER_KEY_PREFIX = 'tgv-';
const SECRET_BYTES = 32;
const SHAPE = /^tgv?-[A-Za-z0-9_-]{43}$/;

export interface NewSecret {
  secret: string;
  hash: string;
  display: string;
}

export function generateKeySecret(kind: 'agent' | 'viewer' = 'agent'): NewSecret {
  const secret = (kind === 'viewer' ? VIEWER_KEY_PREFIX : KEY_PREFIX) + randomBytes(SECRET_BYTES).toString('base64url');
  return { secret, hash: hashKey(secret), display: displayOf(secret) };
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** First 6 and last 4 characters of the random part: enough to recognise, useless to guess. */
export function displayOf(secret: string): string {
  const dash = secret.indexOf('-') + 1;
  return `${secret.slice(0, dash + 6)}…${secret.slice(-4)}`;
}

export function looksLikeKey(secret: string): boolean {
  return SHAPE.test(secret);
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Constant-time comparison of two hex hashes. Anything that is not whole-byte hex is unequal to everything. */
export function hashesEqual(a: string, b: string): boolean {
  // Buffer.from(…, 'hex') stops silently at the first bad digit, which would make "abc" equal "abd".
  if (!HEX.test(a) || !HEX.test(b)) return false;
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function newKeyId(): string {
  return `key_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

export function newScopeId(): string {
  return randomUUID();
}
