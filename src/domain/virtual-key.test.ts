import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { displayOf, generateKeySecret, hashesEqual, hashKey, KEY_PREFIX, looksLikeKey, newKeyId, newScopeId, VIEWER_KEY_PREFIX } from './virtual-key.ts';

const AGENT_SHAPE = /^tg-[A-Za-z0-9_-]{43}$/;
const VIEWER_SHAPE = /^tgv-[A-Za-z0-9_-]{43}$/;
// 43 base64url characters, written out so the display form can be checked by eye.
const RANDOM_PART = 'ABCDEFGHIJ' + 'KLMNOPQRST' + 'abcdefghij' + 'klmnopqrst' + '0_-';
const SECRET = `tg-${RANDOM_PART}`;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('generateKeySecret', () => {
  it('makes tg- followed by 43 base64url characters carrying 32 random bytes', () => {
    const { secret } = generateKeySecret();
    expect(KEY_PREFIX).toBe('tg-');
    expect(secret).toMatch(AGENT_SHAPE);
    expect(secret).toHaveLength(46);
    expect(Buffer.from(secret.slice(3), 'base64url')).toHaveLength(32);
  });

  it('makes viewer keys with their own prefix', () => {
    const { secret, display } = generateKeySecret('viewer');
    expect(VIEWER_KEY_PREFIX).toBe('tgv-');
    expect(secret).toMatch(VIEWER_SHAPE);
    expect(Buffer.from(secret.slice(4), 'base64url')).toHaveLength(32);
    expect(display.startsWith(secret.slice(0, 10))).toBe(true);
  });

  it('stores the SHA-256 hex of the whole secret', () => {
    const { secret, hash } = generateKeySecret();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(sha256Hex(secret));
  });

  it('shows a display form that does not give the secret away', () => {
    const { secret, display } = generateKeySecret();
    expect(display).not.toContain(secret);
    expect(display).not.toContain(secret.slice(3));
    expect(display).toBe(`${secret.slice(0, 9)}…${secret.slice(-4)}`);
    // Ten of the 43 random characters are shown; 33 (198 bits) stay hidden.
    expect(display.replace(/^tg-|…/g, '')).toHaveLength(10);
  });

  it('never repeats over many generations, and uses the whole base64url alphabet', () => {
    const secrets = new Set<string>();
    const hashes = new Set<string>();
    const alphabet = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const s = generateKeySecret();
      secrets.add(s.secret);
      hashes.add(s.hash);
      for (const c of s.secret.slice(3, -1)) alphabet.add(c);
    }
    expect(secrets.size).toBe(10_000);
    expect(hashes.size).toBe(10_000);
    expect(alphabet.size).toBe(64);
  });
});

describe('hashKey', () => {
  it('is SHA-256 in hex', () => {
    // FIPS 180-2 test vector for "abc".
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashKey(SECRET)).toBe(sha256Hex(SECRET));
  });
});

describe('displayOf', () => {
  it('keeps the prefix, six characters after it and the last four', () => {
    expect(displayOf(SECRET)).toBe('tg-ABCDEF…t0_-');
    expect(displayOf(`tgv-${RANDOM_PART}`)).toBe('tgv-ABCDEF…t0_-');
  });
});

describe('looksLikeKey', () => {
  it('accepts the two key shapes', () => {
    expect(RANDOM_PART).toHaveLength(43);
    expect(looksLikeKey(SECRET)).toBe(true);
    expect(looksLikeKey(`tgv-${RANDOM_PART}`)).toBe(true);
    expect(looksLikeKey(generateKeySecret().secret)).toBe(true);
  });

  it.each([
    ['42 characters', `tg-${RANDOM_PART.slice(1)}`],
    ['44 characters', `tg-${RANDOM_PART}x`],
    ['upper-case prefix', `TG-${RANDOM_PART}`],
    ['other prefix', `sk-${RANDOM_PART}`],
    ['tgx- prefix', `tgx-${RANDOM_PART}`],
    ['underscore after tg', `tg_${RANDOM_PART}`],
    ['standard base64 +', `tg-${RANDOM_PART.slice(1)}+`],
    ['standard base64 /', `tg-${RANDOM_PART.slice(1)}/`],
    ['base64 padding', `tg-${RANDOM_PART.slice(1)}=`],
    ['trailing newline', `${SECRET}\n`],
    ['leading space', ` ${SECRET}`],
    ['Bearer prefix', `Bearer ${SECRET}`],
    ['empty', ''],
  ])('refuses %s', (_, text) => {
    expect(looksLikeKey(text)).toBe(false);
  });
});

describe('hashesEqual', () => {
  const a = sha256Hex('one');
  const b = sha256Hex('two');

  it('compares whole hashes', () => {
    expect(hashesEqual(a, a)).toBe(true);
    expect(hashesEqual(a, sha256Hex('one'))).toBe(true);
    expect(hashesEqual(a, b)).toBe(false);
    expect(hashesEqual(a, a.slice(0, 62))).toBe(false);
    expect(hashesEqual(a, a.toUpperCase())).toBe(true);
  });

  it('differs in the last digit', () => {
    const last = a.endsWith('0') ? '1' : '0';
    expect(hashesEqual(a, a.slice(0, -1) + last)).toBe(false);
  });

  it.each([
    ['abc', 'abd'],
    ['zz', 'yy'],
    ['', ''],
    [`${a}z`, `${a}y`],
    [`${a}0`, `${a}1`],
    ['0g', '0h'],
  ])('treats malformed hex %j vs %j as unequal', (x, y) => {
    expect(hashesEqual(x, y)).toBe(false);
  });
});

describe('ids', () => {
  it('makes key ids key_ + 16 hex digits, unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newKeyId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^key_[0-9a-f]{16}$/);
  });

  it('makes scope ids UUIDs', () => {
    expect(newScopeId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newScopeId()).not.toBe(newScopeId());
  });
});
