import { describe, expect, it } from 'vitest';
import { TollgateError } from './errors.ts';
import { assertSegment, formatScope, isWithin, parseScope, tierOf, TIERS } from './scope.ts';

function invalidRequest(fn: () => unknown): TollgateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    const e = err as TollgateError;
    expect(e.code).toBe('invalid_request');
    expect(e.status).toBe(400);
    return e;
  }
  throw new Error('expected a TollgateError, nothing was thrown');
}

const SIXTY_FOUR = 'a' + 'b'.repeat(62) + 'c';

describe('parseScope', () => {
  it.each([
    ['acme/support/helpdesk/triage-bot', ['acme', 'support', 'helpdesk', 'triage-bot']],
    ['acme', ['acme']],
    ['a/b', ['a', 'b']],
    ['0/1/2', ['0', '1', '2']],
    ['a.b_c-d', ['a.b_c-d']],
    ['v1.2/x', ['v1.2', 'x']],
    [SIXTY_FOUR, [SIXTY_FOUR]],
  ])('accepts %j', (path, expected) => {
    expect(parseScope(path)).toEqual(expected);
  });

  it.each([
    ['/acme/support/', ['acme', 'support']],
    ['///acme//', ['acme']],
    ['  acme/support  ', ['acme', 'support']],
    [' /acme/ ', ['acme']],
  ])('trims blanks and outer slashes from %j', (path, expected) => {
    expect(parseScope(path)).toEqual(expected);
  });

  it.each([
    ['Acme', 'Acme'],
    ['acme/Support', 'Support'],
    ['-acme', '-acme'],
    ['acme-', 'acme-'],
    ['.acme', '.acme'],
    ['acme_', 'acme_'],
    ['ac me', 'ac me'],
    ['acme/ team', ' team'],
    ['acme/tëam', 'tëam'],
    ['acme/te@m', 'te@m'],
    ['a' + 'b'.repeat(63) + 'c', 'a' + 'b'.repeat(63) + 'c'],
  ])('refuses %j, naming the bad segment', (path, segment) => {
    const e = invalidRequest(() => parseScope(path));
    expect(e.message).toContain(`invalid scope segment "${segment}"`);
    expect(e.message).toContain(`in "${path}"`);
  });

  it('refuses an empty segment in the middle', () => {
    expect(invalidRequest(() => parseScope('acme//support')).message).toContain('invalid scope segment ""');
  });

  it('refuses a 65-character segment and accepts 64', () => {
    const sixtyFive = SIXTY_FOUR + 'd';
    expect(sixtyFive).toHaveLength(65);
    expect(SIXTY_FOUR).toHaveLength(64);
    invalidRequest(() => parseScope(`acme/${sixtyFive}`));
    expect(parseScope(`acme/${SIXTY_FOUR}`)).toEqual(['acme', SIXTY_FOUR]);
  });

  it.each(['', '   ', '/', '///', ' / '])('refuses the empty path %j', (path) => {
    expect(invalidRequest(() => parseScope(path)).message).toContain('scope path is empty');
  });

  it('refuses a path deeper than the agent tier', () => {
    const e = invalidRequest(() => parseScope('a/b/c/d/e'));
    expect(e.message).toContain('has 5 segments');
    expect(e.message).toContain('org/team/project/agent');
  });
});

describe('assertSegment', () => {
  it('passes a good slug and names the context of a bad one', () => {
    expect(() => assertSegment('triage-bot')).not.toThrow();
    expect(invalidRequest(() => assertSegment('Bad', 'acme/Bad')).message).toContain('"Bad" in "acme/Bad"');
  });
});

describe('tierOf', () => {
  it('maps depth to tier', () => {
    expect(TIERS).toEqual(['org', 'team', 'project', 'agent']);
    expect(tierOf(['a'])).toBe('org');
    expect(tierOf(['a', 'b'])).toBe('team');
    expect(tierOf(['a', 'b', 'c'])).toBe('project');
    expect(tierOf(['a', 'b', 'c', 'd'])).toBe('agent');
  });

  it('refuses depth 0 and depth 5', () => {
    invalidRequest(() => tierOf([]));
    invalidRequest(() => tierOf(['a', 'b', 'c', 'd', 'e']));
  });
});

describe('formatScope', () => {
  it('joins with slashes', () => {
    expect(formatScope(['acme', 'support'])).toBe('acme/support');
    expect(formatScope(['acme'])).toBe('acme');
  });
});

describe('isWithin', () => {
  it.each([
    [['a', 'b', 'c'], ['a'], true],
    [['a', 'b', 'c'], ['a', 'b'], true],
    [['a'], ['a'], true],
    [['a', 'b'], [], true],
    [['a'], ['a', 'b'], false],
    [['a', 'bc'], ['a', 'b'], false],
    [['ab'], ['a'], false],
    [['a', 'b'], ['b'], false],
    [['x', 'b'], ['a', 'b'], false],
  ])('%j within %j is %s', (inner, outer, expected) => {
    expect(isWithin(inner, outer)).toBe(expected);
  });
});
