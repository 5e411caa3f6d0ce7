import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from './signature.ts';

const SECRET = 'whsec-0123456789abcdef';
const BODY = '{"event":"opened","id":"anm_1"}';
const T = 1_790_000_000;

describe('webhook signatures', () => {
  it('is HMAC-SHA256 of "<t>.<body>", as documented', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signatureHeader(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies within the tolerance and refuses tampering, other secrets, replays and junk', () => {
    const h = signatureHeader(SECRET, BODY, T);
    const now = T * 1000;
    expect(verifySignature(SECRET, h, BODY, { now })).toBe(true);
    expect(verifySignature(SECRET, h, BODY, { now: now + 299_000 })).toBe(true);
    expect(verifySignature(SECRET, h, BODY, { now: now + 301_000 })).toBe(false);
    expect(verifySignature(SECRET, h, BODY, { now: now + 3_600_000, toleranceSeconds: 7200 })).toBe(true);
    expect(verifySignature(SECRET, h, BODY.replace('opened', 'resolved'), { now })).toBe(false);
    expect(verifySignature('whsec-another-secret', h, BODY, { now })).toBe(false);
    // Re-using the signature under another timestamp fails: t is signed too.
    expect(verifySignature(SECRET, h.replace(`t=${T}`, `t=${T + 10}`), BODY, { now })).toBe(false);
    // Several v1 values (a secret being rotated): one match is enough.
    expect(verifySignature(SECRET, `${h.replace(/v1=\w+/, `v1=${'0'.repeat(64)}`)},${h.split(',')[1]}`, BODY, { now })).toBe(true);
    for (const bad of [undefined, '', 'v1=abc', `t=${T}`, `t=x,v1=${'a'.repeat(64)}`, `t=${T},v1=${'z'.repeat(64)}`]) expect(verifySignature(SECRET, bad, BODY, { now })).toBe(false);
  });
});
