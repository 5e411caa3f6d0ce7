import { describe, expect, it } from 'vitest';
import type { Usage } from './usage.ts';
import { EMPTY_USAGE, totalInputTokens, usage, USAGE_FIELDS, validateUsage } from './usage.ts';

const WELL_FORMED: Usage = {
  inputTokens: 1,
  cacheReadTokens: 20,
  cacheWrite5mTokens: 300,
  cacheWrite1hTokens: 4000,
  outputTokens: 50_000,
  reasoningTokens: 600,
  requests: 1,
};

describe('usage', () => {
  it('starts from one request and no tokens', () => {
    expect(usage({})).toEqual({
      inputTokens: 0,
      cacheReadTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 0,
      reasoningTokens: 0,
      requests: 1,
    });
  });

  it('overrides only the fields given, and returns a fresh object', () => {
    const u = usage({ outputTokens: 5, requests: 2 });
    expect(u).toEqual({ ...WELL_FORMED, inputTokens: 0, cacheReadTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, reasoningTokens: 0, outputTokens: 5, requests: 2 });
    u.inputTokens = 9;
    expect(EMPTY_USAGE.inputTokens).toBe(0);
  });

  it('keeps EMPTY_USAGE frozen', () => {
    expect(Object.isFrozen(EMPTY_USAGE)).toBe(true);
  });

  it('lists every field of Usage exactly once', () => {
    expect([...USAGE_FIELDS].sort()).toEqual(
      ['cacheReadTokens', 'cacheWrite1hTokens', 'cacheWrite5mTokens', 'inputTokens', 'outputTokens', 'reasoningTokens', 'requests'],
    );
    expect(Object.keys(EMPTY_USAGE).sort()).toEqual([...USAGE_FIELDS].sort());
  });
});

describe('totalInputTokens', () => {
  it('adds the four disjoint input buckets and nothing else', () => {
    expect(totalInputTokens(WELL_FORMED)).toBe(4321);
    expect(totalInputTokens(EMPTY_USAGE)).toBe(0);
  });
});

describe('validateUsage', () => {
  it('accepts well-formed usage', () => {
    expect(validateUsage(WELL_FORMED)).toEqual([]);
    expect(validateUsage(EMPTY_USAGE)).toEqual([]);
    expect(validateUsage(usage({ requests: 0 }))).toEqual([]);
    expect(validateUsage(usage({ outputTokens: 7, reasoningTokens: 7 }))).toEqual([]);
    expect(validateUsage(usage({ inputTokens: Number.MAX_SAFE_INTEGER }))).toEqual([]);
  });

  it.each(USAGE_FIELDS)('names %s when it is negative', (field) => {
    expect(validateUsage({ ...WELL_FORMED, reasoningTokens: 0, [field]: -1 })).toEqual([`${field} must be a non-negative integer, got -1`]);
  });

  it.each([
    [1.5, '1.5'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [2 ** 53, '9007199254740992'],
  ])('refuses %d tokens', (value, shown) => {
    expect(validateUsage(usage({ inputTokens: value }))).toEqual([`inputTokens must be a non-negative integer, got ${shown}`]);
  });

  it('refuses values that are not numbers at all (e.g. from untrusted JSON)', () => {
    const bad = { ...EMPTY_USAGE, cacheReadTokens: '12', outputTokens: undefined } as unknown as Usage;
    expect(validateUsage(bad)).toEqual([
      'cacheReadTokens must be a non-negative integer, got 12',
      'outputTokens must be a non-negative integer, got undefined',
    ]);
  });

  it('refuses more reasoning than output', () => {
    expect(validateUsage(usage({ outputTokens: 3, reasoningTokens: 5 }))).toEqual(['reasoningTokens (5) cannot exceed outputTokens (3)']);
  });

  it('lists every problem at once', () => {
    expect(validateUsage(usage({ inputTokens: -2, requests: 0.5, outputTokens: 1, reasoningTokens: 2 }))).toEqual([
      'inputTokens must be a non-negative integer, got -2',
      'requests must be a non-negative integer, got 0.5',
      'reasoningTokens (2) cannot exceed outputTokens (1)',
    ]);
  });
});
