import { describe, expect, it } from 'vitest';
import type { ErrorCode } from './errors.ts';
import { ERROR_CODES, HTTP_STATUS, toTollgateError, TollgateError } from './errors.ts';

describe('HTTP_STATUS', () => {
  it('maps every code, and nothing else', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it.each(ERROR_CODES)('maps %s to a 4xx or 5xx status', (code) => {
    const status = HTTP_STATUS[code];
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThanOrEqual(599);
  });

  it.each([
    ['invalid_request', 400],
    ['unauthenticated', 401],
    ['key_invalid', 401],
    ['key_revoked', 401],
    ['key_expired', 401],
    ['key_suspended', 403],
    ['scope_archived', 403],
    ['not_found', 404],
    ['conflict', 409],
    ['budget_exceeded', 429],
    ['rate_limited', 429],
    ['internal', 500],
    ['upstream_error', 502],
    ['unavailable', 503],
    ['upstream_timeout', 504],
  ] satisfies [ErrorCode, number][])('maps %s to %i', (code, status) => {
    expect(HTTP_STATUS[code]).toBe(status);
  });
});

describe('TollgateError', () => {
  it('carries code, status, message and details', () => {
    const e = new TollgateError('budget_exceeded', 'team budget spent', { details: { tier: 'team', remainingNano: '0' } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TollgateError');
    expect(e.code).toBe('budget_exceeded');
    expect(e.status).toBe(429);
    expect(e.message).toBe('team budget spent');
    expect(e.details).toEqual({ tier: 'team', remainingNano: '0' });
    expect(String(e)).toBe('TollgateError: team budget spent');
  });

  it('keeps a cause when given one and has none otherwise', () => {
    const root = new Error('socket hang up');
    expect(new TollgateError('upstream_error', 'upstream failed', { cause: root }).cause).toBe(root);
    const bare = new TollgateError('not_found', 'nope');
    expect('cause' in bare).toBe(false);
    expect(bare.details).toBeUndefined();
  });
});

describe('toTollgateError', () => {
  it('returns a TollgateError unchanged', () => {
    const e = new TollgateError('key_revoked', 'revoked');
    expect(toTollgateError(e)).toBe(e);
  });

  it('wraps an Error as internal, keeping it as the cause', () => {
    const root = new TypeError('x is undefined');
    const e = toTollgateError(root);
    expect(e).toBeInstanceOf(TollgateError);
    expect(e.code).toBe('internal');
    expect(e.status).toBe(500);
    expect(e.message).toBe('x is undefined');
    expect(e.cause).toBe(root);
  });

  it('wraps thrown non-errors', () => {
    const fromString = toTollgateError('boom');
    expect(fromString.message).toBe('boom');
    expect(fromString.cause).toBe('boom');
    expect(toTollgateError(42).message).toBe('42');
    expect(toTollgateError(null).message).toBe('null');
  });

  it('uses the message of an error-like object (e.g. an Error from another realm)', () => {
    const thrown = { name: 'Error', message: 'from a vm context' };
    const e = toTollgateError(thrown);
    expect(e.message).toBe('from a vm context');
    expect(e.cause).toBe(thrown);
  });

  it('does not itself throw on a value String() cannot convert', () => {
    const thrown: unknown = Object.create(null);
    const e = toTollgateError(thrown);
    expect(e.code).toBe('internal');
    expect(e.message).toBe('[object Object]');
    expect(e.cause).toBe(thrown);
  });
});
