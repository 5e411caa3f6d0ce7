import { describe, expect, it } from 'vitest';
import { monthForecast } from './month-forecast.ts';

const DAY = 86_400_000;
const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);
const USD = 1_000_000_000n;

describe('monthForecast', () => {
  it('carries the month-to-date run-rate to the month end for P50, and widens P90 by the recent spread', () => {
    // 10 days in, $100 spent: $10/day for 20 more days → $300.
    const flat = monthForecast({ monthFrom: NOV, monthTo: DEC, now: NOV + 10 * DAY, monthToDateNano: 100n * USD, recentDaysNano: Array<bigint>(28).fill(10n * USD) });
    expect(flat.p50Nano).toBe(300n * USD);
    // No spread in the recent days: no band.
    expect(flat.p90Nano).toBe(300n * USD);
    expect(flat.method).toContain('run-rate');

    // Days alternating $5 and $15: sample sd = 5.0918… → band = 1.2816 × sd × √20.
    const days = Array.from({ length: 28 }, (_, i) => (i % 2 === 0 ? 5n : 15n) * USD);
    const sd = Math.sqrt((28 * 25 * 1e18) / 27);
    const noisy = monthForecast({ monthFrom: NOV, monthTo: DEC, now: NOV + 10 * DAY, monthToDateNano: 100n * USD, recentDaysNano: days });
    expect(noisy.p50Nano).toBe(300n * USD);
    expect(noisy.p90Nano - noisy.p50Nano).toBe(BigInt(Math.round(1.2816 * sd * Math.sqrt(20))));
  });

  it('uses the recent mean when under a day of the month has passed, and the actual spend once it is over', () => {
    const early = monthForecast({ monthFrom: NOV, monthTo: DEC, now: NOV + DAY / 2, monthToDateNano: 1n * USD, recentDaysNano: Array<bigint>(28).fill(20n * USD) });
    // $1 so far, then $20/day for 29.5 days.
    expect(early.p50Nano).toBe(1n * USD + 590n * USD);
    expect(early.method).toContain('mean daily spend of the last 28 days');

    const over = monthForecast({ monthFrom: NOV, monthTo: DEC, now: DEC + 5, monthToDateNano: 123n * USD, recentDaysNano: [1n, 900n] });
    expect([over.p50Nano, over.p90Nano]).toEqual([123n * USD, 123n * USD]);
  });
});
