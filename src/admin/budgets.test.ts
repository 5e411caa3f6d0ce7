import { describe, expect, it } from 'vitest';
import { TollgateError } from '../domain/errors.ts';
import { budgetInput, DEFAULT_ACTION, DEFAULT_THRESHOLDS } from './budgets.ts';
import type { BudgetRequest } from './budgets.ts';

const USD = 1_000_000_000n;
const input = (over: Partial<BudgetRequest> = {}, zone = 'UTC') => budgetInput({ scope: 'acme/support', amount: '500', period: 'month', ...over }, zone);
const failure = (over: Partial<BudgetRequest>): TollgateError => {
  try {
    input(over);
  } catch (e) {
    expect(e).toBeInstanceOf(TollgateError);
    return e as TollgateError;
  }
  throw new Error(`expected ${JSON.stringify(over)} to be refused`);
};

describe('budgetInput', () => {
  it.each([
    ['acme', 'plan'],
    ['acme/support', 'showback'],
    ['acme/support/helpdesk', 'soft'],
    ['acme/support/helpdesk/triage-bot', 'hard'],
  ] as const)('defaults the action of %s to its tier: %s', (scope, action) => {
    expect(input({ scope }).action).toBe(action);
    expect(Object.values(DEFAULT_ACTION)).toContain(action);
  });

  it('keeps an explicit action and passes the rest through', () => {
    expect(input({ scope: 'acme/support/helpdesk/triage-bot', action: 'chargeback', period: 'rolling:24h', timeZone: 'Europe/Paris', degradeTo: 'cheap' })).toEqual({
      scopePath: 'acme/support/helpdesk/triage-bot',
      amountNano: 500n * USD,
      period: 'rolling:24h',
      action: 'chargeback',
      thresholds: [50, 80, 100],
      timeZone: 'Europe/Paris',
      degradeTo: 'cheap',
    });
  });

  it('uses the default time zone when none is given, and no degradation', () => {
    const i = input({}, 'America/New_York');
    expect(i.timeZone).toBe('America/New_York');
    expect(i.degradeTo).toBeNull();
    expect(input({ degradeTo: null }).degradeTo).toBeNull();
  });

  it('normalises the scope path and refuses a malformed one', () => {
    expect(input({ scope: '/acme/support/' }).scopePath).toBe('acme/support');
    expect(failure({ scope: 'Acme/Support' })).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('invalid scope segment "Acme"') as unknown });
    expect(failure({ scope: 'a/b/c/d/e' }).message).toContain('the deepest tier is agent');
    expect(failure({ scope: '' }).message).toContain('scope path is empty');
  });

  it.each([
    ['500', 500n * USD],
    ['$1,250.50', 1_250_500_000_000n],
    [' $20 ', 20n * USD],
    ['1_000', 1000n * USD],
    ['0.000000001', 1n],
    ['9007199.254740991', BigInt(Number.MAX_SAFE_INTEGER)],
    ['1152921504.606846983', 2n ** 60n + 7n],
    [0.5, 500_000_000n],
    [1250.5, 1_250_500_000_000n],
  ] as const)('reads the USD amount %j exactly', (amount, nano) => {
    expect(input({ amount }).amountNano).toBe(nano);
  });

  it.each(['abc', '', '$', '1,50', '$1,2345', '12.5.0', '1.0000000001', 'Infinity', Number.NaN, Number.POSITIVE_INFINITY])('refuses the amount %j and says what a USD amount looks like', (amount) => {
    const err = failure({ amount });
    expect(err.code).toBe('invalid_request');
    expect(err.message).toMatch(/^budget amount .+ is not a USD amount \(e\.g\. 500 or 1250\.50\): /);
  });

  it('leaves the sign to the store (which refuses amounts at or below $0)', () => {
    expect(input({ amount: '-5' }).amountNano).toBe(-5n * USD);
    expect(input({ amount: '0' }).amountNano).toBe(0n);
  });

  it.each([
    [undefined, [50, 80, 100]],
    ['50,80,100', [50, 80, 100]],
    [' 25 , 75% ,100%', [25, 75, 100]],
    ['90', [90]],
    ['100,50', [100, 50]],
    ['50,,80,', [50, 80]],
    ['', []],
    [[25, 75], [25, 75]],
    [[], []],
  ] as const)('reads thresholds %j as %j', (thresholds, expected) => {
    expect(input({ thresholds }).thresholds).toEqual(expected);
  });

  it.each(['50,abc', '50.5', '-5', '50;80', '1e2', 'fifty'])('refuses the thresholds %j with an example', (thresholds) => {
    expect(failure({ thresholds })).toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/^alert thresholds are whole percentages separated by commas \(e\.g\. 50,80,100\), got "/) as unknown,
    });
  });

  it('refuses fractional thresholds given as numbers', () => {
    expect(failure({ thresholds: [50, 80.5] }).message).toBe('alert thresholds are whole percentages separated by commas (e.g. 50,80,100), got 80.5');
  });

  it('hands out the default thresholds as a fresh array each time', () => {
    const first = input();
    first.thresholds.push(95);
    expect(input().thresholds).toEqual([50, 80, 100]);
    expect(DEFAULT_THRESHOLDS).toEqual([50, 80, 100]);
  });
});
