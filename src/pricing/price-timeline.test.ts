// Time-of-day prices. $x/MTok = x × 1000 nano-USD per token.
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '@pydantic/genai-prices';
import { findProvider } from '@pydantic/genai-prices';
import { usage } from '../domain/usage.ts';
import { createPricer } from './pricer.ts';
import { msOfDay } from './price-timeline.ts';

describe('daily UTC windows', () => {
  it('deepseek-chat: peak 00:30–16:30 UTC at $0.27, otherwise $0.135 (end exclusive)', () => {
    const model = findProvider({ providerId: 'deepseek' })?.models.find((m) => m.id === 'deepseek-chat');
    expect(model?.prices).toMatchObject([
      { prices: { input_mtok: 0.135 } },
      { constraint: { type: 'time_of_date', start_time: '00:30:00Z', end_time: '16:30:00Z' }, prices: { input_mtok: 0.27 } },
    ]);
    const p = createPricer();
    const cost = (iso: string) => p.price('deepseek', 'deepseek-chat', usage({ inputTokens: 1_000_000 }), Date.parse(iso)).listNano;
    // 1_000_000 × 270 = 270_000_000 at peak; 1_000_000 × 135 = 135_000_000 off-peak
    expect(cost('2026-06-01T12:00:00Z')).toBe(270_000_000n);
    expect(cost('2026-06-01T00:30:00.000Z')).toBe(270_000_000n);
    expect(cost('2026-06-01T16:29:59.999Z')).toBe(270_000_000n);
    expect(cost('2026-06-01T16:30:00.000Z')).toBe(135_000_000n);
    expect(cost('2026-06-01T00:29:59.999Z')).toBe(135_000_000n);
  });

  it('a window may wrap midnight and carry an offset', () => {
    const night: ModelInfo = {
      id: 'night-owl',
      match: { equals: 'night-owl' },
      prices: [
        { prices: { input_mtok: 1, output_mtok: 1 } },
        // 23:00+01:00 is 22:00Z; 03:00+01:00 is 02:00Z
        { constraint: { type: 'time_of_date', start_time: '23:00:00+01:00', end_time: '03:00:00+01:00' }, prices: { input_mtok: 2, output_mtok: 2 } },
      ],
    };
    const p = createPricer(undefined, { catalog: { find: () => ({ providerId: 'test', model: night }) } });
    const cost = (iso: string) => p.price('test', 'night-owl', usage({ inputTokens: 1000 }), Date.parse(iso)).listNano;
    // 1000 × 2000 = 2_000_000 inside the window, 1000 × 1000 = 1_000_000 outside
    expect(cost('2026-06-01T21:59:59Z')).toBe(1_000_000n);
    expect(cost('2026-06-01T22:00:00Z')).toBe(2_000_000n);
    expect(cost('2026-06-02T01:59:59Z')).toBe(2_000_000n);
    expect(cost('2026-06-02T02:00:00Z')).toBe(1_000_000n);
  });

  it('msOfDay converts offsets to UTC', () => {
    expect(msOfDay('00:30:00Z')).toBe(30 * 60_000);
    expect(msOfDay('01:00:00+02:00')).toBe(23 * 3_600_000);
    expect(msOfDay('12:00:00.5-01:30')).toBe(13.5 * 3_600_000 + 500);
    expect(() => msOfDay('25:00:00Z')).toThrow(/unsupported price constraint/);
  });
});
