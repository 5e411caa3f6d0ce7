import { describe, expect, it } from 'vitest';
import { hashKey, RecentHitters, RecentTotals } from './heavy-hitters.ts';

const PERIOD = 15 * 60_000;

describe('RecentHitters', () => {
  it('holds a key that dominates its slot among thousands of one-off keys, and never overstates it', () => {
    const t = new RecentHitters(16, PERIOD);
    let loop = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = i % 4 === 0 ? 'stuck' : `once-${i}`;
      if (key === 'stuck') loop += 1;
      t.add(key, hashKey(key), 10, i);
    }
    const [top] = t.ranked(20_000, 'calls');
    expect(top!.key).toBe('stuck');
    expect(top!.calls).toBeLessThanOrEqual(loop);
    expect(top!.calls).toBeGreaterThan(loop / 2);
    expect(t.ranked(20_000, 'calls').length).toBeLessThanOrEqual(32);
  });

  it('sums the current and previous period, and forgets what is older', () => {
    const t = new RecentHitters(8, PERIOD);
    for (let i = 0; i < 10; i++) t.add('a', hashKey('a'), 1, i);
    for (let i = 0; i < 5; i++) t.add('a', hashKey('a'), 1, PERIOD + i);
    expect(t.heaviestCalls(PERIOD + 10)).toBe(15);
    expect(t.heaviestCalls(2 * PERIOD)).toBe(5);
    expect(t.heaviestCalls(4 * PERIOD)).toBe(0);
  });
});

describe('RecentTotals', () => {
  it('ranks keys by spend over two periods', () => {
    const t = new RecentTotals(4, PERIOD);
    t.add('cheap', 1, 0);
    t.add('cheap', 1, 1);
    t.add('dear', 50, PERIOD);
    expect(t.ranked(PERIOD)).toEqual([
      { key: 'dear', calls: 1, costNano: 50 },
      { key: 'cheap', calls: 2, costNano: 2 },
    ]);
    expect(t.ranked(3 * PERIOD)).toEqual([]);
  });
});
